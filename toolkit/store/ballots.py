"""Ballot codes, submissions (durable, idempotent, anonymous) and drafts."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from toolkit._checks import check_range
from toolkit.errors import (
    AnswerError,
    ConflictError,
    ParameterError,
    Problem,
    StoreError,
)
from toolkit.store import codes as ballot_codes
from toolkit.store import schema as t
from toolkit.store._common import (
    _check_answers,
    _dialect_insert,
    _meeting_record,
    _now,
)
from toolkit.store.guard import check_payload
from toolkit.store.hashing import _json_ready, answers_hash
from toolkit.store.records import (
    Draft,
    Meeting,
    Submission,
    SubmitResult,
    normalize_uuid,
)
from toolkit.store.writer import SingleWriter

if TYPE_CHECKING:  # pandas and numpy load on the first table read: a tablet kernel never needs them
    pass
__all__ = ["BallotsMixin"]

from toolkit.store.core import StoreBase
from toolkit.store.repeat_rows import store_repeat_rows

_CODE_ALPHABET = "0123456789"  # digits only: tapped on the form's number pad by elderly residents
_CODE_LENGTH = 8


@dataclass(frozen=True)
class _Stored:
    meeting_id: str
    answers_hash: str
    stored_at: datetime


class BallotsMixin(StoreBase):
    """Ballot codes, ballots and drafts of :class:`~toolkit.store.Store`."""

    # --- ballot codes -----------------------------------------------------------------------------

    def _codes_key(self) -> bytes:
        """The store's ballot-code secret, read on first use (:mod:`toolkit.store.codes`)."""
        secret: bytes | None = getattr(self, "_code_secret", None)
        if secret is None:
            secret = self._code_secret = ballot_codes.code_secret(self._engine)
        return secret

    def issue_ballot_codes(self, meeting: str, n: int) -> list[str]:
        """Make ``n`` one-time ballot codes for a meeting (only their keyed digests are stored).

        Once a meeting has codes, every ballot for it must carry an unused one (:attr:`Submission.
        ballot_code`); the code is marked used in the ballot's own transaction. Codes are 8 digits
        (tapped on the form's number pad), shown as ``1234-5678``; spaces and dashes are ignored
        when checked. 10^8 codes per meeting make guessing an unused one hopeless. Each is stored
        as HMAC-SHA256 under a secret kept outside the database (:mod:`toolkit.store.codes`), so a
        copy of the database cannot give the codes back.

        Returns
        -------
        list of str
            The codes, to print on slips; they cannot be recovered from the store later.
        """
        check_range("n", n, low=1, high=10_000)
        secret = self._codes_key()
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
                    digest = ballot_codes.hmac_code(secret, code)
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
                [
                    {"code_hash": h, "meeting_id": meeting, "issued_at": now, "scheme": "hmac"}
                    for h in made
                ],
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
                sa.select(b.c.meeting_id, b.c.used_at).where(
                    ballot_codes.code_digests(b, self._codes_key(), code)
                )
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
                        code="E_BALLOT_CODE_REQUIRED",
                    )
                ]
            )
        match = ballot_codes.code_digests(b, self._codes_key(), submission.ballot_code)
        row = connection.execute(sa.select(b.c.meeting_id, b.c.used_at).where(match)).first()
        if row is None:
            raise AnswerError(
                [
                    Problem(
                        where,
                        "unknown ballot code.",
                        "Check the code on the slip (8 letters and digits).",
                        "ballot_code",
                        code="E_UNKNOWN_BALLOT_CODE",
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
            .where(match, b.c.used_at.is_(None))
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
                        code="E_BALLOT_CODE_USED",
                    )
                ]
            )

    # --- submissions ------------------------------------------------------------------------------

    def submit(self, submission: Submission) -> SubmitResult:
        """Store one ballot, durably and idempotently, in one transaction.

        With the single writer (the default on SQLite) the ballot is queued to the writer thread,
        committed with the ballots of other threads waiting at the same moment, and this call
        returns after that commit.

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
        answers, paradata, digest = self._prepare_submission(submission)
        if self._single_writer:
            return self._ballot_writer().submit(submission, answers, paradata, digest)
        return self._submit_direct(submission, answers, paradata, digest)

    def _ballot_writer(self) -> SingleWriter:
        """The store's writer thread, started on first use."""
        if self._writer is None:
            with self._writer_lock:
                if self._writer is None:
                    self._writer = SingleWriter(self)
        return self._writer

    def _prepare_submission(
        self, submission: Submission
    ) -> tuple[dict[str, Any], dict[str, Any] | None, str]:
        """The checks of :meth:`submit` that need no database: JSON, Unicode, size (see
        :mod:`toolkit.store.guard`) and the answers' hash."""
        if not isinstance(submission, Submission):
            raise ParameterError(
                f"`submission` must be a Submission; got {type(submission).__name__}."
            )
        try:
            answers = _json_ready(submission.answers)
            paradata = None if submission.paradata is None else _json_ready(submission.paradata)
            # valid Unicode (a lone surrogate would be stored by SQLite and refused by PostgreSQL),
            # no control characters, at most MAX_BALLOT_BYTES: the same bounds as a draft's
            check_payload(answers, paradata, where=f"ballot {submission.uuid}")
            digest = answers_hash(submission.answers)
        except (TypeError, ValueError) as error:
            raise AnswerError(
                [
                    Problem(
                        f"ballot {submission.uuid}",
                        f"the answers or paradata cannot be stored as JSON ({error}).",
                        "Send texts, numbers and lists of texts only.",
                        code="E_NOT_JSON",
                    )
                ]
            ) from None
        return answers, paradata, digest

    def _submit_direct(
        self,
        submission: Submission,
        answers: dict[str, Any],
        paradata: dict[str, Any] | None,
        digest: str,
    ) -> SubmitResult:
        """:meth:`submit` in the calling thread, one transaction per ballot."""
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
        try:
            with self._tx(write=True) as connection:
                return self._store_ballot(connection, submission, answers, paradata, digest)
        except sa.exc.IntegrityError:
            # the same UUID committed by another writer between our check and insert (PostgreSQL)
            with self._tx(write=False) as connection:
                stored = self._stored(connection, submission.uuid)
            if stored is None:
                raise
            return self._resent(submission, stored, digest)

    def _store_ballot(
        self,
        connection: Connection,
        submission: Submission,
        answers: dict[str, Any],
        paradata: dict[str, Any] | None,
        digest: str,
    ) -> SubmitResult:
        """Check and insert one ballot inside the caller's write transaction (not committed)."""
        d = t.drafts
        lookup, insert, end_draft = _ballot_statements()
        keys = {"uuid": submission.uuid, "meeting": submission.meeting_id}
        row: Any = connection.execute(lookup, keys).one()
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
            require=submission.mode != "paper",
        )
        if problems:
            raise AnswerError(problems, source=f"ballot {submission.uuid}")
        # 4. the one-time code, the ballot and the end of its draft: one transaction
        now = _now()
        if row.needs_code or submission.ballot_code is not None:
            self._use_code(connection, submission, anonymous=survey.settings.anonymous, now=now)
        connection.execute(
            insert,
            {
                "submission_id": submission.uuid,
                "meeting_id": meeting.meeting_id,
                "instrument_id": meeting.instrument_id,
                "instrument_version": meeting.instrument_version,
                "device": submission.device,
                "started_at": submission.started_at,
                "submitted_at": submission.submitted_at,
                "stored_at": now,
                "status": "valid",
                "void_reason": None,
                "answers": answers,
                "paradata": paradata,
                "answers_hash": digest,
                "mode": submission.mode,
            },
        )
        store_repeat_rows(connection, submission.uuid, survey, answers)
        if row.has_draft:
            connection.execute(end_draft, keys)
        return SubmitResult(submission.uuid, meeting.meeting_id, "stored", now)

    @staticmethod
    def _check_open(meeting: Meeting) -> None:
        if meeting.status != "open":
            raise StoreError(
                f"meeting `{meeting.meeting_id}` is not open and takes no ballots; nothing was "
                f"stored. Open it with `sanhui meeting open {meeting.meeting_id}` if it is "
                "prepared (a meeting closed and counted cannot be reopened)."
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
        owner: str,
        uuid: str,
        answers: Mapping[str, Any],
        *,
        meeting_id: str | None = None,
    ) -> Draft:
        """Save a half-filled ballot under an opaque ``owner`` key (one draft per key; a new save
        replaces it).

        ``owner`` is whatever the caller keys drafts by: the meeting server gives each browser a
        random session token, so that a draft is restored only to the browser that saved it (a
        tablet's label would let any browser claiming it read the draft); keep the label in
        ``answers`` (the form's state) or the ballot's paradata. At most 100 characters.

        The state must be JSON with valid Unicode and no control characters, and at most
        :data:`~toolkit.store.guard.MAX_BALLOT_BYTES` of it, the cap of a submission; otherwise
        :class:`~toolkit.errors.AnswerError` and nothing is saved.

        ``meeting_id`` ties the draft (and so the ballot UUID) to a meeting: a submission of that UUID
        for another meeting is then rejected. The draft is deleted when its ballot is stored, in the
        ballot's own transaction.

        Drafts are saved on every tap, so they are written without waiting for the disk: on SQLite
        through connections with ``synchronous=NORMAL`` (WAL: a saved draft survives a killed
        process, a power cut may lose the last ones), on PostgreSQL with
        ``synchronous_commit=off``. Ballots keep the full guarantee (:meth:`submit`). With the
        single writer (:mod:`toolkit.store.writer`) the save is queued and committed together
        with the other drafts waiting at the same moment; the call returns after that commit.
        """
        uuid = normalize_uuid(uuid)
        _check_owner(owner)
        try:
            payload = _json_ready(answers)
            check_payload(payload, where=f"draft of ballot {uuid}")
        except (TypeError, ValueError) as error:
            raise ParameterError(f"`answers` cannot be stored as JSON ({error}).") from None
        now = _now()
        values = {
            "owner": owner,
            "uuid": uuid,
            "meeting": meeting_id,
            "answers": payload,
            "updated_at": now,
        }
        check, upsert = _draft_statements(self.dialect)

        def write(connection: Connection) -> None:
            row = connection.execute(check, values).one()
            if meeting_id is not None and not row.meeting_known:
                self._meeting(connection, meeting_id)  # raises, with a hint
            if row.ballot_stored:
                raise StoreError(
                    f"ballot {uuid} is already stored, so it cannot be a draft; start a new ballot "
                    "with a new UUID."
                )
            connection.execute(upsert, values)

        if self._single_writer:  # queued with the ballots: committed in groups, in turn
            self._ballot_writer().save_draft(write, what=f"draft of ballot {uuid}")
        else:
            with self._tx(write=True, draft=True) as connection:
                write(connection)
        return Draft(owner, uuid, meeting_id, payload, now)

    def load_draft(self, owner: str) -> Draft | None:
        """The draft saved under ``owner`` (see :meth:`save_draft`), or ``None``."""
        with self._tx(write=False) as connection:
            row = connection.execute(sa.select(t.drafts).where(t.drafts.c.device == owner)).first()
        if row is None:
            return None
        return Draft(row.device, row.submission_id, row.meeting_id, row.answers, row.updated_at)

    def discard_draft(self, owner: str, *, uuid: str | None = None) -> bool:
        """Delete ``owner``'s draft (only if it is for ``uuid``, when given). True if one was."""
        d = t.drafts
        query = sa.delete(d).where(d.c.device == owner)
        if uuid is not None:
            query = query.where(d.c.submission_id == normalize_uuid(uuid))
        with self._tx(write=True, draft=True) as connection:
            return bool(connection.execute(query).rowcount)


