"""The durable ballot store: one :class:`Store` over SQLAlchemy 2 Core, SQLite or PostgreSQL.

Every ballot is

- **durable**: one transaction per submission; on SQLite the journal is WAL with ``synchronous=FULL``,
  so a ballot acknowledged by :meth:`Store.submit` survives a killed process or a power cut (drafts,
  saved on every tap, are written without an fsync: see :meth:`Store.save_draft`);
- **idempotent**: the client makes the ballot's UUID once and resends it until acknowledged; the same
  UUID with the same answers is a no-op (``"already_stored"``), with other answers a
  :class:`~toolkit.errors.ConflictError` that changes nothing;
- **anonymous**: submissions never reference a participant; names live only in
  ``participant_names`` (read by sign-in search alone); ballot codes keep only a hash and, for anonymous
  instruments, no link to the ballot and only the day of use.

The schema is built and upgraded by the Alembic migrations shipped in ``toolkit/store/migrations``
whenever a store is opened, so a database made by an older release opens with newer code.

Examples
--------
>>> store = Store.open("sqlite://")          # in memory; the default is data/sanhui.db
>>> store.schema_revision
'0003_entry_mode'
>>> store.close()
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import importlib
import json
import os
import re
import secrets
import stat
import sys
import threading
import uuid as uuid_module
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from toolkit._checks import check_option, check_range, did_you_mean
from toolkit.errors import (
    AnswerError,
    ConflictError,
    DataError,
    ParameterError,
    Problem,
    StoreError,
)
from toolkit.instrument.model import DONT_KNOW, Question, Survey, Variable
from toolkit.store import schema as t
from toolkit.store.records import (
    MEETING_KINDS,
    MEETING_STATUSES,
    Attendance,
    Draft,
    InstrumentRef,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Subject,
    Submission,
    SubmitResult,
    normalize_uuid,
)

if TYPE_CHECKING:  # pandas and numpy load on the first table read: a tablet kernel never needs them
    import pandas as pd

__all__ = [
    "DEFAULT_PATH",
    "PARTICIPANT_COLUMNS",
    "Store",
    "alembic_config",
    "answers_hash",
    "create_engine",
    "default_url",
    "upgrade_schema",
]

#: Where :meth:`Store.open` puts the database when neither a URL nor ``SANHUI_DB`` is given.
DEFAULT_PATH = Path("data") / "sanhui.db"
#: The pseudonymous participant columns (never a name; names go to ``participant_names``).
PARTICIPANT_COLUMNS: tuple[str, ...] = (
    "participant_id",
    "community",
    "role",
    "gender",
    "age_band",
    "building",
    "floor_band",
    "household_id",
    "party_member",
    "birth_year",
)
_NAME_COLUMNS = ("name", "room")
_SQLITE_BUSY_MS = 10_000
_COUNT_BLOCK = 4  # rating_counts: items counted per scan (combinations grow as 5 ** items)
_PG_MIGRATION_LOCK = 0x53414E48  # "SANH": serialises concurrent schema upgrades on PostgreSQL
_CODE_ALPHABET = "0123456789"  # digits only: tapped on the form's number pad by elderly residents
_CODE_LENGTH = 8
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}\Z")
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
Labels = Literal["codes", "zh", "en"]

# Surveys are immutable, so one rebuilt from stored YAML can be shared by every Store of the process.
_SURVEYS_BY_HASH: dict[str, Survey] = {}


# --- the instrument modules, imported lazily (tests may replace these three functions) -----------


def _check_answers(
    survey: Survey, answers: Mapping[str, Any], *, subjects: Sequence[str], require: bool = True
) -> list:
    from toolkit.instrument.answers import check_answers

    return list(check_answers(survey, answers, subjects=tuple(subjects), require=require))


def _dump_survey(survey: Survey) -> str:
    for name in ("toolkit.instrument.loader", "toolkit.instrument.dumper"):
        try:
            dump = getattr(importlib.import_module(name), "dump_survey", None)
        except ImportError:
            continue
        if dump is not None:
            return str(dump(survey))
    raise StoreError(
        "cannot store an instrument: toolkit.instrument has no dump_survey (YAML writer); "
        "reinstall sanhui."
    )


def _loads_survey(text: str, *, source: str) -> Survey:
    from toolkit.instrument.loader import loads_survey

    return loads_survey(text, source=source)


# --- URLs, engines and migrations ----------------------------------------------------------------


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


# --- canonical answers ----------------------------------------------------------------------------


def _canonical(value: Any) -> Any:
    if isinstance(value, list | tuple):
        items = [_canonical(v) for v in value]
        return sorted(items) if all(isinstance(v, str) for v in items) else items
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    return value


def answers_hash(answers: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a ballot's answers (keys sorted, multiple choices sorted).

    Two sends of one ballot have the same hash whatever the key order or the order of the chosen
    options; this is what :meth:`Store.submit` compares when a UUID comes again.

    Parameters
    ----------
    answers : mapping
        Variable name → value.

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> answers_hash({"a": "x", "m": ["p", "q"]}) == answers_hash({"m": ["q", "p"], "a": "x"})
    True
    """
    text = json.dumps(
        _canonical(answers),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json_ready(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return value


def _normalize_code(code: str) -> str:
    return "".join(ch for ch in str(code).upper() if ch.isalnum())


def _hash_code(code: str) -> str:
    return hashlib.sha256(("sanhui-ballot-code:" + _normalize_code(code)).encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):  # float('nan'), numpy.float64('nan')
        return value != value
    pandas = sys.modules.get("pandas")
    if pandas is None:  # pd.NA, NaT and numpy missing values exist only once pandas is loaded
        return False
    try:
        return bool(pandas.isna(value))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class _Selected:
    """What the response tables need of the selected meetings (see ``Store._selection``): a
    meeting, or with ``meeting_id=None`` every meeting of one instrument and subject list."""

    meeting_id: str | None
    instrument_id: str
    instrument_version: str
    subject_ids: tuple[str, ...]


@dataclass(frozen=True)
class _Stored:
    meeting_id: str
    answers_hash: str
    stored_at: datetime


# --- the response table builder --------------------------------------------------------------------


@dataclass
class _Column:
    """One output column (or, for multiple choice, a group of indicator columns) of responses()."""

    name: str
    kind: str  # meta, time, category, multiple, integer, decimal, text, date
    levels: tuple[str, ...] = ()
    display: tuple[str, ...] = ()
    chunks: list[Any] | None = None

    def __post_init__(self) -> None:
        self.chunks = []

    def add(self, values: Sequence[Any]) -> None:
        import numpy as np
        import pandas as pd

        assert self.chunks is not None
        if self.kind == "category":  # the database sends the category code (-1: missing)
            self.chunks.append(np.fromiter(values, dtype=np.int32, count=len(values)))
        elif self.kind == "multiple":
            text = pd.Series(values, dtype=object)
            missing = text.isna().to_numpy()
            flags = [
                text.str.contains(f'"{code}"', regex=False).fillna(False).to_numpy(dtype=np.int8)
                for code in self.levels
            ]
            self.chunks.append((missing, flags))
        elif self.kind == "integer":
            self.chunks.append(pd.array(list(values), dtype="Int64"))
        elif self.kind == "decimal":
            self.chunks.append(pd.array(list(values), dtype="Float64"))
        else:
            self.chunks.append(list(values))

    def finish(self) -> dict[str, Any]:
        import numpy as np
        import pandas as pd

        chunks = self.chunks or []
        if self.kind == "category":
            codes = np.concatenate(chunks) if chunks else np.array([], dtype=np.int32)
            return {
                self.name: pd.Categorical.from_codes(
                    codes, categories=pd.Index(list(self.display)), ordered=True
                )
            }
        if self.kind == "multiple":
            missing = np.concatenate([c[0] for c in chunks]) if chunks else np.array([], dtype=bool)
            out = {}
            for i, code in enumerate(self.levels):
                flags = (
                    np.concatenate([c[1][i] for c in chunks]) if chunks else np.array([], np.int8)
                )
                out[f"{self.name}__{code}"] = pd.arrays.IntegerArray(
                    flags.astype(np.int64), missing.copy()
                )
            return out
        if self.kind in ("integer", "decimal"):
            dtype = "Int64" if self.kind == "integer" else "Float64"
            if not chunks:
                return {self.name: pd.Series([], dtype=dtype).array}
            return {self.name: pd.concat([pd.Series(c) for c in chunks], ignore_index=True).array}
        values = [v for chunk in chunks for v in chunk]
        if self.kind == "time":
            return {self.name: pd.to_datetime(pd.Series(values, dtype=object), utc=True).array}
        if self.kind == "date":
            return {
                self.name: pd.to_datetime(
                    pd.Series(values, dtype=object), format="%Y-%m-%d", errors="coerce"
                ).array
            }
        return {self.name: pd.array(values, dtype=object)}


class Store:
    """The durable ballot store. Open one with :meth:`Store.open`.

    Methods that write run in one transaction each. Records going in and out are the frozen
    dataclasses of :mod:`toolkit.store.records`; tables come out as pandas DataFrames without names.
    pandas is imported by the methods that return or take tables, not with the module, so a tablet's
    kernel (form, drafts, ballots) never loads it.

    Examples
    --------
    >>> from toolkit.instrument.model import (Choice, ChoiceList, GridItem, Page, Question,
    ...                                       Settings, Survey, Text)
    >>> sat = ChoiceList("sat", (Choice("satisfied", Text("满意")),
    ...                          Choice("dissatisfied", Text("不满意"))), ordered=True)
    >>> grid = Question("rate", "grid", Text("评价"), required=True, choices="sat",
    ...                 per_subject=True,
    ...                 items=(GridItem("overall", Text("总体评价"), allow_dont_know=True),))
    >>> survey = Survey(Settings("demo", "1", Text("示例")), (Page("p", Text("页"), (grid,)),),
    ...                 {"sat": sat})
    >>> store = Store.open("sqlite://")
    >>> meeting = store.create_meeting("m1", kind="evaluation", title="评议会", instrument=survey,
    ...                                subjects=[{"id": "wuye", "label_zh": "物业"}])
    >>> ballot = Submission("6f1c0a52-4d0e-4b43-9a43-1a2b3c4d5e6f", "m1",
    ...                     {"wuye__overall": "satisfied"})
    >>> store.submit(ballot).status, store.submit(ballot).status
    ('stored', 'already_stored')
    >>> frame = store.responses("m1", labels="zh")
    >>> frame["wuye__overall"].tolist(), list(frame["wuye__overall"].cat.categories)
    (['满意'], ['满意', '不满意', '不了解'])
    >>> store.close()
    """

    def __init__(self, engine: Engine, *, schema: str | None = None) -> None:
        self._engine = engine
        self._drafts = _drafts_engine(engine)
        self._schema = schema
        self._sqlite = engine.dialect.name == "sqlite"
        self._surveys: dict[tuple[str, str], Survey] = {}
        # SQLite has one writer at a time; threads of this process queue here instead of in
        # SQLite's busy handler, whose sleeps would add up to 100 ms to a waiting ballot.
        self._write_lock = threading.Lock() if self._sqlite else contextlib.nullcontext()

    # --- opening ----------------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str | os.PathLike[str] | None = None, *, schema: str | None = None) -> Store:
        """Open (creating or upgrading as needed) the store at ``url``.

        Parameters
        ----------
        url : str or path, optional
            An SQLAlchemy URL (``sqlite:///data/sanhui.db``, ``postgresql+psycopg://user@host/db``) or a
            SQLite file path. Default: the ``SANHUI_DB`` environment variable (URL or path), else
            ``data/sanhui.db`` relative to the current directory.
        schema : str, optional
            PostgreSQL only: keep the tables in this schema (created if missing).

        Returns
        -------
        Store

        Raises
        ------
        StoreError
            When the database cannot be reached or upgraded; the message says what to check.

        Examples
        --------
        >>> with Store.open("sqlite://") as store:
        ...     store.dialect
        'sqlite'
        """
        engine = create_engine(url, schema=schema)
        try:
            upgrade_schema(engine, schema=schema)
        except sa.exc.OperationalError as error:
            engine.dispose()
            raise StoreError(
                f"cannot open the ballot store at {engine.url.render_as_string(hide_password=True)}: "
                f"{error.orig}. Check that the database server is running and reachable, that the "
                "directory is writable, or set SANHUI_DB to another URL."
            ) from error
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            _restrict_sqlite_files(Path(str(engine.url.database)))
        return cls(engine, schema=schema)

    def close(self) -> None:
        """Release every database connection (the store cannot be used afterwards)."""
        if self._drafts is not self._engine:
            self._drafts.dispose()
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return str(self._engine.dialect.name)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for read-only queries of your own; write through the methods)."""
        return self._engine

    @property
    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at."""
        with self._engine.connect() as connection:
            return _current_revision(connection)

    # --- transactions -----------------------------------------------------------------------------

    @contextmanager
    def _tx(self, *, write: bool, draft: bool = False) -> Iterator[Connection]:
        """One transaction; ``draft=True`` for draft writes (no fsync, see :func:`_drafts_engine`)."""
        engine = self._drafts if draft else self._engine
        try:
            with (
                self._write_lock if write else contextlib.nullcontext(),
                engine.connect() as connection,
            ):
                if write:
                    connection.execution_options(sqlite_begin="IMMEDIATE")
                with connection.begin():
                    if draft and not self._sqlite:
                        # PostgreSQL: the commit returns before its WAL record is flushed; a
                        # server crash may lose the last drafts, never corrupts (ballots: on)
                        connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
                    yield connection
        except sa.exc.OperationalError as error:
            raise StoreError(
                f"database error in the ballot store at {self.url}: {error.orig}. Nothing was "
                "changed by this call; retry, and check the disk and the database server."
            ) from error

    # --- instruments ------------------------------------------------------------------------------

    def add_instrument(self, survey: Survey) -> InstrumentRef:
        """Store an instrument version (its YAML text and content hash); a no-op if already stored.

        Parameters
        ----------
        survey : Survey
            The instrument; its YAML text is made with ``toolkit.instrument.loader.dump_survey`` and
            checked to load back to the same content hash.

        Returns
        -------
        InstrumentRef

        Raises
        ------
        ConflictError
            When the same id and version is stored with different content: give the changed
            instrument a new ``version``.
        """
        if not isinstance(survey, Survey):
            raise ParameterError(f"`survey` must be a Survey; got {type(survey).__name__}.")
        content_hash = survey.content_hash
        existing = self._instrument_row(survey.id, survey.version, required=False)
        if existing is None:
            text = _dump_survey(survey)
            rebuilt = _loads_survey(text, source=f"instrument {survey.id} {survey.version}")
            if rebuilt.content_hash != content_hash:
                raise StoreError(
                    f"instrument `{survey.id}` version {survey.version!r} does not load back "
                    "unchanged from its YAML text (dump_survey/loads_survey round trip), so it was "
                    "not stored. This is a bug in toolkit.instrument.loader; please report it."
                )
            with self._tx(write=True) as connection:
                again = connection.execute(
                    sa.select(t.instruments).where(
                        t.instruments.c.instrument_id == survey.id,
                        t.instruments.c.version == survey.version,
                    )
                ).first()
                if again is None:
                    connection.execute(
                        sa.insert(t.instruments).values(
                            instrument_id=survey.id,
                            version=survey.version,
                            content_hash=content_hash,
                            yaml_text=text,
                            created_at=_now(),
                        )
                    )
            existing = self._instrument_row(survey.id, survey.version, required=True)
            assert existing is not None
        if existing.content_hash != content_hash:
            stored = self._rebuild(existing)
            if stored.content_hash != content_hash:
                raise ConflictError(
                    f"instrument `{survey.id}` version {survey.version!r} is already stored with "
                    "different content; nothing was changed. Give the changed instrument a new "
                    "`version` in its settings."
                )
        _SURVEYS_BY_HASH.setdefault(existing.content_hash, survey)
        self._surveys[(survey.id, survey.version)] = survey
        return InstrumentRef(
            existing.instrument_id, existing.version, existing.content_hash, existing.created_at
        )

    def instrument(self, instrument_id: str, version: str | None = None) -> Survey:
        """The stored instrument, rebuilt from its YAML text (the latest version by default).

        Parameters
        ----------
        instrument_id : str
            The instrument's ``settings.id``.
        version : str, optional
            A stored version; default the one stored most recently.

        Returns
        -------
        Survey
        """
        row = self._instrument_row(instrument_id, version, required=True)
        assert row is not None
        return self._rebuild(row)

    def instruments(self) -> pd.DataFrame:
        """Every stored instrument version: ``instrument_id, version, content_hash, created_at``."""
        import pandas as pd

        query = sa.select(
            t.instruments.c.instrument_id,
            t.instruments.c.version,
            t.instruments.c.content_hash,
            t.instruments.c.created_at,
        ).order_by(t.instruments.c.instrument_id, t.instruments.c.created_at)
        with self._tx(write=False) as connection:
            rows = connection.execute(query).all()
        frame = pd.DataFrame(
            rows, columns=["instrument_id", "version", "content_hash", "created_at"]
        )
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
        return frame

    def _instrument_row(
        self,
        instrument_id: str,
        version: str | None,
        *,
        required: bool,
        connection: Connection | None = None,
    ) -> Any:
        if connection is None:
            with self._tx(write=False) as own:
                return self._instrument_row(
                    instrument_id, version, required=required, connection=own
                )
        query = sa.select(t.instruments).where(t.instruments.c.instrument_id == instrument_id)
        if version is not None:
            query = query.where(t.instruments.c.version == version)
        query = query.order_by(t.instruments.c.created_at.desc(), t.instruments.c.version.desc())
        row = connection.execute(query.limit(1)).first()
        if row is None and required:
            known = connection.execute(
                sa.select(t.instruments.c.instrument_id, t.instruments.c.version)
            ).all()
            ids = sorted({r.instrument_id for r in known})
            what = f"`{instrument_id}`" + ("" if version is None else f" version {version!r}")
            versions = sorted(r.version for r in known if r.instrument_id == instrument_id)
            hint = (
                f" Stored versions: {', '.join(versions)}."
                if versions
                else did_you_mean(instrument_id, ids)
            )
            raise StoreError(
                f"no instrument {what} in the store.{hint} Add it with "
                "store.add_instrument(load_survey('surveys/NAME.yaml'))."
            )
        return row

    def _rebuild(self, row: Any) -> Survey:
        survey = _SURVEYS_BY_HASH.get(row.content_hash)
        if survey is None:
            survey = _loads_survey(
                row.yaml_text, source=f"{self.url}, instrument {row.instrument_id} {row.version}"
            )
            _SURVEYS_BY_HASH[row.content_hash] = survey
        return survey

    def _survey(
        self, instrument_id: str, version: str, *, connection: Connection | None = None
    ) -> Survey:
        key = (instrument_id, version)
        survey = self._surveys.get(key)
        if survey is None:
            row = self._instrument_row(instrument_id, version, required=True, connection=connection)
            survey = self._rebuild(row)
            self._surveys[key] = survey
        return survey

    # --- meetings ---------------------------------------------------------------------------------

    def create_meeting(
        self,
        meeting_id: str,
        *,
        kind: MeetingKind,
        title: str,
        instrument: str | InstrumentRef | Survey,
        instrument_version: str | None = None,
        subjects: Iterable[Subject | Mapping[str, Any] | str] = (),
        community: str | None = None,
        street: str | None = None,
        district: str | None = None,
        date: date | str | None = None,
        ballots_issued: int | None = None,
        members: int | None = None,
        status: MeetingStatus = "open",
    ) -> Meeting:
        """Create a meeting that collects ballots on one instrument version.

        Parameters
        ----------
        meeting_id : str
            Your id for the meeting (e.g. ``"wlq-2026-03-eval"``).
        kind : {"hearing", "coordination", "evaluation"}
        title : str
        instrument : str, InstrumentRef or Survey
            The instrument id (latest stored version unless ``instrument_version``), a reference, or a
            Survey (stored first with :meth:`add_instrument`).
        subjects : iterable of Subject, mapping or str
            Evaluated subjects (``{id, label_zh, label_en}``); per-subject grids repeat for each.
        community, street, district : str, optional
            Where the meeting is held (居民区, 街道, 区).
        date : date or ISO text, optional
        ballots_issued : int, optional
            Ballots handed out (the results sheet's 发出).
        members : int, optional
            Members of the body, for majority-of-members decision rules.
        status : {"open", "closed"}
            Only open meetings accept ballots.

        Returns
        -------
        Meeting
        """
        check_option("kind", kind, MEETING_KINDS)
        check_option("status", status, MEETING_STATUSES)
        if not isinstance(meeting_id, str) or not meeting_id.strip():
            raise ParameterError(f"`meeting_id` must be a non-empty text; got {meeting_id!r}.")
        for name, value in (("ballots_issued", ballots_issued), ("members", members)):
            if value is not None:
                check_range(name, value, low=0)
        if isinstance(instrument, Survey):
            ref = self.add_instrument(instrument)
        elif isinstance(instrument, InstrumentRef):
            ref = instrument
        else:
            row = self._instrument_row(str(instrument), instrument_version, required=True)
            ref = InstrumentRef(row.instrument_id, row.version, row.content_hash, row.created_at)
        survey = self._survey(ref.id, ref.version)
        subject_list = tuple(Subject.coerce(s) for s in subjects)
        ids = [s.id for s in subject_list]
        if len(set(ids)) != len(ids):
            raise ParameterError(f"`subjects` has a repeated id: {ids}.")
        per_subject = [q.id for q in survey.questions if q.type == "grid" and q.per_subject]
        if per_subject and not subject_list:
            raise ParameterError(
                f"instrument `{ref.id}` has per-subject grid `{per_subject[0]}`, so the meeting "
                "needs `subjects`, e.g. subjects=[{'id': 'wuye', 'label_zh': '物业公司', "
                "'label_en': 'Property management'}]."
            )
        when = dt.date.fromisoformat(date) if isinstance(date, str) else date
        values = {
            "meeting_id": meeting_id,
            "kind": kind,
            "title": title,
            "community": community,
            "street": street,
            "district": district,
            "date": when,
            "instrument_id": ref.id,
            "instrument_version": ref.version,
            "subjects": [s.to_dict() for s in subject_list],
            "ballots_issued": ballots_issued,
            "members": members,
            "status": status,
            "created_at": _now(),
        }
        with self._tx(write=True) as connection:
            exists = connection.execute(
                sa.select(t.meetings.c.meeting_id).where(t.meetings.c.meeting_id == meeting_id)
            ).first()
            if exists is not None:
                raise ConflictError(
                    f"meeting `{meeting_id}` already exists; nothing was changed. Choose another "
                    "meeting id, or change it with store.update_meeting(...)."
                )
            connection.execute(sa.insert(t.meetings).values(**values))
        return self.meeting(meeting_id)

    def meeting(self, meeting_id: str) -> Meeting:
        """The meeting with this id (:class:`StoreError` naming close ids if there is none)."""
        with self._tx(write=False) as connection:
            return self._meeting(connection, meeting_id)

    def _meeting(self, connection: Connection, meeting_id: str) -> Meeting:
        row = connection.execute(
            sa.select(t.meetings).where(t.meetings.c.meeting_id == meeting_id)
        ).first()
        if row is None:
            known = connection.execute(sa.select(t.meetings.c.meeting_id)).scalars().all()
            raise StoreError(
                f"no meeting `{meeting_id}` in the store.{did_you_mean(meeting_id, known)} "
                "Create it first with store.create_meeting(...)."
            )
        return _meeting_record(row)

    def update_meeting(
        self,
        meeting_id: str,
        *,
        status: MeetingStatus | None = None,
        title: str | None = None,
        ballots_issued: int | None = None,
        members: int | None = None,
    ) -> Meeting:
        """Change a meeting's status (``"open"``/``"closed"``), title or counts.

        Returns
        -------
        Meeting
            The meeting as stored afterwards.
        """
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = check_option("status", status, MEETING_STATUSES)
        if title is not None:
            values["title"] = title
        for name, value in (("ballots_issued", ballots_issued), ("members", members)):
            if value is not None:
                values[name] = check_range(name, value, low=0)
        with self._tx(write=True) as connection:
            self._meeting(connection, meeting_id)
            if values:
                connection.execute(
                    sa.update(t.meetings)
                    .where(t.meetings.c.meeting_id == meeting_id)
                    .values(values)
                )
            return self._meeting(connection, meeting_id)

    def close_meeting(self, meeting_id: str) -> Meeting:
        """Close a meeting: it accepts no more ballots (resent ballots already stored still ack)."""
        return self.update_meeting(meeting_id, status="closed")

    def meetings(self) -> pd.DataFrame:
        """Every meeting, one row each, with the results-sheet counts.

        Returns
        -------
        DataFrame
            The :class:`Meeting` fields (``subjects`` as a list of dicts) plus ``ballots_returned``
            (stored ballots), ``ballots_valid``, ``ballots_void``, ``codes_issued`` and
            ``codes_used``.
        """
        import pandas as pd

        s = t.submissions
        counts = (
            sa.select(
                s.c.meeting_id,
                sa.func.count().label("ballots_returned"),
                sa.func.sum(sa.case((s.c.status == "valid", 1), else_=0)).label("ballots_valid"),
                sa.func.sum(sa.case((s.c.status == "void", 1), else_=0)).label("ballots_void"),
            )
            .group_by(s.c.meeting_id)
            .subquery()
        )
        b = t.ballot_codes
        codes = (
            sa.select(
                b.c.meeting_id,
                sa.func.count().label("codes_issued"),
                sa.func.count(b.c.used_at).label("codes_used"),
            )
            .group_by(b.c.meeting_id)
            .subquery()
        )
        m = t.meetings
        query = (
            sa.select(
                m,
                counts.c.ballots_returned,
                counts.c.ballots_valid,
                counts.c.ballots_void,
                codes.c.codes_issued,
                codes.c.codes_used,
            )
            .outerjoin(counts, counts.c.meeting_id == m.c.meeting_id)
            .outerjoin(codes, codes.c.meeting_id == m.c.meeting_id)
            .order_by(m.c.date, m.c.meeting_id)
        )
        with self._tx(write=False) as connection:
            result = connection.execute(query)
            frame = pd.DataFrame(result.all(), columns=list(result.keys()))
        for column in (
            "ballots_returned",
            "ballots_valid",
            "ballots_void",
            "codes_issued",
            "codes_used",
        ):
            frame[column] = frame[column].fillna(0).astype("int64").astype("Int64")
        for column in ("ballots_issued", "members"):
            frame[column] = frame[column].astype("Float64").astype("Int64")
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
        return frame

    # --- participants and attendance ---------------------------------------------------------------

    def add_participants(self, data: pd.DataFrame, *, replace: bool = False) -> list[str]:
        """Add participants from a table; names (``name``, ``room``) go to a separate table.

        Parameters
        ----------
        data : DataFrame
            Columns from :data:`PARTICIPANT_COLUMNS` plus optional ``name`` and ``room``.
            ``participant_id`` is made (``p-`` and 12 hex digits) where missing or blank.
        replace : bool
            Update participants whose id is already stored (else a :class:`ConflictError`).

        Returns
        -------
        list of str
            The participant ids, in row order.
        """
        import pandas as pd

        if not isinstance(data, pd.DataFrame):
            raise ParameterError(f"`data` must be a DataFrame; got {type(data).__name__}.")
        allowed = PARTICIPANT_COLUMNS + _NAME_COLUMNS
        unknown = [str(c) for c in data.columns if c not in allowed]
        if unknown:
            hints = "".join(did_you_mean(c, allowed) for c in unknown)
            raise DataError(
                f"`data` has columns the store does not keep: {', '.join(unknown)}. Allowed: "
                f"{', '.join(allowed)}.{hints}"
            )
        rows: list[dict[str, Any]] = []
        names: list[dict[str, Any]] = []
        now = _now()
        for record in data.to_dict("records"):
            pid = record.get("participant_id")
            pid = f"p-{uuid_module.uuid4().hex[:12]}" if _blank(pid) else str(pid)
            row = {"participant_id": pid, "created_at": now}
            for column in PARTICIPANT_COLUMNS[1:]:
                row[column] = _participant_value(column, record.get(column))
            rows.append(row)
            if not _blank(record.get("name")):
                room = record.get("room")
                names.append(
                    {
                        "participant_id": pid,
                        "name": str(record["name"]),
                        "room": None if _blank(room) else str(room),
                    }
                )
        ids = [r["participant_id"] for r in rows]
        repeated = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) != len(ids) else []
        if repeated:
            raise DataError(f"`participant_id` repeats within `data`: {', '.join(repeated[:10])}.")
        p, n = t.participants, t.participant_names
        with self._tx(write=True) as connection:
            existing: set[str] = set()
            for start in range(0, len(ids), 500):
                existing |= set(
                    connection.execute(
                        sa.select(p.c.participant_id).where(
                            p.c.participant_id.in_(ids[start : start + 500])
                        )
                    ).scalars()
                )
            if existing and not replace:
                shown = ", ".join(sorted(existing)[:10])
                raise ConflictError(
                    f"{len(existing)} participant ids are already stored ({shown}); nothing was "
                    "added. Pass replace=True to update them."
                )
            new = [r for r in rows if r["participant_id"] not in existing]
            old = [r for r in rows if r["participant_id"] in existing]
            if new:
                connection.execute(sa.insert(p), new)
            for row in old:
                values = {k: v for k, v in row.items() if k not in ("participant_id", "created_at")}
                connection.execute(
                    sa.update(p).where(p.c.participant_id == row["participant_id"]).values(values)
                )
            named = [x["participant_id"] for x in names]
            for start in range(0, len(named), 500):
                connection.execute(
                    sa.delete(n).where(n.c.participant_id.in_(named[start : start + 500]))
                )
            if names:
                connection.execute(sa.insert(n), names)
        return ids

    def invite(self, meeting: str, participant_ids: Iterable[str]) -> int:
        """Mark participants as invited to a meeting.

        Returns
        -------
        int
            How many were newly invited (already invited ones are left as they are).
        """
        ids = list(dict.fromkeys(str(i) for i in participant_ids))
        a, p = t.attendance, t.participants
        with self._tx(write=True) as connection:
            self._meeting(connection, meeting)
            known: set[str] = set()
            present: dict[str, bool] = {}
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                known |= set(
                    connection.execute(
                        sa.select(p.c.participant_id).where(p.c.participant_id.in_(part))
                    ).scalars()
                )
                for row in connection.execute(
                    sa.select(a.c.participant_id, a.c.invited).where(
                        a.c.meeting_id == meeting, a.c.participant_id.in_(part)
                    )
                ):
                    present[row.participant_id] = bool(row.invited)
            missing = [i for i in ids if i not in known]
            if missing:
                raise DataError(
                    f"unknown participant ids: {', '.join(missing[:10])}; nobody was invited. Add "
                    "them first with store.add_participants(...)."
                )
            fresh = [i for i in ids if i not in present]
            if fresh:
                connection.execute(
                    sa.insert(a),
                    [
                        {
                            "meeting_id": meeting,
                            "participant_id": i,
                            "invited": True,
                            "walk_in": False,
                        }
                        for i in fresh
                    ],
                )
            upgrade = [i for i, invited in present.items() if not invited]
            if upgrade:
                connection.execute(
                    sa.update(a)
                    .where(a.c.meeting_id == meeting, a.c.participant_id.in_(upgrade))
                    .values(invited=True)
                )
        return len(fresh) + len(upgrade)

    def check_in(
        self,
        meeting: str,
        participant_id: str,
        *,
        walk_in: bool = False,
        at: datetime | None = None,
    ) -> Attendance:
        """Record that a participant arrived (idempotent: a second check-in keeps the first time).

        Parameters
        ----------
        meeting, participant_id : str
        walk_in : bool
            The participant was not invited; required for anyone not invited.
        at : datetime, optional
            Arrival time; default now.

        Returns
        -------
        Attendance
        """
        when = at or _now()
        a = t.attendance
        with self._tx(write=True) as connection:
            record = self._meeting(connection, meeting)
            if record.status != "open":
                raise StoreError(
                    f"meeting `{meeting}` is closed; nobody can check in. Reopen it with "
                    f"store.update_meeting({meeting!r}, status='open') if that was a mistake."
                )
            exists = connection.execute(
                sa.select(t.participants.c.participant_id).where(
                    t.participants.c.participant_id == participant_id
                )
            ).first()
            if exists is None:
                raise StoreError(
                    f"no participant `{participant_id}` in the store. Register a newcomer with "
                    "store.register_walk_in(...)."
                )
            key = (a.c.meeting_id == meeting) & (a.c.participant_id == participant_id)
            row = connection.execute(sa.select(a).where(key)).first()
            if row is None:
                if not walk_in:
                    raise StoreError(
                        f"participant `{participant_id}` was not invited to meeting `{meeting}`. "
                        "If they came anyway, check them in with walk_in=True."
                    )
                connection.execute(
                    sa.insert(a).values(
                        meeting_id=meeting,
                        participant_id=participant_id,
                        checked_in_at=when,
                        walk_in=True,
                        invited=False,
                    )
                )
            elif row.checked_in_at is None:
                connection.execute(sa.update(a).where(key).values(checked_in_at=when))
            row = connection.execute(sa.select(a).where(key)).one()
        return Attendance(
            row.meeting_id,
            row.participant_id,
            bool(row.invited),
            bool(row.walk_in),
            row.checked_in_at,
        )

    def register_walk_in(
        self,
        meeting: str,
        *,
        role: str | None,
        gender: str | None,
        age_band: str | None,
        building: str | int | None,
        floor_band: str | None = None,
        household_id: str | None = None,
        party_member: bool | None = None,
        birth_year: int | None = None,
        community: str | None = None,
        name: str | None = None,
        room: str | None = None,
        at: datetime | None = None,
    ) -> str:
        """Register a newcomer who came without invitation and check them in, in one transaction.

        ``community`` defaults to the meeting's. ``name`` and ``room`` (optional) go to the names table.

        Returns
        -------
        str
            The new pseudonymous participant id (``w-`` and 12 hex digits).
        """
        pid = f"w-{uuid_module.uuid4().hex[:12]}"
        with self._tx(write=True) as connection:
            record = self._meeting(connection, meeting)
            if record.status != "open":
                raise StoreError(f"meeting `{meeting}` is closed; nobody can check in.")
            values: dict[str, Any] = {
                "participant_id": pid,
                "created_at": _now(),
                "community": record.community if community is None else community,
                "role": role,
                "gender": gender,
                "age_band": age_band,
                "building": building,
                "floor_band": floor_band,
                "household_id": household_id,
                "party_member": party_member,
                "birth_year": birth_year,
            }
            for column in PARTICIPANT_COLUMNS[1:]:
                values[column] = _participant_value(column, values[column])
            connection.execute(sa.insert(t.participants).values(values))
            if name:
                connection.execute(
                    sa.insert(t.participant_names).values(participant_id=pid, name=name, room=room)
                )
            connection.execute(
                sa.insert(t.attendance).values(
                    meeting_id=meeting,
                    participant_id=pid,
                    checked_in_at=at or _now(),
                    walk_in=True,
                    invited=False,
                )
            )
        return pid

    def search_participants(self, meeting: str, text: str, *, limit: int = 20) -> pd.DataFrame:
        """Sign-in search: participants of the meeting's community or invitation list whose name or
        room contains ``text``. The only method that reads names; never use it for analysis.

        Returns
        -------
        DataFrame
            ``participant_id, name, room, building, invited, checked_in``.
        """
        import pandas as pd

        check_range("limit", limit, low=1, high=200)
        p, n, a = t.participants, t.participant_names, t.attendance
        needle = text.strip()
        with self._tx(write=False) as connection:
            record = self._meeting(connection, meeting)
            joined = n.join(p, p.c.participant_id == n.c.participant_id).outerjoin(
                a, (a.c.participant_id == p.c.participant_id) & (a.c.meeting_id == meeting)
            )
            query = (
                sa.select(
                    p.c.participant_id,
                    n.c.name,
                    n.c.room,
                    p.c.building,
                    sa.func.coalesce(a.c.invited, False).label("invited"),
                    a.c.checked_in_at.is_not(None).label("checked_in"),
                )
                .select_from(joined)
                .where(
                    (
                        n.c.name.contains(needle, autoescape=True)
                        | n.c.room.contains(needle, autoescape=True)
                    )
                    & ((p.c.community == record.community) | a.c.meeting_id.is_not(None))
                )
                .order_by(n.c.name, p.c.participant_id)
                .limit(limit)
            )
            rows = connection.execute(query).all()
        frame = pd.DataFrame(
            rows, columns=["participant_id", "name", "room", "building", "invited", "checked_in"]
        )
        return frame.astype({"invited": bool, "checked_in": bool})

    def attendance_table(self, meeting: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Attendance joined with participant attributes (no names), one row per meeting×participant.

        Returns
        -------
        DataFrame
            ``meeting_id, kind, date, participant_id, invited, walk_in, attended, checked_in_at``, then
            the participant columns (``community, role, gender, age_band, building, floor_band,
            household_id, party_member, birth_year``).
        """
        import pandas as pd

        a, p, m = t.attendance, t.participants, t.meetings
        query = (
            sa.select(
                a.c.meeting_id,
                m.c.kind,
                m.c.date,
                a.c.participant_id,
                a.c.invited,
                a.c.walk_in,
                a.c.checked_in_at,
                *[p.c[c] for c in PARTICIPANT_COLUMNS[1:]],
            )
            .select_from(a.join(p, p.c.participant_id == a.c.participant_id))
            .join(m, m.c.meeting_id == a.c.meeting_id)
            .order_by(m.c.date, a.c.meeting_id, a.c.participant_id)
        )
        ids = _meeting_ids(meeting)
        with self._tx(write=False) as connection:
            for mid in ids or ():
                self._meeting(connection, mid)
            if ids is not None:
                query = query.where(a.c.meeting_id.in_(ids))
            result = connection.execute(query)
            frame = pd.DataFrame(result.all(), columns=list(result.keys()))
        frame["checked_in_at"] = pd.to_datetime(frame["checked_in_at"], utc=True)
        frame.insert(6, "attended", frame["checked_in_at"].notna())
        frame["invited"] = frame["invited"].astype(bool)
        frame["walk_in"] = frame["walk_in"].astype(bool)
        frame["party_member"] = pd.array(
            [None if _blank(v) else bool(v) for v in frame["party_member"]], dtype="boolean"
        )
        frame["birth_year"] = pd.array(
            [None if _blank(v) else int(v) for v in frame["birth_year"]], dtype="Int64"
        )
        return frame

    def roster(self, meeting: str) -> pd.DataFrame:
        """The meeting's list: everyone invited or checked in, with attributes and no names.

        Returns
        -------
        DataFrame
            :meth:`attendance_table` for this meeting, without the meeting columns.
        """
        frame = self.attendance_table(meeting)
        return frame.drop(columns=["meeting_id", "kind", "date"]).reset_index(drop=True)

    # --- ballot codes -----------------------------------------------------------------------------

    def issue_ballot_codes(self, meeting: str, n: int) -> list[str]:
        """Make ``n`` one-time ballot codes for a meeting (only their hashes are stored).

        Once a meeting has codes, every ballot for it must carry an unused one (:attr:`Submission.
        ballot_code`); the code is marked used in the ballot's own transaction. Codes are 8 digits
        (tapped on the form's number pad), shown as ``1234-5678``; spaces and dashes are ignored
        when checked. 10^8 codes per meeting make guessing an unused one hopeless.

        Returns
        -------
        list of str
            The codes, to print on slips; they cannot be recovered from the store later.
        """
        check_range("n", n, low=1, high=10_000)
        made: dict[str, str] = {}
        with self._tx(write=True) as connection:
            record = self._meeting(connection, meeting)
            if record.status != "open":
                raise StoreError(f"meeting `{meeting}` is closed; issue codes for an open meeting.")
            while len(made) < n:
                batch: dict[str, str] = {}
                while len(batch) < n - len(made):
                    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
                    code = f"{raw[:4]}-{raw[4:]}"
                    digest = _hash_code(code)
                    if digest not in made:
                        batch[digest] = code
                taken = set(
                    connection.execute(
                        sa.select(t.ballot_codes.c.code_hash).where(
                            t.ballot_codes.c.code_hash.in_(list(batch))
                        )
                    ).scalars()
                )
                made.update({h: c for h, c in batch.items() if h not in taken})
            now = _now()
            connection.execute(
                sa.insert(t.ballot_codes),
                [{"code_hash": h, "meeting_id": meeting, "issued_at": now} for h in made],
            )
        return list(made.values())

    def meeting_uses_ballot_codes(self, meeting: str) -> bool:
        """Whether ballots for this meeting need a one-time code (codes were issued for it)."""
        b = t.ballot_codes
        with self._tx(write=False) as connection:
            self._meeting(connection, meeting)
            row = connection.execute(
                sa.select(b.c.code_hash).where(b.c.meeting_id == meeting).limit(1)
            ).first()
        return row is not None

    def ballot_code_usable(self, meeting: str, code: str) -> bool:
        """Whether ``code`` was issued for ``meeting`` and is not used yet (the form asks first)."""
        b = t.ballot_codes
        with self._tx(write=False) as connection:
            row = connection.execute(
                sa.select(b.c.meeting_id, b.c.used_at).where(b.c.code_hash == _hash_code(code))
            ).first()
        return row is not None and row.meeting_id == meeting and row.used_at is None

    def _use_code(
        self, connection: Connection, submission: Submission, *, anonymous: bool, now: datetime
    ) -> None:
        b = t.ballot_codes
        where = f"ballot {submission.uuid}, field `ballot_code`"
        if submission.ballot_code is None:
            raise AnswerError(
                [
                    Problem(
                        where,
                        "this meeting takes ballots with a one-time ballot code only.",
                        "Enter the code printed on the ballot slip.",
                        "ballot_code",
                    )
                ]
            )
        digest = _hash_code(submission.ballot_code)
        row = connection.execute(
            sa.select(b.c.meeting_id, b.c.used_at).where(b.c.code_hash == digest)
        ).first()
        if row is None:
            raise AnswerError(
                [
                    Problem(
                        where,
                        "unknown ballot code.",
                        "Check the code on the slip (8 letters and digits).",
                        "ballot_code",
                    )
                ]
            )
        if row.meeting_id != submission.meeting_id:
            raise StoreError(
                f"ballot {submission.uuid} was rejected: its ballot code belongs to meeting "
                f"`{row.meeting_id}`, not `{submission.meeting_id}` (a tampered meeting id?). "
                "Nothing was stored; check the tablet is set to the right meeting."
            )
        used_at = datetime.combine(now.date(), time(0), UTC) if anonymous else now
        result = connection.execute(
            sa.update(b)
            .where(b.c.code_hash == digest, b.c.used_at.is_(None))
            .values(used_at=used_at, submission_id=None if anonymous else submission.uuid)
        )
        if result.rowcount != 1:
            raise AnswerError(
                [
                    Problem(
                        where,
                        "this ballot code has already been used.",
                        "Each code takes one ballot; ask the staff for a new slip.",
                        "ballot_code",
                    )
                ]
            )

    # --- submissions ------------------------------------------------------------------------------

    def submit(self, submission: Submission) -> SubmitResult:
        """Store one ballot, durably and idempotently, in one transaction.

        The answers are checked with ``toolkit.instrument.answers.check_answers`` against the
        meeting's instrument and subjects before anything is written.

        Parameters
        ----------
        submission : Submission
            The ballot; its client-made ``uuid`` identifies it across retries.

        Returns
        -------
        SubmitResult
            ``status="stored"`` for a new ballot, ``"already_stored"`` for a resend of a stored one.

        Raises
        ------
        AnswerError
            The answers (or the ballot code) are not acceptable; ``problems`` lists every one and
            nothing was written.
        ConflictError
            The UUID is stored with different answers or for another meeting; nothing was changed.
        StoreError
            Unknown or closed meeting, a ballot code or draft of another meeting, or a database error.
        """
        if not isinstance(submission, Submission):
            raise ParameterError(
                f"`submission` must be a Submission; got {type(submission).__name__}."
            )
        try:
            digest = answers_hash(submission.answers)
            answers = _json_ready(submission.answers)
            paradata = None if submission.paradata is None else _json_ready(submission.paradata)
            # UTF-8 strictly: a lone surrogate would be stored by SQLite and refused by PostgreSQL
            json.dumps(paradata, allow_nan=False, ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError) as error:
            raise AnswerError(
                [
                    Problem(
                        f"ballot {submission.uuid}",
                        f"the answers or paradata cannot be stored as JSON ({error}).",
                        "Send texts, numbers and lists of texts only.",
                    )
                ]
            ) from None
        for attempt in (1, 2):
            try:
                return self._submit_once(submission, answers, paradata, digest)
            except StoreError as error:
                # a pooled connection the server dropped (restart): safe to retry, submit is
                # idempotent; SQLAlchemy has already discarded the stale connections
                cause = error.__cause__
                if attempt == 1 and getattr(cause, "connection_invalidated", False):
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _submit_once(
        self,
        submission: Submission,
        answers: dict[str, Any],
        paradata: dict[str, Any] | None,
        digest: str,
    ) -> SubmitResult:
        m, d, s = t.meetings, t.drafts, t.submissions

        def stored_column(column: sa.Column[Any], label: str) -> Any:
            query = sa.select(column).where(s.c.submission_id == submission.uuid)
            return query.scalar_subquery().label(label)

        one = sa.select(sa.literal(1).label("one")).subquery("one")
        # one round trip: the stored ballot (if any), the meeting, and its codes and drafts
        lookup = sa.select(
            stored_column(s.c.meeting_id, "stored_meeting"),
            stored_column(s.c.answers_hash, "stored_hash"),
            stored_column(s.c.stored_at, "stored_time"),
            m,
            sa.exists().where(t.ballot_codes.c.meeting_id == m.c.meeting_id).label("needs_code"),
            sa.exists().where(d.c.submission_id == submission.uuid).label("has_draft"),
            sa.exists()
            .where(
                d.c.submission_id == submission.uuid,
                d.c.meeting_id.is_not(None),
                d.c.meeting_id != m.c.meeting_id,
            )
            .label("draft_elsewhere"),
        ).select_from(one.outerjoin(m, m.c.meeting_id == submission.meeting_id))
        try:
            with self._tx(write=True) as connection:
                row: Any = connection.execute(lookup).one()
                # 1. a resend of a stored ballot is acknowledged whatever happened since
                if row.stored_hash is not None:
                    stored = _Stored(row.stored_meeting, row.stored_hash, row.stored_time)
                    return self._resent(submission, stored, digest)
                # 2. the meeting: known, open, and not contradicted by the ballot's draft
                if row.meeting_id is None:
                    self._meeting(connection, submission.meeting_id)  # raises, with a hint
                meeting = _meeting_record(row)
                self._check_open(meeting)
                if row.draft_elsewhere:
                    other = connection.execute(
                        sa.select(d.c.meeting_id).where(d.c.submission_id == submission.uuid)
                    ).scalar()
                    raise StoreError(
                        f"ballot {submission.uuid} was rejected: its draft belongs to meeting "
                        f"`{other}`, not `{meeting.meeting_id}` (a tampered meeting id?). "
                        "Nothing was stored; check the tablet is set to the right meeting."
                    )
                # 3. the answers, before anything is written
                survey = self._survey(
                    meeting.instrument_id, meeting.instrument_version, connection=connection
                )
                problems = _check_answers(
                    survey,
                    answers,
                    subjects=meeting.subject_ids,
                    require=submission.mode == "tablet",
                )
                if problems:
                    raise AnswerError(problems, source=f"ballot {submission.uuid}")
                # 4. the one-time code, the ballot and the end of its draft: one transaction
                now = _now()
                if row.needs_code or submission.ballot_code is not None:
                    self._use_code(
                        connection, submission, anonymous=survey.settings.anonymous, now=now
                    )
                connection.execute(
                    sa.insert(t.submissions).values(
                        submission_id=submission.uuid,
                        meeting_id=meeting.meeting_id,
                        instrument_id=meeting.instrument_id,
                        instrument_version=meeting.instrument_version,
                        device=submission.device,
                        started_at=submission.started_at,
                        submitted_at=submission.submitted_at,
                        stored_at=now,
                        status="valid",
                        void_reason=None,
                        answers=answers,
                        paradata=paradata,
                        answers_hash=digest,
                        mode=submission.mode,
                    )
                )
                if row.has_draft:
                    connection.execute(sa.delete(d).where(d.c.submission_id == submission.uuid))
        except sa.exc.IntegrityError:
            # the same UUID committed by another writer between our check and insert (PostgreSQL)
            with self._tx(write=False) as connection:
                stored = self._stored(connection, submission.uuid)
            if stored is None:
                raise
            return self._resent(submission, stored, digest)
        return SubmitResult(submission.uuid, meeting.meeting_id, "stored", now)

    @staticmethod
    def _check_open(meeting: Meeting) -> None:
        if meeting.status != "open":
            raise StoreError(
                f"meeting `{meeting.meeting_id}` is closed and takes no more ballots; nothing was "
                f"stored. Reopen it with store.update_meeting({meeting.meeting_id!r}, "
                "status='open') if it was closed by mistake."
            )

    @staticmethod
    def _stored(connection: Connection, uuid: str) -> Any:
        s = t.submissions
        return connection.execute(
            sa.select(s.c.meeting_id, s.c.answers_hash, s.c.stored_at).where(
                s.c.submission_id == uuid
            )
        ).first()

    @staticmethod
    def _resent(submission: Submission, stored: Any, digest: str) -> SubmitResult:
        if stored.meeting_id != submission.meeting_id:
            raise ConflictError(
                f"ballot {submission.uuid} is already stored for meeting `{stored.meeting_id}`, "
                f"not `{submission.meeting_id}`; nothing was changed. A new ballot needs a new UUID."
            )
        if stored.answers_hash != digest:
            raise ConflictError(
                f"ballot {submission.uuid} is already stored with different answers; nothing was "
                "changed. A stored ballot cannot be edited: void it (store.void) and submit a new "
                "ballot with a new UUID."
            )
        return SubmitResult(submission.uuid, stored.meeting_id, "already_stored", stored.stored_at)

    def void(self, uuid: str, reason: str) -> None:
        """Mark a stored ballot void (kept, excluded from analysis by default), with a reason.

        Voiding an already void ballot updates its reason.
        """
        uuid = normalize_uuid(uuid)
        if not isinstance(reason, str) or not reason.strip():
            raise ParameterError("`reason` must say why the ballot is void (e.g. '一人两票').")
        s = t.submissions
        with self._tx(write=True) as connection:
            result = connection.execute(
                sa.update(s)
                .where(s.c.submission_id == uuid)
                .values(status="void", void_reason=reason.strip())
            )
            if result.rowcount != 1:
                raise StoreError(f"no ballot {uuid} in the store; nothing was voided.")

    def submission(self, uuid: str) -> dict[str, Any]:
        """One stored ballot as a dict (answers, paradata, status...), for audit and support."""
        uuid = normalize_uuid(uuid)
        with self._tx(write=False) as connection:
            row = connection.execute(
                sa.select(t.submissions).where(t.submissions.c.submission_id == uuid)
            ).first()
        if row is None:
            raise StoreError(f"no ballot {uuid} in the store.")
        return dict(row._mapping)

    # --- drafts -----------------------------------------------------------------------------------

    def save_draft(
        self,
        device: str,
        uuid: str,
        answers: Mapping[str, Any],
        *,
        meeting_id: str | None = None,
    ) -> Draft:
        """Save a device's half-filled ballot (one draft per device; a new save replaces it).

        ``meeting_id`` ties the draft (and so the ballot UUID) to a meeting: a submission of that UUID
        for another meeting is then rejected. The draft is deleted when its ballot is stored, in the
        ballot's own transaction.

        Drafts are saved on every tap, so they are written without waiting for the disk: on SQLite
        through connections with ``synchronous=NORMAL`` (WAL: a saved draft survives a killed
        process, a power cut may lose the last ones), on PostgreSQL with
        ``synchronous_commit=off``. Ballots keep the full guarantee (:meth:`submit`).
        """
        uuid = normalize_uuid(uuid)
        if not isinstance(device, str) or not device:
            raise ParameterError(f"`device` must be a non-empty text; got {device!r}.")
        try:
            payload = _json_ready(answers)
            json.dumps(payload, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise ParameterError(f"`answers` cannot be stored as JSON ({error}).") from None
        now = _now()
        values = {
            "device": device,
            "submission_id": uuid,
            "meeting_id": meeting_id,
            "answers": payload,
            "updated_at": now,
        }
        insert = _dialect_insert(self.dialect, t.drafts).values(values)
        upsert = insert.on_conflict_do_update(
            index_elements=[t.drafts.c.device],
            set_={k: insert.excluded[k] for k in values if k != "device"},
        )
        with self._tx(write=True, draft=True) as connection:
            if meeting_id is not None:
                self._meeting(connection, meeting_id)
            if self._stored(connection, uuid) is not None:
                raise StoreError(
                    f"ballot {uuid} is already stored, so it cannot be a draft; start a new ballot "
                    "with a new UUID."
                )
            connection.execute(upsert)
        return Draft(device, uuid, meeting_id, payload, now)

    def load_draft(self, device: str) -> Draft | None:
        """The device's saved draft, or ``None``."""
        with self._tx(write=False) as connection:
            row = connection.execute(sa.select(t.drafts).where(t.drafts.c.device == device)).first()
        if row is None:
            return None
        return Draft(row.device, row.submission_id, row.meeting_id, row.answers, row.updated_at)

    def discard_draft(self, device: str, *, uuid: str | None = None) -> bool:
        """Delete the device's draft (only if it is for ``uuid``, when given). True if one was."""
        d = t.drafts
        query = sa.delete(d).where(d.c.device == device)
        if uuid is not None:
            query = query.where(d.c.submission_id == normalize_uuid(uuid))
        with self._tx(write=True, draft=True) as connection:
            return bool(connection.execute(query).rowcount)

    # --- response tables --------------------------------------------------------------------------

    def _selection(
        self,
        meeting: str | Sequence[str] | None,
        instrument: str | InstrumentRef | tuple[str, str] | None,
    ) -> tuple[list[_Selected], Survey | None, tuple[str, str] | None]:
        """The selected meetings (in date order), their instrument and its key.

        Without ``meeting`` every meeting is selected; a city has tens of thousands, so the
        database sends one row per instrument and subject list (in the order of their first
        meeting), not a record per meeting: what the response tables need.
        """
        ids = _meeting_ids(meeting)
        m = t.meetings
        with self._tx(write=False) as connection:
            if ids is not None:
                chosen = [
                    _Selected(r.meeting_id, r.instrument_id, r.instrument_version, r.subject_ids)
                    for r in (self._meeting(connection, mid) for mid in ids)
                ]
            else:
                position = sa.func.row_number().over(order_by=(m.c.date, m.c.meeting_id))
                ordered = sa.select(
                    m.c.instrument_id, m.c.instrument_version, m.c.subjects, position.label("pos")
                ).subquery()
                first = sa.func.min(ordered.c.pos).label("first")
                rows = connection.execute(
                    sa.select(
                        ordered.c.instrument_id, ordered.c.instrument_version, ordered.c.subjects
                    )
                    .group_by(
                        ordered.c.instrument_id, ordered.c.instrument_version, ordered.c.subjects
                    )
                    .order_by(first)
                ).all()
                chosen = [
                    _Selected(
                        None,
                        r.instrument_id,
                        r.instrument_version,
                        tuple(Subject.coerce(x).id for x in r.subjects or ()),
                    )
                    for r in rows
                ]
        key: tuple[str, str] | None
        if instrument is None:
            keys = list(dict.fromkeys((m.instrument_id, m.instrument_version) for m in chosen))
            if len(keys) > 1:
                listed = ", ".join(f"{i} {v!r}" for i, v in keys)
                raise ParameterError(
                    f"the selected meetings use several instruments ({listed}); pass "
                    "`instrument=` (an id for its latest version, or (id, version)) or `meeting=`."
                )
            key = keys[0] if keys else None
        else:
            if isinstance(instrument, InstrumentRef):
                key = (instrument.id, instrument.version)
            elif isinstance(instrument, tuple):
                key = (str(instrument[0]), str(instrument[1]))
            else:
                row = self._instrument_row(str(instrument), None, required=True)
                key = (row.instrument_id, row.version)
            chosen = [m for m in chosen if (m.instrument_id, m.instrument_version) == key]
        survey = None if key is None else self._survey(*key)
        return chosen, survey, key

    def responses(
        self,
        meeting: str | Sequence[str] | None = None,
        *,
        instrument: str | InstrumentRef | tuple[str, str] | None = None,
        labels: Labels = "codes",
        include_void: bool = False,
        status_column: bool = True,
        chunk_size: int = 50_000,
    ) -> pd.DataFrame:
        """The wide response table: one row per ballot, one column per variable.

        Columns: ``submission_id, meeting_id, community, street, kind, device, started_at,
        submitted_at, status``, then every variable of the instrument in instrument order, per-subject
        grids expanded over the meetings' subjects (in meeting order; a subject a meeting did not
        evaluate is missing for its ballots).

        - single choice and grid items: ordered Categoricals with every level of the scale in scale
          order (most favourable first), unused levels kept; grid items allowing 不了解 get
          ``dont_know`` as an extra last level. ``labels="zh"``/``"en"`` shows labels instead of codes.
        - multiple choice: one 0/1 indicator column per choice, named ``{question}__{code}``
          (nullable Int64: missing when the question was not answered, 0/1 otherwise).
        - integer: nullable ``Int64``; decimal: nullable ``Float64``; date: datetime64; text: object.
        - timestamps are timezone-aware UTC.

        The JSON is expanded by the database (``->>`` on PostgreSQL, ``json_extract`` on SQLite), which
        also sends categorical answers as their level positions (small integers); rows are read in
        chunks of ``chunk_size`` and converted column-wise, so a million ballots need no per-ballot
        Python code and little memory.

        Parameters
        ----------
        meeting : str or sequence of str, optional
            Restrict to these meetings; default every meeting of the instrument.
        instrument : str, InstrumentRef or (id, version), optional
            Needed when the selected meetings use several instruments; an id means its latest version.
        labels : {"codes", "zh", "en"}
        include_void : bool
            Include void ballots (see the ``status`` column).
        status_column : bool
            Keep the ``status`` column.
        chunk_size : int
            Rows fetched per round trip.

        Returns
        -------
        DataFrame
        """
        import pandas as pd

        check_option("labels", labels, ("codes", "zh", "en"))
        check_range("chunk_size", chunk_size, low=1)
        chosen, survey, key = self._selection(meeting, instrument)
        s, m = t.submissions, t.meetings
        columns = [
            _Column("submission_id", "meta"),
            _Column("meeting_id", "meta"),
            _Column("community", "meta"),
            _Column("street", "meta"),
            _Column("kind", "meta"),
            _Column("device", "meta"),
            _Column("started_at", "time"),
            _Column("submitted_at", "time"),
            _Column("status", "meta"),
        ]
        selected: list[Any] = [
            s.c.submission_id,
            s.c.meeting_id,
            m.c.community,
            m.c.street,
            m.c.kind,
            s.c.device,
            s.c.started_at,
            s.c.submitted_at,
            s.c.status,
        ]
        subjects = list(dict.fromkeys(sid for mt in chosen for sid in mt.subject_ids))
        variables = () if survey is None else survey.variables(subjects=subjects)
        for variable in variables:
            column, expression = _variable_column(survey, variable, labels, s.c.answers)  # type: ignore[arg-type]
            columns.append(column)
            selected.append(expression)
        if key is not None and chosen:
            query = (
                sa.select(*selected)
                .select_from(s.join(m, m.c.meeting_id == s.c.meeting_id))
                .where(s.c.instrument_id == key[0], s.c.instrument_version == key[1])
                .order_by(m.c.date, s.c.meeting_id, s.c.stored_at, s.c.submission_id)
            )
            if meeting is not None:
                query = query.where(s.c.meeting_id.in_([mt.meeting_id for mt in chosen]))
            if not include_void:
                query = query.where(s.c.status == "valid")
            try:
                with self._engine.connect() as connection, connection.begin():
                    result = connection.execution_options(
                        stream_results=True, yield_per=chunk_size
                    ).execute(query)
                    for part in result.partitions():
                        for column, values in zip(columns, zip(*part, strict=True), strict=True):
                            column.add(values)
            except sa.exc.OperationalError as error:
                raise StoreError(f"cannot read responses from {self.url}: {error.orig}.") from error
        data: dict[str, Any] = {}
        for column in columns:
            data.update(column.finish())
        frame = pd.DataFrame(data)
        if not status_column:
            frame = frame.drop(columns="status")
        return frame

    def ratings(
        self,
        meeting: str | Sequence[str] | None = None,
        *,
        instrument: str | InstrumentRef | tuple[str, str] | None = None,
        questions: Sequence[str] | None = None,
        labels: Labels = "codes",
        include_void: bool = False,
        dropna: bool = True,
    ) -> pd.DataFrame:
        """The rating grids as a long table: one row per ballot × subject × item.

        Columns: ``submission_id, meeting_id, community, subject, question, item, value``. ``subject``
        is the evaluated subject for per-subject grids and missing for other grids; ``value`` is an
        ordered Categorical of the scale (plus ``dont_know`` last when any item allows it) when the
        grids share one scale, else text. Use it for per-subject rates: group by ``subject, item``.

        Parameters
        ----------
        meeting, instrument, labels, include_void
            As in :meth:`responses`.
        questions : sequence of str, optional
            Grid question ids to include; default every grid.
        dropna : bool
            Drop unanswered items (default), keeping 不了解 answers.

        Returns
        -------
        DataFrame
        """
        import numpy as np
        import pandas as pd

        wide = self.responses(
            meeting, instrument=instrument, labels=labels, include_void=include_void
        )
        _chosen, survey, _key = self._selection(meeting, instrument)
        subjects = list(dict.fromkeys(sid for mt in _chosen for sid in mt.subject_ids))
        grid_vars: list[Variable] = []
        if survey is not None:
            grids = [q.id for q in survey.questions if q.type == "grid"]
            if questions is not None:
                unknown = [q for q in questions if q not in grids]
                if unknown:
                    hint = "".join(did_you_mean(q, grids) for q in unknown)
                    raise ParameterError(
                        f"`questions` must name grid questions of `{survey.id}` "
                        f"({', '.join(grids)}); got {', '.join(unknown)}.{hint}"
                    )
                grids = list(questions)
            grid_vars = [v for v in survey.variables(subjects=subjects) if v.question.id in grids]
        out_columns = [
            "submission_id",
            "meeting_id",
            "community",
            "subject",
            "question",
            "item",
            "value",
        ]
        n, k = len(wide), len(grid_vars)
        if k == 0:
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in out_columns})
        assert survey is not None
        categories = {tuple(wide[v.name].cat.categories) for v in grid_vars}
        scales = {v.question.choices for v in grid_vars}
        row = np.tile(np.arange(n), k)
        which = np.repeat(np.arange(k), n)
        if len(scales) == 1:
            # one scale: columns differ only by the extra last dont_know level, so codes line up
            widest = max(categories, key=len)
            codes = np.concatenate([wide[v.name].cat.codes.to_numpy() for v in grid_vars])
            present = codes >= 0
            value: Any = pd.Categorical.from_codes(
                np.where(present, codes, -1), categories=pd.Index(list(widest)), ordered=True
            )
        else:
            stacked = np.concatenate([wide[v.name].astype(object).to_numpy() for v in grid_vars])
            present = pd.notna(stacked)
            value = stacked
        keep = present if dropna else np.ones(n * k, dtype=bool)
        order = np.lexsort((which[keep], row[keep]))
        rows, whiches = row[keep][order], which[keep][order]
        subject_of = np.array([v.subject for v in grid_vars], dtype=object)
        question_of = np.array([v.question.id for v in grid_vars], dtype=object)
        item_of = np.array([v.item.id if v.item else v.name for v in grid_vars], dtype=object)
        long = pd.DataFrame(
            {
                "submission_id": wide["submission_id"].to_numpy()[rows],
                "meeting_id": wide["meeting_id"].to_numpy()[rows],
                "community": wide["community"].to_numpy()[rows],
                "subject": subject_of[whiches],
                "question": question_of[whiches],
                "item": item_of[whiches],
                "value": value[keep][order],
            }
        )
        return long

    def rating_counts(
        self,
        meeting: str | Sequence[str] | None = None,
        *,
        by: str | Sequence[str] = ("street",),
        items: Sequence[str] | None = None,
        subjects: Sequence[str] | None = None,
        include_void: bool = False,
        instrument: str | InstrumentRef | tuple[str, str] | None = None,
    ) -> pd.DataFrame:
        """Answer counts of the rating grids, aggregated by the database: one row per group x
        subject x item x value, with the number of ballots.

        What :func:`toolkit.analysis.satisfaction_rates_from_counts` turns into rates, with the same
        result as :meth:`responses` and :func:`toolkit.analysis.satisfaction_rates`, without
        reading a row per ballot: a city of a million ballots gives a few thousand rows. Each
        ballot's answers are extracted once by the database (``->>`` on PostgreSQL,
        ``json_extract`` on SQLite) and counted by group and answer combination, a few items per
        scan; the combinations are then summed item by item.

        Parameters
        ----------
        meeting : str or sequence of str, optional
            Restrict to these meetings; default every meeting of the instrument.
        by : str or sequence of str
            Grouping columns: meeting columns (``meeting_id``, ``community``, ``street``,
            ``district``, ``kind``, ``date``), ballot columns (``status``, ``mode``, ``device``)
            or single-choice questions of the instrument (e.g. the rater's ``role``, as an ordered
            Categorical of its codes, as in :meth:`responses`). ``()`` for no groups.
        items : sequence of str, optional
            Grid item ids (``"overall"``); default every item of every grid.
        subjects : sequence of str, optional
            Evaluated subjects; default every subject of the selected meetings, plus the grids that
            are not per subject (only when ``subjects`` is not given).
        include_void : bool
            Count void ballots too.
        instrument : str, InstrumentRef or (id, version), optional
            As in :meth:`responses`.

        Returns
        -------
        DataFrame
            The ``by`` columns, then ``subject`` (missing for grids not per subject),
            ``question``, ``item``, ``variable`` (the column name in :meth:`responses`, e.g.
            ``wuye__overall``), ``value`` (the stored code; missing for ballots that left the
            item blank, or whose meeting did not evaluate the subject) and ``count`` (int64).
            Every ballot of a group is counted once under every item, so each item's counts add
            up to the group's ballots. ``value`` is an ordered Categorical of the scale
            (``dont_know`` last) when the grids share one scale and every stored value is one of
            its codes, else text. Rows are sorted by group, then item (instrument order), then
            value (scale order, blank last). Zero counts are left out.

        Examples
        --------
        >>> from toolkit.demo import demo_store
        >>> store = demo_store()
        >>> counts = store.rating_counts(by="street", items=["overall"], instrument="evaluation")
        >>> list(counts.columns)
        ['street', 'subject', 'question', 'item', 'variable', 'value', 'count']
        >>> from toolkit.analysis import satisfaction_rates, satisfaction_rates_from_counts
        >>> rates = satisfaction_rates_from_counts(counts, items="wuye__overall", by="street")
        >>> rates.equals(satisfaction_rates(store.responses(instrument="evaluation"),
        ...                                 items="wuye__overall", by="street"))
        True
        >>> store.close()
        """
        import numpy as np
        import pandas as pd

        chosen, survey, key = self._selection(meeting, instrument)
        s, m = t.submissions, t.meetings
        by_list = [by] if isinstance(by, str) else list(by)
        if len(set(by_list)) != len(by_list):
            raise ParameterError(f"`by` names a column twice: {by_list!r}.")
        meeting_columns = ("meeting_id", "community", "street", "district", "kind", "date")
        ballot_columns = ("status", "mode", "device")
        questions = (
            {}
            if survey is None
            else {q.id: q for q in survey.questions if q.type == "single" and not q.per_subject}
        )
        known_by = [*meeting_columns, *ballot_columns, *questions]
        for name in by_list:
            if name not in known_by:
                raise ParameterError(
                    f"`by` must name meeting columns ({', '.join(meeting_columns)}), ballot "
                    f"columns ({', '.join(ballot_columns)}) or single-choice questions of the "
                    f"instrument ({', '.join(questions) or 'none'}); got {name!r}."
                    f"{did_you_mean(name, known_by)}"
                )
        all_subjects = list(dict.fromkeys(sid for mt in chosen for sid in mt.subject_ids))
        if subjects is None:
            subject_list = all_subjects
        else:
            subject_list = [subjects] if isinstance(subjects, str) else list(subjects)
            unknown = [x for x in subject_list if x not in all_subjects]
            if unknown:
                raise ParameterError(
                    f"`subjects` must be subjects of the selected meetings "
                    f"({', '.join(all_subjects) or 'none'}); got {', '.join(unknown)}."
                    f"{did_you_mean(unknown[0], all_subjects)}"
                )
        grid_vars: list[Variable] = []
        if survey is not None:
            grid_vars = [
                v
                for v in survey.variables(subjects=subject_list)
                if v.question.type == "grid" and (subjects is None or v.subject is not None)
            ]
            grid_items = list(dict.fromkeys(v.item.id for v in grid_vars if v.item is not None))
            if items is not None:
                item_list = [items] if isinstance(items, str) else list(items)
                unknown = [x for x in item_list if x not in grid_items]
                if unknown:
                    raise ParameterError(
                        f"`items` must be grid items of `{survey.id}` ({', '.join(grid_items)}); "
                        f"got {', '.join(unknown)}.{did_you_mean(unknown[0], grid_items)}"
                    )
                grid_vars = [v for v in grid_vars if v.item is not None and v.item.id in item_list]
        columns = [*by_list, "subject", "question", "item", "variable", "value", "count"]
        by_exprs: list[Any] = []
        for name in by_list:
            if name in meeting_columns:
                by_exprs.append(m.c[name].label(name))
            elif name in ballot_columns:
                by_exprs.append(s.c[name].label(name))
            else:
                by_exprs.append(s.c.answers[name].as_string().label(name))
        parts: list[pd.DataFrame] = []
        if key is not None and chosen and grid_vars:
            where = [s.c.instrument_id == key[0], s.c.instrument_version == key[1]]
            if meeting is not None:
                where.append(s.c.meeting_id.in_([mt.meeting_id for mt in chosen]))
            if not include_void:
                where.append(s.c.status == "valid")
            joined = any(name in meeting_columns for name in by_list)
            source = s.join(m, m.c.meeting_id == s.c.meeting_id) if joined else s
            try:
                with self._engine.connect() as connection, connection.begin():
                    if not self._sqlite:  # room for the hash aggregate
                        connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
                    for start in range(0, len(grid_vars), _COUNT_BLOCK):
                        block = grid_vars[start : start + _COUNT_BLOCK]
                        if self._sqlite:
                            frm = source
                            values = [
                                s.c.answers[v.name].as_string().label(f"v{k}")
                                for k, v in enumerate(block)
                            ]
                        else:  # one jsonb_to_record per ballot: its JSONB is read once
                            record = (
                                sa.func.jsonb_to_record(s.c.answers)
                                .table_valued(*(sa.column(v.name, sa.Text) for v in block))
                                .render_derived(name="answer", with_types=True)
                            )
                            frm = source.join(record, sa.true())
                            values = [record.c[v.name].label(f"v{k}") for k, v in enumerate(block)]
                        query = (
                            sa.select(*by_exprs, *values, sa.func.count().label("n"))
                            .select_from(frm)
                            .where(*where)
                            .group_by(*by_exprs, *values)
                        )
                        names = [*by_list, *(f"v{k}" for k in range(len(block))), "n"]
                        rows = connection.execute(query).all()
                        # column by column: much faster than a frame from row objects
                        combos = pd.DataFrame(
                            {
                                name: pd.Series(values, dtype="int64" if name == "n" else object)
                                for name, values in zip(
                                    names,
                                    zip(*rows, strict=True) if rows else [()] * len(names),
                                    strict=True,
                                )
                            }
                        )
                        for k in range(len(block)):
                            part = (
                                combos.groupby([*by_list, f"v{k}"], dropna=False, sort=False)["n"]
                                .sum()
                                .reset_index()
                                .rename(columns={f"v{k}": "value", "n": "count"})
                            )
                            part["order"] = start + k
                            parts.append(part)
            except sa.exc.OperationalError as error:
                raise StoreError(f"cannot count ratings in {self.url}: {error.orig}.") from error
        if not parts:
            empty = {c: pd.Series([], dtype="int64" if c == "count" else object) for c in columns}
            return pd.DataFrame(empty)
        frame = pd.concat(parts, ignore_index=True)
        order = frame["order"].to_numpy()
        frame["subject"] = np.array([v.subject for v in grid_vars], dtype=object)[order]
        frame["question"] = np.array([v.question.id for v in grid_vars], dtype=object)[order]
        frame["item"] = np.array(
            [v.item.id if v.item else v.name for v in grid_vars], dtype=object
        )[order]
        frame["variable"] = np.array([v.name for v in grid_vars], dtype=object)[order]
        frame["count"] = frame["count"].astype("int64")
        frame["value"] = frame["value"].astype(object).where(frame["value"].notna(), None)
        assert survey is not None
        for name in by_list:
            if name in questions:  # as responses() shows it: unknown codes are missing
                codes = list(survey.scale(questions[name]).values)
                frame[name] = pd.Categorical(frame[name], categories=codes, ordered=True)
        scales = {v.question.choices for v in grid_vars}
        levels = max((_levels(survey, v, "codes")[0] for v in grid_vars), key=len)
        present = set(frame["value"].dropna())
        if len(scales) == 1 and present <= set(levels):
            frame["value"] = pd.Categorical(frame["value"], categories=levels, ordered=True)
            rank = frame["value"].cat.codes.to_numpy().astype(np.int64)
            rank[rank < 0] = len(levels)
        else:
            rank = frame["value"].isna().to_numpy().astype(np.int64)
        frame["rank"] = rank
        if by_list:  # regroup: a by value may come from several SQL groups (unknown codes)
            frame = (
                frame.groupby(
                    [*by_list, "order", "rank", "subject", "question", "item", "variable", "value"],
                    dropna=False,
                    observed=True,
                    sort=False,
                )["count"]
                .sum()
                .reset_index()
            )
        frame = frame.sort_values(
            [*by_list, "order", "rank"], na_position="last", kind="stable"
        ).reset_index(drop=True)
        return frame[columns]


