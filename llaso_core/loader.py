"""Discovers plugins through the ``llaso`` entry-point group, each in isolation.

A plugin that fails to import, has a misspelt hook, or registers an invalid spec is reported
(``llaso plugins``) and rolled back; the others keep working. Built-in plugins (the ``llaso``
distribution) load first, whatever their names; a later registration that collides with an earlier
one (same id, or a task source stem already owned) is refused on its own, named with both plugins,
and the rest of its plugin loads. ``LLASO_ALLOW_OVERRIDE=a,b`` lets those plugins replace what
they collide with instead. ``LLASO_DISABLE_PLUGINS=a,b`` blocks plugins by entry-point or
distribution name.
"""

from __future__ import annotations

import functools
import os
import traceback
from importlib import metadata
from typing import Any, Collection, Iterable, Literal, Sequence

import attrs
import pluggy

from llaso_core import hookspecs
from llaso_core.registry import Entry, Registry, RegistryError
from llaso_core.specs import (
    AdapterSpec,
    EncoderSpec,
    ExtractorSpec,
    JudgeSpec,
    LLMSpec,
    MetricSpec,
    ModalitySpec,
    ModelSpec,
    RecipeSpec,
    Source,
    SpecError,
    TaskSpec,
    TTSSpec,
)

ENTRY_POINT_GROUP = "llaso"
DISABLE_ENV = "LLASO_DISABLE_PLUGINS"
OVERRIDE_ENV = "LLASO_ALLOW_OVERRIDE"
BUILTIN_PACKAGE = "llaso"  # the distribution whose entry points are the built-in plugins

# hook name -> (registry kind, spec type). One registry per kind.
KINDS: dict[str, tuple[str, type]] = {
    "llaso_register_tasks": ("tasks", TaskSpec),
    "llaso_register_modalities": ("modalities", ModalitySpec),
    "llaso_register_encoders": ("encoders", EncoderSpec),
    "llaso_register_llms": ("llms", LLMSpec),
    "llaso_register_metrics": ("metrics", MetricSpec),
    "llaso_register_extractors": ("extractors", ExtractorSpec),
    "llaso_register_judges": ("judges", JudgeSpec),
    "llaso_register_tts": ("tts", TTSSpec),
    "llaso_register_recipes": ("recipes", RecipeSpec),
    "llaso_register_adapters": ("adapters", AdapterSpec),
    "llaso_register_models": ("models", ModelSpec),
}


class PluginError(Exception):
    """A plugin could not be loaded; the message says which and why."""


@attrs.define
class PluginStatus:
    """What ``llaso plugins`` shows for one plugin."""

    name: str
    module: str
    package: str | None = None
    version: str | None = None
    state: Literal["loaded", "failed", "blocked"] = "loaded"
    error: str | None = None
    hooks: list[str] = attrs.Factory(list)
    registered: dict[str, list[str]] = attrs.Factory(dict)
    refused: list[str] = attrs.Factory(list)  # registrations left out: each names the plugin it collided with
    overrides: list[str] = attrs.Factory(list)  # registrations it replaced (only under LLASO_ALLOW_OVERRIDE)
    displaced: list[tuple[str, Entry]] = attrs.Factory(list)  # (kind, entry) it replaced: restored on rollback

    @property
    def builtin(self) -> bool:
        return self.package == BUILTIN_PACKAGE

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self, filter=lambda attribute, _: attribute.name != "displaced")


@attrs.define
class PluginHost:
    """The loaded plugins and one registry per kind."""

    plugins: list[PluginStatus]
    registries: dict[str, Registry]

    @property
    def tasks(self) -> Registry[TaskSpec]:
        return self.registries["tasks"]

    @property
    def modalities(self) -> Registry[ModalitySpec]:
        return self.registries["modalities"]

    @property
    def encoders(self) -> Registry[EncoderSpec]:
        return self.registries["encoders"]

    @property
    def llms(self) -> Registry[LLMSpec]:
        return self.registries["llms"]

    @property
    def metrics(self) -> Registry[MetricSpec]:
        return self.registries["metrics"]

    @property
    def extractors(self) -> Registry[ExtractorSpec]:
        return self.registries["extractors"]

    @property
    def judges(self) -> Registry[JudgeSpec]:
        return self.registries["judges"]

    @property
    def tts(self) -> Registry[TTSSpec]:
        return self.registries["tts"]

    @property
    def recipes(self) -> Registry[RecipeSpec]:
        return self.registries["recipes"]

    @property
    def adapters(self) -> Registry[AdapterSpec]:
        return self.registries["adapters"]

    @property
    def models(self) -> Registry[ModelSpec]:
        return self.registries["models"]

    @functools.cached_property
    def sources(self) -> dict[str, tuple[TaskSpec, Source]]:
        """Release file stem -> (task, source); how a file is mapped to its task."""
        return {s.stem: (task, s) for task in self.tasks for s in task.sources}

    def source_of(self, stem: str) -> tuple[TaskSpec, Source] | None:
        return self.sources.get(stem)

    def plugin(self, name: str) -> PluginStatus:
        for status in self.plugins:
            if status.name == name:
                return status
        raise KeyError(name)


