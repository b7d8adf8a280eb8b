"""Fault catalogue, scoring and judging: bad prediction files, bad judge files, bad judge servers.

Every case runs ``llaso score`` (in process) on files built here and checks the exit status, that
the message names the file (and line) and the problem, that there is no traceback, and that what
could be read is still scored and written.
"""

from __future__ import annotations

import json
import time
import types
from pathlib import Path
from typing import Any, Callable

import pytest
from typer.testing import CliRunner

from llaso_cli.app import app
from llaso_core import hookimpl
from llaso_core.evaluation.records import read_records
from llaso_core.evaluation.score import score
from llaso_core.loader import load
from llaso_core.metrics import Protocol
from llaso_core.specs import ExtractorSpec, LabelSet, Source, TaskSpec, Template, TemplateSet
from tests.judge.server import FakeJudgeServer

runner = CliRunner()
GENDER = "vctk_gender_classification_test"
QUESTION = "Is the speaker male or female?<audio>"


def record(reference: str, answer: str | None, question: str = QUESTION, i: int = 0) -> dict[str, Any]:
    """One prediction in the LLaSO release layout."""
    row: dict[str, Any] = {"voice": [f"clip{i}.wav"],
                           "conversations": [{"from": "human", "value": question},
                                             {"from": "gpt", "value": reference}]}
    if answer is not None:
        row["answer"] = answer
    return row


