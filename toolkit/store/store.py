"""The durable ballot store: one :class:`Store` over SQLAlchemy 2 Core, SQLite or PostgreSQL.

Every ballot is

- **durable**: one transaction per submission (on SQLite, one per group of concurrent submissions,
  each ballot under its own savepoint: :mod:`~toolkit.store.writer`); on SQLite the journal is WAL
  with ``synchronous=FULL``, so a ballot acknowledged by :meth:`Store.submit` survives a killed
  process or a power cut (drafts, saved on every tap, are written without an fsync: see
  :meth:`Store.save_draft`);
- **idempotent**: the client makes the ballot's UUID once and resends it until acknowledged; the same
  UUID with the same answers is a no-op (``"already_stored"``), with other answers a
  :class:`~toolkit.errors.ConflictError` that changes nothing;
- **anonymous**: submissions never reference a participant; names live only in
  ``participant_names`` (read by sign-in search alone); ballot codes keep only a keyed hash and,
  for anonymous instruments, no link to the ballot and only the day of use.

The schema is built and upgraded by the Alembic migrations shipped in ``toolkit/store/migrations``
whenever a store is opened, so a database made by an older release opens with newer code.

:class:`Store` is one facade over the parts of this package, each a small module:

- :mod:`~toolkit.store.engine`: URLs, engines and migrations;
- :mod:`~toolkit.store.hashing`: canonical answers and their hash;
- :mod:`~toolkit.store.core`: opening, transactions and instruments;
- :mod:`~toolkit.store.meetings` and :mod:`~toolkit.store.roster`: meetings, participants, attendance;
- :mod:`~toolkit.store.ballots`: ballot codes, ballots and drafts;
- :mod:`~toolkit.store.writer`: the single writer thread that commits concurrent ballots and drafts
  in groups;
- :mod:`~toolkit.store.codes`: ballot codes as HMAC-SHA256 under a secret outside the database;
- :mod:`~toolkit.store.guard`: size and Unicode bounds on ballots and drafts;
- :mod:`~toolkit.store.reads` and :mod:`~toolkit.store.counts`: the response tables and counts;
- :mod:`~toolkit.store.repeats`: repeat groups' answers as child rows and their long table;
- :mod:`~toolkit.store.cases`: cases (议题), their meetings in order and rectification items.

Examples
--------
>>> store = Store.open("sqlite://")          # in memory; the default is data/sanhui.db
>>> store.schema_revision
'0011_repeats'
>>> store.close()
"""

from __future__ import annotations

from toolkit.store._common import (  # noqa: F401  (re-exported for existing imports)
    _SURVEYS_BY_HASH,
    PARTICIPANT_COLUMNS,
    Labels,
    _check_answers,
    _dump_survey,
    _loads_survey,
)
from toolkit.store.ballots import BallotsMixin
from toolkit.store.cases import CaseStoreMixin
from toolkit.store.counts import RatingCountsMixin
from toolkit.store.engine import (  # noqa: F401  (re-exported for existing imports)
    _SQLITE_BUSY_MS,
    DEFAULT_PATH,
    _normalize_url,
    alembic_config,
    create_engine,
    default_url,
    upgrade_schema,
)
from toolkit.store.hashing import answers_hash
from toolkit.store.meetings import MeetingsMixin
from toolkit.store.online import OnlineMixin
from toolkit.store.records import (  # noqa: F401  (re-exported for existing imports)
    Attendance,
    Draft,
    InstrumentRef,
    Meeting,
    Subject,
    Submission,
    SubmitResult,
)
from toolkit.store.repeats import RepeatsMixin
from toolkit.store.roster import RosterMixin
from toolkit.store.turns import TurnsMixin

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


class Store(
    CaseStoreMixin,
    RatingCountsMixin,
    BallotsMixin,
    RosterMixin,
    MeetingsMixin,
    TurnsMixin,
    OnlineMixin,
    RepeatsMixin,
):
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
