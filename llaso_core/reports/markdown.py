"""Render the report blocks as GitHub-flavoured Markdown (figures linked from ``figures/``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .document import Block, Bullets, Figure, Heading, Para, Table


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_table(table: Table) -> str:
    align = ["---:" if i >= table.numeric_from else ":---" for i in range(len(table.headers))]
    lines = ["| " + " | ".join(_cell(h) for h in table.headers) + " |", "| " + " | ".join(align) + " |"]
    for r, row in enumerate(table.rows):
        cells = [f"**{_cell(v)}**" if (r, c) in table.bold else _cell(v) for c, v in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _render(block: Block, fig_prefix: str) -> str:
    if isinstance(block, Heading):
        return "#" * min(6, block.level) + " " + block.text
    if isinstance(block, Para):
        if block.kind == "warning":
            return f"> **Warning:** {block.text}"
        if block.kind == "note":
            return f"_{block.text}_" if "_" not in block.text and "*" not in block.text else block.text
        return block.text
    if isinstance(block, Bullets):
        return "\n".join(f"- {item}" for item in block.items)
    if isinstance(block, Table):
        return render_table(block)
    if isinstance(block, Figure):
        return f"![{block.info.title}]({fig_prefix}{block.info.path.name})"
    raise TypeError(f"unknown block {block!r}")


def render_markdown(blocks: Sequence[Block], fig_prefix: str = "figures/") -> str:
    """The Markdown text of ``blocks``; figures are referenced as ``fig_prefix + <name>.png``."""
    return "\n\n".join(_render(b, fig_prefix) for b in blocks) + "\n"


def write_markdown(blocks: Sequence[Block], path: Path, fig_prefix: str = "figures/") -> Path:
    path = Path(path)
    path.write_text(render_markdown(blocks, fig_prefix), encoding="utf-8")
    return path
