#!/usr/bin/env python
"""Speed of ``llaso score`` against a plain-Python re-implementation of the LLaSO metric scripts.

The llaso side is the whole CLI in a subprocess (start-up included)::

    <venv>/bin/llaso score DIR --protocol paper --judge none --out TMP --judge-cache TMP/c.sqlite

The baseline side is this script run again as ``--baseline-only`` in a subprocess of the same
interpreter. It re-implements the released metric scripts (research note
``shared/research/llaso-official-code.md`` section 4) in plain Python: corpus WER/CER with a
pure-Python Levenshtein DP, reference and hypothesis swapped as in the release and no
normalisation; the letter-based "PER" (TIMIT letter folding approximated by identity); the
substring accuracy rule; the abstention regex; the pitch/age MAE parsers; the PSSL regexes; and
the mean ``Score:`` of the recorded judge outputs in ``gpt_result/*.jsonl``. Files are mapped to
metrics by name, as the release's scripts do.

Both sides run pinned to one core (``taskset -c 0``) when ``taskset`` exists. Before timing is
reported, every baseline value except PER is checked against llaso's ``results.csv`` (to 1e-3),
which shows that both sides do the same work.

The cost of reading tolerantly is measured apart, in this process on one core: every prediction
and ``gpt_result`` file read with ``llaso_core.evaluation.records.read_records`` against plain
``json.loads`` (a list, or one call per line); the difference may be at most 10% of the 3 s target.

Exit status: 1 if the values disagree, 2 if the llaso median exceeds the 3 s target or the
tolerant reader costs more than 10% of it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 3.0
READER_SHARE = 0.10  # of TARGET_S: what reading tolerantly may cost over plain json
TOLERANCE = 1e-3
PREDICTION_KEYS = ("answer", "prediction", "result")

# File stem -> metric family, by name as in the release's hard-coded scripts.
ERROR_RATE_FILES = ("ASR_test", "speechcommand_recognition_test")
PER_FILES = ("phoneme_recognition_test",)
MAE_FILES = {"NSynth_pitch_recognition_test": "pitch", "vocalsound_age_prediction_test": "age"}
PSSL_FILES = ("pronunciation_scoring_sentence_level_test",)
CLOSED_SET_MARK = "_classification_test"
NOT_COMPARED = {"per"}  # the TIMIT letter folding is approximated by identity

Sample = tuple[str, str | None]  # (ground truth, prediction)
Values = dict[tuple[str, str], float]  # (file stem, metric) -> value


# ---------------------------------------------------------------------------------- baseline


def read_samples(path: Path) -> list[Sample]:
    """(ground truth, prediction) pairs of a release file (JSON list or JSONL); the ground truth
    is the "gpt" turn, the prediction the first of ``answer``/``prediction``/``result``."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        records = json.loads(text)
    samples = []
    for record in records:
        truth = next(t["value"] for t in record["conversations"] if t["from"] == "gpt")
        prediction = next((record[k] for k in PREDICTION_KEYS if k in record), None)
        samples.append((str(truth), None if prediction is None else str(prediction)))
    return samples


