"""Scoring prediction files and writing trustworthy result files (``llaso score``, ``llaso eval``)."""
