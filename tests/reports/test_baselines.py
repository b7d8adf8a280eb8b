"""Reference baselines of closed-set tasks: computed by ``llaso score`` from the evaluation
references and the task's label set (results.json), and shown beside the systems in the report."""

import json

import pytest

from llaso_core.evaluation.judging import JudgeOptions
from llaso_core.evaluation.results import build_results
from llaso_core.evaluation.score import score
from llaso_core.loader import get_host
from llaso_core.reports import write_report
from llaso_core.reports.aggregate import baseline_values
from llaso_core.reports.load import as_systems

GENDER, ACCENT = "vctk_gender_classification", "vctk_accent_classification"  # accent: 10 labels
ROWS = [  # (source, modality, reference)
    *[(GENDER, "ta", ref) for ref in ("Male.", "male", "male", "Female")],
    *[(GENDER, "pa", ref) for ref in ("female", "Female.")],
    # "American" counts as "american"; "martian" lies outside the label set, no label can match it
    *[(ACCENT, "ta", ref) for ref in ("american", "American", "british", "irish", "scottish", "martian")],
    ("ASR", "ta", "the driver moved an old map"),
]


def results_of(tmp_path, system: str, answer) -> dict:
    """results.json of ``system`` answering ``answer(reference)`` to every row."""
    path = tmp_path / f"{system}.jsonl"
    path.write_text("\n".join(json.dumps({"source": s, "modality": m, "reference": r, "prediction": answer(r)})
                              for s, m, r in ROWS))
    run = score([path], get_host(), judge=JudgeOptions(backend="none", cache_path=tmp_path / "judge.sqlite"))
    return build_results(run, system=system, inputs=[str(path)])


@pytest.fixture(scope="module")
def systems(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("baselines")
    return (results_of(tmp, "echo", lambda ref: ref),  # always right
            results_of(tmp, "always-male", lambda ref: "male"))


def test_baselines_come_from_the_references_and_label_set(systems):
    echo, always_male = systems
    baselines = echo["baselines"]
    assert baselines == always_male["baselines"], "baselines do not depend on the predictions"
    gender, accent = baselines["tasks"]["SGC"]["acc"], baselines["tasks"]["AC"]["acc"]
    # majority per file (ta: 3 of 4 male; pa: 2 of 2 female), pooled by sample counts
    assert gender["majority"] == pytest.approx((3 + 2) / 6) and gender["chance"] == pytest.approx(1 / 2)
    assert gender["majority_labels"] == ["female", "male"] and gender["n"] == 6
    assert accent["majority"] == pytest.approx(2 / 6)
    assert accent["chance"] == pytest.approx(5 / 6 / 10)  # 5 of 6 references in the set, 10 labels
    by_modality = baselines["modalities"]
    assert by_modality["ta"]["SGC"]["acc"]["majority"] == pytest.approx(3 / 4)
    assert by_modality["pa"]["SGC"]["acc"]["majority"] == pytest.approx(1.0)
    assert by_modality["pa"]["SGC"]["acc"]["chance"] == pytest.approx(1 / 2)
    assert "ASR" not in baselines["tasks"] and "AC" not in by_modality["pa"]  # open task; no pa accent rows
    # the constant answer scores exactly its label's share: the majority baseline is reachable
    assert always_male["modalities"]["ta"]["SGC"]["acc"]["value"] == pytest.approx(3 / 4)


@pytest.fixture(scope="module")
def report(systems, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    write_report(as_systems([("echo.json", systems[0]), ("male.json", systems[1])]), out)
    return (out / "report.md").read_text(encoding="utf-8"), (out / "report.html").read_text(encoding="utf-8")


def test_report_shows_baselines_beside_the_systems_per_modality(report):
    md, html = report
    assert "| Task | Metric | Modality | echo | always-male | Majority | Chance |" in md
    gender = "| SGC (speaker gender classification) | acc ↑ |"
    assert f"{gender} TA | **1.000** | 0.750 | 0.750 | 0.500 |" in md
    assert f"{gender} PA | **1.000** | 0.000 | 1.000 | 0.500 |" in md
    assert f"{gender} all (pooled) | **1.000** | 0.500 | 0.833 | 0.500 |" in md
    # †: "martian" (the echo of the reference outside the set) and "male" name no accent label
    assert "| AC (accent classification) | acc ↑ | TA | **0.833 †** | 0.000 † | 0.333 | 0.083 |" in md
    assert "| ASR (automatic speech recognition) | wer ↓ | TA | **0.000** | 1.000 | — | — |" in md
    assert "<th>Majority</th><th>Chance</th>" in html
    assert '<td class="num">0.833</td><td class="num">0.500</td></tr>' in html  # SGC pooled baselines
    for text in (md, html):
        assert "carry the instruction only as speech" in text  # why PA sits near the baselines
        assert "most frequent label" in text


def test_systems_evaluated_on_different_references_show_each_baseline():
    def system(name, majority):
        return (f"{name}.json", {"system": name, "tasks": {"SGC": {"metrics": {"acc": {"value": 0.9}}}},
                                 "baselines": {"tasks": {"SGC": {"acc": {"majority": majority, "chance": 0.5}}}}})

    found = baseline_values(as_systems([system("a", 0.6), system("b", 0.7), system("c", 0.6)]), "SGC", "acc")
    assert found == {"majority": [0.6, 0.7], "chance": [0.5]}
    assert baseline_values(as_systems([system("a", 0.6)]), "SGC", "acc", modality="ta") == {"majority": [],
                                                                                            "chance": []}
