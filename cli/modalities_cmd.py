"""``llaso modalities``: the registered query layouts."""

from __future__ import annotations

from rich.table import Table

from llaso_cli.output import JSON_OPTION, console, print_json
from llaso_core.loader import get_host


def modalities(as_json: bool = JSON_OPTION) -> None:
    """List modality configurations (paper Eq. 1) and the plugin that registered each."""
    host = get_host()
    rows = [{"id": e.id, "name": e.spec.name, "layout": e.spec.pattern, "description": e.spec.description,
             "cues": len(e.spec.cues), "plugin": e.origin} for e in host.modalities.entries()]
    if as_json:
        print_json(rows)
        return
    table = Table(title="modalities")
    for column in ("id", "name", "layout", "plugin"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["id"], r["name"], r["layout"], r["plugin"])
    console.print(table)
