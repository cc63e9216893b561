"""Fixtures for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from toolkit.collect.attempts import set_shared_limiter


@pytest.fixture(autouse=True)
def fresh_attempt_limits() -> Iterator[None]:
    """Each test starts with no wrong codes counted in the process's shared attempt limiter."""
    set_shared_limiter(None)
    yield
    set_shared_limiter(None)
