"""``python -m llaso_cli`` is the same as the ``llaso`` command."""

from llaso_cli.app import main

main()