def levenshtein(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Unit-cost edit distance: the textbook row-by-row DP, after trimming the common prefix and
    suffix (which cannot change the distance)."""
    shortest = min(len(a), len(b))
    start = 0
    while start < shortest and a[start] == b[start]:
        start += 1
    end = 0
    while end < shortest - start and a[len(a) - 1 - end] == b[len(b) - 1 - end]:
        end += 1
    a, b = a[start:len(a) - end], b[start:len(b) - end]
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


_MULTI_SPACE = re.compile(r"\s\s+")


def word_tokens(text: str) -> list[str]:
    """jiwer's ``wer_default``: RemoveMultipleSpaces, Strip, ReduceToListOfListOfWords."""
    return [w for w in _MULTI_SPACE.sub(" ", text).strip().split(" ") if w]


def char_tokens(text: str) -> str:
    """HF ``cer.py``'s transform: RemoveMultipleSpaces, Strip, then characters (spaces count)."""
    return _MULTI_SPACE.sub(" ", text).strip()


def corpus_error_rate(samples: list[Sample], tokens: Callable[[str], Sequence[Hashable]]) -> float:
    """sum(S+D+I) / sum(reference length) with the release's swap: the model output is the
    reference; samples without a prediction are dropped."""
    errors = length = 0
    for truth, prediction in samples:
        if prediction is None:
            continue
        reference = tokens(prediction)
        errors += levenshtein(reference, tokens(truth))
        length += len(reference)
    return errors / length


def letter_per(samples: list[Sample]) -> float:
    """``assess_per_eval.py``: uppercase, keep ASCII A-Z (TIMIT folding taken as identity),
    per-utterance distance over the model output's length, mean over utterances."""
    def letters(text: str) -> str:
        return "".join(c for c in text.upper() if "A" <= c <= "Z")

    rates = []
    for truth, prediction in samples:
        if prediction is None:
            continue
        target, guess = letters(prediction), letters(truth)
        rates.append(levenshtein(guess, target) / len(target) if target else float(bool(guess)))
    return sum(rates) / len(rates)


def accuracy(samples: list[Sample]) -> float:
    """``accuracy.py``: '.' removed and lowercased; correct if equal to the label, or containing it
    and none of the file's other labels as substrings."""
    def clean(text: str) -> str:
        return text.replace(".", "").lower()

    labels = {clean(truth) for truth, _ in samples}
    correct = 0
    for truth, prediction in samples:
        if prediction is None:
            continue
        label, guess = clean(truth), clean(prediction)
        contains_only_label = label in guess and not any(o != label and o in guess for o in labels)
        if guess == label or contains_only_label:
            correct += 1
    return correct / len(samples)


def abstention_rate(samples: list[Sample]) -> float:
    """``abstention_rate_cal.py``: a sample follows instructions iff exactly one label matches
    ``(?<![a-z0-9])label(?![a-z0-9])`` in the lowercased answer; the rate is the share of others."""
    labels = sorted({truth.lower().rstrip(". ").strip() for truth, _ in samples})
    patterns = [re.compile(r"(?<![a-z0-9])" + re.escape(label) + r"(?![a-z0-9])", re.IGNORECASE)
                for label in labels]
    others = 0
    for _, prediction in samples:
        hits = 0 if prediction is None else sum(1 for p in patterns if p.search(prediction.lower()))
        if hits != 1:
            others += 1
    return others / len(samples)


def parse_pitch(text: str) -> float | None:
    """``pitch_L1.py``: int(), int(round(float())), then ``\\d+\\.?\\d*``; with '-' and two
    numbers the rounded mean of the first two, else the first number rounded."""
    try:
        return float(int(text))
    except ValueError:
        pass
    try:
        return float(round(float(text)))
    except (ValueError, OverflowError):
        pass
    numbers = re.findall(r"\d+\.?\d*", text)
    if "-" in text and len(numbers) >= 2:
        return float(round((float(numbers[0]) + float(numbers[1])) / 2))
    return float(round(float(numbers[0]))) if numbers else None


def parse_age(text: str) -> float | None:
    """``age_L1.py``: int(), then ``\\d+``; a '-' range gives the rounded midpoint;
    "adult" -> 22."""
    try:
        return float(int(text))
    except ValueError:
        pass
    numbers = re.findall(r"\d+", text)
    if "-" in text and len(numbers) >= 2:
        return float(round((int(numbers[0]) + int(numbers[1])) / 2))
    if numbers:
        return float(numbers[0])
    return 22.0 if "adult" in text.lower() else None


def mean_absolute_error(samples: list[Sample], kind: str) -> float:
    """MAE over the samples whose values parse (pitch: both within 0-127); the rest are dropped."""
    parse = parse_pitch if kind == "pitch" else parse_age
    errors = []
    for truth, prediction in samples:
        if prediction is None:
            continue
        true_value, guess = parse(truth), parse(prediction)
        if true_value is None or guess is None:
            continue
        if kind == "pitch" and not (0 <= true_value <= 127 and 0 <= guess <= 127):
            continue
        errors.append(abs(guess - true_value))
    return sum(errors) / len(errors)


_PSSL_MAIN = re.compile(r"(accuracy|proso|fluency).*?(?:is|:|=|as).*?(\d+)")
_PSSL_FALLBACK = re.compile(r"(\d+)\s*?(?:for)\s*?(accuracy|proso|fluency)")
_ASPECTS = ("accuracy", "proso", "fluency")


def parse_pssl(text: str) -> dict[str, int] | None:
    """``pronunciation_scoring.py``'s regexes over the lowercased text: the main one if it finds
    all three aspects, else the fallback alone."""
    low = text.lower()
    scores = {key: int(value) for key, value in _PSSL_MAIN.findall(low)}
    if len(scores) < 3:
        scores = {key: int(value) for value, key in _PSSL_FALLBACK.findall(low)}
    return scores if len(scores) == 3 else None


def pssl_accuracy(samples: list[Sample]) -> float:
    """Per-aspect exact agreement, averaged over the samples where both sides parse."""
    agreements = []
    for truth, prediction in samples:
        gold = parse_pssl(truth)
        guess = parse_pssl(prediction) if prediction is not None else None
        if gold and guess:
            agreements.append(sum(gold[a] == guess[a] for a in _ASPECTS) / len(_ASPECTS))
    return sum(agreements) / len(agreements) if agreements else 0.0


_JUDGE_SCORE = re.compile(r"Score:\s*(\d)")


def judge_mean(path: Path) -> float | None:
    """Mean of the first ``Score:\\s*(\\d)`` of each recorded evaluation in a judge JSONL file."""
    scores = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            match = _JUDGE_SCORE.search(json.loads(line).get("evaluation") or "")
            if match:
                scores.append(int(match.group(1)))
    return sum(scores) / len(scores) if scores else None


def score_file(stem: str, samples: list[Sample]) -> dict[str, float]:
    """The release metrics of one prediction file, chosen by its name."""
    if stem in ERROR_RATE_FILES:
        return {"wer": corpus_error_rate(samples, word_tokens),
                "cer": corpus_error_rate(samples, char_tokens)}
    if stem in PER_FILES:
        return {"per": letter_per(samples)}
    if stem in MAE_FILES:
        return {"mae": mean_absolute_error(samples, MAE_FILES[stem])}
    if stem in PSSL_FILES:
        return {"pssl_acc": pssl_accuracy(samples)}
    if CLOSED_SET_MARK in stem:
        return {"acc": accuracy(samples), "abstention": abstention_rate(samples)}
    return {}


def baseline(system: Path) -> tuple[Values, int]:
    """All baseline values of one system folder and the number of predictions read."""
    values: Values = {}
    n_predictions = 0
    files = sorted(p for p in system.iterdir() if p.suffix in (".json", ".jsonl") and p.is_file())
    for path in files:
        samples = read_samples(path)
        n_predictions += len(samples)
        for metric, value in score_file(path.stem, samples).items():
            values[(path.stem, metric)] = value
    for path in sorted((system / "gpt_result").glob("*.jsonl")):
        value = judge_mean(path)
        if value is not None:
            values[(path.stem, "judge")] = value
    return values, n_predictions


# ---------------------------------------------------------------------------------- measuring


def default_system() -> Path:
    """``$LLASO_REFERENCE_DIR/LLaSO-Base``, else the shared release copy beside the repository."""
    root = os.environ.get("LLASO_REFERENCE_DIR")
    base = Path(root) if root else REPO_ROOT.parent / "shared" / "reference" / "llaso-release"
    return base / "LLaSO-Base"


def pin_prefix() -> tuple[list[str], str]:
    """The command prefix that pins a process to core 0, and a description of the cores used."""
    taskset = shutil.which("taskset")
    if taskset and 0 in os.sched_getaffinity(0):
        return [taskset, "-c", "0"], "1 (taskset -c 0)"
    return [], f"unpinned ({os.cpu_count()} available)"


def llaso_executable() -> str:
    """``llaso`` beside this interpreter (the venv's), else the one on PATH."""
    candidate = Path(sys.executable).parent / "llaso"
    found = str(candidate) if candidate.exists() else shutil.which("llaso")
    if not found:
        raise SystemExit("llaso executable not found; activate the venv")
    return found


def timed(command: list[str]) -> tuple[float, str]:
    """Wall seconds of one subprocess and its stdout; fails loudly on a non-zero exit."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(command)}\n"
                         f"{done.stderr[-2000:]}")
    return elapsed, done.stdout


def llaso_command(system: Path, out: Path) -> list[str]:
    """The measured CLI call: paper protocol, recorded judge verdicts only, a fresh cache."""
    return [llaso_executable(), "score", str(system), "--protocol", "paper", "--judge", "none",
            "--out", str(out), "--judge-cache", str(out / "c.sqlite")]


def baseline_command(system: Path) -> list[str]:
    """This script in baseline-only mode, under the same interpreter."""
    script = str(Path(__file__).resolve())
    return [sys.executable, script, "--baseline-only", "--system", str(system)]


def read_llaso_results(out: Path) -> tuple[Values, int]:
    """Values of llaso's results.csv and the number of predictions in results.json."""
    with open(out / "results.csv", encoding="utf-8") as handle:
        values = {(row["file"], row["metric"]): float(row["value"])
                  for row in csv.DictReader(handle) if row["value"] not in ("", "None")}
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return values, sum(f["n"] for f in results["files"])


def compare(base: Values, ours: Values) -> list[str]:
    """Mismatches between the baseline and llaso for every value the baseline computes."""
    problems = []
    for key, value in sorted(base.items()):
        if key[1] in NOT_COMPARED:
            continue
        if key not in ours:
            problems.append(f"{key[0]} {key[1]}: missing from llaso's results.csv")
        elif abs(ours[key] - value) > TOLERANCE:
            problems.append(f"{key[0]} {key[1]}: baseline {value:.6f} != llaso {ours[key]:.6f}")
    return problems


def system_files(system: Path) -> list[Path]:
    """The prediction files of a system folder and its recorded judge files."""
    files = sorted(p for p in system.iterdir() if p.suffix in (".json", ".jsonl") and p.is_file())
    return files + sorted((system / "gpt_result").glob("*.jsonl"))


def plain_read(path: Path) -> list:
    """What a non-tolerant reader does: one ``json.loads`` of a list, or one per line."""
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def reader_seconds(system: Path, repeat: int) -> tuple[float, float, int]:
    """Best-of-``repeat`` seconds to read every file of ``system`` tolerantly and plainly, on one
    core of this process, and the number of records read."""
    from llaso_core.evaluation.records import read_records

    if hasattr(os, "sched_setaffinity") and 0 in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {0})
    files = system_files(system)
    timings = {}
    for name, read in (("tolerant", lambda p: read_records(p).records), ("plain", plain_read)):
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            records = sum(len(read(path)) for path in files)
            best = min(best, time.perf_counter() - start)
        timings[name] = best
    return timings["tolerant"], timings["plain"], records


