"""llaso: train and evaluate LLaSO-style Large Speech-Language Models.

The core is generic: it trains and evaluates whatever tasks, modalities, encoders and LLMs are
registered through the ``llaso`` entry-point group. Importing this package is cheap (no torch).
"""

from llaso_core.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]