# --- helpers ------------------------------------------------------------------------------------


def _dialect_insert(dialect: str, table: sa.Table) -> Any:
    """``INSERT`` with ``ON CONFLICT`` support (SQLite >= 3.24 and PostgreSQL share the syntax)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def _meeting_ids(meeting: str | Sequence[str] | None) -> list[str] | None:
    if meeting is None:
        return None
    if isinstance(meeting, str):
        return [meeting]
    return [str(m) for m in meeting]


def _meeting_record(row: Any) -> Meeting:
    return Meeting(
        meeting_id=row.meeting_id,
        kind=row.kind,
        title=row.title,
        community=row.community,
        street=row.street,
        district=row.district,
        date=row.date,
        instrument_id=row.instrument_id,
        instrument_version=row.instrument_version,
        subjects=tuple(Subject.coerce(s) for s in row.subjects or ()),
        ballots_issued=row.ballots_issued,
        members=row.members,
        status=row.status,
        created_at=row.created_at,
    )


def _participant_value(column: str, value: Any) -> Any:
    if _blank(value):
        return None
    if column == "party_member":
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("1", "true", "yes", "y", "是"):
                return True
            if lowered in ("0", "false", "no", "n", "否"):
                return False
            raise DataError(f"`party_member` must be yes/no (or 是/否, true/false); got {value!r}.")
        return bool(value)
    if column == "birth_year":
        try:
            year = int(value)
        except (TypeError, ValueError):
            raise DataError(f"`birth_year` must be a whole year; got {value!r}.") from None
        return check_range("birth_year", year, low=1900, high=2100)
    if column == "building" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _levels(
    survey: Survey, variable: Variable, labels: Labels
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    scale = survey.scale(variable.question)
    codes = list(scale.values)
    shown = [c.label.get(labels) for c in scale.choices] if labels != "codes" else list(codes)
    if variable.item is not None and variable.item.allow_dont_know:
        codes.append(DONT_KNOW)
        shown.append(scale.dont_know_label.get(labels) if labels != "codes" else DONT_KNOW)
    return tuple(codes), tuple(shown)


def _variable_column(
    survey: Survey, variable: Variable, labels: Labels, answers: Any
) -> tuple[_Column, Any]:
    question: Question = variable.question
    element = answers[variable.name]
    kind = question.type
    if kind in ("single", "grid"):
        codes, shown = _levels(survey, variable, labels)
        if len(set(shown)) != len(shown):
            shown = codes  # duplicate labels cannot be categories; fall back to codes
        # the database maps each code to its position, so only small integers cross the wire
        position = sa.case(
            {code: i for i, code in enumerate(codes)}, value=element.as_string(), else_=-1
        )
        return _Column(variable.name, "category", codes, shown), position
    if kind == "multiple":
        codes = survey.scale(question).values
        return _Column(variable.name, "multiple", codes), element.as_string()
    if kind == "integer":
        return _Column(variable.name, "integer"), element.as_integer()
    if kind == "decimal":
        return _Column(variable.name, "decimal"), element.as_float()
    if kind == "date":
        return _Column(variable.name, "date"), element.as_string()
    return _Column(variable.name, "text"), element.as_string()
