"""Modality configurations (paper Eq. 1): which parts of a query are text and which are audio."""

from __future__ import annotations

import attrs

from llaso_core.specs.base import as_tuple, fail, identifier, non_empty_text, one_of, tuple_of

SLOT_ROLES = ("cue", "instruction", "input", "request")  # request = instruction and input together
MEDIA = ("text", "audio")


@attrs.frozen
class Slot:
    """One position of a query: what it carries (role) and in which medium."""

    role: str = attrs.field(validator=one_of(SLOT_ROLES))
    medium: str = attrs.field(validator=one_of(MEDIA))


@attrs.frozen
class ModalitySpec:
    """A query layout such as ``ta`` = [instruction as text, input as audio].

    ``cues`` are the generic text prompts of layouts with a ``cue`` slot (pure audio: the spoken
    audio carries the request and the text only says to listen, paper Appendix N).
    """

    id: str = attrs.field(validator=identifier)
    name: str = attrs.field(validator=non_empty_text)
    layout: tuple[Slot, ...] = attrs.field(converter=as_tuple, validator=tuple_of(Slot, non_empty=True))
    description: str = ""
    cues: tuple[str, ...] = attrs.field(default=(), converter=as_tuple, validator=tuple_of(str))
    eval_cues: tuple[str, ...] = attrs.field(default=(), converter=as_tuple, validator=tuple_of(str))

    def __attrs_post_init__(self) -> None:
        roles = [slot.role for slot in self.layout]
        if len(set(roles)) != len(roles):
            fail(self, "layout", f"a role appears twice: {roles}")
        has_request = "request" in roles
        if has_request == ("instruction" in roles):
            fail(self, "layout", "needs either an 'instruction' slot or a 'request' slot (not both)")
        if has_request and "input" in roles:
            fail(self, "layout", "a 'request' slot already carries the input")
        if ("cue" in roles) != bool(self.cues):
            fail(self, "cues", "a layout with a 'cue' slot needs cues, and only such a layout has them")
        if not set(self.eval_cues) <= set(self.cues):
            fail(self, "eval_cues", "held-out cues must be among the cues")

    @property
    def media(self) -> tuple[str, ...]:
        """The sequence of media, e.g. ``('text', 'audio')`` for ``ta``."""
        return tuple(slot.medium for slot in self.layout)

    @property
    def pattern(self) -> str:
        """Short form used in listings, e.g. ``instruction:text + input:audio``."""
        return " + ".join(f"{slot.role}:{slot.medium}" for slot in self.layout)

    def slot(self, role: str) -> Slot | None:
        return next((s for s in self.layout if s.role == role), None)
