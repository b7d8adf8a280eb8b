"""The shared prompt prefix: found correctly, laid out correctly, and invisible in the results.

Every row of a batch starts with the same system prompt; the model runs it once and repeats its
keys and values. Losses, gradients and generated tokens must equal those of the plain forward.
"""

import numpy as np
import pytest
import torch

from llaso_core.chat import LLASO_CHAT
from llaso_core.evaluation.generate import GenerationOptions, Request
from llaso_core.loader import get_host
from llaso_core.model.batching import IGNORE, Encoded, collate, encode, shared_prefix
from llaso_core.model.lslm import LSLMConfig, build
from llaso_core.query import AudioRef, assemble
from llaso_plugins.models.lslm import LSLMModel

INSTRUCTIONS = ["What is the speaker's gender?", "Transcribe the audio please.", "What is the speaker's gender?"]
TEXTS = INSTRUCTIONS * 20 + ["male female the a of"] * 20 + [LLASO_CHAT.system] * 20


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    # a wide initialisation, so that the untrained LM's greedy answers are varied ordinary tokens
    return build(LSLMConfig(llm_options={"config": {"initializer_range": 0.5}}), texts=TEXTS)


def sample(model, i, seconds, answer=None, modality="ta"):
    wave = np.random.default_rng(i).standard_normal(int(16000 * seconds)).astype(np.float32) * 0.1
    text, audio = INSTRUCTIONS[i % 3], AudioRef("x.wav")
    slots = {"ta": dict(instruction=text, input=audio), "at": dict(instruction=audio, input=text),
             "pa": dict(instruction=audio)}[modality]
    query = assemble(get_host().modalities.get(modality), **slots)
    chat = model.chat.render(query, answer)
    return wave, query, encode(f"s{i}", chat, model.tokenizer, [model.num_frames(len(wave))],
                               audio_token_id=model.audio_token_id, max_length=2048)


def system_tokens(model) -> int:
    text = f"{LLASO_CHAT.bos}{LLASO_CHAT.header('system')}{LLASO_CHAT.system}{LLASO_CHAT.eot}"
    return len(model.tokenizer(text, add_special_tokens=False)["input_ids"])


def test_the_prefix_covers_the_system_prompt_and_stops_where_rows_differ(model):
    rows = [sample(model, i, 1.0, "Male.")[2] for i in range(3)]
    p = shared_prefix(rows)
    assert p >= system_tokens(model)
    assert all(r.input_ids[:p] == rows[0].input_ids[:p] for r in rows)
    assert len({r.input_ids[p] for r in rows}) > 1  # instructions 0 and 1 differ right there
    same_instruction = [rows[0], rows[2]]  # equal up to the audio slot, which caps the prefix
    assert shared_prefix(same_instruction) == rows[0].slot_starts[0]


def test_the_prefix_stops_before_supervised_positions_and_leaves_each_row_a_token():
    labels = (IGNORE, IGNORE, IGNORE, 7, 8)
    identical = [Encoded("a", (1, 2, 3, 7, 8), labels, (), ()), Encoded("b", (1, 2, 3, 7, 8), labels, (), ())]
    assert shared_prefix(identical) == 2  # position 2 predicts the first answer token: it must run per row
    prompts = [Encoded("a", (1, 2, 3), (IGNORE,) * 3, (), ()), Encoded("b", (1, 2, 3, 4), (IGNORE,) * 4, (), ())]
    assert shared_prefix(prompts) == 2


def test_collate_sets_it_only_when_asked_and_for_several_rows(model):
    rows = [sample(model, i, 1.0, "Male.")[2] for i in range(3)]
    pad = model.tokenizer.pad_token_id
    assert collate(rows, pad_id=pad).shared_prefix == 0
    assert collate(rows[:1], pad_id=pad, share_prefix=True).shared_prefix == 0
    assert collate(rows, pad_id=pad, share_prefix=True).shared_prefix == shared_prefix(rows)


def test_left_padding_goes_after_the_shared_prefix(model):
    rows = [sample(model, i, s)[2] for i, s in enumerate((0.6, 1.4, 1.0))]
    batch = collate(rows, pad_id=model.tokenizer.pad_token_id, left_pad=True, share_prefix=True)
    p, width = batch.shared_prefix, batch.input_ids.shape[1]
    assert p > 0
    for row, e in enumerate(rows):
        keep = batch.attention_mask[row].bool()
        assert batch.input_ids[row][keep].tolist() == list(e.input_ids)
        assert keep[:p].all() and keep[width - (len(e.input_ids) - p):].all()  # prefix, pad, then the rest
        assert batch.position_ids[row][keep].tolist() == list(range(len(e.input_ids)))
    assert (batch.input_ids[batch.splice_rows, batch.splice_cols] == model.audio_token_id).all()


@pytest.mark.parametrize("per_sample", [False, True])
def test_loss_and_gradients_equal_the_plain_forward(model, per_sample):
    made = [sample(model, i, s, answer) for i, (s, answer) in
            enumerate([(0.8, "Male."), (1.6, "Female, clearly."), (1.1, "the a of male")])]
    waves, rows = [m[0] for m in made], [m[2] for m in made]
    model.train()

    def loss_and_grads(share):
        model.zero_grad(set_to_none=True)
        batch = collate(rows, pad_id=model.tokenizer.pad_token_id, audio=model.encoder.extract(waves),
                        share_prefix=share)
        loss, count = model(batch, per_sample=per_sample)
        loss.backward()
        return batch.shared_prefix, loss.detach(), count, {n: p.grad.clone() for n, p in model.named_parameters()
                                                           if p.grad is not None}

    p_plain, plain, n_plain, grads_plain = loss_and_grads(False)
    p_shared, shared, n_shared, grads_shared = loss_and_grads(True)
    model.eval()
    assert p_plain == 0 and p_shared > 0
    assert n_plain == n_shared
    torch.testing.assert_close(shared, plain, rtol=1e-5, atol=1e-5)
    assert grads_shared.keys() == grads_plain.keys()
    assert any(name.startswith("llm.") for name in grads_plain) and any(n.startswith("encoder.") for n in grads_plain)
    for name, grad in grads_plain.items():
        torch.testing.assert_close(grads_shared[name], grad, rtol=1e-4, atol=1e-5 * grad.abs().max().item(),
                                   msg=lambda m: f"{name}: {m}")


@pytest.mark.parametrize("modality", ["ta", "at", "pa"])
def test_generation_is_the_same_with_and_without_the_shared_prefix(model, modality):
    made = [sample(model, i, s, modality=modality) for i, s in enumerate((0.5, 1.3, 0.9, 2.0, 0.7))]
    requests = [Request(f"r{i}", query, (wave,), max_new_tokens=6 + i) for i, (wave, query, _) in enumerate(made)]
    lslm = LSLMModel("in-memory", model=model, device="cpu")
    answers = {share: {k: a.text for k, a in lslm.answer_all(requests, GenerationOptions(
        batch_size=5, share_prefix=share, min_new_tokens=6)).items()} for share in (False, True)}
    assert answers[True] == answers[False]
    assert all(answers[True].values())  # ordinary, non-empty answers: the comparison means something
