import pytest

from llaso_core.loader import get_host
from llaso_core.specs import LabelSet, Source, TaskSpec, Template, TemplateSet
from llaso_core.testing import check_task

BUILTIN = [t.id for t in get_host().tasks]


@pytest.mark.parametrize("task_id", BUILTIN)
def test_builtin_task_passes_the_plugin_contract(task_id):
    assert check_task(task_id) == []


def test_contract_reports_unknown_references_and_unscorable_labels():
    unknown = TaskSpec(id="BAD2", name="bad", category="semantic", sources=[Source("bad2")],
                       templates=TemplateSet((Template("b1", "say it"),)),
                       label_sets=[LabelSet("open")], extractor="nope", metrics=("bleu",))
    assert check_task(unknown) == ["source bad2: unknown bleu, extractor nope"]
    # A numeric label set whose range excludes the answers an echo model gives back.
    numeric = TaskSpec(id="NUM", name="num", category="semantic", sources=[Source("num_src")],
                       templates=TemplateSet((Template("n1", "how many?"),)),
                       label_sets=[LabelSet("numeric", value_range=(200, 300))], extractor="pitch",
                       metrics=("mae",))
    problems = check_task(numeric)
    assert len(problems) == 1 and "mae = None" in problems[0]
