"""The example model plugin, pip-installed into a folder, found through its entry point and evaluated."""

import json

import pytest

from tests.plugins.test_third_party import REPO, llaso, pip
from tests.training.conftest import tone_corpus

EXAMPLE = REPO / "examples" / "llaso-model-example"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    try:  # offline with the environment's setuptools; where that cannot build wheels, pip's isolated build
        pip("install", "--no-deps", "--no-build-isolation", "--target", str(site), str(EXAMPLE))
    except AssertionError:
        pip("install", "--no-deps", "--target", str(site), str(EXAMPLE))
    return site


def test_the_installed_model_kind_is_listed_and_evaluates(site, corpus, tmp_path):
    listing = llaso(site, "models", "--json")
    assert listing.returncode == 0, listing.stderr
    kinds = {m["id"]: m for m in json.loads(listing.stdout)}
    assert set(kinds) == {"lslm", "llaso-release", "hf", "openai", "pitch-baseline"}
    assert kinds["pitch-baseline"]["plugin"] == "pitch-baseline" and kinds["pitch-baseline"]["modalities"] == ["ta"]
    plugins = {p["name"]: p for p in json.loads(llaso(site, "plugins", "--json").stdout)}
    assert plugins["pitch-baseline"]["package"] == "llaso-model-example"
    assert plugins["pitch-baseline"]["registered"] == {"models": ["pitch-baseline"]}

    tone_corpus(tmp_path / "tones", n=12)
    run = llaso(site, "eval", "--model", "pitch-baseline:165", "--data", str(tmp_path / "tones"), "--split", "train",
                "--tasks", "SGC", "--modalities", "ta", "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["tasks"]["SGC"]["metrics"]["acc"]["value"] == 1.0  # low hums male, high ones female
    assert results["model"]["package"] == "llaso-model-example" and results["model"]["threshold_hz"] == 165.0

    mixed = llaso(site, "eval", "--model", "pitch-baseline:165", "--data", str(corpus), "--split", "train",
                  "--tasks", "SGC", "--out", str(tmp_path / "mixed"))
    assert mixed.returncode == 0, mixed.stderr
    assert "pa: not evaluated" in mixed.stderr
    results = json.loads((tmp_path / "mixed" / "results.json").read_text())
    assert set(results["not_evaluated"]) == {"pa"} and set(results["modalities"]) == {"ta"}


def test_an_unknown_kind_gets_a_did_you_mean(site, tmp_path):
    run = llaso(site, "eval", "--model", "pitch-baseline-x:165", "--out", str(tmp_path / "o"))
    assert run.returncode == 2 and "Did you mean pitch-baseline" in run.stderr and "Traceback" not in run.stderr
