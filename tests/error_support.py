"""Assert an error by its class and stable code, not its wording (not a test module)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from toolkit.errors import ToolkitError


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
