"""toolkit.store.frozen: a closed meeting is refused (closing re-exports the same names)."""

from __future__ import annotations

from toolkit.store import closing, frozen


def test_closing_offers_the_same_names() -> None:
    assert closing.FrozenMeetingError is frozen.FrozenMeetingError
    assert closing.is_frozen is frozen.is_frozen
    assert closing.refuse_if_frozen is frozen.refuse_if_frozen
