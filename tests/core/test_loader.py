"""The loader isolates plugins: every way a plugin can be broken is reported, the rest load."""

import types
from importlib import metadata

import pytest

from llaso_core import hookimpl, loader
from llaso_core.specs import LabelSet, Source, TaskSpec, Template, TemplateSet


def plugin(name: str, **hooks) -> types.ModuleType:
    module = types.ModuleType(name)
    for hook_name, fn in hooks.items():
        setattr(module, hook_name, hookimpl(fn))
    return module


def toy_task(id="TOY", stem="toy_classification", metric="acc", extractor="label") -> TaskSpec:
    return TaskSpec(id=id, name="toy", category="semantic", sources=[Source(stem)],
                    templates=TemplateSet((Template("t1", "pick {labels}"),)),
                    label_sets=[LabelSet("closed", ["yes", "no"])], extractor=extractor, metrics=(metric,))


def registering(*specs):
    def llaso_register_tasks(register):
        for spec in specs:
            register(spec)
    return llaso_register_tasks


@pytest.fixture(scope="module")
def builtins():
    return list(metadata.entry_points(group=loader.ENTRY_POINT_GROUP))


def test_builtins_load_through_entry_points(builtins):
    host = loader.load(builtins, disabled=[])
    assert {p.name for p in host.plugins} >= {"tasks", "modalities", "scoring", "encoders", "llms", "tts"}
    assert all(p.state == "loaded" and p.package == "llaso" for p in host.plugins), host.plugins
    assert len(host.tasks) == 20 and host.modalities.ids() == ["ta", "at", "pa"]
    task, source = host.source_of("vocalsound_age_prediction")
    assert task.id == "AR" and task.label_set(source.label_set).kind == "numeric"


def test_broken_plugins_are_reported_and_others_survive(builtins):
    def raising(register):
        raise RuntimeError("boom in registration")

    misspelt = types.ModuleType("misspelt")
    misspelt.llaso_register_taks = hookimpl(lambda register: None)
    extra = [
        ("good", plugin("good", llaso_register_tasks=registering(toy_task()))),
        ("raises", plugin("raises", llaso_register_tasks=raising)),
        ("misspelt", misspelt),
        ("wrong-type", plugin("wrong", llaso_register_tasks=registering("not a spec"))),
        ("dangling", plugin("dangling", llaso_register_tasks=registering(toy_task("DANG", "d", metric="bleu")))),
        ("dup", plugin("dup", llaso_register_tasks=registering(toy_task("ASR", "other_stem")))),
        ("stem-thief", plugin("thief", llaso_register_tasks=registering(toy_task("THIEF", "ASR")))),
    ]
    host = loader.load(builtins, extra=extra, disabled=[])
    state = {p.name: (p.state, p.error) for p in host.plugins}
    assert state["good"] == ("loaded", None) and "TOY" in host.tasks
    assert state["raises"][0] == "failed" and "boom in registration" in state["raises"][1]
    assert state["misspelt"][0] == "failed" and "llaso_register_taks" in state["misspelt"][1]
    assert "TaskSpec" in state["wrong-type"][1]
    assert "metric 'bleu'" in state["dangling"][1] and "DANG" not in host.tasks
    assert "'tasks'" in state["dup"][1] and "'dup'" in state["dup"][1]  # both origins named
    assert "already owned by task ASR" in state["stem-thief"][1]
    assert len(host.tasks) == 21  # 20 built-ins + TOY; the rest rolled back
    assert host.plugin("tasks").state == "loaded"


def test_disable_by_name_or_package(builtins, monkeypatch):
    monkeypatch.setenv(loader.DISABLE_ENV, "tasks, scoring")
    host = loader.load(builtins)
    assert host.plugin("tasks").state == "blocked" and host.plugin("scoring").state == "blocked"
    assert len(host.tasks) == 0 and len(host.modalities) == 3
    host = loader.load(builtins, disabled=["llaso"])  # the distribution name blocks all of them
    assert {p.state for p in host.plugins} == {"blocked"}


def test_import_failure_of_an_entry_point_is_reported(builtins):
    broken = metadata.EntryPoint(name="ghost", value="llaso_no_such_module_xyz", group="llaso")
    host = loader.load([*builtins, broken], disabled=[])
    assert host.plugin("ghost").state == "failed"
    assert "ModuleNotFoundError" in host.plugin("ghost").error
    assert len(host.tasks) == 20
