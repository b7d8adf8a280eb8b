"""Third-party plugins go through real ``importlib.metadata`` entry points, in a fresh process."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "llaso-plugin-example"


def pip(*args: str, quiet: bool = True) -> str:
    """Run pip; its output (with ``quiet=False``: the build back-end's too)."""
    done = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q" if quiet else "-v", *args],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def llaso(site: Path, *args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": str(site), **(env or {})}
    return subprocess.run([sys.executable, "-m", "llaso_cli", *args], capture_output=True, text=True,
                          env=environ, timeout=180, cwd=cwd)


def ok(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, (done.args, done.stdout[-2000:], done.stderr[-3000:])
    return done


def write_dist(site: Path, dist: str, entry_point: str, module: str, source: str) -> None:
    """Install a one-module distribution by hand: a dist-info with an entry point, and the module."""
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"  # as pip names it
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[llaso]\n{entry_point} = {module}\n")
    (site / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture(scope="module")
def example_site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    pip("install", "--no-deps", "--no-build-isolation", "--target", str(site), str(EXAMPLE))
    return site


def test_installed_example_plugin_adds_its_task(example_site):
    listing = llaso(example_site, "tasks", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    tasks = {t["id"]: t for t in json.loads(listing.stdout)}
    assert len(tasks) == 21 and tasks["SRE"]["plugin"] == "speaking-rate"
    plugins = {p["name"]: p for p in json.loads(llaso(example_site, "plugins", "--json").stdout)}
    assert plugins["speaking-rate"]["package"] == "llaso-plugin-example"
    assert plugins["speaking-rate"]["version"] == "0.1.0"
    assert plugins["speaking-rate"]["registered"] == {"tasks": ["SRE"], "recipes": ["SRE"],
                                                      "adapters": ["rate-folders"]}
    shown = llaso(example_site, "tasks", "show", "SRE")
    assert "slow, normal, fast" in shown.stdout
    contract = subprocess.run(
        [sys.executable, "-c", "from llaso_core.testing import check_task; print(check_task('SRE'))"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(example_site)})
    assert contract.stdout.strip() == "[]", contract.stderr
    blocked = llaso(example_site, "tasks", "list", "--json", env={"LLASO_DISABLE_PLUGINS": "speaking-rate"})
    assert "SRE" not in {t["id"] for t in json.loads(blocked.stdout)}


@pytest.fixture(scope="module")
def sre_corpus(example_site, tmp_path_factory) -> Path:
    """``llaso data synth --tasks SRE``: the example's recipe makes the samples."""
    out = tmp_path_factory.mktemp("sre") / "corpus"
    ok(llaso(example_site, "data", "synth", "--out", str(out), "--tasks", "SRE", "--per-task", "24",
             "--workers", "1"))
    return out


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_example_recipe_makes_sre_samples(sre_corpus):
    import soundfile as sf

    samples = _rows(sre_corpus / "train.jsonl") + _rows(sre_corpus / "eval.jsonl")
    assert len(samples) == 24 and {s["task"] for s in samples} == {"SRE"}
    assert {s["source"] for s in samples} == {"speaking_rate_classification"}
    assert {s["target"] for s in samples} == {"slow", "normal", "fast"}
    assert {s["split"] for s in samples} == {"train", "eval"}
    manifest = json.loads((sre_corpus / "manifest.json").read_text())
    assert manifest["recipes"] == {"SRE": "llaso_speaking_rate.recipe:speaking_rate"}
    per_word: dict[str, list[float]] = {"slow": [], "normal": [], "fast": []}
    for s in samples:
        if s["modality"] == "ta":  # the clip is the sentence alone
            clip = next(seg["path"] for seg in s["segments"] if seg["type"] == "audio")
            info = sf.info(sre_corpus / clip)
            per_word[s["target"]].append(info.duration / len(s["metadata"]["text"].split()))
    mean = {label: sum(v) / len(v) for label, v in per_word.items()}
    assert mean["slow"] > mean["normal"] > mean["fast"], mean  # the label is audible: seconds per word


def test_a_third_party_task_goes_from_declaration_to_scores(example_site, sre_corpus, tmp_path):
    """declare (the installed example) -> data synth (its recipe) -> train -> eval -> score, commands only."""
    assert "slow, normal, fast" in ok(llaso(example_site, "tasks", "show", "SRE")).stdout
    train = tmp_path / "train"
    ok(llaso(example_site, "train", "--preset", "cpu", "--data", str(sre_corpus), "--tasks", "SRE",
             "--modalities", "ta,pa", "--out", str(train), "--max-steps", "1", "--stage", "listen,align,instruct"))
    assert [s["stage"] for s in json.loads((train / "summary.json").read_text())] == ["listen", "align", "instruct"]
    evaluated, exported = tmp_path / "eval", tmp_path / "release"
    ok(llaso(example_site, "eval", "--model", str(train / "instruct" / "final"), "--data", str(sre_corpus),
             "--tasks", "SRE", "--modalities", "ta,pa", "--out", str(evaluated), "--batch-size", "8",
             "--export", str(exported)))
    assert [p.name for p in exported.iterdir()] == ["speaking_rate_classification_test.json"]
    scored = tmp_path / "scored"
    ok(llaso(example_site, "score", str(exported), "--out", str(scored), "--judge", "none"))
    n_eval = len(_rows(sre_corpus / "eval.jsonl"))
    by_eval = json.loads((evaluated / "results.json").read_text())["tasks"]["SRE"]["metrics"]
    by_score = json.loads((scored / "results.json").read_text())["tasks"]["SRE"]["metrics"]
    assert by_eval["acc"]["n"] == by_score["acc"]["n"] == n_eval
    assert by_score["acc"]["value"] == pytest.approx(by_eval["acc"]["value"])
    assert by_score["abstention"]["value"] == pytest.approx(by_eval["abstention"]["value"])


def _clip(path: Path, seconds: float = 0.6) -> None:
    import numpy as np
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * 16000)) / 16000
    sf.write(path, (0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32), 16000)


def test_the_data_examples_of_the_docs_load(example_site, tmp_path):
    """docs/plugins.md's LLaSO-layout and unified-JSONL examples are read as SRE samples."""
    import re

    docs = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    examples = re.findall(r"`(my-data[^`]*)`:\n\n```jsonl?\n(.*?)```", docs, flags=re.S)
    assert [name for name, _ in examples] == ["my-data/speaking_rate_classification_train.json",
                                              "my-data-unified/train.jsonl"]
    for name, text in examples:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
        for clip in ("anna_01", "ben_02"):
            _clip(tmp_path / name.split("/")[0] / "clips" / f"{clip}.wav")
        report = json.loads(ok(llaso(example_site, "data", "inspect", str(tmp_path / name.split("/")[0]),
                                     "--json")).stdout)
        assert report["samples"] == 2 and report["by_task"] == {"SRE": 2}, (name, report)
        assert report["by_modality"] == {"ta": 1, "pa": 1} and report["labels"]["SRE"] == {"slow": 1, "fast": 1}
        assert report["audio"]["problem_total"] == 0 and report["unmapped_files"] == []


def test_the_example_adapter_builds_an_sre_corpus(example_site, tmp_path):
    listed = {a["id"]: a for a in json.loads(ok(llaso(example_site, "data", "adapters", "--json")).stdout)}
    assert listed["rate-folders"]["plugin"] == "speaking-rate" and listed["rate-folders"]["tasks"] == ["SRE"]
    assert listed["nsynth"]["plugin"] == "corpora"
    for label, speakers in (("slow", "ab"), ("normal", "cd"), ("fast", "ef")):
        for speaker in speakers:
            _clip(tmp_path / "raw" / label / f"{speaker}_1.wav")
    _clip(tmp_path / "raw" / "medium" / "g_1.wav")
    spec = {"seed": 0, "eval_fraction": 0.5, "modalities": ["ta"],
            "inputs": [{"adapter": "rate-folders", "path": str(tmp_path / "raw")}]}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    ok(llaso(example_site, "data", "build", str(tmp_path / "spec.json"), "--out", str(tmp_path / "built")))
    samples = _rows(tmp_path / "built" / "train.jsonl") + _rows(tmp_path / "built" / "eval.jsonl")
    assert sorted(s["target"] for s in samples) == ["fast", "fast", "normal", "normal", "slow", "slow"]
    assert {(s["task"], s["source"], s["modality"]) for s in samples} == {("SRE", "speaking_rate_classification", "ta")}
    manifest = json.loads((tmp_path / "built" / "manifest.json").read_text())
    assert manifest["skipped"]["unknown_label"] == 1 and manifest["groups"]["overlap"] == 0


def test_broken_plugins_are_reported_not_fatal(example_site, tmp_path):
    site = tmp_path / "site"
    write_dist(site, "llaso-broken-import", "broken-import", "llaso_broken_import",
               "raise ImportError('this plugin is deliberately broken')\n")
    write_dist(site, "llaso-bad-spec", "bad-spec", "llaso_bad_spec", """
        from llaso_core import hookimpl
        from llaso_core.specs import LabelSet

        @hookimpl
        def llaso_register_tasks(register):
            register(LabelSet("closed", ["only-one"]))
        """)
    listing = llaso(site, "tasks", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    assert len(json.loads(listing.stdout)) == 20
    plugins = {p["name"]: p for p in json.loads(llaso(site, "plugins", "--json").stdout)}
    assert plugins["broken-import"]["state"] == "failed"
    assert "deliberately broken" in plugins["broken-import"]["error"]
    assert plugins["bad-spec"]["state"] == "failed" and "LabelSet.labels" in plugins["bad-spec"]["error"]
    table = llaso(site, "plugins")
    assert table.returncode == 0 and "failed" in table.stdout


def test_wheel_installs_no_top_level_plugins_or_cli(tmp_path):
    # Build from a copy: an in-tree build leaves a stale llaso.egg-info that importlib.metadata would
    # find on sys.path (the current directory) before the installed distribution.
    source = tmp_path / "src"
    top_level_junk = {".venv", ".git", "build", "runs", "llaso.egg-info"}
    shutil.copytree(REPO, source, ignore=lambda folder, names: top_level_junk & set(names)
                    if Path(folder) == REPO else {n for n in names if n == "__pycache__"})
    log = pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(source), quiet=False)
    warnings = [line for line in log.splitlines() if "Warning:" in line]  # Python warnings (setuptools')
    assert not warnings, "setuptools warns:\n" + "\n".join(warnings)  # packages and data all declared
    wheel = next(tmp_path.glob("llaso-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"llaso_core", "llaso_plugins", "llaso_cli", "llaso-0.1.0.dist-info"}
    packages = {str(p.parent.relative_to(REPO)) for p in REPO.glob("**/__init__.py")
                if p.parts[len(REPO.parts)] in ("llaso_core", "plugins", "cli")}
    installed = {n.rsplit("/", 1)[0] for n in names if n.endswith("__init__.py")}
    renamed = {p.replace("plugins", "llaso_plugins", 1) if p.startswith("plugins") else
               p.replace("cli", "llaso_cli", 1) if p.startswith("cli") else p for p in packages}
    assert renamed == installed  # every package of the tree is in the wheel
    assert "llaso_plugins/tasks/templates/ASR.json" in names
    entry_points = zipfile.ZipFile(wheel).read("llaso-0.1.0.dist-info/entry_points.txt").decode()
    assert "tasks = llaso_plugins.tasks" in entry_points and "llaso = llaso_cli.app:main" in entry_points
