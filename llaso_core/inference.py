"""Python API: ask a trained LSLM about audio.

```python
from llaso_core.inference import Assistant

assistant = Assistant.load("runs/llaso/instruct/final")
assistant.ask(audio="clip.wav", instruction="What is the speaker's gender?")       # ta
assistant.ask(audio_instruction="question.wav", text="The quick brown fox ...")     # at
assistant.ask(audio="spoken_request.wav")                                           # pa
for piece in assistant.stream(audio="clip.wav", instruction="Transcribe the audio."):
    print(piece, end="")
```
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator

from llaso_core.data.audio import AudioPolicy, load_audio
from llaso_core.evaluation.generate import GenerationOptions, Generator, Request
from llaso_core.loader import PluginHost, get_host
from llaso_core.model.lslm import LSLM
from llaso_core.query import AudioRef, Query, assemble


class Assistant:
    def __init__(self, model: LSLM, host: PluginHost | None = None, device: str | None = None) -> None:
        self.host = host or get_host()
        self.generator = Generator(model, device=device)

    @classmethod
    def load(cls, checkpoint: str | Path, device: str | None = None) -> "Assistant":
        host = get_host()
        return cls(LSLM.from_pretrained(checkpoint, host), host, device)

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
        query: Query = assemble(self.host.modalities.get(modality), **kwargs)
        waves = []
        for ref in query.audio:
            clip = load_audio(ref.path, AudioPolicy(on_problem="raise"), sample_id="input")
            waves.append(clip.samples)
        return Request("input", query, tuple(waves), max_new_tokens)

    def ask(self, **kwargs) -> str:
        return self.generator.generate_batch([self.request(**kwargs)])[0]

    def stream(self, **kwargs) -> Iterator[str]:
        """The answer piece by piece as it is generated."""
        from transformers import TextIteratorStreamer

        request = self.request(**kwargs)
        streamer = TextIteratorStreamer(self.generator.model.tokenizer, skip_prompt=False, skip_special_tokens=True)
        worker = threading.Thread(target=self.generator.generate_batch,
                                  args=([request], GenerationOptions(batch_size=1)), kwargs={"streamer": streamer})
        worker.start()
        yield from streamer
        worker.join()
