"""The store seen from the tablet form: :class:`StoreBackend` adapts :class:`toolkit.store.Store` to
the small :class:`~toolkit.collect.form.FormBackend` protocol the form uses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from toolkit.store import Store, Submission

__all__ = ["StoreBackend"]


class StoreBackend:
    """Ballots, drafts and ballot codes of one store, for :class:`~toolkit.collect.form.SurveyForm`."""

    def __init__(self, store: Store, *, channel: Literal["tablet", "online"] = "tablet") -> None:
        self.store = store
        #: how the ballots come in: ``tablet`` at the meeting, ``online`` from a phone
        self.channel: Literal["tablet", "online"] = channel

    def submit_ballot(
        self,
        *,
        submission_id: str,
        meeting_id: str,
        answers: Mapping[str, Any],
        device: str | None,
        started_at: dt.datetime,
        submitted_at: dt.datetime,
        paradata: Mapping[str, Any],
        ballot_code: str | None,
    ) -> str:
        result = self.store.submit(
            Submission(
                uuid=submission_id,
                meeting_id=meeting_id,
                answers=dict(answers),
                device=device,
                started_at=started_at,
                submitted_at=submitted_at,
                paradata=dict(paradata),
                ballot_code=ballot_code,
                mode=self.channel,
            )
        )
        return str(result.status)

    def save_draft(
        self, *, device: str, submission_id: str, meeting_id: str, state: Mapping[str, Any]
    ) -> None:
        self.store.save_draft(device, submission_id, dict(state), meeting_id=meeting_id)

    def load_draft(self, *, device: str, meeting_id: str) -> dict[str, Any] | None:
        draft = self.store.load_draft(device)
        if draft is None or draft.meeting_id != meeting_id:
            return None
        return {"submission_id": draft.uuid, "state": dict(draft.answers)}

    def discard_draft(self, *, device: str, meeting_id: str) -> None:
        draft = self.store.load_draft(device)
        if draft is not None and draft.meeting_id == meeting_id:
            self.store.discard_draft(device, uuid=draft.uuid)

    def ballot_code_usable(self, *, meeting_id: str, code: str) -> bool:
        return self.store.ballot_code_usable(meeting_id, code)

    def ballot_code_status(self, *, meeting_id: str, code: str) -> str:
        """``usable``, ``used`` or ``unknown`` (the form says which)."""
        return self.store.ballot_code_status(meeting_id, code)
