"""Validation helpers shared by the spec classes, and lazy ``"module:attr"`` references."""

from __future__ import annotations

import importlib
import re
from typing import Any, Callable, Iterable

import attrs

IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")
FILE_STEM = re.compile(r"^[\w.\-]+$")
LAZY_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


class SpecError(ValueError):
    """A spec field holds an invalid value. The message names the spec class and the field."""


def fail(instance: Any, field: str, message: str) -> None:
    raise SpecError(f"{type(instance).__name__}.{field}: {message}")


def identifier(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    """An id: a letter then letters, digits, '_', '-', '.'."""
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        fail(instance, attribute.name, f"{value!r} is not a valid identifier (letters, digits, _ - .)")


def file_stem(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    """A release file stem such as ``1M_GPT4_end`` (letters, digits, '_', '-', '.')."""
    if not isinstance(value, str) or not FILE_STEM.match(value):
        fail(instance, attribute.name, f"{value!r} is not a valid file stem (letters, digits, _ - .)")


def non_empty_text(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        fail(instance, attribute.name, f"must be a non-empty string, got {value!r}")


def one_of(choices: Iterable[str]) -> Callable[[Any, attrs.Attribute, Any], None]:
    allowed = tuple(choices)

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value not in allowed:
            fail(instance, attribute.name, f"{value!r} is not one of {', '.join(allowed)}")

    return check


def tuple_of(kind: type | tuple[type, ...], *, non_empty: bool = False, unique: bool = False):
    """Validate a tuple whose items are all ``kind`` (optionally non-empty, optionally unique)."""

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if not isinstance(value, tuple):
            fail(instance, attribute.name, f"must be a tuple, got {type(value).__name__}")
        for item in value:
            if not isinstance(item, kind):
                fail(instance, attribute.name, f"item {item!r} is not a {_kind_name(kind)}")
        if non_empty and not value:
            fail(instance, attribute.name, "must not be empty")
        if unique and len(set(value)) != len(value):
            dupes = sorted({str(v) for v in value if value.count(v) > 1})
            fail(instance, attribute.name, f"duplicate entries: {', '.join(dupes)}")

    return check


def lazy_ref(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, str) or not LAZY_REF.match(value):
        fail(instance, attribute.name, f"{value!r} is not a 'package.module:attribute' reference")


def as_tuple(value: Any) -> tuple:
    """Converter: lists (and other iterables except strings) become tuples."""
    if isinstance(value, (str, bytes)) or value is None:
        return value
    return tuple(value)


def load_ref(ref: str) -> Any:
    """Import the object a ``"module:attr"`` reference points to (the lazy part of a factory)."""
    module_name, _, attr_path = ref.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr_path.split("."):
        obj = getattr(obj, part)
    return obj


def _kind_name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return " or ".join(k.__name__ for k in kind)
    return kind.__name__
