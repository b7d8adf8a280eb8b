"""The in-place growing KV cache: the same keys, values and generated tokens as transformers' own."""

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from llaso_core.model.kv_cache import GrowingLayer, growing_cache
from llaso_core.model.lslm import cache_argument


def test_a_layer_appends_in_place_and_grows_when_full():
    layer = GrowingLayer()
    steps = [torch.randn(2, 3, n, 4) for n in (5, 1, 1, 70, 1)]
    expected, buffers = [], []
    for new in steps:
        keys, values = layer.update(new, -new)
        expected.append(new)
        buffers.append(keys.data_ptr())
        torch.testing.assert_close(keys, torch.cat(expected, dim=-2), rtol=0, atol=0)
        torch.testing.assert_close(values, -torch.cat(expected, dim=-2), rtol=0, atol=0)
    assert buffers[0] == buffers[1] == buffers[2]  # decode steps within the room: nothing copied
    assert buffers[3] != buffers[2]  # 70 more positions outgrew it
    assert layer.key_room.shape[-2] >= layer.get_seq_length() == 78


def test_replaced_tensors_are_moved_into_a_new_buffer():
    layer = GrowingLayer()
    layer.update(torch.randn(1, 2, 3, 4), torch.randn(1, 2, 3, 4))
    layer.batch_repeat_interleave(3)  # what the shared prefix does: plain tensors replace the views
    before = layer.keys.clone()
    new = torch.randn(3, 2, 1, 4)
    keys, _ = layer.update(new, new)
    torch.testing.assert_close(keys, torch.cat([before, new], dim=-2), rtol=0, atol=0)


@pytest.fixture(scope="module")
def llm():
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=300, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, initializer_range=0.5)
    return LlamaForCausalLM(config).eval()


def generate(llm, embeds, mask, **cache):
    with torch.inference_mode():
        return llm.generate(inputs_embeds=embeds, attention_mask=mask, max_new_tokens=90, min_new_tokens=90,
                            do_sample=False, pad_token_id=0, eos_token_id=None, **cache)


def test_generation_matches_transformers_dynamic_cache(llm):
    embeds = torch.randn(3, 6, 64)
    mask = torch.ones(3, 6, dtype=torch.long)
    mask[0, :2] = 0  # left padding
    plain = generate(llm, embeds, mask)
    grown = generate(llm, embeds, mask, **{cache_argument(llm): growing_cache()})  # 6 + 90 outgrows 6 + 64
    assert torch.equal(plain, grown)
    assert len(set(plain.flatten().tolist())) > 10  # varied tokens: the comparison means something
