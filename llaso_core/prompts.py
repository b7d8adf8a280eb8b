"""Turning a task's templates into instructions and example queries."""

from __future__ import annotations

from llaso_core.query import AudioRef, Content, Query, assemble
from llaso_core.specs import ModalitySpec, Source, TaskSpec


def instruction_text(task: TaskSpec, source: Source | None = None, *, key: str = "example",
                     split: str = "eval", seed: int = 0) -> tuple[str, str]:
    """(template id, rendered text) chosen deterministically for ``key``; ``{labels}`` filled with
    the source's label set."""
    source = source or task.sources[0]
    template = task.templates.pick(key, split=split, seed=seed)  # type: ignore[arg-type]
    return template.id, template.render(task.label_set(source.label_set))


def example_query(task: TaskSpec, modality: ModalitySpec, source: Source | None = None) -> Query:
    """A query showing how ``task`` is asked in ``modality``, with placeholder audio paths."""
    _, text = instruction_text(task, source)
    audio_instruction = modality.slot("instruction") or modality.slot("request")
    instruction: Content = (AudioRef("instruction.wav", transcript=text)
                            if audio_instruction and audio_instruction.medium == "audio" else text)
    input_slot = modality.slot("input")
    input: Content | None = None
    if input_slot is not None:
        input = AudioRef("input.wav") if input_slot.medium == "audio" else "(the text input)"
    return assemble(modality, instruction=instruction, input=input)
