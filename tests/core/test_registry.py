import pytest

from llaso_core.registry import DuplicateError, Registry, UnknownNameError
from llaso_core.specs import MetricSpec


def test_duplicate_names_both_origins_and_lookup_is_case_insensitive():
    reg = Registry("metrics", MetricSpec)
    reg.add(MetricSpec("wer", "m:wer"), origin="first-plugin")
    assert reg.get("WER").id == "wer" and reg.entry("wer").origin == "first-plugin"
    with pytest.raises(DuplicateError, match="first-plugin.*second-plugin"):
        reg.add(MetricSpec("WER", "m:other"), origin="second-plugin")


def test_unknown_name_suggests_close_matches():
    reg = Registry("metrics", MetricSpec)
    for name in ("wer", "cer", "per"):
        reg.add(MetricSpec(name, f"m:{name}"), origin="p")
    with pytest.raises(UnknownNameError, match="Did you mean"):
        reg.get("wre")
    with pytest.raises(TypeError):
        reg.add("not a spec", origin="p")
