"""Built-in llaso plugins. Each sub-package is registered through the ``llaso`` entry-point group,
exactly like a third-party plugin (see pyproject.toml)."""
