"""The ``llaso`` command line (typer + rich)."""
