"""A meeting's online window: when residents may answer its ballot from their phones.

``sanhui serve --online`` serves the ballot over the internet only between ``opens_at`` and
``closes_at`` (kept in UTC); before, the link says when it opens, after, that it has closed.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import sqlalchemy as sa

from toolkit.errors import ParameterError
from toolkit.store import codes as ballot_codes
from toolkit.store import schema as t
from toolkit.store._common import _now
from toolkit.store.core import StoreBase

__all__ = ["CodeStatus", "OnlineMixin", "OnlineWindow", "WindowState"]

WindowState = Literal["before", "open", "closed", "none"]
#: pictures of a plan: how many, and how large each (a phone on a mobile network loads them)
MAX_IMAGES = 8
MAX_IMAGE_BYTES = 600 * 1024
CodeStatus = Literal["usable", "used", "unknown"]


@dataclass(frozen=True)
class OnlineWindow:
    """When a meeting takes ballots online (aware datetimes, UTC).

    >>> w = OnlineWindow("m1", datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC))
    >>> w.state(datetime(2026, 2, 28, tzinfo=UTC)), w.state(datetime(2026, 3, 8, tzinfo=UTC))
    ('before', 'closed')
    """

    meeting_id: str
    opens_at: datetime
    closes_at: datetime
    #: the plan residents read before the positions (a hearing online, 云听证)
    plan_text: str | None = None
    #: its pictures: ``(media type, base64 data)`` pairs, PNG or JPEG
    plan_images: tuple[tuple[str, str], ...] = ()

    def state(self, now: datetime | None = None) -> WindowState:
        """``before`` the opening, ``open`` from the opening up to (not at) the closing,
        ``closed`` from the closing on."""
        now = now or _now()
        if now < self.opens_at:
            return "before"
        return "open" if now < self.closes_at else "closed"


def _aware(value: datetime | str, name: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ParameterError(
                f"`{name}` must be a date and time such as 2026-03-01T08:00+08:00; got {value!r}."
            ) from None
    if not isinstance(value, datetime):
        raise ParameterError(
            f"`{name}` must be a datetime or ISO text; got {type(value).__name__}."
        )
    if value.tzinfo is None:
        raise ParameterError(
            f"`{name}` has no time zone ({value.isoformat()}); give one, e.g. +08:00 for Shanghai."
        )
    return value.astimezone(UTC)


def _image_type(data: bytes, number: int) -> str:
    """``image/png`` or ``image/jpeg`` by the file's first bytes (other files are refused).

    >>> _image_type(b"\\x89PNG\\r\\n\\x1a\\n...", 1)
    'image/png'
    """
    if not isinstance(data, bytes) or len(data) > MAX_IMAGE_BYTES:
        raise ParameterError(
            f"plan picture {number} is larger than {MAX_IMAGE_BYTES // 1024} KB; shrink it "
            "(phones load it over the mobile network)."
        )
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    raise ParameterError(f"plan picture {number} is not a PNG or JPEG file; save it as one.")


class OnlineMixin(StoreBase):
    """The online windows of :class:`~toolkit.store.Store`."""

    def _codes_key(self) -> bytes:  # the ballot-code key, from BallotsMixin in the Store
        raise NotImplementedError

    def set_online_window(
        self, meeting_id: str, opens_at: datetime | str, closes_at: datetime | str
    ) -> OnlineWindow:
        """Set (or move) when ``meeting_id`` takes ballots online; times need a time zone."""
        opens = _aware(opens_at, "opens_at")
        closes = _aware(closes_at, "closes_at")
        if closes <= opens:
            raise ParameterError(
                f"the online window of meeting `{meeting_id}` closes ({closes.isoformat()}) before "
                f"it opens ({opens.isoformat()}); give a closing time after the opening time."
            )
        table = t.online_windows
        with self._tx(write=True) as connection:
            self._meeting(connection, meeting_id)  # raises for an unknown meeting
            moved = connection.execute(
                sa.update(table)
                .where(table.c.meeting_id == meeting_id)
                .values(opens_at=opens, closes_at=closes)
            )
            if moved.rowcount == 0:  # a new window (moving one keeps its plan)
                connection.execute(
                    sa.insert(table).values(meeting_id=meeting_id, opens_at=opens, closes_at=closes)
                )
        window = self.online_window(meeting_id)
        assert window is not None
        return window

    def online_window(self, meeting_id: str) -> OnlineWindow | None:
        """The meeting's online window, or ``None`` if it has none (then it is not served online)."""
        table = t.online_windows
        with self._tx(write=False) as connection:
            row = connection.execute(
                sa.select(
                    table.c.opens_at, table.c.closes_at, table.c.plan_text, table.c.plan_images
                ).where(table.c.meeting_id == meeting_id)
            ).first()
        if row is None:
            return None
        images = tuple((str(i["type"]), str(i["data"])) for i in row[3] or [])
        return OnlineWindow(meeting_id, row[0], row[1], row[2], images)

    def set_online_plan(
        self, meeting_id: str, text: str, images: Sequence[bytes] = ()
    ) -> OnlineWindow:
        """The plan residents read online before they give their positions (云听证): plain text
        (shown as typed, never as HTML) and up to :data:`MAX_IMAGES` PNG or JPEG pictures of at
        most :data:`MAX_IMAGE_BYTES` each. Set the window first."""
        if not isinstance(text, str) or not text.strip() or len(text) > 20_000:
            raise ParameterError(
                f"the plan of meeting `{meeting_id}` must be a text of 1 to 20000 characters."
            )
        if len(images) > MAX_IMAGES:
            raise ParameterError(
                f"the plan of meeting `{meeting_id}` has {len(images)} pictures; at most "
                f"{MAX_IMAGES} fit on a phone page. Choose the most telling ones."
            )
        stored = [
            {"type": _image_type(data, n), "data": base64.b64encode(data).decode("ascii")}
            for n, data in enumerate(images, start=1)
        ]
        table = t.online_windows
        with self._tx(write=True) as connection:
            done = connection.execute(
                sa.update(table)
                .where(table.c.meeting_id == meeting_id)
                .values(plan_text=text.strip(), plan_images=stored)
            )
            if done.rowcount != 1:
                raise ParameterError(
                    f"meeting `{meeting_id}` has no online window; set it first "
                    "(`sanhui online window`), then its plan."
                )
        window = self.online_window(meeting_id)
        assert window is not None
        return window

    def online_state(self, meeting_id: str, now: datetime | None = None) -> WindowState:
        """``none`` without a window, else :meth:`OnlineWindow.state`."""
        window = self.online_window(meeting_id)
        return "none" if window is None else window.state(now)

    def ballot_code_status(self, meeting_id: str, code: str) -> CodeStatus:
        """Whether a one-time code of ``meeting_id`` can still vote (``usable``), has voted
        (``used``: the phone says so), or was never issued for it (``unknown``)."""
        b = t.ballot_codes
        with self._tx(write=False) as connection:
            row = connection.execute(
                sa.select(b.c.meeting_id, b.c.used_at).where(
                    ballot_codes.code_digests(b, self._codes_key(), code)
                )
            ).first()
        if row is None or row.meeting_id != meeting_id:
            return "unknown"
        return "usable" if row.used_at is None else "used"
