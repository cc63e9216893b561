"""The one error family of the toolkit.

Every error a user can meet is a :class:`ToolkitError`. Messages name the place, the problem and the
fix, in that order, for example::

    surveys/evaluation.yaml, line 42, question `q_overall`, field `relevant`:
    unknown question `${q_atitude}`. Did you mean `q_attitude`?

Parameter errors share one wording (:func:`toolkit._checks.check_option` and friends)::

    `method` must be one of 'wilson', 'exact', 'agresti-coull', 'jeffreys', 'wald'; got 'wilsen'.

Every error has a stable ``code``: programs and tests match on it, never on the wording, which may
be improved at any time. Each class has its own (``E_PARAMETER``, ``E_STORE``, ...); a raise may give
a finer one (``check_option`` raises ``E_OPTION``, a ``ParameterError``)::

    >>> from toolkit._checks import check_option
    >>> try:
    ...     check_option("method", "wilsen", ("wilson", "exact"))
    ... except ToolkitError as error:
    ...     print(type(error).__name__, error.code)
    ParameterError E_OPTION
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "AnswerError",
    "BrowserError",
    "ConflictError",
    "ConvergenceError",
    "DataError",
    "FontError",
    "InstrumentError",
    "MeetingSetupError",
    "ParameterError",
    "Problem",
    "StoreError",
    "ToolkitError",
]


class ToolkitError(Exception):
    """Base class of every error the toolkit raises on purpose.

    ``code`` is the stable identifier of the kind of error: the class's own, or a finer one given
    when raising (``raise ParameterError(message, code="E_OPTION")``).
    """

    default_code: ClassVar[str] = "E_TOOLKIT"

    def __init__(self, *args: object, code: str | None = None) -> None:
        super().__init__(*args)
        self.code: str = code or self.default_code


class ParameterError(ToolkitError, ValueError):
    """A function was called with an argument it cannot accept (wrong option, out of range)."""

    default_code = "E_PARAMETER"


class DataError(ToolkitError, ValueError):
    """The data handed to a function cannot be analysed as asked (missing column, zero variance...)."""

    default_code = "E_DATA"


class ConvergenceError(ToolkitError, RuntimeError):
    """An iterative fit (raking, a model) did not converge; the message says what to try."""

    default_code = "E_CONVERGENCE"


@dataclass(frozen=True)
class Problem:
    """One located problem in an instrument, a submission or an import.

    ``where`` is a human-readable location ("surveys/evaluation.yaml, line 42, question `q_x`,
    field `relevant`"); ``message`` says what is wrong; ``fix`` says what to do, when obvious.
    ``field`` names the question/variable concerned, when there is one (forms use it to show the
    message beside the right question). ``code`` is a stable identifier of the kind of problem
    (``E_UNKNOWN_CHOICE_LIST``, ``E_DUPLICATE_ID``, ...; warnings start with ``W_``): programs and
    tests match on it, never on the wording, which may be improved at any time.
    """

    where: str
    message: str
    fix: str | None = None
    field: str | None = None
    code: str | None = None

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.fix:
            text += f" {self.fix}"
        return text


class _ProblemsError(ToolkitError):
    """An error that carries every problem found, not just the first."""

    headline = "problems found"

    def __init__(
        self, problems: Iterable[Problem], *, source: str | None = None, code: str | None = None
    ) -> None:
        self.problems: Sequence[Problem] = tuple(problems)
        self.source = source
        super().__init__(self._render(), code=code)

    def _render(self) -> str:
        count = len(self.problems)
        head = f"{self.source}: " if self.source else ""
        noun = "problem" if count == 1 else "problems"
        lines = [f"{head}{count} {noun} found ({self.headline}):"]
        lines += [f"  - {problem}" for problem in self.problems]
        return "\n".join(lines)


class InstrumentError(_ProblemsError):
    """A survey instrument (YAML or XLSForm) is invalid; ``problems`` lists every located problem."""

    headline = "the instrument cannot be used until each is fixed"
    default_code = "E_INSTRUMENT"


class MeetingSetupError(_ProblemsError):
    """A meeting's instrument, subjects, roster or options are invalid; nothing was written.

    ``problems`` lists every one, each located (file, sheet, row, column or option).
    """

    headline = "the meeting was not created or changed; nothing was written"
    default_code = "E_MEETING_SETUP"


class AnswerError(_ProblemsError):
    """A submission was rejected before anything was written; ``problems`` says which answers."""

    headline = "the ballot was not stored"
    default_code = "E_ANSWER"


class StoreError(ToolkitError):
    """The store cannot do what was asked (unknown meeting, database unreachable, disk full...)."""

    default_code = "E_STORE"


class ConflictError(StoreError):
    """A submission UUID is already stored with different answers; nothing was changed."""

    default_code = "E_CONFLICT"


class FontError(ToolkitError):
    """No font with Chinese glyphs could be found for the charts."""

    default_code = "E_FONT"


class BrowserError(ToolkitError, RuntimeError):
    """A headless browser (Chromium) is needed, for a PDF or a screenshot, and is not installed
    or did not do its job."""

    default_code = "E_BROWSER"
