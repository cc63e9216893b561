"""Alembic environment of the ballot store.

The store runs migrations itself (:func:`toolkit.store.store.upgrade_schema`) with a Config built in code
and an open connection in ``config.attributes["connection"]``; there is no alembic.ini. To write a
new revision during development::

    .venv/bin/python -c "from toolkit.store.store import alembic_config; \\
        from alembic import command; command.revision(alembic_config(), 'what changed')"
"""

from __future__ import annotations

from alembic import context

from toolkit.store.schema import metadata


def run_migrations() -> None:
    """Run the migrations on the connection the store passed in (online mode only)."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run the store's migrations through toolkit.store.Store.open(url)")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


# Alembic installs `context.config` while it runs this file; a plain import (pytest
# --doctest-modules collecting the package) must do nothing.
if hasattr(context, "config"):
    run_migrations()
