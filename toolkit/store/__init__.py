"""The durable ballot store: SQLite or PostgreSQL through SQLAlchemy 2 Core, Alembic migrations.

>>> from toolkit.store import Store
>>> with Store.open("sqlite://") as store:
...     store.meetings().shape[0]
0
"""

from __future__ import annotations

from toolkit.store.records import (
    Attendance,
    Draft,
    InstrumentRef,
    Meeting,
    Subject,
    Submission,
    SubmitResult,
)
from toolkit.store.store import (
    DEFAULT_PATH,
    PARTICIPANT_COLUMNS,
    Store,
    answers_hash,
    default_url,
)
from toolkit.store.turns import Turn

__all__ = [
    "DEFAULT_PATH",
    "PARTICIPANT_COLUMNS",
    "Attendance",
    "Draft",
    "InstrumentRef",
    "Meeting",
    "Store",
    "Subject",
    "Submission",
    "SubmitResult",
    "Turn",
    "answers_hash",
    "default_url",
]
