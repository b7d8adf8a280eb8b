"""A third-party metric: docs/plugins.md's example, installed as a plugin, gets the extractor's
answers from `llaso score`, and `llaso report` ranks it by its declared direction (lower is better)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from llaso_core.reports.aggregate import declared_directions, metric_direction
from tests.faults.catalogue import plugin
from tests.faults.test_catalogue import fresh_llaso

REPO = Path(__file__).resolve().parents[2]
STEM = "beep_count_classification"
TASK = """
    from llaso_core import hookimpl
    from llaso_core.specs import LabelSet, Source, TaskSpec, Template, TemplateSet

    BEEPS = TaskSpec(id="BEEP", name="beep counting", category="paralinguistic-content",
                     sources=[Source("beep_count_classification", modalities=("ta",))],
                     templates=TemplateSet((Template("B1", "How many beeps? {labels}"),)),
                     label_sets=[LabelSet("closed", ["one", "two", "three"])],
                     extractor="label", metrics=("acc", "miss_rate"))

    @hookimpl
    def llaso_register_tasks(register):
        register(BEEPS)
"""


def docs_example() -> str:
    docs = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n# my_llaso_metrics.py\n(.*?)```", docs, flags=re.S)
    return code


def predictions(answers: list[str]) -> list[dict]:
    references = ["two", "three", "one", "two"]
    return [{"voice": [f"clip{i}.wav"], "answer": answer,
             "conversations": [{"from": "human", "value": "How many beeps? one, two or three<audio>"},
                               {"from": "gpt", "value": reference}]}
            for i, (reference, answer) in enumerate(zip(references, answers))]


def score(tmp: Path, system: str, answers: list[str]) -> Path:
    folder = tmp / system
    folder.mkdir()
    (folder / f"{STEM}_test.json").write_text(json.dumps(predictions(answers)), encoding="utf-8")
    done = fresh_llaso(tmp, "score", str(folder), "--out", str(tmp / f"{system}-scores"), "--judge", "none",
                       "--protocol", "strict", "--name", system)
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp / f"{system}-scores" / "results.json"


def test_the_docs_metric_scores_extracted_answers_and_reports_lower_is_better(tmp_path):
    plugin(tmp_path, "my-llaso-metrics", "my-metrics", docs_example())
    plugin(tmp_path, "beep-task", "beep-task", TASK)
    # the label extractor reads "It is two." as "two": a metric on the raw text would count 4 misses
    good = score(tmp_path, "good", ["It is two.", "three beeps", "One.", "three"])
    poor = score(tmp_path, "poor", ["one", "one", "two", "two"])
    values = {p: json.loads(p.read_text())["tasks"]["BEEP"]["metrics"]["miss_rate"]["value"] for p in (good, poor)}
    assert values == {good: 0.25, poor: 0.75}
    for path in (good, poor):  # a results file that does not state the direction: the declaration decides
        data = json.loads(path.read_text())
        for metrics in [data["tasks"]["BEEP"]["metrics"], *(f["metrics"] for f in data["files"])]:
            del metrics["miss_rate"]["higher_is_better"]
        path.write_text(json.dumps(data))
    done = fresh_llaso(tmp_path, "report", str(poor), str(good), "--out", str(tmp_path / "report"))
    assert done.returncode == 0, done.stdout + done.stderr
    report = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    row = next(line for line in report.splitlines() if "miss_rate ↓" in line)
    assert "**0.250**" in row and "**0.750**" not in row, row  # the lower value is the best


def test_results_state_the_declared_direction_not_the_functions(tmp_path):
    """A metric function that puts the wrong direction in its result: results.json follows the
    MetricSpec the plugin registered (lower is better)."""
    code = docs_example()
    assert "higher_is_better=False, protocol=protocol" in code
    plugin(tmp_path, "my-llaso-metrics", "my-metrics", code.replace("higher_is_better=False, protocol=protocol",
                                                                     "higher_is_better=True, protocol=protocol"))
    plugin(tmp_path, "beep-task", "beep-task", TASK)
    data = json.loads(score(tmp_path, "careless", ["two", "one", "one", "two"]).read_text())
    stated = [data["tasks"]["BEEP"]["metrics"]["miss_rate"], *(f["metrics"]["miss_rate"] for f in data["files"])]
    assert [m["higher_is_better"] for m in stated] == [False] * len(stated)


def test_builtin_directions_come_from_their_declarations():
    from llaso_core.metrics import BUILTIN_METRICS

    assert {s.id: s.higher_is_better for s in BUILTIN_METRICS}.items() <= declared_directions().items()
    assert metric_direction("wer", {"higher_is_better": True}) is False  # the declaration wins over a file
    assert metric_direction("unheard_of", {"higher_is_better": False}) is False  # no declaration: the file
    assert metric_direction("unheard_of") is True
