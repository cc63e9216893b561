"""Tests of toolkit.store.hashing: the canonical answers hash.

Every store test runs on SQLite and on PostgreSQL (127.0.0.1:5432, database ``test``, a fresh schema
per test); see tests/store_support.py for when PostgreSQL tests are skipped.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.store import answers_hash

# --- canonical hash ---------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(
            st.text(max_size=5),
            st.integers(),
            st.lists(st.text(max_size=4), max_size=4, unique=True),
        ),
        max_size=6,
    ),
    st.randoms(use_true_random=False),
)
def test_answers_hash_ignores_order(answers: dict[str, Any], rng: Any) -> None:
    items = list(answers.items())
    rng.shuffle(items)
    shuffled = {k: (rng.sample(v, len(v)) if isinstance(v, list) else v) for k, v in items}
    assert answers_hash(shuffled) == answers_hash(answers)
