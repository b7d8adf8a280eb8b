"""Two-stage training: alignment (projector only) then instruction tuning (projector + LLM)."""
