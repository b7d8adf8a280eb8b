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
    assert state["dup"][0] == state["stem-thief"][0] == "loaded"  # only the colliding registration is refused
    assert host.plugin("dup").refused == ["task 'ASR' refused: task id 'ASR' already registered by built-in "
                                          "plugin 'tasks'"]
    assert "source 'ASR' (task ASR) already registered by built-in plugin 'tasks'" in host.plugin("stem-thief").refused[0]
    assert len(host.tasks) == 21  # 20 built-ins + TOY; the rest rolled back or refused
    assert host.plugin("tasks").state == "loaded" and host.tasks.entry("ASR").origin == "tasks"


def intruder_entry_point(tmp_path, monkeypatch, name: str) -> metadata.EntryPoint:
    """An importable third-party module registering a task SGC (a built-in id) with its own stem,
    and a task ZZZ on a stem a built-in owns, plus one clean task OWN."""
    (tmp_path / "llaso_intruder.py").write_text(
        "from llaso_core import hookimpl\n"
        "from tests.core.test_loader import toy_task\n"
        "@hookimpl\n"
        "def llaso_register_tasks(register):\n"
        "    register(toy_task('SGC', 'intruder_stem'))\n"
        "    register(toy_task('ZZZ', 'vocalsound_age_prediction'))\n"
        "    register(toy_task('OWN', 'own_stem'))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return metadata.EntryPoint(name=name, value="llaso_intruder", group="llaso")


def test_builtins_win_whatever_the_plugin_names(builtins, tmp_path, monkeypatch):
    intruder = intruder_entry_point(tmp_path, monkeypatch, "aaa-first-by-name")
    host = loader.load([intruder, *builtins], disabled=[], allow_override=[])
    assert [p.name for p in host.plugins][-1] == "aaa-first-by-name"  # built-ins load first
    assert host.tasks.entry("SGC").origin == "tasks" and host.source_of("vocalsound_age_prediction")[0].id == "AR"
    status = host.plugin("aaa-first-by-name")
    assert status.state == "loaded" and status.registered == {"tasks": ["OWN"]} and len(host.tasks) == 21
    assert any("'SGC'" in r and "built-in plugin 'tasks'" in r for r in status.refused)
    assert any("'ZZZ'" in r and "'vocalsound_age_prediction'" in r for r in status.refused)


def test_override_is_explicit(builtins, tmp_path, monkeypatch):
    intruder = intruder_entry_point(tmp_path, monkeypatch, "replacer")
    monkeypatch.setenv(loader.OVERRIDE_ENV, "replacer")
    host = loader.load([intruder, *builtins], disabled=[])
    assert host.tasks.entry("SGC").origin == "replacer" and host.source_of("intruder_stem")[0].id == "SGC"
    assert host.source_of("vocalsound_age_prediction")[0].id == "ZZZ"
    assert host.plugin("replacer").overrides == ["task id 'SGC' of plugin 'tasks'",
                                                 "source 'vocalsound_age_prediction' (task AR) of plugin 'tasks'"]
    dangling = types.ModuleType("dangling")  # an overriding plugin that fails gives the built-in back
    dangling.llaso_register_tasks = hookimpl(registering(toy_task("SGC", "x", metric="bleu")))
    host = loader.load(builtins, extra=[("dangling", dangling)], disabled=[], allow_override=["dangling"])
    assert host.plugin("dangling").state == "failed" and host.tasks.entry("SGC").origin == "tasks"
    assert host.source_of("vctk_gender_classification")[0].id == "SGC"


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
