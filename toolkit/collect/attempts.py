"""Limits on code attempts (staff access code, one-time ballot codes), per client, with a growing wait.

Built on the ``limits`` library (moving windows in its in-process memory storage), not on counters
of our own. The rule, per scope (``"access"``, ``"ballot"``) and per client (the address the server
passes; ``None`` is one bucket shared by every client):

- a client may try :data:`MAX_FAILURES` (5) codes; the 5th wrong code within an hour without a
  right one locks it out;
- the lockouts of a client within 24 hours wait :data:`WAITS`: 30 s, then 60 s, 120 s, 240 s,
  480 s, then 15 minutes for every further lockout;
- while locked out every attempt is refused **without looking at the code**, so the right code is
  refused too, and the page says 输入错误次数过多，请稍后再试 with the wait;
- a right code clears the client's count of wrong codes (not its lockouts of the day);
- every attempt takes its slot *before* the code is compared (:meth:`AttemptLimiter.begin`), so
  forged rapid clicks sent in parallel cannot get more than 5 codes checked per lockout;
- every lockout is logged (logger ``toolkit.collect.attempts``, level WARNING) with the scope, the
  client and the wait, never the code.

Over a day this leaves at most about 5 guesses per 15 minutes per client (480 per day): a chance of
about 1 in 2,000 per client and day against the 6-digit access code (10^6 values), and about 1 in
700 against 8-digit ballot codes (10^8 values) with 300 unused. Clients are told apart by address
only; the meeting's closed Wi-Fi (SECURITY.md) is what keeps their number small.

One limiter is shared by every page of the process (:func:`shared_limiter`); tests pass their own.

>>> limiter = AttemptLimiter(waits=(30,))
>>> def wrong():
...     limiter.begin("access", "10.0.0.7")
...     return limiter.failed("access", "10.0.0.7")
>>> [wrong() for _ in range(5)]             # the 5th wrong code locks for 30 s
[0.0, 0.0, 0.0, 0.0, 30.0]
>>> limiter.locked_for("access", "10.0.0.7") > 29
True
>>> limiter.begin("access", "10.0.0.8") is None      # another client is not affected
True
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence

from limits import (
    RateLimitItem,
    RateLimitItemPerDay,
    RateLimitItemPerMinute,
    RateLimitItemPerSecond,
)
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

__all__ = [
    "MAX_FAILURES",
    "WAITS",
    "AttemptLimiter",
    "Locked",
    "locked_message",
    "set_shared_limiter",
    "shared_limiter",
]

log = logging.getLogger(__name__)

#: Wrong codes in a row that lock a client out.
MAX_FAILURES = 5
#: Seconds of the 1st, 2nd, ... lockout of a client within 24 hours (the last one repeats).
WAITS: tuple[int, ...] = (30, 60, 120, 240, 480, 900)
_SHARED_BUCKET = "*"  # client None: one bucket for every client


class Locked(Exception):
    """Raised by :meth:`AttemptLimiter.begin` while a client is locked out; ``wait`` in seconds."""

    def __init__(self, wait: float) -> None:
        self.wait = wait
        super().__init__(f"locked out for {wait:.0f} s")


class AttemptLimiter:
    """Per-client code attempt limits with a growing wait (see the module docstring).

    Parameters
    ----------
    max_failures : int
        Wrong codes in a row that lock a client out.
    waits : sequence of int
        Seconds of successive lockouts within 24 hours; the last repeats.
    window_minutes : int
        Wrong codes older than this no longer count towards a lockout.
    """

    def __init__(
        self,
        *,
        max_failures: int = MAX_FAILURES,
        waits: Sequence[int] = WAITS,
        window_minutes: int = 60,
    ) -> None:
        if max_failures < 1 or not waits or min(waits) < 1:
            raise ValueError("max_failures and every wait must be at least 1.")
        self.max_failures = max_failures
        self.waits = tuple(int(w) for w in waits)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._tries: RateLimitItem = RateLimitItemPerMinute(max_failures, window_minutes)
        self._locks = [RateLimitItemPerSecond(1, w) for w in sorted(set(self.waits))]
        self._lockouts: RateLimitItem = RateLimitItemPerDay(10_000)
        self._guard = threading.Lock()  # begin/failed/succeeded are each one atomic step

    # --- the three calls around a code check ------------------------------------------------------

    def begin(self, scope: str, client: str | None) -> None:
        """Take an attempt slot before comparing a code; :class:`Locked` if none is left."""
        key = _key(client)
        with self._guard:
            wait = self._locked_for(scope, key)
            if wait > 0:
                raise Locked(wait)
            if not self._limiter.hit(self._tries, scope, key):
                # every slot is taken by attempts still being checked (parallel forged clicks)
                raise Locked(self._lock(scope, key))

    def failed(self, scope: str, client: str | None) -> float:
        """Record a wrong code; the lockout wait in seconds when this one locks, else 0."""
        key = _key(client)
        with self._guard:
            stats = self._limiter.get_window_stats(self._tries, scope, key)
            if stats.remaining > 0 or self._locked_for(scope, key) > 0:
                return 0.0
            return self._lock(scope, key)

    def succeeded(self, scope: str, client: str | None) -> None:
        """Record a right code: the client's wrong codes are forgiven."""
        with self._guard:
            self._limiter.clear(self._tries, scope, _key(client))

    # --- state ------------------------------------------------------------------------------------

    def locked_for(self, scope: str, client: str | None) -> float:
        """Seconds the client must still wait (0 when it may try)."""
        with self._guard:
            return self._locked_for(scope, _key(client))

    def _locked_for(self, scope: str, key: str) -> float:
        now = time.time()
        wait = 0.0
        for item in self._locks:
            if not self._limiter.test(item, scope, key):
                reset = self._limiter.get_window_stats(item, scope, key).reset_time
                wait = max(wait, reset - now)
        return wait

    def _lock(self, scope: str, key: str) -> float:
        self._limiter.hit(self._lockouts, scope, key)
        count = (
            self._lockouts.amount
            - self._limiter.get_window_stats(self._lockouts, scope, key).remaining
        )
        seconds = self.waits[min(count, len(self.waits)) - 1]
        item = next(i for i in self._locks if i.get_expiry() == seconds)
        self._limiter.hit(item, scope, key)
        self._limiter.clear(self._tries, scope, key)  # after the wait: a fresh count
        log.warning(
            "code attempts: %s locked out for %d s after %d wrong codes (scope %s, lockout %d "
            "in 24 h)",
            "every client" if key == _SHARED_BUCKET else f"client {key[2:]}",
            seconds,
            self.max_failures,
            scope,
            count,
        )
        return float(seconds)


