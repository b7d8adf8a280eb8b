import json

import pytest

from llaso_core.chat import LLASO_CHAT, SYSTEM_PROMPT
from llaso_core.loader import get_host
from llaso_core.query import AudioRef, AudioSegment, QueryError, TextSegment, assemble, parse_release_turn


@pytest.fixture(scope="module")
def host():
    return get_host()


def test_eq1_assembly_per_modality(host):
    ta = assemble(host.modalities.get("ta"), instruction="Who speaks?", input=AudioRef("a.wav"))
    assert ta.segments == (TextSegment("Who speaks?", "instruction"), AudioSegment(AudioRef("a.wav"), "input"))
    at = assemble(host.modalities.get("at"), instruction=AudioRef("q.wav", "summarise"), input="Some text.")
    assert [type(s).__name__ for s in at.segments] == ["AudioSegment", "TextSegment"]
    pa = assemble(host.modalities.get("pa"), instruction=AudioRef("req.wav"))
    assert pa.text_of("cue") == "Listen to the audio and respond accordingly."
    assert pa.audio == (AudioRef("req.wav"),)
    with pytest.raises(QueryError, match="must be audio"):
        assemble(host.modalities.get("ta"), instruction="x", input="not audio")
    with pytest.raises(QueryError, match="must be text"):
        assemble(host.modalities.get("at"), instruction=AudioRef("q.wav"), input=AudioRef("b.wav"))


def test_chat_rendering_and_loss_span(host):
    query = assemble(host.modalities.get("ta"), instruction="Transcribe.", input=AudioRef("a.wav"))
    chat = LLASO_CHAT.render(query, answer="hello world")
    assert chat.text.startswith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n" + SYSTEM_PROMPT)
    assert "<|start_header_id|>user<|end_header_id|>\n\nTranscribe.\n<Audio><audio></Audio><|eot_id|>" in chat.text
    start, end = chat.answer_span
    assert chat.text[start:end] == "hello world<|eot_id|>"
    assert chat.prompt == chat.text[:start] and chat.prompt.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert LLASO_CHAT.render(query).answer_span is None
    audio_first = assemble(host.modalities.get("at"), instruction=AudioRef("q.wav"), input="Text.")
    assert "user<|end_header_id|>\n\n<Audio><audio></Audio>\nText.<|eot_id|>" in LLASO_CHAT.render(audio_first).text


def test_parse_release_turn_by_audio_position(host):
    mods = list(host.modalities)
    assert parse_release_turn("Is this male or female?<audio>", ["a.flac"], mods).modality == "ta"
    assert parse_release_turn("<audio>Some article text", ["q.wav"], mods).modality == "at"
    assert parse_release_turn("Listen to the audio and respond accordingly.<audio>", ["r.wav"], mods).modality == "pa"
    pa_only = [host.modalities.get("pa")]
    assert parse_release_turn("An unseen cue.<audio>", ["r.wav"], pa_only).text_of("cue") == "An unseen cue."
    with pytest.raises(QueryError, match="1 <audio> tag"):
        parse_release_turn("x<audio>", [], mods)


def test_every_released_file_parses_to_its_declared_modality(host, release_dir):
    files = sorted((release_dir / "LLaSO-Base").glob("*_test.json"))
    assert len(files) == 44
    for path in files:
        stem = path.name.removesuffix("_test.json")
        task, source = host.source_of(stem)
        candidates = [host.modalities.get(m) for m in source.modalities]
        for sample in json.loads(path.read_text()):
            voice = sample.get("voice") or [f"{sample.get('id')}.wav"]
            query = parse_release_turn(sample["conversations"][0]["value"], voice, candidates)
            assert query.modality in source.modalities, (path.name, query.modality)