def _check_owner(owner: Any) -> None:
    if not isinstance(owner, str) or not owner or len(owner) > 100:
        raise ParameterError(
            f"`owner` (the draft's key) must be a text of 1 to 100 characters; got {owner!r:.120}."
        )
    if not owner.isprintable():
        raise ParameterError("`owner` (the draft's key) must hold printable characters only.")


@functools.cache
def _draft_statements(dialect: str) -> tuple[Any, Any]:
    """The statements of :meth:`BallotsMixin.save_draft`, built once per dialect with bound
    parameters (as for ballots: building them cost more than running them)."""
    d = t.drafts
    meeting: Any = sa.bindparam("meeting")
    uuid: Any = sa.bindparam("uuid")
    check = sa.select(
        sa.exists().where(t.meetings.c.meeting_id == meeting).label("meeting_known"),
        sa.exists().where(t.submissions.c.submission_id == uuid).label("ballot_stored"),
    )
    insert = _dialect_insert(dialect, d).values(
        device=sa.bindparam("owner"),  # the column keeps its old name: it holds the owner key
        submission_id=uuid,
        meeting_id=meeting,
        answers=sa.bindparam("answers", type_=d.c.answers.type),
        updated_at=sa.bindparam("updated_at", type_=d.c.updated_at.type),
    )
    upsert = insert.on_conflict_do_update(
        index_elements=[d.c.device],
        set_={
            name: insert.excluded[name]
            for name in ("submission_id", "meeting_id", "answers", "updated_at")
        },
    )
    return check, upsert


