"""Helpers shared by the command groups and :mod:`toolkit.cli`: the store URL and the error exit.

The groups import these from here, never from :mod:`toolkit.cli` (which imports the groups).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from toolkit.store import Store

DEFAULT_DB = "data/sanhui.db"


def store_url(database: str | None) -> str:
    """The store URL: the option, else ``SANHUI_DB``, else the SQLite file ``data/sanhui.db``."""
    value = database or os.environ.get("SANHUI_DB") or DEFAULT_DB
    return value if "://" in value else f"sqlite:///{Path(value).resolve()}"


#: The name :mod:`toolkit.cli` has always used for :func:`store_url`.
database_url = store_url


def fail(error: Exception) -> typer.Exit:
    """Print the error on stderr; return the exit (code 1) for the caller to raise."""
    typer.echo(str(error), err=True)
    return typer.Exit(code=1)


@contextmanager
def open_store(database: str | None) -> Iterator[Store]:
    """Open the store; any toolkit error ends the command with its message and exit code 1."""
    from toolkit.errors import ToolkitError
    from toolkit.store import Store

    try:
        with Store.open(store_url(database)) as store:
            yield store
    except ToolkitError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from error
