"""The fault catalogue: bad inputs of every kind and command, and what llaso must do with each.

A :class:`Case` writes its bad input under a fresh folder, names the command line, and states the
exit status, the words the message must hold (file, sample or plugin, and the problem), words it
must not hold, and a check that nothing already computed was lost. ``docs/reliability.md`` lists
the same cases as a table (``input`` / ``does`` / ``where``); a test keeps the two in step.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Callable

import attrs
import numpy as np
import soundfile as sf


@attrs.frozen
class Fixtures:
    corpus: Path       # train.jsonl + audio/tone_{0..5}.wav: six SGC samples (ids tone:0 .. tone:5)
    checkpoint: Path   # an untrained tiny LSLM


@attrs.frozen
class Case:
    id: str
    input: str                                   # the bad input, in words
    does: str                                    # what llaso does with it
    where: str                                   # where it is reported
    make: Callable[[Path, Fixtures], list[str]]  # writes the input under tmp, returns the command line
    code: int                                    # the exit status
    says: tuple[str, ...] = ()                   # in stdout+stderr ("{tmp}" is the case's folder)
    absent: tuple[str, ...] = ()                 # never in stdout+stderr
    kept: Callable[[Path, Fixtures], None] | None = None  # nothing computed is lost
    fresh: bool = False  # run in a new process (plugins are discovered once per process)


# -- inputs ----------------------------------------------------------------------------------------
SGC_STEM = "vctk_gender_classification"


def record(value: object = "male", voice: str = "a.wav") -> dict:
    return {"voice": [voice], "conversations": [{"from": "human", "value": "Gender?<audio>"},
                                                {"from": "gpt", "value": value}]}


def release(tmp: Path, test_file: bytes, name: str = f"{SGC_STEM}_test.json") -> Path:
    """A release folder: a good ``_train`` file of two records, and ``name`` holding ``test_file``."""
    root = tmp / "rel"
    root.mkdir()
    sf.write(root / "a.wav", np.sin(np.arange(8000) / 9).astype(np.float32) * 0.3, 16000)
    (root / f"{SGC_STEM}_train.json").write_text(json.dumps([record(), record("female")]), encoding="utf-8")
    (root / name).write_bytes(test_file)
    return root


def raw_record(answer: str, human: str = "Gender?<audio>") -> str:
    """A release record written with its strings' control characters left raw (some released files
    hold them so: a newline inside a string makes the record span lines)."""
    return ('{"voice": ["a.wav"], "conversations": [{"from": "human", "value": "' + human
            + '"}, {"from": "gpt", "value": "' + answer + '"}]}')


SPANNING_LIST = ("[\n" + ",\n".join([json.dumps(record()), raw_record("fe\nmale", "Gen\tder?<audio>"),
                                      raw_record("male\n")]) + "\n]").encode()
SPANNING_LINES = "\n".join([json.dumps(record()), raw_record("fe\nmale")]).encode()


def release_spanning(tmp: Path, fx: Fixtures) -> Path:
    """A release folder whose ``_train`` and ``_test`` files both hold records spanning lines."""
    root = release(tmp, SPANNING_LIST)
    (root / f"{SGC_STEM}_train.json").write_bytes(SPANNING_LIST)
    return root


def corpus(tmp: Path, fx: Fixtures, line: int | None = None, text: bytes = b"") -> Path:
    """A copy of the tone corpus; ``line`` (1-based) of train.jsonl replaced by ``text``."""
    data = tmp / "data"
    shutil.copytree(fx.corpus, data)
    if line is not None:
        lines = (data / "train.jsonl").read_bytes().splitlines(keepends=True)
        lines[line - 1] = text + b"\n"
        (data / "train.jsonl").write_bytes(b"".join(lines))
    return data


def numeric_target_line(fx: Fixtures) -> bytes:
    row = json.loads((fx.corpus / "train.jsonl").read_text().splitlines()[2])
    return json.dumps({**row, "target": 1}).encode()


def bad_wav(path: Path, kind: str) -> None:
    """Overwrite ``path`` with a broken clip of ``kind``."""
    if kind == "nan":  # float samples, half NaN, half infinite
        data = np.full(16000, np.nan, dtype=np.float32)
        data[8000:] = np.inf
        sf.write(path, data, 16000, subtype="FLOAT")
    elif kind == "long":  # 40 s of tone
        sf.write(path, (np.sin(np.arange(40 * 16000) / 7) * 0.3).astype(np.float32), 16000)
    elif kind == "truncated":
        path.write_bytes(path.read_bytes()[:2000])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "missing":
        path.unlink()


def audio_corpus(kinds: dict[int, str]) -> Callable[[Path, Fixtures], Path]:
    def make(tmp: Path, fx: Fixtures) -> Path:
        data = corpus(tmp, fx)
        for index, kind in kinds.items():
            bad_wav(data / "audio" / f"tone_{index}.wav", kind)
        return data
    return make


def bad_config(tmp: Path) -> Path:
    """The cpu preset's config.json with ``align.lr_scale`` naming the LLM, which align does not train."""
    from llaso_core.training.config import cpu_default

    data = cpu_default().to_dict()
    data["align"]["lr_scale"] = {"llm": 0.1}
    (tmp / "config.json").write_text(json.dumps(data))
    return tmp / "config.json"


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@attrs.frozen
class Break:
    """A broken checkpoint case: the break in words, what it does to a copy of the fixture checkpoint,
    and what llaso must say."""

    words: str
    make: Callable[[Path], object]
    says: str


