import attrs
import pytest

from llaso_core.specs import Category, LabelSet, ModalitySpec, Slot, Source, SpecError, TaskSpec, Template, TemplateSet


def templates(*texts: str, eval_ids=()) -> TemplateSet:
    return TemplateSet(tuple(Template(f"T{i}", t) for i, t in enumerate(texts)), eval_ids=eval_ids)


def task(**overrides) -> TaskSpec:
    fields = dict(id="X", name="x task", category="paralinguistic-speaker",
                  sources=[Source("x_classification")], templates=templates("Pick {labels}.", "Say {labels}."),
                  label_sets=[LabelSet("closed", ["a", "b"])], extractor="label", metrics=("acc",))
    return TaskSpec(**{**fields, **overrides})


def test_valid_task_derives_modalities_and_coerces():
    t = task(sources=[Source("x_classification", modalities=["ta", "pa"])])
    assert t.modalities == ("ta", "pa")
    assert t.category is Category.SPEAKER and t.category.short == "PS"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        t.id = "Y"


@pytest.mark.parametrize("overrides, field", [
    (dict(id="9bad id"), "TaskSpec.id"),
    (dict(category="musical"), "TaskSpec.category"),
    (dict(sources=[]), "TaskSpec.sources"),
    (dict(metrics=("acc", "acc")), "TaskSpec.metrics"),
    (dict(sources=[Source("s", label_set="nope")]), "TaskSpec.sources"),
    (dict(sources=[Source("a"), Source("a")]), "TaskSpec.sources"),
    (dict(templates=templates("no placeholder here")), "TaskSpec.templates"),
    (dict(sources=[Source("s", modalities=("ta", "pa"))], modalities=("ta",)), "TaskSpec.modalities"),
])
def test_invalid_task_names_the_field(overrides, field):
    with pytest.raises(SpecError, match=field.replace(".", r"\.")):
        task(**overrides)


def test_label_set_rules():
    with pytest.raises(SpecError, match=r"LabelSet\.labels"):
        LabelSet("closed", ["only"])
    with pytest.raises(SpecError, match=r"LabelSet\.value_range"):
        LabelSet("numeric")
    with pytest.raises(SpecError, match=r"LabelSet\.kind"):
        LabelSet("fuzzy")
    assert LabelSet("numeric", value_range=(0, 127)).describe() == "an integer between 0 and 127"
    assert LabelSet("closed", ["male", "female"]).describe() == "male, female"


def test_template_split_and_seeded_pick_is_deterministic():
    ts = templates(*(f"t{i} {{labels}}" for i in range(10)), eval_ids={"T8", "T9"})
    assert {t.id for t in ts.split("eval")} == {"T8", "T9"}
    assert len(ts.split("train")) == 8
    picks = [ts.pick(f"sample-{i}", split="train", seed=3).id for i in range(200)]
    assert picks == [ts.pick(f"sample-{i}", split="train", seed=3).id for i in range(200)]
    assert len(set(picks)) == 8  # spread over every training template, never a held-out one
    assert {ts.pick(f"s{i}", split="eval").id for i in range(50)} <= {"T8", "T9"}
    assert picks != [ts.pick(f"sample-{i}", split="train", seed=4).id for i in range(200)]


def test_template_set_rejects_bad_eval_ids():
    with pytest.raises(SpecError, match=r"TemplateSet\.eval_ids"):
        templates("a", eval_ids={"T7"})
    with pytest.raises(SpecError, match=r"TemplateSet\.eval_ids"):
        templates("a", "b", eval_ids={"T0", "T1"})


def test_modality_layout_rules():
    with pytest.raises(SpecError, match=r"ModalitySpec\.layout"):
        ModalitySpec("aa", "both", layout=(Slot("input", "audio"),))
    with pytest.raises(SpecError, match=r"ModalitySpec\.cues"):
        ModalitySpec("pa2", "pure", layout=(Slot("cue", "text"), Slot("request", "audio")))
    with pytest.raises(SpecError, match=r"Slot\.medium"):
        Slot("input", "video")
