"""Command groups of the ``sanhui`` command line, one Typer sub-app per module."""
