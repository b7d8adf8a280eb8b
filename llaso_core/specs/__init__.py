"""Frozen, validated ``attrs`` classes: the contract every plugin fills in."""

from llaso_core.specs.base import SpecError, load_ref
from llaso_core.specs.components import EncoderSpec, ExtractorSpec, JudgeSpec, LLMSpec, MetricSpec, ModelSpec, TTSSpec
from llaso_core.specs.data import AdapterSpec, RecipeSpec
from llaso_core.specs.modality import ModalitySpec, Slot
from llaso_core.specs.task import Category, LabelSet, Source, TaskSpec, Template, TemplateSet

__all__ = [
    "AdapterSpec", "Category", "EncoderSpec", "ExtractorSpec", "JudgeSpec", "LLMSpec", "LabelSet", "MetricSpec",
    "ModalitySpec", "ModelSpec", "RecipeSpec", "Slot", "Source", "SpecError", "TaskSpec", "TTSSpec", "Template", "TemplateSet", "load_ref",
]
