"""Reading results.json: clear errors that name the file."""

import json

import pytest

from llaso_core.reports.load import ResultsError, load_results, load_systems, unique_labels, validate_results

from . import fixtures


def test_fixture_results_are_valid_and_load(results_files):
    systems = load_systems(results_files)
    assert [s.label for s in systems] == ["LLaSO-Base", "Qwen2-Audio", "Toy-Baseline"]
    assert systems[2].protocol == "strict" and systems[0].judge["sources"]["recorded"] == 900
    assert systems[1].unknown_files and systems[1].problems


@pytest.mark.parametrize("content, message", [
    ("{not json", "malformed JSON"),
    ("[1, 2]", "not a JSON object"),
    (json.dumps({**fixtures.llaso_base(), "schema_version": "llaso.results/0"}), "schema_version is 'llaso.results/0'"),
    (json.dumps({k: v for k, v in fixtures.llaso_base().items() if k != "schema_version"}), "schema_version is None"),
    (json.dumps({**fixtures.llaso_base(), "tasks": []}), "'tasks' must be an object"),
    (json.dumps({**fixtures.llaso_base(), "system": ""}), "'system' must be a non-empty string"),
    (json.dumps({**fixtures.llaso_base(), "tasks": {"SGC": {"metrics": {"acc": {"value": "high"}}}}}),
     "tasks.SGC.acc: 'value' must be a number or null"),
])
def test_bad_results_name_the_file(tmp_path, content, message):
    path = tmp_path / "results.json"
    path.write_text(content)
    with pytest.raises(ResultsError) as err:
        load_results(path)
    assert str(err.value).startswith(str(path)) and message in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ResultsError, match="no such file"):
        load_results(tmp_path / "absent.json")
    with pytest.raises(ResultsError, match="not a file"):
        load_results(tmp_path)


def test_optional_sections_may_be_absent():
    minimal = {"schema_version": "llaso.results/1", "system": "S", "tasks": {}}
    validate_results(minimal)


def test_the_same_system_twice_gets_distinct_labels(tmp_path):
    a = fixtures.write(fixtures.llaso_base(), tmp_path / "a.json")
    b = fixtures.write(fixtures.make_results("LLaSO-Base", protocol="strict"), tmp_path / "b.json")
    c = fixtures.write(fixtures.llaso_base(), tmp_path / "c.json")
    assert [s.label for s in load_systems([a, b])] == ["LLaSO-Base [paper]", "LLaSO-Base [strict]"]
    assert [s.label for s in load_systems([a, c])] == ["LLaSO-Base [paper]", "LLaSO-Base [paper] (2)"]
    assert unique_labels(["A", "B", "A"]) == ["A", "B", "A (2)"]
