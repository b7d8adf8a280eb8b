"""The rendered report: every figure as a non-trivial PNG file and embedded in the HTML."""

import base64
import re
import subprocess
import sys

EXPECTED_FIGURES = {"task_scores", "normalised_overall", "abstention", "modality_stability", "category_comparison"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def embedded_pngs(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def test_every_figure_is_a_file_and_embedded_in_the_html(rendered):
    assert {f.name for f in rendered.figures} == EXPECTED_FIGURES
    html = rendered.html.read_text(encoding="utf-8")
    images = embedded_pngs(html)
    assert len(images) == len(EXPECTED_FIGURES)
    for figure in rendered.figures:
        data = figure.path.read_bytes()
        assert figure.path.parent.name == "figures" and figure.path.suffix == ".png"
        assert data.startswith(PNG_MAGIC) and len(data) > 10_000, figure.name
        assert data in images, f"{figure.name} is not embedded in the HTML"


def test_html_is_self_contained(rendered):
    html = rendered.html.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html and html.rstrip().endswith("</html>")
    assert not re.search(r'(?:src|href)="(?!data:|#)', html), "the HTML must not load anything from outside"
    assert "<link" not in html and "<script" not in html


def test_header_tables_and_warnings(rendered):
    md = rendered.markdown.read_text(encoding="utf-8")
    html = rendered.html.read_text(encoding="utf-8")
    for text in (md, html):
        assert "Fixture comparison" in text
        assert "DIFFERENT PROTOCOLS" in text and "Toy-Baseline: strict" in text
        assert "gpt-4o-mini" in text and "900 / 0 / 0 / 0" in text and "0 / 0 / 200 / 100" in text
        assert "min-max normalised" in text  # the recipe is stated
        assert "no parseable answer" in text and "notes.json" in text  # problems and unknown files
    # per task x metric one row per modality, then the pooled row, with the direction arrow and the
    # best value in bold
    assert "| ASR (automatic speech recognition) | wer ↓ | TA | **0.085** | 0.220 | 0.450 |" in md
    assert "| ASR (automatic speech recognition) | wer ↓ | PA | **0.091** | 0.250 | 0.520 |" in md
    assert "| ASR (automatic speech recognition) | wer ↓ | all (pooled) | **0.088** | 0.235 | 0.485 |" in md
    assert "| PP (pitch prediction) | mae [semitones] ↓ | all (pooled) | **8.26** | — | 14.50 |" in md
    assert "| AQA (audio question answering) | judge ↑ | AT | 2.06 | **2.41** | 1.20 |" in md
    assert "| AQA (audio question answering) | judge ↑ | all (pooled) | 2.39 | **2.87** | 1.55 † |" in md
    assert "Majority" not in md  # these results files carry no baselines
    assert '<td class="num best">0.088</td>' in html
    for name in EXPECTED_FIGURES:
        assert f"](figures/{name}.png)" in md


def test_overall_scores_in_the_report(rendered):
    overall = rendered.data.normalised.overall
    assert overall["LLaSO-Base"] > overall["Qwen2-Audio"] > overall["Toy-Baseline"] >= 0
    md = rendered.markdown.read_text(encoding="utf-8")
    assert f"| LLaSO-Base | **{overall['LLaSO-Base']:.2f}** | 18 |" in md


def test_single_system_skips_normalisation_gracefully(rendered_single):
    names = {f.name for f in rendered_single.figures}
    assert names == EXPECTED_FIGURES - {"normalised_overall"}
    assert rendered_single.data.normalised is None
    md = rendered_single.markdown.read_text(encoding="utf-8")
    html = rendered_single.html.read_text(encoding="utf-8")
    assert "needs at least two systems" in md and "needs at least two systems" in html
    assert "DIFFERENT PROTOCOLS" not in md and "scored with the 'paper' protocol" in md
    assert len(embedded_pngs(html)) == len(names)
    assert not (rendered_single.markdown.parent / "figures" / "normalised_overall.png").exists()


def test_importing_the_package_does_not_import_matplotlib():
    code = "import sys, llaso_core.reports, llaso_cli.report_cmd; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_results_without_tasks_still_render(tmp_path):
    from llaso_core.reports import write_report
    from llaso_core.reports.load import as_systems

    empty = {"schema_version": "llaso.results/1", "system": "Empty", "protocol": "strict", "tasks": {},
             "problems": ["no prediction file matched a task"]}
    out = write_report(as_systems([("e.json", empty), ("f.json", {**empty, "system": "Empty2"})]), tmp_path)
    assert out.figures == [] and len(out.notes) == 5
    md = out.markdown.read_text(encoding="utf-8")
    assert "skipped" in md and "no prediction file matched a task" in md
    assert "<img" not in out.html.read_text(encoding="utf-8")
