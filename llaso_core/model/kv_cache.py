"""A KV cache that appends in place: transformers' dynamic cache with spare room.

transformers' ``DynamicLayer`` grows by ``torch.cat`` at every step, copying the whole cache each
time a token is generated (a quarter of a batched decode's time on the tiny CPU model). This layer
keeps its keys and values as views of a larger buffer, writes new positions into the free room
and doubles the buffer when it is full. Anything that replaces the tensors (repeating rows for a
shared prefix, selecting rows) is noticed at the next update and moved into a new buffer once.
"""

from __future__ import annotations

import torch

try:
    from transformers.cache_utils import DynamicCache, DynamicLayer
except ImportError:  # transformers < 4.56 has no per-layer caches
    DynamicCache = DynamicLayer = None


if DynamicLayer is not None:
    class GrowingLayer(DynamicLayer):
        """``keys``/``values`` ``[batch, heads, length, dim]`` are views of buffers with room to grow."""

        key_room: torch.Tensor | None = None
        value_room: torch.Tensor | None = None

        def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            length = self.get_seq_length()
            end = length + key_states.shape[-2]
            if not self._holds_views(length) or end > self.key_room.shape[-2]:
                self.key_room = _room(self.keys, key_states, length, end)
                self.value_room = _room(self.values, value_states, length, end)
            self.key_room[..., length:end, :] = key_states
            self.value_room[..., length:end, :] = value_states
            self.keys, self.values = self.key_room[..., :end, :], self.value_room[..., :end, :]
            return self.keys, self.values

        def _holds_views(self, length: int) -> bool:
            """Are ``keys``/``values`` still the first ``length`` positions of this layer's buffers?"""
            if self.key_room is None or length == 0:
                return False
            return all(t.data_ptr() == room.data_ptr() and t.shape[:-2] == room.shape[:-2]
                       for t, room in ((self.keys, self.key_room), (self.values, self.value_room)))


def _room(current: torch.Tensor, new: torch.Tensor, length: int, end: int) -> torch.Tensor:
    """A buffer for ``end`` positions and as many again (at least 64 more), holding ``current``."""
    room = new.new_empty((*new.shape[:-2], max(2 * end, end + 64), new.shape[-1]))
    if length:
        room[..., :length, :] = current
    return room


def growing_cache():
    """An empty dynamic cache whose layers append in place, or None where transformers has no
    per-layer caches (then generation uses its own dynamic cache)."""
    if DynamicCache is None:
        return None
    cache = DynamicCache()
    cache.layer_class_to_replicate = GrowingLayer
    return cache
