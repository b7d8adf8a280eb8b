"""The ``hf`` model kind: transformers audio LMs through ``AutoProcessor`` and the model's own chat template.

``hf:PATH_OR_HUB_ID``. Each query becomes one user turn whose content parts keep the query's order
(``{"type": "audio", "audio": <16 kHz array>}`` and ``{"type": "text", ...}``); the processor's chat
template renders it with the family's audio placeholders and extracts the features. A batch is
rendered together with left padding and decoded greedily (by default); only the new tokens are
decoded. Tested on tiny random configurations: qwen2_audio and audioflamingo3 (batched output equal
to one at a time). Not tested here: qwen2_5_omni (its processor loads a video processor, which needs
torchvision), voxtral (needs mistral-common) and granite_speech (needs peft): none of the three is
installed in this environment. Any family whose
processor renders audio content parts and whose model is an ``AutoModelForMultimodalLM`` or
``AutoModelForSeq2SeqLM`` goes through the same path.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import torch

from llaso_core.models.base import SAMPLE_RATE, Answer, GenerationOptions, Request, SpeechModel, stream_text
from llaso_core.query import AudioSegment


def messages(request: Request, system: str | None) -> list[dict[str, Any]]:
    clips = iter(request.waveforms)
    content = [{"type": "audio", "audio": next(clips)} if isinstance(s, AudioSegment)
               else {"type": "text", "text": s.text} for s in request.query.segments]
    turns = [{"role": "system", "content": [{"type": "text", "text": system}]}] if system else []
    return turns + [{"role": "user", "content": content}]


def model_class(config):
    """The auto class that builds this family's text-generating model."""
    from transformers import AutoModelForMultimodalLM, AutoModelForSeq2SeqLM

    for auto in (AutoModelForMultimodalLM, AutoModelForSeq2SeqLM):
        if type(config) in auto._model_mapping:
            return auto
    raise ValueError(f"hf: model type {config.model_type!r} is not a transformers audio LM "
                     f"(no multimodal or seq2seq generation class)")


class HFAudioModel(SpeechModel):
    kind = "hf"

    def __init__(self, reference: str, *, device: str | None = None, dtype: str | None = None,
                 system: str | None = None, trust_remote_code: bool = False) -> None:
        from transformers import AutoConfig, AutoProcessor

        super().__init__(reference)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        torch_dtype = getattr(torch, dtype) if dtype else (torch.bfloat16 if self.device.type == "cuda" else torch.float32)
        config = AutoConfig.from_pretrained(reference, trust_remote_code=trust_remote_code)
        auto_class = model_class(config)
        self.processor = AutoProcessor.from_pretrained(reference, trust_remote_code=trust_remote_code)
        self.processor.tokenizer.padding_side = "left"
        self.model = auto_class.from_pretrained(reference, dtype=torch_dtype,
                                                         trust_remote_code=trust_remote_code).to(self.device).eval()
        self.model_type = config.model_type
        self.system_prompt = system

    def inputs(self, requests: Sequence[Request]):
        conversations = [messages(r, r.system if r.system is not None else self.system_prompt) for r in requests]
        batch = self.processor.apply_chat_template(  # text padded (left), audio as the family's processor pads it
            conversations, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt",
            processor_kwargs={"text_kwargs": {"padding": True}, "sampling_rate": SAMPLE_RATE})
        dtype = next(self.model.parameters()).dtype
        return {k: (v.to(self.device, dtype) if v.is_floating_point() else v.to(self.device))
                for k, v in batch.items()}

    @torch.inference_mode()
    def generate_ids(self, requests: Sequence[Request], options: GenerationOptions = GenerationOptions(),
                     streamer=None) -> list[list[int]]:
        inputs = self.inputs(requests)
        tokenizer = self.processor.tokenizer
        output = self.model.generate(**inputs, max_new_tokens=max(r.max_new_tokens for r in requests),
                                     min_new_tokens=options.min_new_tokens or None, do_sample=options.do_sample,
                                     temperature=options.temperature if options.do_sample else None,
                                     top_p=options.top_p if options.do_sample else None,
                                     pad_token_id=tokenizer.pad_token_id, streamer=streamer)
        new = output[:, inputs["input_ids"].shape[1]:]
        return [row[: r.max_new_tokens].tolist() for row, r in zip(new, requests)]

    def answer(self, requests: Sequence[Request], options: GenerationOptions = GenerationOptions()) -> list[Answer]:
        decode = self.processor.tokenizer.decode
        return [Answer(decode(ids, skip_special_tokens=True).strip()) for ids in self.generate_ids(requests, options)]

    def stream(self, request: Request, options: GenerationOptions = GenerationOptions(batch_size=1)) -> Iterator[str]:
        return stream_text(self.processor.tokenizer,
                           lambda streamer: self.generate_ids([request], options, streamer=streamer), skip_prompt=True)

    def details(self) -> dict[str, Any]:
        import transformers

        return {"model_type": self.model_type, "model_class": type(self.model).__name__,
                "transformers": transformers.__version__, "padding": "left", "device": str(self.device)}


def load(reference: str, **options: Any) -> HFAudioModel:
    return HFAudioModel(reference, **options)