def load(
    entry_points: Iterable[metadata.EntryPoint] | None = None,
    *,
    extra: Sequence[tuple[str, object]] = (),
    disabled: Iterable[str] | None = None,
    allow_override: Iterable[str] | None = None,
) -> PluginHost:
    """Load every plugin of the ``llaso`` group (and ``extra`` (name, module) pairs) in isolation:
    built-ins first, then the others by name. ``disabled`` / ``allow_override`` default to the
    ``LLASO_DISABLE_PLUGINS`` / ``LLASO_ALLOW_OVERRIDE`` lists (entry-point or distribution names)."""
    if entry_points is None:
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    blocked = set(_names(DISABLE_ENV) if disabled is None else disabled)
    overriding = set(_names(OVERRIDE_ENV) if allow_override is None else allow_override)
    registries = {kind: Registry(kind, spec_type) for kind, spec_type in KINDS.values()}
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    statuses: list[PluginStatus] = []

    candidates: list[tuple[PluginStatus, Any]] = []
    for ep in entry_points:
        dist = getattr(ep, "dist", None)
        status = PluginStatus(name=ep.name, module=ep.value, package=dist.name if dist else None,
                              version=dist.version if dist else None)
        candidates.append((status, ep))
    candidates.sort(key=lambda c: (not c[0].builtin, c[0].name))
    builtins = {status.name for status, _ in candidates if status.builtin}
    for name, module in extra:
        candidates.append((PluginStatus(name=name, module=getattr(module, "__name__", repr(module))), module))

    for status, target in candidates:
        statuses.append(status)
        if status.name in blocked or (status.package and status.package in blocked):
            status.state = "blocked"
            continue
        try:
            module = target.load() if isinstance(target, metadata.EntryPoint) else target
            _register_plugin(pm, status, module, registries, builtins=builtins,
                             may_override=bool({status.name, status.package} & overriding))
        except Exception as exc:  # a broken plugin must never take the CLI down
            status.state = "failed"
            status.error = _describe(exc)
            _rollback(status, registries)
            if pm.get_plugin(status.name) is not None:
                pm.unregister(name=status.name)
    _check_references(statuses, registries)
    return PluginHost(plugins=statuses, registries=registries)


def _names(env: str) -> list[str]:
    return [n.strip() for n in os.environ.get(env, "").split(",") if n.strip()]


def _register_plugin(pm: pluggy.PluginManager, status: PluginStatus, module: object,
                     registries: dict[str, Registry], *, builtins: Collection[str] = (),
                     may_override: bool = False) -> None:
    pm.register(module, name=status.name)
    pm.check_pending()  # a misspelt hookimpl fails loudly, naming the hook
    staged: list[tuple[str, Any]] = []
    for hook_name, (kind, _) in KINDS.items():
        impls = [i for i in getattr(pm.hook, hook_name).get_hookimpls() if i.plugin_name == status.name]
        for impl in impls:
            status.hooks.append(hook_name)
            try:
                impl.function(register=lambda spec, _kind=kind: staged.append((_kind, spec)))
            except Exception as exc:
                raise PluginError(f"{hook_name} raised: {_describe(exc)}") from exc
    for kind, spec in staged:  # an invalid spec fails the whole plugin, before anything is added
        try:
            registries[kind].check(spec)
        except (SpecError, TypeError, ValueError) as exc:
            raise PluginError(f"invalid {registries[kind].singular} registration: {exc}") from exc
    for kind, spec in staged:
        registry = registries[kind]
        taken = _collisions(kind, spec, registries)
        if taken and not may_override:
            status.refused.append(f"{registry.singular} {spec.id!r} refused: " + "; ".join(
                f"{what} already registered by {'built-in ' if owner in builtins else ''}plugin {owner!r}"
                for what, owner in taken))
            continue
        for what, owner in taken:
            status.overrides.append(f"{what} of plugin {owner!r}")
        displaced = registry.add(spec, origin=status.name, replace=bool(taken))
        if displaced is not None:
            status.displaced.append((kind, displaced))
        status.registered.setdefault(kind, []).append(spec.id)


def _collisions(kind: str, spec: Any, registries: dict[str, Registry]) -> list[tuple[str, str]]:
    """(what, owning plugin) for the id of ``spec`` and, for a task, each source stem already taken."""
    registry = registries[kind]
    found = []
    if spec.id in registry:
        found.append((f"{registry.singular} id {spec.id!r}", registry.entry(spec.id).origin))
    if kind == "tasks":
        for entry in registry.entries():
            for stem in sorted(set(spec.stems) & set(entry.spec.stems)):
                if entry.id.lower() != spec.id.lower():
                    found.append((f"source {stem!r} (task {entry.id})", entry.origin))
    return found


def _check_references(statuses: list[PluginStatus], registries: dict[str, Registry]) -> None:
    """Tasks refer to modalities, metrics and extractors by id; dangling ones fail their plugin."""
    for entry in registries["tasks"].entries():
        status = next(s for s in statuses if s.name == entry.origin)
        if status.state == "failed":
            continue
        task: TaskSpec = entry.spec
        problems = [f"modality {m!r}" for m in task.modalities if m not in registries["modalities"]]
        metrics = {m for s in task.sources for m in task.metrics_for(s)}
        problems += [f"metric {m!r}" for m in sorted(metrics) if m not in registries["metrics"]]
        extractors = {task.extractor_for(s) for s in task.sources}
        problems += [f"extractor {e!r}" for e in sorted(extractors) if e not in registries["extractors"]]
        if problems:
            status.state = "failed"
            status.error = f"task {task.id} refers to unknown " + ", ".join(problems)
            _rollback(status, registries)


def _rollback(status: PluginStatus, registries: dict[str, Registry]) -> None:
    for kind, ids in status.registered.items():
        for id in ids:
            registries[kind].remove(id)
    for kind, entry in status.displaced:  # what it overrode comes back
        registries[kind].restore(entry)
    status.registered, status.displaced = {}, []


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if not isinstance(exc, (PluginError, SpecError, RegistryError)):
        frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        if frame:
            text += f" ({frame[0].filename}:{frame[0].lineno})"
    return text


@functools.cache
def get_host() -> PluginHost:
    """The process-wide plugin host, loaded on first use."""
    return load()