CHECKPOINT_BREAKS: dict[str, Break] = {
    "config-json": Break("whose llaso_config.json is cut short", lambda ckpt: (ckpt / "llaso_config.json").write_text("{"),
                         "{tmp}/ckpt/llaso_config.json: not valid JSON"),
    "config-field": Break("whose llaso_config.json names a model field llaso does not have",
                          lambda ckpt: edit_json(ckpt / "llaso_config.json", lambda m: m["lslm"].update(bogus=1)),
                          "{tmp}/ckpt/llaso_config.json: LSLMConfig.__init__() got an unexpected keyword argument 'bogus'"),
    "weights-cut": Break("whose model.safetensors is cut to its first 1,000 bytes",
                         lambda ckpt: (ckpt / "model.safetensors").write_bytes((ckpt / "model.safetensors").read_bytes()[:1000]),
                         "{tmp}/ckpt/model.safetensors: not a readable safetensors file"),
    "weights-shape": Break("whose llaso_config.json describes another projector width than its weights",
                           lambda ckpt: edit_json(ckpt / "llaso_config.json", lambda m: m["lslm"].update(projector_hidden=77)),
                           "{tmp}/ckpt/model.safetensors: does not fit the model llaso_config.json describes: "
                           "size mismatch for projector."),
    "no-tokenizer": Break("without its tokenizer/ folder", lambda ckpt: shutil.rmtree(ckpt / "tokenizer"),
                          "{tmp}/ckpt: no tokenizer/ folder"),
    "no-weights": Break("without its model.safetensors", lambda ckpt: (ckpt / "model.safetensors").unlink(),
                        "{tmp}/ckpt: no model.safetensors"),
}


def broken_checkpoint(tmp: Path, fx: Fixtures, kind: str) -> Path:
    folder = tmp / "ckpt"
    shutil.copytree(fx.checkpoint, folder)
    CHECKPOINT_BREAKS[kind].make(folder)
    return folder


def unregistered_task(tmp: Path, fx: Fixtures) -> Path:
    """The tone corpus with sample tone:1 given a task no plugin registers."""
    line = json.loads((fx.corpus / "train.jsonl").read_text().splitlines()[1])
    return corpus(tmp, fx, 2, json.dumps({**line, "task": "ZZZ"}).encode())


def only_eval(tmp: Path, fx: Fixtures) -> Path:
    """A data folder with the fixture corpus's samples as eval.jsonl, and no train.jsonl."""
    data = tmp / "data"
    data.mkdir()
    shutil.copy(fx.corpus / "train.jsonl", data / "eval.jsonl")
    return data


def a_file(tmp: Path) -> Path:
    path = tmp / "afile"
    path.write_text("keep me\n")
    return path


def file_untouched(tmp: Path, fx: Fixtures) -> None:
    assert (tmp / "afile").read_text() == "keep me\n"


UNWRITABLE = "/sys/llaso-faults-out"  # mkdir fails there, even for root


def plugin(tmp: Path, dist: str, entry_point: str, source: str) -> None:
    """Install a one-module third-party distribution into ``tmp/site`` (on the case's PYTHONPATH):
    a dist-info with an entry point in the ``llaso`` group, and the module."""
    site = tmp / "site"
    module = dist.replace("-", "_")
    info = site / f"{module}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[llaso]\n{entry_point} = {module}\n")
    (site / f"{module}.py").write_text(textwrap.dedent(source))


TASK = """
    from llaso_core import hookimpl
    from llaso_core.specs import LabelSet, Source, TaskSpec, Template, TemplateSet

    def task(id, stem):
        return TaskSpec(id=id, name="intruder", category="semantic", sources=[Source(stem)],
                        templates=TemplateSet((Template("t1", "pick {labels}"),)),
                        label_sets=[LabelSet("closed", ["yes", "no"])], extractor="label", metrics=("acc",))
"""


def registering(*calls: str) -> str:
    return TASK + "\n    @hookimpl\n    def llaso_register_tasks(register):\n" + "".join(
        f"        register(task{c})\n" for c in calls)


def plugin_case(source: str) -> Callable[[Path, Fixtures], list[str]]:
    def make(tmp: Path, fx: Fixtures) -> list[str]:
        plugin(tmp, "llaso-intruder", "aaa-intruder", source)  # sorts before every built-in by name
        return ["plugins"]
    return make


def builtins_intact(tmp: Path, fx: Fixtures) -> None:
    from tests.faults.test_catalogue import fresh_llaso

    tasks = {t["id"]: t["plugin"] for t in json.loads(fresh_llaso(tmp, "tasks", "list", "--json").stdout)}
    assert sum(1 for p in tasks.values() if p == "tasks") == 20 and tasks["SGC"] == "tasks"


def predictions(tmp: Path) -> dict[str, dict]:
    rows = [json.loads(l) for l in (tmp / "out" / "predictions.jsonl").read_text().splitlines()]
    return {r["id"]: r for r in rows}


def problems(tmp: Path) -> list[str]:
    return json.loads((tmp / "out" / "results.json").read_text())["problems"]


def eval_args(data: Path, fx: Fixtures, tmp: Path, *extra: str, model: Path | str | None = None) -> list[str]:
    return ["eval", "--model", str(model or fx.checkpoint), "--data", str(data), "--split", "train", "--tasks", "SGC",
            "--modalities", "ta", "--out", str(tmp / "out"), "--batch-size", "6", *extra]


def kept_after_bad_record(tmp: Path, fx: Fixtures) -> None:
    assert len(predictions(tmp)) == 5  # every good record answered
    assert any("malformed_records 1" in p for p in problems(tmp))


