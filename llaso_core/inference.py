"""Python API: ask any speech-language model (a model plugin, see ``llaso models``) about audio.

```python
from llaso_core.inference import Assistant

assistant = Assistant.load("runs/llaso/instruct/final")    # or "hf:...", "openai:MODEL@URL", ...
assistant.ask(audio="clip.wav", instruction="What is the speaker's gender?")       # ta
assistant.ask(audio_instruction="question.wav", text="The quick brown fox ...")     # at
assistant.ask(audio="spoken_request.wav")                                           # pa
for piece in assistant.stream(audio="clip.wav", instruction="Transcribe the audio."):
    print(piece, end="")
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from llaso_core.data.audio import AudioPolicy, load_audio
from llaso_core.loader import PluginHost, get_host
from llaso_core.models import GenerationOptions, Request, SpeechModel, load_model
from llaso_core.query import AudioRef, Query, assemble

ONE_AT_A_TIME = GenerationOptions(batch_size=1)


class Assistant:
    def __init__(self, model: SpeechModel, host: PluginHost | None = None) -> None:
        self.host = host or get_host()
        self.model = model

    @classmethod
    def load(cls, spec: str | Path, device: str | None = None, **options: Any) -> "Assistant":
        """``spec``: a checkpoint folder or ``KIND:REFERENCE`` (as ``--model``)."""
        host = get_host()
        if device is not None:
            options["device"] = device
        return cls(load_model(str(spec), host, **options), host)

    def request(self, *, audio: str | Path | None = None, instruction: str | None = None,
                audio_instruction: str | Path | None = None, text: str | None = None,
                max_new_tokens: int = 256) -> Request:
        """Pick the modality from what is given: audio + instruction (ta), audio_instruction + text (at),
        or audio alone (pa: the audio carries the request)."""
        if audio is not None and instruction is not None:
            modality, kwargs = "ta", {"instruction": instruction, "input": AudioRef(str(audio))}
        elif audio_instruction is not None:
            modality, kwargs = "at", {"instruction": AudioRef(str(audio_instruction)), "input": text}
        elif audio is not None:
            modality, kwargs = "pa", {"instruction": AudioRef(str(audio))}
        else:
            raise ValueError("give audio (+ instruction), or audio_instruction (+ text)")
        if modality not in self.model.modalities:
            raise ValueError(f"{self.model.spec} cannot take the {modality} modality "
                             f"(it takes {', '.join(self.model.modalities)})")
        query: Query = assemble(self.host.modalities.get(modality), **kwargs)
        waves = []
        for ref in query.audio:
            clip = load_audio(ref.path, AudioPolicy(on_problem="raise"), sample_id="input")
            waves.append(clip.samples)
        return Request("input", query, tuple(waves), max_new_tokens)

    def ask(self, **kwargs) -> str:
        answer = self.model.answer([self.request(**kwargs)], ONE_AT_A_TIME)[0]
        if answer.error is not None:
            raise RuntimeError(f"{self.model.spec} did not answer: {answer.error}")
        return answer.text or ""

    def stream(self, **kwargs) -> Iterator[str]:
        """The answer piece by piece as it is generated."""
        yield from self.model.stream(self.request(**kwargs), ONE_AT_A_TIME)
