"""The llaso-release adapter equals the authors' forward on a tiny checkpoint in their exact layout.

``authors_forward`` below is written independently from the description of their code
(llaso/evaluation/model_eval.py, conversation.py, mm_utils.py, llava_arch.py, whisper_encoder.py):
literal prompt strings, chunked tokenisation with one BOS, per-slice Whisper features, the selected
encoder layer, the two-layer GELU aligner as matrix products, and a greedy loop without a KV cache.
"""

import json

import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from llaso_cli.app import app
from llaso_core.models import ModelSpecError, load_model, parse_model_spec
from tests.models.conftest import requests_of_each_modality

SYS = ("A chat between a curious user and an artificial intelligence assistant. The assistant is able to understand "
       "the audio content that the user provides, and assist the user with a variety of tasks using natural "
       "language.The audio content will be provided with the following format: <Audio>audio content</Audio>.")
EXPECTED_USER = {  # the user turn after move_audio_to_user_prompt_start_mmtag_InstructionOrInputAudio
    "ta": "What is the speaker's gender? Choose from: male, female.\n<Audio><audio_start><audio><audio_end></Audio>\n\n",
    "at": "<Audio><audio_start><audio><audio_end></Audio>\nthe quick brown fox jumps over the lazy dog",
    "pa": "Listen to the audio and respond accordingly.\n<Audio><audio_start><audio><audio_end></Audio>\n\n",
}


def authors_prompt(modality):
    return ("<|start_header_id|>system<|end_header_id|>\n\n" + SYS + "<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\n" + EXPECTED_USER[modality] + "<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n")


class AuthorsForward:
    def __init__(self, folder):
        from transformers import (AutoTokenizer, LlamaConfig, LlamaForCausalLM, WhisperConfig,
                                  WhisperFeatureExtractor, WhisperModel)

        config = json.loads((folder / "config.json").read_text())
        state = load_file(folder / "model.safetensors")
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.select = config["mm_audio_select_layer"]
        whisper = WhisperModel(WhisperConfig.from_pretrained(config["mm_audio_tower"]))
        prefix = "model.audio_tower.audio_tower."
        whisper.encoder.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})
        self.encoder = whisper.encoder.eval()
        self.extractor = WhisperFeatureExtractor.from_pretrained(config["mm_audio_tower"])
        self.w = {k.rsplit("projector.", 1)[1]: v for k, v in state.items() if "mm_audio_aligner" in k}
        llama = LlamaConfig.from_dict({k: v for k, v in config.items() if not k.startswith("mm_")})
        self.llm = LlamaForCausalLM(llama).eval()
        self.llm.load_state_dict({k: v for k, v in state.items() if not k.startswith(("model.audio", "model.mm"))})
        self.eos = config["eos_token_id"]

    def ids(self, prompt):
        chunks = [self.tokenizer(c).input_ids for c in prompt.split("<audio>")]
        out = [chunks[0][0]]  # the one BOS
        for i, chunk in enumerate(chunks):
            if i:
                out.append(-300)
            out += chunk[1:]
        return out

    def audio(self, samples):
        frames = []
        while len(samples):
            piece, samples = (samples[:480001], samples[480001:]) if len(samples) > 480000 else (samples, samples[:0])
            features = self.extractor(piece, sampling_rate=16000, return_tensors="pt").input_features  # [1,128,3000]
            hidden = self.encoder(features, output_hidden_states=True).hidden_states[self.select][0]
            gelu = torch.nn.functional.gelu(hidden @ self.w["0.weight"].T + self.w["0.bias"])
            frames.append(gelu @ self.w["2.weight"].T + self.w["2.bias"])
        return torch.cat(frames)

    @torch.no_grad()
    def embeds(self, request):
        table = self.llm.get_input_embeddings()
        clips = iter(request.waveforms)
        rows = [self.audio(next(clips)) if t == -300 else table.weight[t][None]
                for t in self.ids(authors_prompt(request.query.modality))]
        return torch.cat(rows)[None]

    @torch.no_grad()
    def greedy(self, request, steps):
        embeds, tokens = self.embeds(request), []
        for _ in range(steps):
            token = int(self.llm(inputs_embeds=embeds).logits[0, -1].argmax())
            if token == self.eos:
                break
            tokens.append(token)
            embeds = torch.cat([embeds, self.llm.get_input_embeddings().weight[token][None, None]], dim=1)
        return tokens