def kept_after_bad_audio(tmp: Path, fx: Fixtures) -> None:
    rows = predictions(tmp)
    assert len(rows) == 6 and sum(r["prediction"] is not None for r in rows.values()) == 5
    assert "NaN/infinite" in rows["tone:1"]["error"] and "tone_1.wav" in rows["tone:1"]["error"]
    assert rows["tone:4"]["audio_altered"] == [f"{tmp}/data/audio/tone_4.wav: cut from 40.0 s to 30.0 s"]
    assert any("unusable_audio_samples 1, altered_audio_clips 1" in p for p in problems(tmp))


def trained_on_five(tmp: Path, fx: Fixtures) -> None:
    stages = json.loads((tmp / "run" / "summary.json").read_text())
    assert [(s["stage"], s["samples"]) for s in stages] == [("listen", 5), ("align", 5), ("instruct", 5)]  # every good record
    assert (tmp / "run" / "instruct" / "final" / "model.safetensors").exists()


def trained_on_five_and_named(tmp: Path, fx: Fixtures) -> None:
    trained_on_five(tmp, fx)
    lines = [json.loads(line) for line in (tmp / "run" / "problems.jsonl").read_text().splitlines()]
    named = {(p["sample_id"], p["path"], p["kind"], p["reason"]) for p in lines}
    assert named == {("tone:1", f"{tmp}/data/audio/tone_1.wav", "invalid", "16000 NaN/infinite sample(s)"),
                     ("tone:4", f"{tmp}/data/audio/tone_4.wav", "altered", "cut from 40.0 s to 30.0 s")}
    assert [s["dropped_samples"] for s in json.loads((tmp / "run" / "summary.json").read_text())] == [1, 1, 1]


def long_clip_left_out(tmp: Path, fx: Fixtures) -> None:
    lines = [json.loads(line) for line in (tmp / "run" / "problems.jsonl").read_text().splitlines()]
    assert {(p["sample_id"], p["kind"]) for p in lines} == {("tone:4", "too_long")}
    assert [s["dropped_samples"] for s in json.loads((tmp / "run" / "summary.json").read_text())] == [1, 1, 1]


def answered_every_spanning_record(tmp: Path, fx: Fixtures) -> None:
    assert sorted(predictions(tmp)) == [f"{SGC_STEM}_test:{i}" for i in range(3)]
    results = json.loads((tmp / "out" / "results.json").read_text())
    assert sum(f["n"] for f in results["files"]) == 3
    assert f"{tmp}/rel/{SGC_STEM}_test.json: read after repair (2 records with control characters inside strings)" \
        in results["problems"]


def trained_on_the_spanning_records(tmp: Path, fx: Fixtures) -> None:
    stages = json.loads((tmp / "run" / "summary.json").read_text())
    assert [(s["stage"], s["samples"]) for s in stages] == [("listen", 1), ("align", 3), ("instruct", 3)]  # listen: one clip
    assert (tmp / "run" / "instruct" / "final" / "model.safetensors").exists()


def results_files(tmp: Path, *broken: bytes | dict) -> list[str]:
    """A good results.json (``good/``) and one file per ``broken`` content (``bad1/``, ...): the arguments
    of ``llaso report``."""
    from tests.reports.fixtures import llaso_base, write

    paths = [write(llaso_base(), tmp / "good" / "results.json")]
    for number, content in enumerate(broken, 1):
        path = tmp / f"bad{number}" / "results.json"
        path.parent.mkdir()
        path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
        paths.append(path)
    return [str(p) for p in paths]


def truncated_results() -> bytes:
    from tests.reports.fixtures import llaso_base

    return json.dumps(llaso_base()).encode()[:500]


def no_report(tmp: Path, fx: Fixtures) -> None:
    assert not (tmp / "r").exists()  # nothing half-written
    json.loads((tmp / "good" / "results.json").read_text())  # the good file is as it was


def not_trained(tmp: Path, fx: Fixtures) -> None:
    assert not (tmp / "run" / "summary.json").exists()


def nothing_written(tmp: Path, fx: Fixtures) -> None:
    assert not (tmp / "out" / "predictions.jsonl").exists()


