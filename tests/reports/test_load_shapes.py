"""A results file that is valid JSON but of the wrong shape is refused naming the field, before any
rendering (where it used to end in a traceback), and with several files the error says which one."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from llaso_cli.app import app
from llaso_core.reports.load import ResultsError, load_systems

from . import fixtures


@pytest.mark.parametrize(("path", "value", "message"), [
    (("protocol",), 1, "'protocol' must be a string"),
    (("llaso_version",), [1], "'llaso_version' must be a string"),
    (("created",), {"a": 1}, "'created' must be a string"),
    (("judge", "model"), 4, "'judge.model' must be a string"),
    (("judge", "prompt_version"), ["x"], "'judge.prompt_version' must be a string"),
    (("judge", "sources"), "x", "'judge.sources' must be an object"),
    (("categories", "linguistic"), [1], "'categories.linguistic' must be an object"),
    (("categories", "linguistic"), None, "'categories.linguistic' must be an object"),
    (("categories", "linguistic", "wer"), "x", "categories.linguistic.wer: metric must be an object"),
    (("unknown_files",), [1], "'unknown_files[0]' must be an object"),
])
def test_a_wrong_shape_is_named(tmp_path, path, value, message):
    data = fixtures.llaso_base()
    *parents, key = path
    target = data
    for part in parents:
        target = target[part]
    target[key] = value
    good = fixtures.write(fixtures.llaso_base(), tmp_path / "good" / "results.json")
    bad = fixtures.write(data, tmp_path / "bad" / "results.json")
    with pytest.raises(ResultsError, match="^" + re.escape(f"{bad}: {message}") + "$"):
        load_systems([bad])
    with pytest.raises(ResultsError, match=r"\(results file 2 of 2\)$"):
        load_systems([good, bad])
    result = CliRunner().invoke(app, ["report", str(good), str(bad), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and not isinstance(result.exception, (TypeError, AttributeError)), result.output
    assert f"{bad}: {message} (results file 2 of 2)" in " ".join(result.stderr.split())
    assert not (tmp_path / "r").exists()


def test_a_bom_is_accepted(tmp_path):
    path = fixtures.write(fixtures.llaso_base(), tmp_path / "results.json")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert [s.system for s in load_systems([path])] == ["LLaSO-Base"]
