"""The METRICS table: names, uniform call signature, result shape."""

from __future__ import annotations

import inspect

import pytest

from llaso_core.metrics import METRICS, MetricResult, Protocol

PSSL = "accuracy is 1, prosodic is 2, fluency is 3"
CASES = {
    "wer": (["a b"], ["a c"], {}),
    "cer": (["ab"], ["ac"], {}),
    "per": (["ab"], ["ac"], {}),
    "acc": (["male"], ["male"], {}),
    "abstention": (["male"], ["male"], {}),
    "mae": (["60"], ["61"], {"parser": "pitch"}),
    "pssl_acc": ([PSSL], [PSSL], {}),
    "judge": (["Score: 5"], [""], {}),
}
UNITS = {"mae": "semitones", "judge": "score"}


def test_names_are_exact() -> None:
    assert set(METRICS) == {"wer", "cer", "per", "acc", "abstention", "mae", "pssl_acc", "judge"}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("protocol", list(Protocol))
def test_uniform_signature_and_result(name: str, protocol: Protocol) -> None:
    fn = METRICS[name]
    params = inspect.signature(fn).parameters
    assert params["protocol"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["labels"].default is None
    predictions, references, options = CASES[name]
    result = fn(predictions, references, protocol=protocol, labels=None, **options)
    assert isinstance(result, MetricResult)
    assert result.name == name and result.protocol is protocol
    assert result.n == 1 and len(result.samples) == 1 and result.n_invalid == 0
    assert result.unit == UNITS.get(name, "fraction")
    assert result.value is not None


def test_no_torch_import() -> None:
    import sys

    import llaso_core.metrics  # noqa: F401

    source_modules = [m for m in sys.modules if m.startswith("llaso_core.metrics")]
    assert source_modules
    for module_name in source_modules:
        module = sys.modules[module_name]
        text = inspect.getsource(module) if getattr(module, "__file__", None) else ""
        assert "import torch" not in text
