"""The store's base: opening, transactions, instruments and the meeting lookup."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from toolkit._checks import did_you_mean
from toolkit.errors import (
    ConflictError,
    ParameterError,
    StoreError,
)
from toolkit.instrument.model import Survey
from toolkit.store import schema as t
from toolkit.store._common import (
    _SURVEYS_BY_HASH,
    _dump_survey,
    _loads_survey,
    _meeting_record,
    _now,
)
from toolkit.store.engine import (
    _current_revision,
    _drafts_engine,
    _restrict_sqlite_files,
    create_engine,
    upgrade_schema,
)
from toolkit.store.records import (
    InstrumentRef,
    Meeting,
)

if TYPE_CHECKING:  # pandas and numpy load on the first table read: a tablet kernel never needs them
    import pandas as pd

    from toolkit.store.writer import SingleWriter


__all__ = ["StoreBase"]


class StoreBase:
    """Engine, transactions and instruments: what every part of :class:`~toolkit.store.Store` uses."""

    def __init__(
        self, engine: Engine, *, schema: str | None = None, single_writer: bool | None = None
    ) -> None:
        self._engine = engine
        self._drafts = _drafts_engine(engine)
        self._schema = schema
        self._sqlite = engine.dialect.name == "sqlite"
        self._surveys: dict[tuple[str, str], Survey] = {}
        # SQLite has one writer at a time; threads of this process queue here instead of in
        # SQLite's busy handler, whose sleeps would add up to 100 ms to a waiting ballot.
        self._write_lock = threading.Lock() if self._sqlite else contextlib.nullcontext()
        # ballots from every thread go through one writer thread that commits them in groups
        # (toolkit/store/writer.py); on by default for SQLite, whose writers take turns anyway
        self._single_writer = self._sqlite if single_writer is None else bool(single_writer)
        self._writer: SingleWriter | None = None
        self._writer_lock = threading.Lock()

    # --- opening ----------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        url: str | os.PathLike[str] | None = None,
        *,
        schema: str | None = None,
        single_writer: bool | None = None,
    ) -> Self:
        """Open (creating or upgrading as needed) the store at ``url``.

        Parameters
        ----------
        url : str or path, optional
            An SQLAlchemy URL (``sqlite:///data/sanhui.db``, ``postgresql+psycopg://user@host/db``) or a
            SQLite file path. Default: the ``SANHUI_DB`` environment variable (URL or path), else
            ``data/sanhui.db`` relative to the current directory.
        schema : str, optional
            PostgreSQL only: keep the tables in this schema (created if missing).
        single_writer : bool, optional
            Send :meth:`submit` through one writer thread that commits concurrent ballots together
            (:class:`toolkit.store.writer.SingleWriter`). Default: on for SQLite, off for
            PostgreSQL (which takes concurrent writers itself).

        Returns
        -------
        Store

        Raises
        ------
        StoreError
            When the database cannot be reached or upgraded; the message says what to check.

        Examples
        --------
        >>> from toolkit.store import Store
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
        return cls(engine, schema=schema, single_writer=single_writer)

    def close(self) -> None:
        """Release every database connection (the store cannot be used afterwards)."""
        if self._writer is not None:
            self._writer.close()  # ballots already queued are stored (and answered) first
        if self._drafts is not self._engine:
            self._drafts.dispose()
        self._engine.dispose()

    def __enter__(self) -> Self:
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