def _key(client: str | None) -> str:
    return _SHARED_BUCKET if client is None else f"c:{client}"


def locked_message(wait: float, language: str = "zh") -> str:
    """The page's words for a lockout, with the wait (``"zh"``, ``"en"`` or ``"both"``).

    >>> locked_message(30)
    '输入错误次数过多，请稍后再试（请等待 30 秒）'
    >>> locked_message(95, "en")
    'Too many wrong codes. Please try again later (wait 2 min).'
    """
    seconds = max(1, math.ceil(wait))
    if seconds < 60:
        zh, en = f"{seconds} 秒", f"{seconds} s"
    else:
        minutes = math.ceil(seconds / 60)
        zh, en = f"{minutes} 分钟", f"{minutes} min"
    chinese = f"输入错误次数过多，请稍后再试（请等待 {zh}）"
    english = f"Too many wrong codes. Please try again later (wait {en})."
    if language == "en":
        return english
    if language == "both":
        return f"{chinese} {english}"
    return chinese


_shared: AttemptLimiter | None = None
_shared_guard = threading.Lock()


def shared_limiter() -> AttemptLimiter:
    """The process's one limiter, used by every page unless one is passed in."""
    global _shared
    with _shared_guard:
        if _shared is None:
            _shared = AttemptLimiter()
        return _shared


def set_shared_limiter(limiter: AttemptLimiter | None) -> None:
    """Replace the process's limiter (tests; ``None`` makes a fresh one on next use)."""
    global _shared
    with _shared_guard:
        _shared = limiter
