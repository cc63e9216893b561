"""plan_meeting / create_planned_meeting / edit_meeting beyond the command line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from tests.meeting_support import EVALUATION
from toolkit.errors import ConflictError, MeetingSetupError
from toolkit.instrument.loader import load_survey
from toolkit.store import Store
from toolkit.store.meeting_setup import (
    create_planned_meeting,
    edit_meeting,
    meeting_settings,
    plan_meeting,
)


def test_plan_from_objects_and_one_transaction(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    survey = load_survey(EVALUATION)
    roster = pd.DataFrame([{"name": "王芳", "room": "3-201", "role": "resident_rep"}])
    plan = plan_meeting(
        store,
        meeting_id="m1",
        kind="evaluation",
        title="评议会",
        instrument=survey,
        subjects=[{"id": "wuye", "label_zh": "物业公司"}],
        roster=roster,
        rule="plurality",
        codes=3,
    )
    meeting = create_planned_meeting(store, plan)
    assert meeting_settings(store, "m1") == {"rule": "plurality", "codes": 3}
    assert len(store.roster("m1")) == 1
    with pytest.raises(ConflictError, match="already exists; nothing was written"):
        create_planned_meeting(store, dataclasses.replace(plan, title="again"))
    assert store.meeting("m1") == meeting and len(store.roster("m1")) == 1
    changed = dataclasses.replace(
        survey.settings, title=dataclasses.replace(survey.settings.title, zh="改过的测评表")
    )
    with pytest.raises(MeetingSetupError, match="already stored with other content"):
        plan_meeting(
            store,
            meeting_id="m2",
            kind="evaluation",
            title="评议会",
            instrument=dataclasses.replace(survey, settings=changed),
            subjects=["wuye=物业公司"],
        )
    with pytest.raises(MeetingSetupError, match="majority of all members needs the number"):
        plan_meeting(
            store,
            meeting_id="m2",
            kind="evaluation",
            title="评议会",
            instrument=survey,
            subjects=["wuye=物业"],
            rule="majority_of_members",
        )
    with pytest.raises(MeetingSetupError, match="a hearing meeting has no verdict"):
        plan_meeting(
            None,
            meeting_id="h1",
            kind="hearing",
            title="听证会",
            instrument=EVALUATION.parent / "hearing.yaml",
            rule="plurality",
        )
    with pytest.raises(MeetingSetupError, match="field `status`: cannot be edited"):
        edit_meeting(store, "m1", status="open")
    assert edit_meeting(store, "m1", codes=5).status == "closed"
    assert meeting_settings(store, "m1")["codes"] == 5
    store.close()
