"""Render the report blocks as one self-contained HTML page (inline CSS, figures as base64 PNG)."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from html import escape
from pathlib import Path

from .document import Block, Bullets, Figure, Heading, Para, Table

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1180px;
       padding: 0 1.2em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #444; padding-bottom: .2em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .15em; margin-top: 1.8em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .9em; }
th, td { border: 1px solid #d0d0d0; padding: .25em .6em; vertical-align: top; }
th { background: #f2f2f2; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:nth-child(even) td { background: #fafafa; }
td.best { font-weight: 700; background: #e8f4ea !important; }
.warning { background: #fff3cd; border-left: 5px solid #d39e00; padding: .6em 1em; margin: 1em 0; }
.note { color: #555; font-size: .92em; }
figure { margin: 1em 0 .3em; }
figure img { max-width: 100%; height: auto; border: 1px solid #e4e4e4; }
code { background: #f3f3f3; padding: 0 .25em; border-radius: 3px; }
"""


def _inline(text: str) -> str:
    """Escape, then turn `code` spans into <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def render_table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    body = []
    for r, row in enumerate(table.rows):
        cells = []
        for c, v in enumerate(row):
            classes = (["num"] if c >= table.numeric_from else []) + (["best"] if (r, c) in table.bold else [])
            attr = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{attr}>{escape(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _render(block: Block) -> str:
    if isinstance(block, Heading):
        level = min(6, block.level)
        return f'<h{level} id="{escape(block.anchor or _slug(block.text))}">{escape(block.text)}</h{level}>'
    if isinstance(block, Para):
        if block.kind == "warning":
            return f'<div class="warning"><strong>Warning:</strong> {_inline(block.text)}</div>'
        return f'<p class="{block.kind}">{_inline(block.text)}</p>'
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Table):
        return render_table(block)
    if isinstance(block, Figure):
        f = block.info
        return (f'<figure id="fig-{escape(f.name)}"><img src="{png_data_uri(f.png)}" alt="{escape(f.title)}">'
                f"</figure>")
    raise TypeError(f"unknown block {block!r}")


def render_html(blocks: Sequence[Block], title: str) -> str:
    """A complete HTML page; it loads nothing from outside."""
    body = "\n".join(_render(b) for b in blocks)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def write_html(blocks: Sequence[Block], path: Path, title: str) -> Path:
    path = Path(path)
    path.write_text(render_html(blocks, title), encoding="utf-8")
    return path
