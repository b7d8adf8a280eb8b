"""The task contract: what data a task owns, how it asks, what counts as an answer, how it is scored."""

from __future__ import annotations

import hashlib
import json
from enum import Enum
from importlib import resources
from typing import Literal

import attrs

from llaso_core.specs.base import (
    SpecError,
    as_tuple,
    fail,
    file_stem,
    identifier,
    non_empty_text,
    one_of,
    tuple_of,
)


class Category(str, Enum):
    """Task categories of the LLaSO paper."""

    LINGUISTIC = "linguistic"
    SEMANTIC = "semantic"
    SPEAKER = "paralinguistic-speaker"
    CONTENT = "paralinguistic-content"

    @property
    def short(self) -> str:
        return {"linguistic": "L", "semantic": "S", "paralinguistic-speaker": "PS",
                "paralinguistic-content": "PC"}[self.value]


TEMPLATE_STYLES = ("standardized", "contextualized", "stylistic", "fine-grained")
LABEL_KINDS = ("closed", "open", "numeric")
LABELS_PLACEHOLDER = "{labels}"


@attrs.frozen
class Template:
    """One instruction template; closed-set templates carry a ``{labels}`` placeholder."""

    id: str = attrs.field(validator=identifier)
    text: str = attrs.field(validator=non_empty_text)
    style: str = attrs.field(default="standardized", validator=one_of(TEMPLATE_STYLES))

    def render(self, labels: "LabelSet | None" = None) -> str:
        if LABELS_PLACEHOLDER in self.text:
            if labels is None:
                raise ValueError(f"template {self.id} needs a label set to render {LABELS_PLACEHOLDER}")
            return self.text.replace(LABELS_PLACEHOLDER, labels.describe())
        return self.text


@attrs.frozen
class TemplateSet:
    """Instruction templates of a task; ``eval_ids`` are held out of training."""

    templates: tuple[Template, ...] = attrs.field(
        converter=as_tuple, validator=tuple_of(Template, non_empty=True))
    eval_ids: frozenset[str] = attrs.field(converter=frozenset, factory=frozenset)

    def __attrs_post_init__(self) -> None:
        ids = [t.id for t in self.templates]
        if len(set(ids)) != len(ids):
            fail(self, "templates", f"duplicate template ids: {sorted({i for i in ids if ids.count(i) > 1})}")
        unknown = self.eval_ids - set(ids)
        if unknown:
            fail(self, "eval_ids", f"unknown template ids {sorted(unknown)}")
        if self.eval_ids and self.eval_ids == set(ids):
            fail(self, "eval_ids", "every template is held out; nothing is left for training")

    def split(self, split: Literal["train", "eval"]) -> tuple[Template, ...]:
        """Templates used for ``split``; with no held-out ids both splits use all of them."""
        if not self.eval_ids:
            return self.templates
        held_out = split == "eval"
        return tuple(t for t in self.templates if (t.id in self.eval_ids) == held_out)

    def pick(self, key: str, *, split: Literal["train", "eval"] = "train", seed: int = 0) -> Template:
        """Deterministic per-sample choice: the same (seed, key) always gets the same template."""
        pool = self.split(split)
        digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
        return pool[int.from_bytes(digest, "big") % len(pool)]

    @classmethod
    def from_json(cls, package: str, name: str) -> "TemplateSet":
        """Load ``{"templates": [{id, style, text}], "eval": [ids]}`` shipped inside ``package``."""
        data = json.loads(resources.files(package).joinpath(name).read_text(encoding="utf-8"))
        return cls(templates=tuple(Template(**t) for t in data["templates"]),
                   eval_ids=frozenset(data.get("eval", ())))


@attrs.frozen
class LabelSet:
    """What a valid answer is: a closed list of labels, open text, or a number in a range."""

    kind: str = attrs.field(validator=one_of(LABEL_KINDS))
    labels: tuple[str, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(str, unique=True))
    name: str = attrs.field(default="default", validator=identifier)
    value_range: tuple[float, float] | None = attrs.field(default=None, converter=as_tuple)

    def __attrs_post_init__(self) -> None:
        if self.kind == "closed" and len(self.labels) < 2:
            fail(self, "labels", f"a closed label set '{self.name}' needs at least two labels")
        if self.kind != "closed" and self.labels:
            fail(self, "labels", f"only closed label sets list labels ('{self.name}' is {self.kind})")
        if self.kind == "numeric":
            if self.value_range is None or len(self.value_range) != 2 or not (
                    self.value_range[0] < self.value_range[1]):
                fail(self, "value_range", f"numeric label set '{self.name}' needs (low, high), low < high")
        elif self.value_range is not None:
            fail(self, "value_range", "only numeric label sets have a value range")

    def describe(self) -> str:
        """How the label set is spelt inside an instruction (``{labels}``)."""
        if self.kind == "closed":
            return ", ".join(self.labels)
        if self.kind == "numeric":
            low, high = self.value_range  # type: ignore[misc]
            return f"an integer between {low:g} and {high:g}"
        return "free text"

    def rejects(self, value: str) -> tuple[str, str] | None:
        """Why ``value`` is not a valid target, as (reason, detail); None when it is."""
        if not value.strip():
            return "empty_target", ""
        if self.kind == "closed" and value not in self.labels:
            return "label_not_in_set", f"{value!r} not in {self.name}"
        if self.kind == "numeric":
            try:
                number = float(value)
            except ValueError:
                number = float("nan")
            low, high = self.value_range  # type: ignore[misc]
            if not low <= number <= high:
                return "value_out_of_range", f"{value!r} not in [{low:g}, {high:g}]"
        return None


