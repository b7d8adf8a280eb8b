"""Data: the unified sample record, LLaSO-layout ingestion, audio, corpus building, the mini-corpus."""