# -- the catalogue ---------------------------------------------------------------------------------
CASES: list[Case] = [
    # data files and records: `llaso data inspect` reports the good files past a bad one
    Case("inspect-missing-path", "a data path that does not exist", "refuses", "stderr",
         lambda tmp, fx: ["data", "inspect", str(tmp / "nope")], 2, ("{tmp}/nope: no such file or folder",)),
    Case("release-broken-json", "a release file whose JSON breaks after its first record, next to a good file",
         "keeps the records before the break and the other files; names file, record and problem",
         "stderr (`bad record:`), `--json`: `bad_records`",
         lambda tmp, fx: ["data", "inspect", str(release(tmp, json.dumps([record(), record()]).encode()[:-40]))],
         0, ("rel: 3 samples", f"{SGC_STEM}_test.json: sample 1: line 1: unreadable record (Unterminated string",
             "the rest of the file cannot be read")),
    Case("release-top-level-object", "a release file holding one object that wraps the records",
         "skips the file's record, says the file is a top-level object", "stderr (`bad record:`)",
         lambda tmp, fx: ["data", "inspect", str(release(tmp, json.dumps({"data": [record()]}).encode()))],
         0, ("rel: 2 samples", "sample 0: the file holds a top-level JSON object (keys: data)"),
         ("no 'conversations' list",)),
    Case("release-utf8-bom", "a release file starting with a UTF-8 byte-order mark", "reads it, notes the repair",
         "stderr (`repaired:`), `--json`: `repaired_files`",
         lambda tmp, fx: ["data", "inspect", str(release(tmp, b"\xef\xbb\xbf" + json.dumps([record()]).encode()))],
         0, ("rel: 3 samples", f"repaired: {{tmp}}/rel/{SGC_STEM}_test.json: read after repair (UTF-8 BOM removed)"),
         ("bad record",)),
    Case("release-crlf", "a pretty-printed release file with CRLF line ends", "reads it, notes the repair",
         "stderr (`repaired:`), `--json`: `repaired_files`",
         lambda tmp, fx: ["data", "inspect", str(release(tmp, json.dumps([record()], indent=1).replace(
             "\n", "\r\n").encode()))],
         0, ("rel: 3 samples", f"{SGC_STEM}_test.json: read after repair (CRLF line ends)"), ("bad record",)),
    Case("release-control-characters", "a release JSON list whose strings hold raw newlines and tabs (records "
         "spanning lines)", "reads every record with the scorer's tolerant reader, counts the repair",
         "stderr (`repaired:`), `--json`: `repaired_files`",
         lambda tmp, fx: ["data", "inspect", str(release(tmp, SPANNING_LIST))],
         0, ("rel: 5 samples", f"{SGC_STEM}_test.json: read after repair (2 records with control characters inside "
             "strings)", "labels SGC: male 3, fe\nmale 1, female 1"), ("bad record",)),
    Case("release-spanning-lines", "a release file of JSON Lines with a record spanning two lines",
         "joins the lines, counts the repair", "stderr (`repaired:`), `--json`: `repaired_files`",
         lambda tmp, fx: ["data", "inspect", str(release(tmp, SPANNING_LINES))],
         0, ("rel: 4 samples", f"{SGC_STEM}_test.json: read after repair (1 records spanning lines)"),
         ("bad record",)),
    Case("release-invalid-utf8", "a release file with bytes that are not UTF-8",
         "reads it with the bytes replaced by U+FFFD; names the first one's offset",
         "stderr (`repaired:`), `--json`: `repaired_files`",
         lambda tmp, fx: ["data", "inspect", str(release(tmp, json.dumps([record()]).encode().replace(
             b"Gender", b"Gen\xff\xfeder")))],
         0, ("rel: 3 samples", f"{SGC_STEM}_test.json: read after repair (2 invalid UTF-8 bytes replaced, the first "
             "at byte offset 71)"), ("b'", "bad record")),
    Case("release-numeric-target", "a record of a closed-set task whose answer is a JSON number (`\"value\": 1`)",
         "leaves the record out (a number is taken only for numeric tasks)", "stderr (`bad record:`)",
         lambda tmp, fx: ["data", "inspect", str(release(tmp, json.dumps([record(1), record()]).encode()))],
         0, ("rel: 3 samples", "sample 0: the gpt turn's 'value' is the number 1, not text")),
    Case("release-unmapped-stem", "a release file whose stem no task owns", "counts the rest, names the file",
         "stderr (`not mapped:`), `--json`: `unmapped_files`",
         lambda tmp, fx: ["data", "inspect", str(release(tmp, b"[]", name="nobody_owns_this_test.json"))],
         0, ("rel: 2 samples", "nobody_owns_this_test.json: no registered task owns this file's stem")),
    Case("jsonl-malformed-line", "a unified train.jsonl with one malformed line", "keeps the other lines",
         "stderr (`bad record:`)",
         lambda tmp, fx: ["data", "inspect", str(corpus(tmp, fx, 2, b'{"id": "x",')), "--no-check-audio"],
         0, ("data: 5 samples", "train.jsonl: line 2: malformed JSON")),
    Case("jsonl-numeric-target", "a unified sample whose target is a JSON number", "leaves the sample out",
         "stderr (`bad record:`)",
         lambda tmp, fx: ["data", "inspect", str(corpus(tmp, fx, 3, numeric_target_line(fx))), "--no-check-audio"],
         0, ("data: 5 samples", "train.jsonl: line 3: 'target' is the number 1, not text")),
    Case("jsonl-invalid-utf8", "a unified sample line with bytes that are not UTF-8",
         "leaves the line out, names the byte and its offset", "stderr (`bad record:`)",
         lambda tmp, fx: ["data", "inspect", str(corpus(tmp, fx, 1, b'{"id": "\xc3("}')), "--no-check-audio"],
         0, ("data: 5 samples", "train.jsonl: line 1: not valid UTF-8: byte 0xc3 at byte offset 8"), ("b'",)),
    Case("jsonl-pretty-printed", "a JSON list spread over lines where JSON Lines are expected (train.jsonl)",
         "says so once instead of a bad record per line", "stderr (`bad record:`)",
         lambda tmp, fx: ["data", "inspect", str(corpus(tmp, fx, 1, b"[")), "--no-check-audio"],
         0, ("train.jsonl: line 1: the file is one JSON document spread over lines (it starts with '['), not JSON "
             "Lines",), ("line 2",)),
    # audio files: `llaso data inspect` names each (kind, path, sample id, reason)
    *(Case(f"audio-{kind}", f"a clip that is {words}", "counts the other clips, names this one",
           "stderr (`<kind>:`), `--json`: `audio.problems`",
           lambda tmp, fx, kind=kind: ["data", "inspect", str(audio_corpus({2: kind})(tmp, fx))],
           0, (f"{problem}: {{tmp}}/data/audio/tone_2.wav (sample tone:2) {detail}", "audio: 5 readable, 1 problem(s)"))
      for kind, words, problem, detail in [
          ("nan", "a float WAV full of NaN and infinity", "invalid", "16000 NaN/infinite sample(s)"),
          ("missing", "missing", "missing", "no such file"),
          ("truncated", "a WAV cut short", "corrupt", "truncated WAV"),
          ("empty", "a 0-byte file", "empty", "0-byte file")]),
    # llaso eval: bad records and clips are named, the rest is answered and scored
    Case("eval-malformed-record", "one malformed record in the evaluation set (default --bad-records skip)",
         "answers and scores the others", "stderr and results.json `problems` (file, line, reason; a count)",
         lambda tmp, fx: eval_args(corpus(tmp, fx, 2, b"{oops"), fx, tmp), 3,
         ("record {tmp}/data/train.jsonl: line 2: malformed JSON", "; left out"), kept=kept_after_bad_record),
    Case("eval-release-control-characters", "a release evaluation file whose records span lines (raw newlines "
         "inside strings)", "answers and scores every record; the repair is noted", "stderr (`repaired:`), results.json `problems`",
         lambda tmp, fx: ["eval", "--model", str(fx.checkpoint), "--data", str(release_spanning(tmp, fx)), "--split",
                          "eval", "--tasks", "SGC", "--modalities", "ta", "--out", str(tmp / "out")], 0,
         (f"repaired: {{tmp}}/rel/{SGC_STEM}_test.json: read after repair (2 records with control characters",),
         ("bad record", "left out"), kept=answered_every_spanning_record),
    Case("eval-bad-records-fail", "the same with --bad-records fail", "stops before generating",
         "stderr, one line",
         lambda tmp, fx: eval_args(corpus(tmp, fx, 2, b"{oops"), fx, tmp, "--bad-records", "fail"), 2,
         ("{tmp}/data/train.jsonl:2: malformed JSON",), kept=nothing_written),
    Case("eval-bad-and-long-audio", "a NaN/Inf clip and a 40 s clip in the evaluation set",
         "no prediction for the NaN sample, the 40 s clip cut to 30 s (--long-audio truncate); both named",
         "predictions.jsonl `error` / `audio_altered`, stderr and results.json `problems` with counts",
         lambda tmp, fx: eval_args(audio_corpus({1: "nan", 4: "long"})(tmp, fx), fx, tmp), 0,
         ("sample tone:1: no prediction: invalid audio {tmp}/data/audio/tone_1.wav",
          "sample tone:4: audio {tmp}/data/audio/tone_4.wav: cut from 40.0 s to 30.0 s"), kept=kept_after_bad_audio),
    Case("eval-long-audio-skip", "a 40 s clip with --long-audio skip", "no prediction for it, named",
         "predictions.jsonl `error`, results.json `problems`",
         lambda tmp, fx: eval_args(audio_corpus({4: "long"})(tmp, fx), fx, tmp, "--long-audio", "skip"), 0,
         ("sample tone:4: no prediction: too_long audio", "exceeds max_seconds=30")),
    Case("eval-out-under-a-file", "eval --out below an existing file", "refuses before loading anything",
         "stderr, one line",
         lambda tmp, fx: [*eval_args(fx.corpus, fx, tmp)[:-4], "--out", str(a_file(tmp) / "out")], 2,
         ("--out {tmp}/afile/out: cannot write there (Not a directory)",), kept=file_untouched),
    Case("eval-out-unwritable", "eval --out where nothing can be written", "refuses before loading anything",
         "stderr, one line", lambda tmp, fx: [*eval_args(fx.corpus, fx, tmp)[:-4], "--out", UNWRITABLE], 2,
         (f"--out {UNWRITABLE}: cannot write there",)),
    Case("eval-missing-checkpoint", "eval --model a folder that is not a checkpoint", "refuses", "stderr",
         lambda tmp, fx: ["eval", "--model", str(tmp), "--data", str(fx.corpus), "--out", str(tmp / "out")], 2,
         ("is not a llaso checkpoint",)),
    Case("eval-unreachable-hf-model", "eval --model hf: with a path that is neither a folder nor a hub id",
         "refuses, naming the model", "stderr, one line",
         lambda tmp, fx: eval_args(fx.corpus, fx, tmp, model=f"hf:{tmp}/nope"), 2,
         ("--model hf:{tmp}/nope: ",)),
    *[Case(f"eval-checkpoint-{kind}", f"eval --model a checkpoint {broken.words}", "refuses, naming the file",
           "stderr, one line", lambda tmp, fx, kind=kind: eval_args(fx.corpus, fx, tmp, model=broken_checkpoint(tmp, fx, kind)),
           2, (broken.says,), absent=("huggingface.co",))
      for kind, broken in CHECKPOINT_BREAKS.items()],
    Case("eval-missing-data", "eval --data a path that does not exist", "refuses", "stderr",
         lambda tmp, fx: eval_args(tmp / "nope", fx, tmp), 2, ("--data {tmp}/nope: no such file or folder",)),
    # llaso train
    Case("train-missing-data", "train --data a path that does not exist", "refuses before creating the run",
         "stderr", lambda tmp, fx: ["train", "--data", str(tmp / "nope"), "--out", str(tmp / "run")], 2,
         ("--data {tmp}/nope: no such file or folder",)),
    Case("train-init-weights-cut", "train --init a checkpoint whose model.safetensors is cut short",
         "refuses, naming the file", "stderr, one line",
         lambda tmp, fx: ["train", "--init", str(broken_checkpoint(tmp, fx, "weights-cut")), "--data", str(fx.corpus),
                          "--stage", "instruct", "--max-steps", "1", "--out", str(tmp / "run")], 2,
         ("{tmp}/ckpt/model.safetensors: not a readable safetensors file",)),
    Case("train-missing-encoder-checkpoint", "train --encoder-checkpoint a folder that does not exist",
         "refuses, naming the encoder and the checkpoint", "stderr, one line",
         lambda tmp, fx: ["train", "--data", str(fx.corpus), "--encoder", "whisper", "--encoder-checkpoint",
                          str(tmp / "nope"), "--max-steps", "1", "--out", str(tmp / "run")], 2,
         ("encoder whisper: cannot load checkpoint '{tmp}/nope' (no such folder)",)),
    Case("train-empty-data-folder", "train --data a folder holding only eval.jsonl", "refuses, naming the folder",
         "stderr, one line", lambda tmp, fx: ["train", "--data", str(only_eval(tmp, fx)), "--out", str(tmp / "run")], 2,
         ("--data {tmp}/data: no train.jsonl and no LLaSO JSON files (*.json) in this folder (it holds eval.jsonl)",)),
    Case("train-unregistered-task", "a training sample whose task no plugin registers",
         "trains without it, naming the task and the first such sample", "stderr",
         lambda tmp, fx: ["train", "--data", str(unregistered_task(tmp, fx)), "--preset", "cpu", "--task-weights",
                          "none", "--max-steps", "1", "--out", str(tmp / "run")], 0,
         ("1 sample(s) left out: no plugin registers their task ZZZ (first: sample tone:1)",), kept=trained_on_five),
    Case("train-out-under-a-file", "train --out below an existing file", "refuses before training", "stderr",
         lambda tmp, fx: ["train", "--data", str(fx.corpus), "--preset", "cpu", "--out", str(a_file(tmp) / "run")],
         2, ("--out {tmp}/afile/run: cannot write there (Not a directory)",), kept=file_untouched),
    Case("train-malformed-record", "one malformed record in the training set (default --bad-records skip)",
         "trains on the others", "stderr (file, line, reason; a count)",
         lambda tmp, fx: ["train", "--data", str(corpus(tmp, fx, 2, b"{oops")), "--preset", "cpu",
                          "--task-weights", "none", "--max-steps", "1", "--out", str(tmp / "run")], 0,
         ("1 malformed record(s) left out", "{tmp}/data/train.jsonl: line 2: malformed JSON"), kept=trained_on_five),
    Case("train-release-control-characters", "a release training file whose records span lines",
         "trains on every record; the repair is noted", "stderr (`repaired:`)",
         lambda tmp, fx: ["train", "--data", str(release_spanning(tmp, fx)), "--preset", "cpu",
                          "--task-weights", "none", "--tasks", "SGC", "--modalities", "ta", "--max-steps", "1",
                          "--out", str(tmp / "run")], 0,
         (f"repaired: {{tmp}}/rel/{SGC_STEM}_train.json: read after repair (2 records with control characters",),
         ("malformed",), kept=trained_on_the_spanning_records),
    Case("train-bad-and-long-audio", "a NaN/Inf clip and a 40 s clip in the training set",
         "trains without the NaN sample; the 40 s clip is cut to 30 s; both named",
         "stderr (counts), `<out>/problems.jsonl` (path, sample, reason per load), `summary.json` (dropped)",
         lambda tmp, fx: ["train", "--data", str(audio_corpus({1: "nan", 4: "long"})(tmp, fx)), "--preset", "cpu",
                          "--task-weights", "none", "--max-steps", "1", "--out", str(tmp / "run")], 0,
         ("audio problems: 1 sample(s) left out for unusable audio, 3 time(s)", "audio altered: 3 clip load(s)",
          "problems.jsonl"),
         kept=trained_on_five_and_named),
    Case("train-long-audio-skip", "a 40 s clip in the training set with train --long-audio skip",
         "trains without that sample, named", "stderr (count), `<out>/problems.jsonl` (kind too_long)",
         lambda tmp, fx: ["train", "--data", str(audio_corpus({4: "long"})(tmp, fx)), "--preset", "cpu",
                          "--task-weights", "none", "--long-audio", "skip", "--max-steps", "1",
                          "--out", str(tmp / "run")], 0,
         ("audio problems: 1 sample(s) left out for unusable audio, 3 time(s)", "problems.jsonl"),
         kept=long_clip_left_out),
    Case("train-bad-long-audio-option", "train --long-audio with an unknown policy", "refuses before any work",
         "stderr", lambda tmp, fx: ["train", "--long-audio", "chop", "--out", str(tmp / "run")], 2,
         ("unknown --long-audio 'chop'",)),
    Case("train-bad-records-fail", "a malformed record with train --bad-records fail", "stops before training",
         "stderr, one line",
         lambda tmp, fx: ["train", "--data", str(corpus(tmp, fx, 4, b"[1, 2]")), "--preset", "cpu",
                          "--bad-records", "fail", "--out", str(tmp / "run")], 2,
         ("{tmp}/data/train.jsonl:4: expected a JSON object, got list",)),
    Case("train-unknown-backend", "train --backend with a wrong name", "refuses before training", "stderr",
         lambda tmp, fx: ["train", "--data", str(fx.corpus), "--preset", "cpu", "--backend", "deepsped", "--out",
                          str(tmp / "run")], 2, ("unknown --backend 'deepsped'",), kept=not_trained),
    Case("train-bad-config", "train --config whose stage sets a learning rate for a part it does not train",
         "refuses before training", "stderr (the file, the field)",
         lambda tmp, fx: ["train", "--config", str(bad_config(tmp)), "--out", str(tmp / "run")], 2,
         ("cannot read --config {tmp}/config.json: StageConfig.lr_scale names ['llm'], which the stage does not "
          "train (trainable: ['projector', 'encoder']) @ $.align",), kept=not_trained),
    Case("train-unknown-stage", "train --stage with a wrong name", "refuses", "stderr",
         lambda tmp, fx: ["train", "--stage", "alignn"], 2, ("unknown --stage 'alignn'",)),
    Case("train-bad-task-weight", "train --task-weights with a weight that is not a number", "refuses", "stderr",
         lambda tmp, fx: ["train", "--task-weights", "ASR=lots", "--out", str(tmp / "run")], 2,
         ("--task-weights: 'ASR=lots' is not TASK=WEIGHT with a weight >= 0",)),
    Case("train-unknown-task-weight", "train --task-weights naming a task nobody registered",
         "refuses before training", "stderr",
         lambda tmp, fx: ["train", "--data", str(fx.corpus), "--preset", "cpu", "--task-weights", "NOPE=1",
                          "--out", str(tmp / "run")], 2, ("unknown task 'NOPE'",), kept=not_trained),
    # llaso score / report (prediction files and judge servers: see tests/faults/test_scoring.py)
    Case("score-out-existing-file", "score --out an existing file", "refuses before scoring; the file is kept",
         "stderr", lambda tmp, fx: ["score", str(tmp), "--out", str(a_file(tmp)), "--judge", "none"], 2,
         ("--out {tmp}/afile: exists and is not a folder",), kept=file_untouched),
    Case("score-out-unwritable", "score --out where nothing can be written", "refuses before scoring", "stderr",
         lambda tmp, fx: ["score", str(tmp), "--out", UNWRITABLE, "--judge", "none"], 2,
         (f"--out {UNWRITABLE}: cannot write there",)),
    Case("score-missing-predictions", "score a prediction path that does not exist", "refuses", "stderr",
         lambda tmp, fx: ["score", str(tmp / "nope.json"), "--out", str(tmp / "out"), "--judge", "none"], 2,
         ("{tmp}/nope.json: no such file or folder",)),
    Case("report-missing-results", "report a results.json that does not exist", "refuses", "stderr",
         lambda tmp, fx: ["report", str(tmp / "results.json"), "--out", str(tmp / "r")], 2,
         ("{tmp}/results.json",)),
    Case("report-out-existing-file", "report --out an existing file", "refuses; the file is kept", "stderr, one line",
         lambda tmp, fx: ["report", *results_files(tmp), "--out", str(a_file(tmp))], 2,
         ("{tmp}/afile: exists and is not a folder",), kept=file_untouched),
    Case("report-out-unwritable", "report --out where nothing can be written", "refuses", "stderr, one line",
         lambda tmp, fx: ["report", *results_files(tmp), "--out", UNWRITABLE], 2,
         (f"{UNWRITABLE}",)),
    Case("report-truncated-results", "report a results.json cut short", "refuses before writing anything",
         "stderr, one line", lambda tmp, fx: ["report", *results_files(tmp, truncated_results())[1:], "--out",
                                              str(tmp / "r")], 2,
         ("{tmp}/bad1/results.json: malformed JSON (line 1, column",), ("results file 1",), kept=no_report),
    Case("report-second-of-three-bad", "report three results files, the second not JSON at all",
         "refuses, naming the file and which of the three it is", "stderr, one line",
         lambda tmp, fx: ["report", *(lambda f: [f[0], f[1], f[0]])(results_files(tmp, b"\x00\x01 not json")),
                          "--out", str(tmp / "r")], 2,
         ("{tmp}/bad1/results.json: malformed JSON", "(results file 2 of 3)"), kept=no_report),
    Case("report-unknown-schema", "report a results file of another schema version", "refuses", "stderr, one line",
         lambda tmp, fx: ["report", *results_files(tmp, {"schema_version": "llaso.results/9", "system": "x",
                                                         "tasks": {}}), "--out", str(tmp / "r")], 2,
         ("{tmp}/bad1/results.json: schema_version is 'llaso.results/9', expected 'llaso.results/1' "
          "(results file 2 of 2)",), kept=no_report),
    Case("report-wrong-types", "report a results file whose judge model is a number (valid JSON, wrong shape)",
         "refuses, naming the field", "stderr, one line",
         lambda tmp, fx: ["report", *results_files(tmp, {"schema_version": "llaso.results/1", "system": "x",
                                                         "tasks": {}, "judge": {"model": 4}}), "--out",
                          str(tmp / "r")], 2,
         ("{tmp}/bad1/results.json: 'judge.model' must be a string (results file 2 of 2)",), kept=no_report),
    # registry commands
    Case("tasks-list-unknown-category", "tasks list --category that does not exist", "refuses, listing the categories",
         "stderr", lambda tmp, fx: ["tasks", "list", "--category", "paralinguistc"], 2,
         ("unknown category 'paralinguistc'", "PS (paralinguistic-speaker)")),
    Case("tasks-show-unknown", "tasks show a misspelt task id", "refuses with did-you-mean", "stderr",
         lambda tmp, fx: ["tasks", "show", "SCG"], 2, ("unknown task 'SCG'. Did you mean", "SGC")),
    Case("modalities-bad-option", "modalities with an unknown option", "usage error", "stderr",
         lambda tmp, fx: ["modalities", "--bogus"], 2, ("No such option",)),
    Case("unknown-command", "a command llaso does not have", "usage error", "stderr",
         lambda tmp, fx: ["trian"], 2, ("No such command 'trian'",)),
    # third-party plugins: contained, reported by `llaso plugins`; built-ins never displaced
    Case("plugin-import-error", "a plugin whose module raises on import", "fails that plugin only",
         "`llaso plugins` (state failed, the error)",
         plugin_case("raise ImportError('deliberately broken')\n"), 0,
         ("aaa-intruder", "failed", "deliberately broken"), kept=builtins_intact, fresh=True),
    Case("plugin-hook-error", "a plugin whose registration hook raises", "fails that plugin only",
         "`llaso plugins`",
         plugin_case(TASK + "\n    @hookimpl\n    def llaso_register_tasks(register):\n        raise RuntimeError('boom')\n"),
         0, ("aaa-intruder", "llaso_register_tasks raised: RuntimeError: boom"), kept=builtins_intact, fresh=True),
    Case("plugin-invalid-spec", "a plugin registering an invalid spec", "fails that plugin only",
         "`llaso plugins`",
         plugin_case(TASK + "\n    @hookimpl\n    def llaso_register_tasks(register):\n"
                            "        register(LabelSet('closed', ['one']))\n"),
         0, ("aaa-intruder", "failed", "SpecError: LabelSet.labels: a closed label set 'default' needs at least two"),
         kept=builtins_intact, fresh=True),
    Case("plugin-duplicate-id", "a plugin (first by name) registering the built-in task id SGC and a task of its own",
         "refuses that registration only; the built-in SGC stays, the plugin's other task loads",
         "`llaso plugins` (the refusal names both plugins)",
         plugin_case(registering("('SGC', 'intruder_stem')", "('OWN', 'own_stem')")), 0,
         ("aaa-intruder", "task 'SGC' refused: task id 'SGC' already registered by built-in plugin 'tasks'",
          "tasks: 1"), kept=builtins_intact, fresh=True),
    Case("plugin-duplicate-stem", "a plugin registering a task on a source stem a built-in owns",
         "refuses that registration only", "`llaso plugins` (the refusal names both plugins)",
         plugin_case(registering(f"('THIEF', '{SGC_STEM}')")), 0,
         ("aaa-intruder", f"source '{SGC_STEM}' (task SGC) already registered by built-in plugin 'tasks'"),
         kept=builtins_intact, fresh=True),
    # other commands
    Case("features-cache-missing-data", "features cache --data a path that does not exist", "refuses", "stderr",
         lambda tmp, fx: ["features", "cache", "--model", "x", "--data", str(tmp / "nope"), "--out", str(tmp / "f")],
         2, ("--data {tmp}/nope: no such file or folder",)),
    Case("features-cache-out-under-a-file", "features cache --out below an existing file", "refuses before encoding",
         "stderr", lambda tmp, fx: ["features", "cache", "--model", str(fx.checkpoint), "--data", str(fx.corpus),
                                    "--out", str(a_file(tmp) / "f")], 2,
         ("--out {tmp}/afile/f: cannot write there (Not a directory)",), kept=file_untouched),
    Case("infer-bad-audio", "infer --audio a float WAV full of NaN", "refuses, naming the file and problem",
         "stderr", lambda tmp, fx: ["infer", "--model", str(fx.checkpoint), "--audio",
                                    str(audio_corpus({0: "nan"})(tmp, fx) / "audio" / "tone_0.wav")], 2,
         ("invalid audio {tmp}/data/audio/tone_0.wav", "NaN/infinite")),
    Case("infer-checkpoint-weights-shape", "infer --model a checkpoint whose weights do not fit its llaso_config.json",
         "refuses, naming the file", "stderr, one line",
         lambda tmp, fx: ["infer", "--model", str(broken_checkpoint(tmp, fx, "weights-shape")), "--audio",
                          str(fx.corpus / "audio" / "tone_0.wav")], 2,
         ("{tmp}/ckpt/model.safetensors: does not fit the model llaso_config.json describes",)),
    Case("eval-unknown-model-kind", "eval --model with a misspelt model kind", "refuses with did-you-mean before "
         "reading data", "stderr", lambda tmp, fx: ["eval", "--model", "openia:gpt@http://127.0.0.1:9", "--out",
                                                      str(tmp / "out")], 2,
         ("unknown model 'openia'", "Did you mean openai")),
    Case("convert-missing-source", "convert a checkpoint folder that does not exist", "refuses", "stderr",
         lambda tmp, fx: ["convert", "llaso-release", str(tmp / "nope"), "--out", str(tmp / "c")], 2,
         ("{tmp}/nope is not a folder",)),
    Case("convert-unknown-kind", "convert with a misspelt model kind", "refuses with did-you-mean", "stderr",
         lambda tmp, fx: ["convert", "llaso-relase", str(tmp), "--out", str(tmp / "c")], 2,
         ("unknown model 'llaso-relase'", "Did you mean llaso-release")),
    Case("models-bad-option", "models with an unknown option", "usage error", "stderr",
         lambda tmp, fx: ["models", "--bogus"], 2, ("No such option",)),
    Case("data-convert-out-under-a-file", "data convert --out below an existing file", "refuses", "stderr",
         lambda tmp, fx: ["data", "convert", str(fx.corpus), "--out", str(a_file(tmp) / "c")], 2,
         ("--out {tmp}/afile/c: cannot write there",), kept=file_untouched),
    Case("data-build-missing-spec", "data build a spec that does not exist", "refuses", "stderr",
         lambda tmp, fx: ["data", "build", str(tmp / "spec.json"), "--out", str(tmp / "b")], 2,
         ("{tmp}/spec.json: cannot read",)),
    Case("data-synth-out-existing-file", "data synth --out an existing file", "refuses", "stderr",
         lambda tmp, fx: ["data", "synth", "--out", str(a_file(tmp))], 2,
         ("--out {tmp}/afile: exists and is not a folder",), kept=file_untouched),
]