@attrs.frozen
class Source:
    """A data source the task owns: a LLaSO release file stem and the modalities it comes in.

    ``label_set`` names one of the task's label sets (e.g. the accent corpus, or the age
    granularity); ``metrics`` and ``extractor`` override the task's for this source.
    """

    stem: str = attrs.field(validator=file_stem)
    modalities: tuple[str, ...] = attrs.field(
        default=("ta",), converter=as_tuple, validator=tuple_of(str, non_empty=True, unique=True))
    label_set: str | None = None
    metrics: tuple[str, ...] | None = attrs.field(default=None, converter=as_tuple)
    extractor: str | None = None
    description: str = ""


def _category(value: object) -> Category:
    try:
        return Category(value)
    except ValueError:
        raise SpecError(f"TaskSpec.category: {value!r} is not one of "
                        f"{', '.join(c.value for c in Category)}") from None


@attrs.frozen
class TaskSpec:
    """A task, as a declaration. See docs/plugins.md for a worked example."""

    id: str = attrs.field(validator=identifier)
    name: str = attrs.field(validator=non_empty_text)
    category: Category = attrs.field(converter=lambda v: _category(v))
    sources: tuple[Source, ...] = attrs.field(
        converter=as_tuple, validator=tuple_of(Source, non_empty=True))
    templates: TemplateSet = attrs.field(validator=attrs.validators.instance_of(TemplateSet))
    label_sets: tuple[LabelSet, ...] = attrs.field(
        converter=as_tuple, validator=tuple_of(LabelSet, non_empty=True))
    extractor: str = attrs.field(validator=identifier)
    metrics: tuple[str, ...] = attrs.field(
        converter=as_tuple, validator=tuple_of(str, non_empty=True, unique=True))
    modalities: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    description: str = ""
    max_new_tokens: int = 64

    def __attrs_post_init__(self) -> None:
        stems = [s.stem for s in self.sources]
        if len(set(stems)) != len(stems):
            fail(self, "sources", f"duplicate source stems {sorted({s for s in stems if stems.count(s) > 1})}")
        names = [ls.name for ls in self.label_sets]
        if len(set(names)) != len(names):
            fail(self, "label_sets", "label set names must be unique")
        for source in self.sources:
            if source.label_set is not None and source.label_set not in names:
                fail(self, "sources", f"source {source.stem} names unknown label set {source.label_set!r}"
                     f" (known: {', '.join(names)})")
        from_sources = tuple(dict.fromkeys(m for s in self.sources for m in s.modalities))
        if not self.modalities:
            object.__setattr__(self, "modalities", from_sources)
        missing = set(from_sources) - set(self.modalities)
        if missing:
            fail(self, "modalities", f"sources use modalities {sorted(missing)} the task does not list")
        if any(ls.kind == "closed" for ls in self.label_sets):
            bare = [t.id for t in self.templates.templates if "{labels}" not in t.text]
            if bare:
                fail(self, "templates", f"closed-set task templates must name {{labels}}: {bare[:3]}")
        if self.max_new_tokens < 1:
            fail(self, "max_new_tokens", "must be at least 1")

    @property
    def stems(self) -> tuple[str, ...]:
        return tuple(s.stem for s in self.sources)

    def label_set(self, name: str | None = None) -> LabelSet:
        """The named label set, or the first (the default) when ``name`` is None."""
        if name is None:
            return self.label_sets[0]
        for ls in self.label_sets:
            if ls.name == name:
                return ls
        raise KeyError(f"task {self.id} has no label set {name!r}")

    def source(self, stem: str) -> Source:
        for s in self.sources:
            if s.stem == stem:
                return s
        raise KeyError(f"task {self.id} has no source {stem!r}")

    def metrics_for(self, source: Source) -> tuple[str, ...]:
        return source.metrics or self.metrics

    def extractor_for(self, source: Source) -> str:
        return source.extractor or self.extractor
