"""``llaso infer`` and the ``Assistant`` API: the three modalities, streaming, clear errors."""

import numpy as np
import pytest
import soundfile
import torch
from typer.testing import CliRunner

from llaso_cli.app import app
from llaso_core.chat import LLASO_CHAT
from llaso_core.inference import Assistant
from llaso_core.model.lslm import LSLMConfig, build

TEXTS = ["What is the speaker's gender?", "Transcribe the audio.", "the quick brown fox"] * 10
TEXTS += [LLASO_CHAT.system] * 10


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("infer")
    torch.manual_seed(0)
    # a wide initialisation: the untrained LM then answers with varied ordinary tokens, not an instant end
    build(LSLMConfig(llm_options={"config": {"initializer_range": 0.5}}), texts=TEXTS).save_pretrained(root / "ckpt")
    rng = np.random.default_rng(0)
    for name, seconds in (("clip.wav", 1.2), ("question.wav", 0.8)):
        soundfile.write(root / name, (rng.standard_normal(int(16000 * seconds)) * 0.1).astype(np.float32), 16000)
    return root


@pytest.fixture(scope="module")
def assistant(files):
    return Assistant.load(files / "ckpt", device="cpu")


@pytest.mark.parametrize("kwargs, modality", [
    (dict(audio="clip.wav", instruction="What is the speaker's gender?"), "ta"),
    (dict(audio_instruction="question.wav", text="the quick brown fox"), "at"),
    (dict(audio="clip.wav"), "pa"),
])
def test_the_inputs_pick_the_modality_and_the_stream_adds_up_to_the_answer(assistant, files, kwargs, modality):
    kwargs = {k: (files / v if k.startswith("audio") else v) for k, v in kwargs.items()}
    request = assistant.request(max_new_tokens=12, **kwargs)
    assert request.query.modality == modality
    assert len(request.waveforms) == len(request.query.audio) == 1
    answer = assistant.ask(max_new_tokens=12, **kwargs)
    pieces = list(assistant.stream(max_new_tokens=12, **kwargs))
    assert answer and len(pieces) > 1  # streamed piece by piece, not at the end
    assert "".join(pieces).strip() == answer


def test_missing_audio_and_missing_inputs_are_clear_errors(assistant, files):
    with pytest.raises(Exception, match="nope.wav"):
        assistant.ask(audio=files / "nope.wav", instruction="What is the speaker's gender?")
    with pytest.raises(ValueError, match="give audio"):
        assistant.ask(instruction="What is the speaker's gender?")


def test_the_cli_streams_the_answer_and_names_bad_input(assistant, files):
    expected = assistant.ask(audio=files / "clip.wav", instruction="Transcribe the audio.", max_new_tokens=8)
    run = CliRunner().invoke(app, ["infer", "--model", str(files / "ckpt"), "--audio", str(files / "clip.wav"),
                                   "--instruction", "Transcribe the audio.", "--max-new-tokens", "8"])
    assert run.exit_code == 0, run.output
    assert expected in run.output
    missing = CliRunner().invoke(app, ["infer", "--model", str(files / "ckpt"), "--audio", str(files / "nope.wav")])
    assert missing.exit_code == 2 and "nope.wav" in missing.output
    no_text = CliRunner().invoke(app, ["infer", "--model", str(files / "ckpt"),
                                       "--audio-instruction", str(files / "question.wav")])
    assert no_text.exit_code == 2 and "--text" in no_text.output


def test_infer_and_the_assistant_take_any_model_kind(files, tmp_path):
    from tests.models.audio_server import AudioChatServer

    with AudioChatServer() as server:
        spec = f"openai:audio-test@{server.base_url}"
        run = CliRunner().invoke(app, ["infer", "--model", spec, "-O", "cache=null", "--audio-instruction",
                                       str(files / "question.wav"), "--text", "the quick brown fox"])
        assert run.exit_code == 0, run.output
        assert "audio:0.80s|text the quick brown fox" in run.output  # the spoken instruction came first
        text_audio_only = Assistant.load(spec, cache=None, modalities=["ta"])
        assert text_audio_only.ask(audio=files / "clip.wav", instruction="Who?").startswith("text|audio:1.20s")
        with pytest.raises(ValueError, match="cannot take the pa modality"):
            text_audio_only.ask(audio=files / "clip.wav")
        server.always_fail["Who?"] = 400
        with pytest.raises(RuntimeError, match="did not answer"):
            text_audio_only.ask(audio=files / "clip.wav", instruction="Who?")
    unknown = CliRunner().invoke(app, ["infer", "--model", "opneai:x@http://127.0.0.1:9/v1",
                                       "--audio", str(files / "clip.wav")])
    assert unknown.exit_code == 2 and "Did you mean openai" in unknown.output
