"""Command groups of the ``sanhui`` command line, one ``typer.Typer()`` sub-app per module,
registered in :mod:`toolkit.cli`."""

__all__: list[str] = []
