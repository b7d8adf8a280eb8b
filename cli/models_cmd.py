"""``llaso models``: the registered model kinds (what ``--model KIND:REFERENCE`` accepts)."""

from __future__ import annotations

from rich.table import Table

from llaso_cli.output import JSON_OPTION, console, print_json
from llaso_core.loader import get_host


def models(as_json: bool = JSON_OPTION) -> None:
    """List model kinds: how to name one, the modalities it can take, whether it batches, its plugin."""
    host = get_host()
    rows = [{"id": e.id, "usage": f"{e.id}:{e.spec.reference}", "modalities": list(e.spec.modalities),
             "batched": e.spec.batched, "description": e.spec.description, "plugin": e.origin}
            for e in host.models.entries()]
    if as_json:
        print_json(rows)
        return
    table = Table(title="models (--model KIND:REFERENCE, or a checkpoint folder)")
    for column in ("kind", "usage", "modalities", "batched", "plugin", "description"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["id"], r["usage"], ",".join(r["modalities"]), "yes" if r["batched"] else "no",
                      r["plugin"], r["description"])
    console.print(table)
