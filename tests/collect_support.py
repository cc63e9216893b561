"""An in-memory stand-in for the store, with the FormBackend methods the tablet form uses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from toolkit.errors import ConflictError, StoreError


class MemoryBackend:
    """Keeps ballots and drafts in dictionaries; can be told to fail like a full disk."""

    def __init__(self, codes: tuple[str, ...] = ()) -> None:
        self.ballots: dict[str, dict[str, Any]] = {}
        self.drafts: dict[tuple[str, str], dict[str, Any]] = {}
        self.codes = {c: False for c in codes}
        self.fail_submit = False
        self.fail_draft = False
        self.submit_calls = 0

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
        self.submit_calls += 1
        if self.fail_submit:
            raise StoreError("database or disk is full")
        if submission_id in self.ballots:
            if self.ballots[submission_id]["answers"] != dict(answers):
                raise ConflictError("different answers")
            return "already_stored"
        if ballot_code is not None:
            if self.codes.get(ballot_code, True):
                raise StoreError("code used")
            self.codes[ballot_code] = True
        self.ballots[submission_id] = {
            "meeting_id": meeting_id,
            "answers": dict(answers),
            "device": device,
            "started_at": started_at,
            "submitted_at": submitted_at,
            "paradata": dict(paradata),
        }
        return "stored"

    def save_draft(
        self, *, device: str, submission_id: str, meeting_id: str, state: Mapping[str, Any]
    ) -> None:
        if self.fail_draft:
            raise StoreError("database is locked")
        self.drafts[(device, meeting_id)] = {
            "submission_id": submission_id,
            "state": _json_copy(state),
        }

    def load_draft(self, *, device: str, meeting_id: str) -> dict[str, Any] | None:
        return self.drafts.get((device, meeting_id))

    def discard_draft(self, *, device: str, meeting_id: str) -> None:
        self.drafts.pop((device, meeting_id), None)

    def ballot_code_usable(self, *, meeting_id: str, code: str) -> bool:
        return code in self.codes and not self.codes[code]


def _json_copy(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value))
