"""The model plugin interface: ModelSpec, registration, --model spec strings, batching, llaso models."""

import json
import types

import pytest
from typer.testing import CliRunner

from llaso_cli import output
from llaso_cli.app import app
from llaso_core import hookimpl
from llaso_core.loader import load
from llaso_core.models import Answer, GenerationOptions, ModelSpecError, SpeechModel, describe, parse_model_spec
from llaso_core.specs import ModelSpec, SpecError
from tests.models.conftest import requests_of_each_modality


class Recorder(SpeechModel):
    kind = "recorder"
    batched = True

    def __init__(self, reference, batched=True):
        super().__init__(reference)
        self.batched, self.calls = batched, []

    def answer(self, requests, options=GenerationOptions()):
        self.calls.append([r.id for r in requests])
        return [Answer(r.id) if r.id != "at" else Answer(None, "refused") for r in requests]


def plugin(*specs):
    @hookimpl
    def llaso_register_models(register):
        for spec in specs:
            register(spec)

    return types.SimpleNamespace(llaso_register_models=llaso_register_models)


def test_model_specs_are_validated():
    with pytest.raises(SpecError, match="factory"):
        ModelSpec("x", "not a reference")
    with pytest.raises(SpecError, match="modalities"):
        ModelSpec("x", "m:load", modalities=())
    assert ModelSpec("x", "m:load", modalities=["ta"]).modalities == ("ta",)


def test_a_plugin_registers_a_model_kind_and_a_duplicate_kind_is_refused():
    host = load([], extra=[("mine", plugin(ModelSpec("recorder", "tests.models.test_interface:Recorder"))),
                           ("again", plugin(ModelSpec("Recorder", "tests.models.test_interface:Recorder")))])
    assert host.models.entry("recorder").origin == "mine"
    again = host.plugin("again")
    assert again.state == "loaded" and len(again.refused) == 1
    assert "'Recorder'" in again.refused[0] and "'mine'" in again.refused[0]
    assert isinstance(host.models.get("recorder").load()("ref"), Recorder)


def test_spec_strings_name_a_folder_or_a_registered_kind(tmp_path):
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "llaso_config.json").write_text("{}")
    (tmp_path / "converted").mkdir()
    (tmp_path / "converted" / "llaso_model.json").write_text(json.dumps({"kind": "llaso-release"}))
    assert parse_model_spec(str(tmp_path / "ours")).kind == "lslm"
    assert str(parse_model_spec(str(tmp_path / "converted"))) == f"llaso-release:{tmp_path / 'converted'}"
    ref = parse_model_spec("openai:gpt-4o-audio-preview@http://127.0.0.1:8000/v1")
    assert (ref.kind, ref.reference) == ("openai", "gpt-4o-audio-preview@http://127.0.0.1:8000/v1")
    with pytest.raises(ModelSpecError, match="Did you mean hf"):
        parse_model_spec("hff:Qwen/Qwen2-Audio-7B-Instruct")
    with pytest.raises(ModelSpecError, match="not a llaso checkpoint"):
        parse_model_spec(str(tmp_path))
    with pytest.raises(ModelSpecError, match="not KIND:REFERENCE"):
        parse_model_spec(str(tmp_path / "missing"))


@pytest.mark.parametrize("batched, calls", [(True, [["ta", "at"], ["pa"]]), (False, [["ta"], ["at"], ["pa"]])])
def test_batching_follows_the_model_and_every_batch_is_reported(batched, calls):
    model = Recorder("r", batched=batched)
    seen = []
    answers = model.answer_all(requests_of_each_modality(), GenerationOptions(batch_size=2),
                               on_batch=lambda b, a: seen.append([(r.id, x.ok) for r, x in zip(b, a)]))
    assert sorted(map(sorted, model.calls)) == sorted(map(sorted, calls))
    assert answers["at"].error == "refused" and answers["ta"].text == "ta"
    assert sum(len(s) for s in seen) == 3


def test_describe_records_the_plugin_and_settings():
    facts = describe(Recorder("r", batched=False), load([], extra=[
        ("mine", plugin(ModelSpec("recorder", "tests.models.test_interface:Recorder")))]))
    assert facts["spec"] == "recorder:r" and facts["plugin"] == "mine"
    assert facts["generation"] == {"batch_size": 1, "do_sample": False}


def test_llaso_models_lists_the_built_in_kinds(monkeypatch):
    run = CliRunner().invoke(app, ["models", "--json"])
    assert run.exit_code == 0, run.output
    kinds = {m["id"]: m for m in json.loads(run.output)}
    assert {"lslm", "llaso-release", "hf", "openai"} <= set(kinds)
    assert kinds["openai"]["usage"] == "openai:MODEL@BASE_URL" and kinds["llaso-release"]["batched"] is False
    monkeypatch.setattr(output.console, "width", 200)  # the console may be sized before this test runs
    table = CliRunner().invoke(app, ["models"])
    assert "llaso-release" in table.output and "hf:PATH_OR_HUB_ID" in table.output


class Fragile(Recorder):
    def answer(self, requests, options=GenerationOptions()):
        if any(r.id == "at" for r in requests):
            raise RuntimeError("shape mismatch")
        return super().answer(requests, options)


def test_a_request_that_raises_is_unanswered_and_the_rest_of_its_batch_is_answered():
    answers = Fragile("f").answer_all(requests_of_each_modality(), GenerationOptions(batch_size=3))
    assert answers["ta"].text == "ta" and answers["pa"].text == "pa"
    assert answers["at"].text is None and answers["at"].error == "at: RuntimeError: shape mismatch"
