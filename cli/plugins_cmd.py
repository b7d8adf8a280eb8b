"""``llaso plugins``: every plugin found, its package and version, what it registered, or its error."""

from __future__ import annotations

from rich.table import Table

from llaso_cli.output import JSON_OPTION, console, print_json
from llaso_core.loader import get_host


def plugins(as_json: bool = JSON_OPTION) -> None:
    """List installed plugins (built-in and third-party), what each registered, and failures."""
    host = get_host()
    if as_json:
        print_json([p.to_dict() for p in host.plugins])
        return
    table = Table(title="llaso plugins")
    for column in ("plugin", "package", "version", "state", "registered"):
        table.add_column(column)
    for p in host.plugins:
        registered = "; ".join(f"{kind}: {len(ids)}" for kind, ids in p.registered.items())
        style = {"loaded": "green", "failed": "red", "blocked": "yellow"}[p.state]
        detail = p.error if p.state == "failed" else registered
        table.add_row(p.name, p.package or "-", p.version or "-", f"[{style}]{p.state}[/]", detail or "-")
    console.print(table)
