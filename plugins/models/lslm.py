"""The ``lslm`` model kind: a checkpoint folder written by ``llaso train``, answered by the batched
:class:`~llaso_core.evaluation.generate.Generator` (left padding, KV cache, shared-prefix prefill)."""

from __future__ import annotations

from typing import Any, Iterator, Sequence

from llaso_core import __version__
from llaso_core.evaluation.generate import Generator
from llaso_core.models.base import Answer, GenerationOptions, Request, SpeechModel, stream_text


class LSLMModel(SpeechModel):
    kind = "lslm"

    def __init__(self, reference: str, *, device: str | None = None, host=None, model=None) -> None:
        """``reference``: a checkpoint folder; or, with ``model`` (an LSLM already in memory), a name for it."""
        from llaso_core.model.lslm import LSLM

        super().__init__(reference)
        self.generator = Generator(model if model is not None else LSLM.from_pretrained(reference, host),
                                   device=device)
        self.system_prompt = self.generator.model.chat.system

    def batches(self, requests: Sequence[Request], batch_size: int):
        return self.generator.batches(requests, batch_size)

    def answer(self, requests: Sequence[Request], options: GenerationOptions = GenerationOptions()) -> list[Answer]:
        return [Answer(text) for text in self.generator.generate_batch(requests, options)]

    def stream(self, request: Request, options: GenerationOptions = GenerationOptions(batch_size=1)) -> Iterator[str]:
        return stream_text(self.generator.model.tokenizer,
                           lambda streamer: self.generator.generate_batch([request], options, streamer=streamer))

    def details(self) -> dict[str, Any]:
        return {"llaso_version": __version__, "device": str(self.generator.device)}

    def generation_settings(self, options: GenerationOptions) -> dict[str, Any]:
        return {**super().generation_settings(options), "cache": options.cache, "share_prefix": options.share_prefix}


def load(reference: str, **options: Any) -> LSLMModel:
    return LSLMModel(reference, **options)
