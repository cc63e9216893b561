"""How the tests read the ``CI`` environment variable (not a test module).

``CI`` set to any non-empty value other than ``0`` or ``false`` (any case) means a CI run: there,
tests that need PostgreSQL, Chromium or the real XLSForms fail instead of skipping.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    """Whether this is a CI run (see the module docstring).

    >>> import os
    >>> for value in ("true", "1", "yes", "TRUE", "0", "false", "False", ""):
    ...     os.environ["CI"] = value
    ...     print(repr(value), in_ci())
    'true' True
    '1' True
    'yes' True
    'TRUE' True
    '0' False
    'false' False
    'False' False
    '' False
    >>> del os.environ["CI"]
    """
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def skip_or_fail(reason: str, fix: str) -> None:
    """Fail with ``reason`` in CI (nothing may be skipped there), else skip saying how to run it."""
    if in_ci():
        pytest.fail(f"{reason}; CI requires this test to run.")
    pytest.skip(f"{reason}; {fix}")