def run_benchmark(system: Path, repeat: int) -> int:
    """Time both sides ``repeat`` times, check they agree, print the table; return the exit code."""
    prefix, cores = pin_prefix()
    llaso_times, base_times = [], []
    with tempfile.TemporaryDirectory(prefix="llaso-bench-") as tmp:
        for i in range(repeat):
            out = Path(tmp) / f"run{i}"
            llaso_times.append(timed(prefix + llaso_command(system, out))[0])
            elapsed, stdout = timed(prefix + baseline_command(system))
            base_times.append(elapsed)
        ours, n_llaso = read_llaso_results(Path(tmp) / "run0")
    payload = json.loads(stdout)
    base = {(f, m): v for f, m, v in payload["values"]}
    problems = compare(base, ours)
    if problems:
        print("baseline and llaso disagree:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    llaso_median = statistics.median(llaso_times)
    compared = sum(k[1] not in NOT_COMPARED for k in base)
    print_table(system, cores, repeat, n_llaso, payload["n_predictions"], compared,
                llaso_times, base_times)
    tolerant, plain, records = reader_seconds(system, max(repeat, 3))
    extra = tolerant - plain
    print(f"reading {records} records: tolerant {tolerant:.3f} s, plain json {plain:.3f} s; "
          f"extra {extra:.3f} s = {extra / TARGET_S:.1%} of the {TARGET_S:.1f} s target "
          f"(limit {READER_SHARE:.0%})")
    status = 0
    if llaso_median > TARGET_S:
        print(f"FAIL: llaso median {llaso_median:.2f} s exceeds the {TARGET_S:.1f} s target",
              file=sys.stderr)
        status = 2
    if extra > READER_SHARE * TARGET_S:
        print(f"FAIL: the tolerant reader costs {extra:.2f} s over plain json", file=sys.stderr)
        status = 2
    return status


def print_table(system: Path, cores: str, repeat: int, n_llaso: int, n_base: int, compared: int,
                llaso_times: list[float], base_times: list[float]) -> None:
    """The summary: per side the runs and median, then the ratio."""
    llaso_median, base_median = statistics.median(llaso_times), statistics.median(base_times)
    print(f"system: {system}")
    print(f"predictions scored: {n_llaso} (llaso), {n_base} (baseline); "
          f"cores: {cores}; repeat: {repeat}")
    print(f"values checked equal to {TOLERANCE:g}: {compared} (PER timed, not compared)")
    print(f"{'side':<10} {'median s':>9}  runs s")
    rows = (("llaso", llaso_times, llaso_median), ("baseline", base_times, base_median))
    for name, times, median in rows:
        print(f"{name:<10} {median:>9.3f}  " + " ".join(f"{t:.3f}" for t in times))
    verdict = "met" if llaso_median <= TARGET_S else "MISSED"
    print(f"ratio baseline/llaso: {base_median / llaso_median:.2f}x "
          f"(target: llaso < {TARGET_S:.1f} s -> {verdict})")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (see ``--help``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--system", type=Path, default=default_system(),
                        help="folder of one system's released predictions [default: %(default)s]")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side [default: 3]")
    parser.add_argument("--baseline-only", action="store_true",
                        help="run only the baseline and print its values as JSON (used internally)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, or only the baseline with ``--baseline-only``."""
    args = parse_args(argv)
    if not args.system.is_dir():
        raise SystemExit(f"no such folder: {args.system}")
    if args.baseline_only:
        values, n = baseline(args.system)
        rows = [[stem, metric, value] for (stem, metric), value in values.items()]
        json.dump({"values": rows, "n_predictions": n}, sys.stdout)
        return 0
    if args.repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    return run_benchmark(args.system, args.repeat)


if __name__ == "__main__":
    sys.exit(main())
