"""The hf adapter on tiny random qwen2_audio and audioflamingo3 models saved to a folder."""

import json

import pytest
from typer.testing import CliRunner

from llaso_cli.app import app
from llaso_core.models import load_model
from llaso_plugins.models.hf import messages
from tests.models.conftest import requests_of_each_modality
from tests.models.hf_fixtures import FAMILIES, write_tiny


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def folder(request, tmp_path_factory):
    return write_tiny(request.param, tmp_path_factory.mktemp("hf") / request.param)


@pytest.fixture(scope="module")
def model(folder):
    return load_model(f"hf:{folder}", device="cpu")


def test_a_left_padded_batch_gives_the_tokens_of_one_at_a_time(model):
    requests = requests_of_each_modality()
    batched = model.generate_ids(requests)
    assert len({len(model.inputs([r])["input_ids"][0]) for r in requests}) > 1  # prompts of different lengths
    assert batched == [model.generate_ids([r])[0] for r in requests]
    assert all(len(ids) == 8 for ids in batched)


def test_the_chat_template_keeps_the_order_of_text_and_audio(model):
    ta, at, _ = requests_of_each_modality()
    render = lambda r: model.processor.apply_chat_template([messages(r, None)], add_generation_prompt=True,
                                                           tokenize=False)[0]
    audio = model.processor.audio_token
    assert render(ta).index("speaker's gender") < render(ta).index(audio)
    assert render(at).index(audio) < render(at).index("quick brown fox")


def test_stream_adds_up_to_the_answer(model):
    request = requests_of_each_modality()[0]
    assert "".join(model.stream(request)).strip() == model.answer([request])[0].text


def test_eval_runs_the_corpus_end_to_end_and_records_the_adapter(folder, corpus, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["eval", "--model", f"hf:{folder}", "--data", str(corpus), "--split", "train",
                                      "--tasks", "SGC,ASR", "--out", str(out), "--batch-size", "4",
                                      "-O", "device=cpu"])
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    assert results["model"]["kind"] == "hf" and results["model"]["model_type"] == folder.name
    assert results["model"]["transformers"] and results["model"]["generation"] == {"batch_size": 4, "do_sample": False}
    assert set(results["tasks"]) == {"SGC", "ASR"} and set(results["modalities"]) == {"ta", "pa"}


def test_a_folder_that_is_not_an_audio_lm_is_named(tmp_path):
    from transformers import BertConfig

    BertConfig(vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
               intermediate_size=8).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="'bert' is not a transformers audio LM"):
        load_model(f"hf:{tmp_path}")