GOOD = [record("Male.", "The speaker is male.", i=0), record("Female.", "female", i=1),
        record("Male.", "female", i=2), record("Female.", "Female.", i=3)]  # acc 3/4


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def run_score(*args: str, cache: Path) -> tuple[int, str, dict[str, Any]]:
    """(exit status, output, results.json) of ``llaso score``; results must be written."""
    result = runner.invoke(app, ["score", *args, "--judge-cache", str(cache)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    out = Path(args[args.index("--out") + 1])
    return result.exit_code, result.output, json.loads((out / "results.json").read_text())


def squash(text: str) -> str:
    """``text`` without whitespace (the terminal wraps long paths)."""
    return "".join(text.split())


# ----------------------------------------------------------------------------- prediction files

def spanning(path: Path) -> bytes:  # a raw newline inside the answer: one record over two lines
    text = jsonl(GOOD)
    return text.replace('"The speaker is male."', '"The speaker\nis male."').encode()


def control(path: Path) -> bytes:  # a raw tab and a raw \x01 inside strings
    return jsonl(GOOD).replace('"female"', '"\tfemale\x01"', 1).encode()


def bom_crlf(path: Path) -> bytes:
    return ("\ufeff" + jsonl(GOOD).replace("\n", "\r\n")).encode()


def truncated(path: Path) -> bytes:  # a writer killed in the middle of a fifth record
    return (jsonl(GOOD) + json.dumps(record("Male.", "male"))[:40]).encode()


def broken_line(path: Path) -> bytes:  # line 2 is not JSON at all
    lines = jsonl(GOOD).splitlines(keepends=True)
    return "".join(lines[:1] + ["{this is not json\n"] + lines[1:]).encode()


def array_control(path: Path) -> bytes:  # a pretty-printed JSON array with a raw newline inside a string
    return json.dumps(GOOD, indent=2).replace("The speaker is male.", "The speaker\\nis male.") \
        .replace("\\n", "\n").encode()


def array_broken(path: Path) -> bytes:  # an array, one element a line, the second one broken
    elements = [json.dumps(r) for r in GOOD[:1]] + ['{"broken" 1}'] + [json.dumps(r) for r in GOOD[1:]]
    return ("[\n" + ",\n".join("  " + e for e in elements) + "\n]\n").encode()


def invalid_utf8(path: Path) -> bytes:
    return jsonl(GOOD).encode().replace(b"The speaker", b"The sp\xffeaker")


def not_an_object(path: Path) -> bytes:
    return (jsonl(GOOD) + "42\n").encode()


def no_turns(path: Path) -> bytes:
    return (jsonl(GOOD) + json.dumps({"answer": "male"}) + "\n").encode()


# (name, file name, content, exit status, samples scored, accuracy, what the problem says)
FILE_CASES: list[tuple[str, str, Callable[[Path], bytes], int, int, float, str]] = [
    ("records spanning lines", f"{GENDER}.jsonl", spanning, 0, 4, 0.75, "1 records spanning lines"),
    ("control characters", f"{GENDER}.jsonl", control, 0, 4, 0.75, "records with control characters"),
    ("BOM and CRLF", f"{GENDER}.jsonl", bom_crlf, 0, 4, 0.75, "UTF-8 BOM removed, CRLF line ends"),
    ("truncated last line", f"{GENDER}.jsonl", truncated, 3, 4, 0.75, f"{GENDER}.jsonl:5: unreadable record"),
    ("broken line", f"{GENDER}.jsonl", broken_line, 3, 4, 0.75, f"{GENDER}.jsonl:2: unreadable record"),
    ("array, raw newline", f"{GENDER}.json", array_control, 0, 4, 0.75, "records with control characters"),
    ("array, broken element", f"{GENDER}.json", array_broken, 3, 4, 0.75, f"{GENDER}.json:3: unreadable"),
    ("invalid UTF-8", f"{GENDER}.jsonl", invalid_utf8, 0, 4, 0.75, "invalid UTF-8 bytes replaced"),
    ("a record that is no object", f"{GENDER}.jsonl", not_an_object, 3, 4, 0.75,
     f"{GENDER}.jsonl:5: not a JSON object; left out"),
    ("a record without turns", f"{GENDER}.jsonl", no_turns, 3, 4, 0.75,
     f"{GENDER}.jsonl:5: no human/gpt conversation turns; left out"),
]


@pytest.mark.parametrize("case", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_bad_prediction_file_is_repaired_or_named(tmp_path, case):
    name, file_name, content, exit_status, n, acc, problem = case
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / file_name).write_bytes(content(inputs / file_name))
    (inputs / "speaking_gibberish_test.json").write_bytes(b"\x00\x01 not json at all")  # another bad file
    code, output, results = run_score(str(inputs), "--out", str(tmp_path / "out"), "--judge", "none",
                                      "--protocol", "strict", cache=tmp_path / "c.sqlite")
    assert code == 3  # the gibberish file is always left out (named in unknown_files)
    assert [Path(u["path"]).name for u in results["unknown_files"]] == ["speaking_gibberish_test.json"]
    [scored] = results["files"]
    assert scored["n"] == n and scored["metrics"]["acc"]["value"] == pytest.approx(acc)
    assert any(problem in p for p in results["problems"]), results["problems"]
    assert squash(problem.split(";")[0]) in squash(output)  # said on the terminal too
    assert (results["left_out"] > 0) == (exit_status == 3)


def test_a_clean_file_gives_exit_zero_and_no_problems(tmp_path):
    (tmp_path / f"{GENDER}.json").write_text(json.dumps(GOOD))
    code, _, results = run_score(str(tmp_path / f"{GENDER}.json"), "--out", str(tmp_path / "out"),
                                 "--judge", "none", cache=tmp_path / "c.sqlite")
    assert code == 0 and results["complete"] and results["problems"] == [] and results["left_out"] == 0


# ----------------------------------------------------------------------------- judge files

def test_broken_recorded_judge_rows_are_named_and_the_rest_used(tmp_path):
    system = tmp_path / "sys"
    (system / "gpt_result").mkdir(parents=True)
    rows = [record(f"reference {i}", f"answer {i}", "Tell me about<audio>", i) for i in range(3)]
    (system / "dolly_input_1_test.json").write_text(json.dumps(rows))
    (system / f"{GENDER}.json").write_text(json.dumps(GOOD))
    judged = [json.dumps({"file": "dolly_input_1_test.json", "index": i, "predicted": f"answer {i}",
                          "reference": f"reference {i}", "evaluation": f"Score: {i + 3}\nExplanation: x"})
              for i in range(3)]
    judged[1] = judged[1].replace("Explanation: x", "Explanation:\\tx").replace("\\t", "\t")  # raw tab
    judged[2] = judged[2][:30]  # a broken row
    (system / "gpt_result" / "dolly_input_1_test.jsonl").write_text("\n".join(judged) + "\n")
    code, output, results = run_score(str(system), "--out", str(tmp_path / "out"), "--judge", "none",
                                      "--protocol", "paper", cache=tmp_path / "c.sqlite")
    assert code == 3
    files = {f["file"]: f for f in results["files"]}
    assert files[GENDER]["metrics"]["acc"]["value"] == pytest.approx(0.75)  # other files still scored
    judge = files["dolly_input_1_test"]["metrics"]["judge"]
    assert judge["n_used"] == 2 and judge["value"] == pytest.approx((3 + 4) / 2)
    assert any("gpt_result/dolly_input_1_test.jsonl:3: unreadable record" in p for p in results["problems"])
    assert any("records with control characters" in p for p in results["problems"])


# ----------------------------------------------------------------------------- judge servers

def open_answers(path: Path, marker: str) -> None:
    """Two open-ended predictions: one carrying ``marker`` (the server misbehaves on it), one plain."""
    rows = [record("The sky is blue.", f"It is blue {marker}", "What colour is the sky?<audio>", 0),
            record("Paris.", "Paris is the capital.", "Name the capital of France.<audio>", 1)]
    path.write_text(json.dumps(rows))


SERVER_CASES: list[tuple[str, Callable[[FakeJudgeServer], None], int, int, str]] = [
    # (mode, set-up, exit status, verdicts scored, note of the marked sample in samples.jsonl)
    ("HTTP 500", lambda s: s.always_fail.update({"[case]": 500}), 3, 1, "judge API failure: InternalServerError"),
    ("HTTP 429 once", lambda s: s.transient.update({"[case]": (429, 1)}), 0, 2, ""),
    ("hang past the time-out", lambda s: s.hang.update({"[case]": 3.0}), 3, 1, "judge API failure: APITimeout"),
    ("non-JSON body", lambda s: s.non_json.add("[case]"), 3, 1, "judge API failure"),
    ("no score", lambda s: s.garbage.add("[case]"), 3, 1, "no score"),
]


@pytest.mark.parametrize("case", SERVER_CASES, ids=[c[0] for c in SERVER_CASES])
def test_judge_server_failures_are_labelled_not_fatal(tmp_path, case):
    mode, setup, exit_status, n_used, note = case
    open_answers(tmp_path / "dolly_input_1_test.json", "[case]")
    with FakeJudgeServer() as server:
        setup(server)
        start = time.monotonic()
        code, output, results = run_score(
            str(tmp_path / "dolly_input_1_test.json"), "--out", str(tmp_path / "out"),
            "--judge-base-url", server.base_url, "--judge-model", "local", "--judge-timeout", "0.5",
            "--judge-retries", "1", cache=tmp_path / "c.sqlite")
        elapsed = time.monotonic() - start
    assert code == exit_status, output
    assert elapsed < 6  # time-out 0.5 s, one retry: never the 60 s x 5 of the defaults
    judge = results["files"][0]["metrics"]["judge"]
    assert judge["n_used"] == n_used
    marked = json.loads((tmp_path / "out" / "samples.jsonl").read_text().splitlines()[0])
    assert marked["prediction"] == "It is blue [case]"
    if note:
        assert marked["scores"]["judge"]["invalid"].startswith(note), marked
        assert "missing prediction" not in json.dumps(marked)
        assert any("dolly_input_1_test" in p and "left out" in p for p in results["problems"])
    if mode == "no score":
        assert any("1 judge verdict(s) without a parsable score" in p for p in results["problems"])


def test_judge_deadline_bounds_the_run_and_is_not_cached(tmp_path):
    open_answers(tmp_path / "dolly_input_1_test.json", "[slow]")
    cache = tmp_path / "c.sqlite"
    with FakeJudgeServer() as server:
        server.hang["[slow]"] = 4.0
        start = time.monotonic()
        code, _, results = run_score(str(tmp_path / "dolly_input_1_test.json"), "--out", str(tmp_path / "o1"),
                                     "--judge-base-url", server.base_url, "--judge-model", "local",
                                     "--judge-deadline", "1", cache=cache)
        assert time.monotonic() - start < 3.5  # the 60 s default time-out is cut by the deadline
        assert code == 3 and results["files"][0]["metrics"]["judge"]["n_used"] == 1
        marked = json.loads((tmp_path / "o1" / "samples.jsonl").read_text().splitlines()[0])
        assert "judge deadline passed" in marked["scores"]["judge"]["invalid"]
        server.hang.clear()
        asked = server.count
        code, _, again = run_score(str(tmp_path / "dolly_input_1_test.json"), "--out", str(tmp_path / "o2"),
                                   "--judge-base-url", server.base_url, "--judge-model", "local", cache=cache)
        assert server.count == asked + 1  # the timed-out pair is asked again without --retry-failed
    assert code == 0 and again["files"][0]["metrics"]["judge"]["n_used"] == 2


def test_eval_takes_the_same_judge_options():
    options = ("--judge-model", "--judge-base-url", "--judge-concurrency", "--judge-cache", "--retry-failed",
               "--judge-timeout", "--judge-retries", "--judge-deadline")
    for command in ("score", "eval"):
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert all(option in result.output for option in options), (command, result.output)
    result = runner.invoke(app, ["eval", "--model", "x", "--out", "y", "--judge", "gpt"])
    assert result.exit_code == 2 and "unknown --judge 'gpt'" in result.output


# ----------------------------------------------------------------------------- paper-protocol quirks

def test_paper_pitch_mae_rounds_decimal_answers_as_the_released_script(tmp_path):
    question = "What is the MIDI pitch of this note?<audio>"
    rows = [record("60", "60.5", question, 0), record("62", "61.5", question, 1),
            record("64", "The pitch is 65.6.", question, 2), record("70", "I do not know", question, 3)]
    (tmp_path / "NSynth_pitch_recognition_test.json").write_text(json.dumps(rows))
    values = {}
    for protocol in ("paper", "strict"):
        code, _, results = run_score(str(tmp_path / "NSynth_pitch_recognition_test.json"), "--out",
                                     str(tmp_path / protocol), "--judge", "none", "--protocol", protocol,
                                     cache=tmp_path / "c.sqlite")
        assert code == 0
        values[protocol] = results["files"][0]["metrics"]["mae"]
    # pitch_L1.py: int(round(60.5)) = 60, int(round(61.5)) = 62, int(round(65.6)) = 66
    assert values["paper"]["value"] == pytest.approx((0 + 0 + 2) / 3) and values["paper"]["n_used"] == 3
    assert values["strict"]["value"] == pytest.approx((0.5 + 0.5 + 1.6) / 3)


def test_paper_pssl_is_zero_not_empty_when_no_answer_parses(tmp_path):
    question = "Rate the pronunciation of this sentence.<audio>"
    ref = "Hello. For the sentence: accuracy is {}, prosodic is {}, fluency is {} total score is 8."
    rows = [record(ref.format(8, 7, 9), "It sounds fine to me.", question, 0),
            record(ref.format(5, 5, 5), "Quite good overall", question, 1)]
    (tmp_path / "pronunciation_scoring_sentence_level_test.json").write_text(json.dumps(rows))
    _, _, results = run_score(str(tmp_path / "pronunciation_scoring_sentence_level_test.json"), "--out",
                              str(tmp_path / "out"), "--judge", "none", "--protocol", "paper",
                              cache=tmp_path / "c.sqlite")
    pssl = results["files"][0]["metrics"]["pssl_acc"]
    assert (pssl["value"], pssl["n_used"]) == (0.0, 0)  # pronunciation_scoring.py: "if total > 0 else 0"
    assert results["tasks"]["PSSL"]["metrics"]["pssl_acc"]["value"] == 0.0


# ----------------------------------------------------------------------------- the task's extractor decides

WORDS = {"1": "one", "2": "two", "3": "three"}


def digit_words(answer: str, label_set: LabelSet) -> str | None:
    """A third-party extractor: the first digit 1-3 as its word, else a label named in words."""
    for char in answer:
        if char in WORDS:
            return WORDS[char]
    named = [label for label in label_set.labels if label in answer.lower()]
    return named[0] if len(named) == 1 else None


COUNTING = TaskSpec(
    id="CNT", name="counting", category="paralinguistic-content",
    sources=[Source("counting_classification", modalities=("ta",))],
    templates=TemplateSet(templates=[Template("CNT-1", "How many beeps? Answer {labels}.", "standardized"),
                                     Template("CNT-2", "Count the beeps: {labels}?", "stylistic")],
                          eval_ids={"CNT-1"}),
    label_sets=[LabelSet("closed", ["one", "two", "three"])],
    extractor="digit_words", metrics=("acc", "abstention"), max_new_tokens=8)


@hookimpl
def _register_tasks(register):
    register(COUNTING)


@hookimpl
def _register_extractors(register):
    register(ExtractorSpec("digit_words", f"{__name__}:digit_words", "digits as number words"))


COUNTING_PLUGIN = types.SimpleNamespace(llaso_register_tasks=_register_tasks,
                                        llaso_register_extractors=_register_extractors)


def test_metrics_score_what_the_task_extractor_returns(tmp_path):
    host = load(extra=[("counting", COUNTING_PLUGIN)])
    assert host.plugin("counting").state == "loaded", host.plugin("counting").error
    question = "How many beeps? Answer one, two or three.<audio>"
    rows = [record("two", "2", question, 0), record("three", "There are 3 beeps.", question, 1),
            record("one", "one", question, 2), record("two", "5 beeps", question, 3)]
    (tmp_path / "counting_classification_test.json").write_text(json.dumps(rows))
    runs = {p: score([tmp_path / "counting_classification_test.json"], host, protocol=p) for p in Protocol}
    strict = runs[Protocol.STRICT].sets[0]
    assert strict.extracted == ("two", "three", "one", None)
    assert strict.metrics["acc"].value == pytest.approx(3 / 4)  # built-in label matching: 1/4
    assert strict.metrics["acc"].extra["rule"] == "extractor"
    assert strict.metrics["abstention"].value == pytest.approx(1 / 4)
    assert [s.extracted for s in strict.metrics["acc"].samples][:3] == ["two", "three", "one"]
    paper = runs[Protocol.PAPER].sets[0]  # the released substring rule: only "one" matches its label
    assert paper.metrics["acc"].value == pytest.approx(1 / 4)


# ----------------------------------------------------------------------------- the reader itself

@pytest.mark.parametrize(("text", "values", "repairs", "unreadable"), [
    ('[\n  {"a": 1},\n  {"a": 2}\n', [{"a": 1}, {"a": 2}], {"JSON array without its closing ']'": 1}, 0),
    ('{\n  "a": 1\n}\n', [{"a": 1}], {}, 0),  # one pretty-printed object
    ('{"a": "x\ny\nz"}\n{"a": 2}\n', [{"a": "x\ny\nz"}, {"a": 2}], {"records spanning lines": 1}, 0),
    ('{"a": 1}\n{"a": \n{"a": 3}\n', [{"a": 1}, {"a": 3}], {}, 1),  # the broken record ends at the next
    ('', [], {}, 0),
])
def test_read_records(tmp_path, text, values, repairs, unreadable):
    path = tmp_path / "f.jsonl"
    path.write_text(text, encoding="utf-8")
    read = read_records(path)
    assert [r.value for r in read.records] == values
    assert read.repairs == repairs and len(read.unreadable) == unreadable
