"""URLs, engines and Alembic migrations of the ballot store."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from toolkit.errors import (
    ParameterError,
    StoreError,
)

if TYPE_CHECKING:  # pandas and numpy load on the first table read: a tablet kernel never needs them
    pass

__all__ = ["DEFAULT_PATH", "alembic_config", "create_engine", "default_url", "upgrade_schema"]

#: Where :meth:`Store.open` puts the database when neither a URL nor ``SANHUI_DB`` is given.
DEFAULT_PATH = Path("data") / "sanhui.db"
_SQLITE_BUSY_MS = 10_000
_PG_MIGRATION_LOCK = 0x53414E48  # "SANH": serialises concurrent schema upgrades on PostgreSQL
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}\Z")
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def default_url() -> str:
    """The database URL used when :meth:`Store.open` gets none.

    ``SANHUI_DB`` (a URL, or a path to a SQLite file) when set, else ``data/sanhui.db`` relative to the
    current directory.

    Returns
    -------
    str
        An SQLAlchemy URL.

    Examples
    --------
    >>> default_url().startswith("sqlite:///")
    True
    """
    return _normalize_url(os.environ.get("SANHUI_DB") or DEFAULT_PATH)


def _normalize_url(url: str | os.PathLike[str]) -> str:
    text = os.fspath(url)
    if "://" not in text:
        return "sqlite:///" + str(Path(text).expanduser().resolve())
    for prefix in ("postgres://", "postgresql://"):
        if text.startswith(prefix):  # psycopg 3 is the driver we ship
            return "postgresql+psycopg://" + text[len(prefix) :]
    return text


def _sqlite_on_connect(synchronous: str) -> Callable[[Any, Any], None]:
    """The "connect" listener of a SQLite engine, with ``PRAGMA synchronous = <synchronous>``."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions on its own; the "begin" listener emits BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    return on_connect


def _sqlite_on_begin(connection: Connection) -> None:
    # Writers take the write lock at BEGIN (IMMEDIATE): no lock upgrade, so no deadlock between writers.
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def _restrict_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        candidate = Path(str(path) + suffix)
        try:
            if candidate.exists() and stat.S_IMODE(candidate.stat().st_mode) & 0o077:
                candidate.chmod(0o600)
        except OSError:  # pragma: no cover - e.g. a file owned by another user
            pass


def _sqlite_engine(url: URL, *, memory: bool, synchronous: Literal["FULL", "NORMAL"]) -> Engine:
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": _SQLITE_BUSY_MS / 1000},
        poolclass=StaticPool if memory else None,
    )
    event.listen(engine, "connect", _sqlite_on_connect(synchronous))
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _drafts_engine(engine: Engine) -> Engine:
    """The engine drafts are written through: on a SQLite file, a second engine on the same file
    whose connections use ``synchronous=NORMAL``; otherwise ``engine`` itself.

    In WAL mode a ``NORMAL`` commit is not fsynced (the WAL is synced at the next checkpoint or
    ``FULL`` commit): it survives a killed process, and only a power cut can lose it. A draft is a
    half-filled ballot saved on every tap, so that trade is right for drafts and wrong for ballots,
    which keep ``FULL``. An in-memory database has one shared connection, hence no second engine.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine
    return _sqlite_engine(engine.url, memory=False, synchronous="NORMAL")


def create_engine(
    url: str | os.PathLike[str] | None = None, *, schema: str | None = None
) -> Engine:
    """An engine for the store's database, with the store's connection settings.

    SQLite: WAL journal, ``synchronous=FULL``, a 10 s busy timeout and foreign keys, set on every
    connection; a new database file is created readable by its owner only (mode 0600, and its
    ``-wal``/``-shm`` files, which SQLite creates with the database file's mode). PostgreSQL:
    psycopg 3, and ``search_path`` set to ``schema`` when given.

    Parameters
    ----------
    url : str or path, optional
        An SQLAlchemy URL or a SQLite file path; default :func:`default_url`.
    schema : str, optional
        PostgreSQL only: the schema to keep the tables in (created if missing).

    Returns
    -------
    sqlalchemy.engine.Engine

    Examples
    --------
    >>> create_engine("sqlite://").dialect.name
    'sqlite'
    """
    text = default_url() if url is None else _normalize_url(url)
    try:
        parsed: URL = make_url(text)
    except sa.exc.ArgumentError:
        raise StoreError(
            f"cannot read the database URL {text!r}. Use e.g. 'sqlite:///data/sanhui.db' or "
            "'postgresql+psycopg://user@host:5432/dbname', or a path to a SQLite file."
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if schema is not None:
            raise ParameterError(
                "`schema` is for PostgreSQL only; SQLite keeps one schema per file."
            )
        database = parsed.database
        memory = database in (None, "", ":memory:")
        if not memory:
            path = Path(str(database))
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):  # new files: owner only (0600)
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return _sqlite_engine(parsed, memory=memory, synchronous="FULL")
    if backend == "postgresql":
        connect_args: dict[str, Any] = {}
        if schema is not None:
            if not _SCHEMA_NAME.match(schema):
                raise ParameterError(f"`schema` must match [a-z_][a-z0-9_]*; got {schema!r}.")
            connect_args["options"] = f"-csearch_path={schema}"
        # no pre-ping (a round trip per transaction): submit retries once on a dropped connection
        return sa.create_engine(parsed, connect_args=connect_args)
    raise StoreError(
        f"the store supports SQLite and PostgreSQL; got a {backend!r} URL. Use 'sqlite:///PATH' "
        "or 'postgresql+psycopg://user@host/dbname'."
    )


def alembic_config() -> Any:
    """The Alembic ``Config`` of the store's migrations, built in code (no alembic.ini)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


@functools.cache
def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships its migrations
        raise StoreError("the store's migrations are missing; reinstall sanhui.")
    return head


def _current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade_schema(engine: Engine, *, revision: str = "head", schema: str | None = None) -> str:
    """Create or upgrade the store's tables with Alembic (``alembic upgrade <revision>``).

    Runs in one transaction holding the write lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory
    lock), so processes opening the same new database at once do not race. Does nothing when the
    database is already at ``revision``.

    Parameters
    ----------
    engine : Engine
        From :func:`create_engine`.
    revision : str
        Target revision; ``"head"`` (the default) is the newest.
    schema : str, optional
        PostgreSQL schema to create first (the engine's ``search_path`` must name it).

    Returns
    -------
    str
        The revision the database is at afterwards.
    """
    from alembic import command

    target = _head_revision() if revision == "head" else revision
    with engine.connect() as connection:
        connection.execution_options(sqlite_begin="IMMEDIATE")
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
                if schema is not None:
                    connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            if _current_revision(connection) != target:
                config = alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
            current = _current_revision(connection)
    return current or ""