@pytest.fixture(scope="module")
def adapter(release_checkpoint):
    return load_model(f"llaso-release:{release_checkpoint}", device="cpu", max_new_tokens=6)


@pytest.mark.parametrize("request_index", [0, 1, 2], ids=["ta", "at", "pa-two-slices"])
def test_logits_and_greedy_tokens_equal_the_authors_forward(adapter, release_checkpoint, request_index):
    request = requests_of_each_modality()[request_index]
    authors = AuthorsForward(release_checkpoint)
    with torch.no_grad():
        expected = authors.llm(inputs_embeds=authors.embeds(request)).logits[0]
    got = adapter.prompt_logits(request)
    assert got.shape == expected.shape  # the same positions: text + 1500 per 30 s slice
    assert got.shape[0] > 1500 * (2 if request_index == 2 else 1)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
    tokens = adapter.generate_ids(request)
    assert tokens[: len(authors.greedy(request, 6))] == authors.greedy(request, 6)
    answer = adapter.answer([request])[0]
    assert answer.ok and answer.text == adapter.tokenizer.decode(tokens, skip_special_tokens=True).strip()


def test_stream_adds_up_to_the_answer(adapter):
    request = requests_of_each_modality()[1]
    assert "".join(adapter.stream(request)).strip() == adapter.answer([request])[0].text


def test_the_prompt_is_the_authors_template(adapter):
    from llaso_plugins.models.llaso_release import release_prompt

    for request in requests_of_each_modality():
        assert release_prompt(request.query) == authors_prompt(request.query.modality)


def test_convert_writes_a_self_contained_folder_with_the_same_forward(adapter, release_checkpoint, tmp_path):
    out = tmp_path / "converted"
    result = CliRunner().invoke(app, ["convert", "llaso-release", str(release_checkpoint), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert parse_model_spec(str(out)).kind == "llaso-release"
    config = json.loads((release_checkpoint / "config.json").read_text())
    (release_checkpoint / "config.json").write_text(json.dumps({**config, "mm_audio_tower": "/nowhere/whisper"}))
    try:  # the converted copy no longer needs the authors' Whisper path
        converted = load_model(str(out), device="cpu", max_new_tokens=6)
    finally:
        (release_checkpoint / "config.json").write_text(json.dumps(config))
    request = requests_of_each_modality()[0]
    torch.testing.assert_close(converted.prompt_logits(request), adapter.prompt_logits(request))
    assert converted.generate_ids(request) == adapter.generate_ids(request)


def test_bad_release_folders_are_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_model(f"llaso-release:{tmp_path / 'missing'}")
    with pytest.raises(ValueError, match="no config.json"):
        load_model(f"llaso-release:{tmp_path / 'empty'}")
    with pytest.raises(ModelSpecError, match="Did you mean llaso-release"):
        parse_model_spec(f"llaso-relase:{tmp_path}")


def test_eval_runs_the_corpus_end_to_end_with_the_release_settings_recorded(release_checkpoint, corpus, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["eval", "--model", f"llaso-release:{release_checkpoint}", "--data", str(corpus),
                                      "--split", "train", "--tasks", "SGC,ASR", "--out", str(out),
                                      "-O", "max_new_tokens=4", "-O", "device=cpu"])
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    model = results["model"]
    assert model["kind"] == "llaso-release" and model["select_layer"] == -2
    assert model["generation"] == {"batch_size": 1, "do_sample": False, "num_beams": 1, "max_new_tokens": 4}
    assert model["system_prompt"].endswith("natural language.The audio content will be provided with the following "
                                           "format: <Audio>audio content</Audio>.")
    assert set(results["modalities"]) == {"ta", "pa"} and sum(f["n"] for f in results["files"]) == 4


def test_bfloat16_as_the_authors_run_it(release_checkpoint, adapter):
    half = load_model(f"llaso-release:{release_checkpoint}", device="cpu", dtype="bfloat16", max_new_tokens=3)
    assert {p.dtype for m in (half.llm, half.encoder, half.aligner) for p in m.parameters()} == {torch.bfloat16}
    request = requests_of_each_modality()[0]
    logits = half.prompt_logits(request)
    assert logits.dtype == torch.bfloat16
    full = adapter.prompt_logits(request)
    assert (logits.float() - full).abs().mean() < 0.15 * full.abs().mean()  # bf16 rounding (~6%), not another forward
    assert len(half.generate_ids(request)) <= 3
