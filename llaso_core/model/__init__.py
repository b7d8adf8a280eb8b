"""The LSLM: audio encoder -> projector -> LLM, with the LLaSO chat layout."""
