"""``llaso plugins``: every plugin found, its package and version, what it registered, or its error."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from llaso_cli.output import JSON_OPTION, console, print_json
from llaso_core.loader import get_host


def plugins(as_json: bool = JSON_OPTION) -> None:
    """List installed plugins (built-in and third-party), what each registered, refused or
    overrode (naming the plugin it collided with), and failures."""
    host = get_host()
    if as_json:
        print_json([{**p.to_dict(), "builtin": p.builtin} for p in host.plugins])
        return
    table = Table(title="llaso plugins")
    for column in ("plugin", "package", "version", "state", "registered"):
        table.add_column(column)
    for p in host.plugins:
        style = {"loaded": "green", "failed": "red", "blocked": "yellow"}[p.state]
        if p.state == "failed":
            detail = escape(p.error or "")
        else:
            detail = "; ".join(f"{kind}: {len(ids)}" for kind, ids in p.registered.items()) or "-"
            detail += "".join(f"\n[yellow]{escape(r)}[/]" for r in p.refused)
            detail += "".join(f"\n[magenta]overrides {escape(o)}[/]" for o in p.overrides)
        name = f"{p.name} (built-in)" if p.builtin else p.name
        table.add_row(name, p.package or "-", p.version or "-", f"[{style}]{p.state}[/]", detail)
    console.print(table)