@functools.cache
def _ballot_statements() -> tuple[sa.Select[Any], sa.Insert, sa.Delete]:
    """The statements of :meth:`BallotsMixin._store_ballot`, built once with bound parameters
    ``uuid`` and ``meeting`` (building them per ballot cost more CPU than running them)."""
    m, d, s = t.meetings, t.drafts, t.submissions
    uuid: Any = sa.bindparam("uuid")
    meeting: Any = sa.bindparam("meeting")

    def stored_column(column: sa.Column[Any], label: str) -> Any:
        query = sa.select(column).where(s.c.submission_id == uuid)
        return query.scalar_subquery().label(label)

    one = sa.select(sa.literal(1).label("one")).subquery("one")
    # one round trip: the stored ballot (if any), the meeting, and its codes and drafts
    lookup = sa.select(
        stored_column(s.c.meeting_id, "stored_meeting"),
        stored_column(s.c.answers_hash, "stored_hash"),
        stored_column(s.c.stored_at, "stored_time"),
        m,
        sa.exists().where(t.ballot_codes.c.meeting_id == m.c.meeting_id).label("needs_code"),
        sa.exists().where(d.c.submission_id == uuid).label("has_draft"),
        sa.exists()
        .where(
            d.c.submission_id == uuid,
            d.c.meeting_id.is_not(None),
            d.c.meeting_id != m.c.meeting_id,
        )
        .label("draft_elsewhere"),
    ).select_from(one.outerjoin(m, m.c.meeting_id == meeting))
    end_draft = sa.delete(d).where(d.c.submission_id == uuid)
    return lookup, sa.insert(s), end_draft
