"""Assert an error by its class and stable code, not its wording (not a test module)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from toolkit.errors import Problem, ToolkitError


@contextmanager
def raises_code(
    cls: type[ToolkitError], code: str, *, argument: str | None = None
) -> Iterator[Any]:
    """Like ``pytest.raises(cls)``, and the error's ``code`` is ``code``; with ``argument``, the
    message names that argument (`` `name` ``), so the error points at the right place."""
    with pytest.raises(cls) as info:
        yield info
    assert info.value.code == code, f"{info.value.code} != {code}: {info.value}"
    if argument is not None:
        assert f"`{argument}`" in str(info.value), str(info.value)


def problem_codes(found: Any) -> list[str | None]:
    """The codes of located problems, in order: of an error that carries them (its
    ``pytest.raises`` info, or the error itself) or of a list of :class:`Problem`.

    ``assert problem_codes(info) == ["E_REQUIRED"]`` says which problems, not how they are worded.
    """
    if isinstance(found, pytest.ExceptionInfo):
        found = found.value
    problems: Iterable[Problem] = found.problems if hasattr(found, "problems") else found
    return [problem.code for problem in problems]


@contextmanager
def raises_problems(cls: type[ToolkitError], *codes: str) -> Iterator[Any]:
    """Like ``pytest.raises(cls)``, and the error carries problems with exactly ``codes``, in
    order (an :class:`~toolkit.errors.AnswerError`, ``InstrumentError``, ``MeetingSetupError``)."""
    with pytest.raises(cls) as info:
        yield info
    assert problem_codes(info) == list(codes), str(info.value)
