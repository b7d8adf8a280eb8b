"""Instruction templates live as data beside the task modules (``templates/<TASK>.json``)."""

from llaso_core.specs import TemplateSet


def templates(task_id: str) -> TemplateSet:
    return TemplateSet.from_json("llaso_plugins.tasks", f"templates/{task_id}.json")
