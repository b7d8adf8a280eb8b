"""Read and check the ``results.json`` files written by ``llaso score``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

SCHEMA_VERSION = "llaso.results/1"


class ResultsError(ValueError):
    """A results file that cannot be used; the message names the file."""

    def __init__(self, source: str | Path, message: str):
        self.source = str(source)
        self.reason = message
        super().__init__(f"{source}: {message}")


@attrs.frozen
class SystemResults:
    """One loaded results file. ``label`` is unique among the compared results."""

    label: str
    path: str
    data: Mapping[str, Any] = attrs.field(repr=False)

    @property
    def system(self) -> str:
        return self.data["system"]

    @property
    def protocol(self) -> str:
        return self.data.get("protocol") or "unknown"

    @property
    def judge(self) -> Mapping[str, Any]:
        return self.data.get("judge") or {}

    @property
    def tasks(self) -> Mapping[str, Any]:
        return self.data.get("tasks") or {}

    @property
    def modalities(self) -> Mapping[str, Any]:
        return self.data.get("modalities") or {}

    @property
    def categories(self) -> Mapping[str, Any]:
        return self.data.get("categories") or {}

    @property
    def baselines(self) -> Mapping[str, Any]:
        """Reference baselines of closed-set tasks (``tasks`` and ``modalities``), when the file has them."""
        return self.data.get("baselines") or {}

    @property
    def problems(self) -> list[str]:
        return list(self.data.get("problems") or [])

    @property
    def unknown_files(self) -> list[Mapping[str, Any]]:
        return list(self.data.get("unknown_files") or [])


def _is_number_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _check_metrics(metrics: Any, where: str, source: str | Path) -> None:
    if not isinstance(metrics, Mapping):
        raise ResultsError(source, f"{where}: 'metrics' must be an object")
    for name, metric in metrics.items():
        if not isinstance(metric, Mapping):
            raise ResultsError(source, f"{where}.{name}: metric must be an object")
        if not _is_number_or_null(metric.get("value")):
            raise ResultsError(source, f"{where}.{name}: 'value' must be a number or null")


def validate_results(data: Any, source: str | Path = "<results>") -> None:
    """Raise :class:`ResultsError` unless ``data`` follows schema ``llaso.results/1``.

    Only what the report reads is checked; optional sections may be absent.
    """
    if not isinstance(data, Mapping):
        raise ResultsError(source, "not a JSON object")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ResultsError(source, f"schema_version is {version!r}, expected {SCHEMA_VERSION!r}")
    if not isinstance(data.get("system"), str) or not data["system"]:
        raise ResultsError(source, "'system' must be a non-empty string")
    tasks = data.get("tasks")
    if not isinstance(tasks, Mapping):
        raise ResultsError(source, "'tasks' must be an object")
    for task_id, task in tasks.items():
        if not isinstance(task, Mapping):
            raise ResultsError(source, f"tasks.{task_id} must be an object")
        _check_metrics(task.get("metrics", {}), f"tasks.{task_id}", source)
    modalities = data.get("modalities", {})
    if not isinstance(modalities, Mapping):
        raise ResultsError(source, "'modalities' must be an object")
    for mod, per_task in modalities.items():
        if not isinstance(per_task, Mapping):
            raise ResultsError(source, f"modalities.{mod} must be an object")
        for task_id, metrics in per_task.items():
            _check_metrics(metrics, f"modalities.{mod}.{task_id}", source)
    for where, value, kind in _shapes(data):
        if value is not None and not isinstance(value, kind):
            raise ResultsError(source, f"'{where}' must be {_KIND_WORDS[kind]}")
    for category, metrics in (data.get("categories") or {}).items():
        if not isinstance(metrics, Mapping):
            raise ResultsError(source, f"'categories.{category}' must be an object")
        _check_metrics(metrics, f"categories.{category}", source)


_KIND_WORDS = {list: "a list", Mapping: "an object", str: "a string"}


def _shapes(data: Mapping[str, Any]) -> Iterable[tuple[str, Any, type]]:
    """(where, value, required type) of every optional part the report reads."""
    judge = data.get("judge") if isinstance(data.get("judge"), Mapping) else {}
    unknown = data.get("unknown_files") if isinstance(data.get("unknown_files"), list) else []
    yield from ((key, data.get(key), kind) for key, kind in (
        ("files", list), ("problems", list), ("unknown_files", list), ("categories", Mapping), ("judge", Mapping),
        ("baselines", Mapping), ("protocol", str), ("llaso_version", str), ("created", str)))
    yield from ((f"judge.{key}", judge.get(key), kind) for key, kind in (
        ("model", str), ("prompt_version", str), ("sources", Mapping)))
    yield from ((f"unknown_files[{i}]", item, Mapping) for i, item in enumerate(unknown))


def load_results(path: str | Path) -> dict[str, Any]:
    """Read one results file; raise :class:`ResultsError` naming it if missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise ResultsError(path, "no such file" if not path.exists() else "not a file")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(path, f"cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(path, f"malformed JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    validate_results(data, path)
    return data


def unique_labels(names: Iterable[str]) -> list[str]:
    """``["A", "B", "A"]`` -> ``["A", "B", "A (2)"]``: systems compared twice stay apart."""
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return labels


def as_systems(datas: Iterable[tuple[str, Mapping[str, Any]]]) -> list[SystemResults]:
    """Wrap ``(path, data)`` pairs (already validated) into labelled :class:`SystemResults`."""
    datas = list(datas)
    names = [d["system"] for _, d in datas]
    # The same system scored twice: tell the copies apart by protocol first, then by number.
    names = [f"{n} [{d.get('protocol') or 'unknown'}]" if names.count(n) > 1 else n
             for n, (_, d) in zip(names, datas)]
    labels = unique_labels(names)
    return [SystemResults(label=label, path=str(path), data=data) for label, (path, data) in zip(labels, datas)]


def load_systems(paths: Iterable[str | Path]) -> list[SystemResults]:
    """Load every results file, in order; the first bad file raises :class:`ResultsError`, which
    says which of several files it is (``results file 2 of 3``)."""
    paths = list(paths)
    datas = []
    for number, path in enumerate(paths, 1):
        try:
            datas.append((str(path), load_results(path)))
        except ResultsError as exc:
            if len(paths) == 1:
                raise
            raise ResultsError(path, f"{exc.reason} (results file {number} of {len(paths)})") from None
    return as_systems(datas)
