import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from llaso_cli.app import app

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    return result


def test_tasks_list_json_has_all_twenty_with_their_contract():
    result = invoke("tasks", "list", "--json")
    assert result.exit_code == 0, result.output
    tasks = {t["id"]: t for t in json.loads(result.output)}
    assert len(tasks) == 20
    assert tasks["SGC"]["label_sets"][0]["labels"] == ["male", "female"]
    assert tasks["AQA"]["modalities"] == ["pa", "ta", "at"]
    assert {ls["name"] for ls in tasks["AR"]["label_sets"]} == {"coarse", "medium", "fine"}


@pytest.mark.parametrize("args, expected", [
    (("--category", "PC"), {"PR", "SCR", "IP", "EE", "VSC", "IC", "ISC", "PP", "VC"}),
    (("--category", "linguistic"), {"ASR"}),
    (("--modality", "at"), {"AQA"}),
])
def test_tasks_list_filters(args, expected):
    result = invoke("tasks", "list", *args, "--json")
    assert {t["id"] for t in json.loads(result.output)} == expected


def test_tasks_show_renders_a_prompt_per_modality():
    result = invoke("tasks", "show", "sgc", "--json")
    data = json.loads(result.output)
    assert set(data["examples"]) == {"ta", "pa"}
    assert "male, female" in data["examples"]["ta"] and "{labels}" not in data["examples"]["ta"]
    table = invoke("tasks", "show", "AC")
    assert table.exit_code == 0 and "common-voice" in table.output and "example prompt, ta" in table.output


def test_unknown_task_and_category_are_clear_errors():
    result = invoke("tasks", "show", "SGX")
    assert result.exit_code == 2 and "unknown task 'SGX'" in result.output and "SGC" in result.output
    assert invoke("tasks", "list", "--category", "music").exit_code == 2
    assert "unknown modality" in invoke("tasks", "list", "--modality", "tt").output


def test_plugins_and_modalities_listing():
    plugins = json.loads(invoke("plugins", "--json").output)
    assert {p["name"]: p["state"] for p in plugins} == {
        name: "loaded" for name in ("corpora", "encoders", "llms", "models", "modalities", "recipes", "scoring", "tasks", "tts")}
    by_name = {p["name"]: p for p in plugins}
    assert by_name["modalities"]["registered"] == {"modalities": ["ta", "at", "pa"]}
    assert by_name["encoders"]["registered"] == {"encoders": ["whisper", "tiny"]}
    assert len(by_name["recipes"]["registered"]["recipes"]) == 20
    assert "crema-d" in by_name["corpora"]["registered"]["adapters"]
    assert by_name["models"]["registered"] == {"models": ["lslm", "llaso-release", "hf", "openai"]}
    mods = json.loads(invoke("modalities", "--json").output)
    assert [m["id"] for m in mods] == ["ta", "at", "pa"]


def test_every_command_has_help():
    for args in (["--help"], ["tasks", "--help"], ["tasks", "list", "--help"], ["tasks", "show", "--help"],
                 ["plugins", "--help"], ["modalities", "--help"]):
        result = invoke(*args)
        assert result.exit_code == 0 and "Usage" in result.output


def test_listing_tasks_imports_no_torch_or_transformers():
    code = ("import sys; from llaso_cli.app import app; from typer.testing import CliRunner; "
            "r = CliRunner().invoke(app, ['tasks', 'list', '--json']); assert r.exit_code == 0; "
            "r = CliRunner().invoke(app, ['tasks', 'show', 'ASR']); assert r.exit_code == 0; "
            "print(sorted(m for m in ('torch', 'transformers', 'datasets', 'jiwer') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
