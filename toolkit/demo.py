"""The demo database: the synthetic demo bundle loaded into a store, and its summary.

``make run`` (``sanhui demo``, then ``sanhui serve``) and the notebooks use it. Everything is drawn
from :func:`toolkit.synth.make_demo` with a fixed seed, so every build is identical; the data are
synthetic and say so.

Besides the six past meetings of the bundle (closed, with their ballots and attendance) and six
cases (议题) followed from hearing to follow-up evaluation (:mod:`toolkit.synth.cases`), the demo has
one open evaluation meeting, :data:`LIVE_MEETING`, with an invited roster and no ballots yet: the one
``make run`` serves to the tablets.
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import os
import shutil
import sqlite3
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit.instrument import check_answers, load_survey
from toolkit.labels import SUBJECTS
from toolkit.store import Store, Subject, Submission
from toolkit.synth import DEMO_SEED, Demo, ballots_answers, make_demo
from toolkit.synth.cases import case_attendance, load_cases, make_cases

__all__ = [
    "LIVE_MEETING",
    "SUBJECT_LABELS",
    "SURVEYS_DIR",
    "build_demo",
    "demo_store",
    "report_store",
    "summary_text",
]

SURVEYS_DIR = Path(__file__).resolve().parents[1] / "surveys"

#: The open meeting ``make run`` serves.
LIVE_MEETING = "S01-C01-LIVE"

#: Labels of the evaluated subjects the generator uses.
SUBJECT_LABELS = {k: (v["zh"], v["en"]) for k, v in SUBJECTS.items()}

_INSTRUMENT = {"hearing": "hearing", "coordination": "coordination", "evaluation": "evaluation"}


def _subjects(ids: Any) -> list[Subject]:
    if ids is None or (isinstance(ids, float) and np.isnan(ids)):
        return []
    return [Subject(s, *SUBJECT_LABELS.get(s, (s, s))) for s in list(ids)]


def _participants(demo: Demo) -> pd.DataFrame:
    residents = demo.city.residents
    names = demo.city.names.set_index("participant_id")["name"]
    frame = pd.DataFrame(
        {
            "participant_id": residents["participant_id"].astype(object),
            "community": residents["community_id"].astype(object),
            "role": residents["role"].astype(object),
            "gender": residents["gender"].astype(object),
            "age_band": residents["age_band"].astype(object),
            "building": residents["building_no"].astype(str).astype(object),
            "floor_band": residents["floor_band"].astype(object),
            "household_id": residents["household_id"].astype(object),
            "party_member": residents["party_member"].astype(bool),
            "birth_year": (2025 - residents["age"]).astype(int),
        }
    )
    frame["name"] = frame["participant_id"].map(names).astype(object)
    frame["room"] = (
        residents["floor"].astype(str)
        + "0"
        + (residents.groupby("household_id").cumcount() % 4 + 1).astype(str)
    ).astype(object)
    return frame


def build_demo(store: Store, *, seed: int = DEMO_SEED) -> bool:
    """Load the demo bundle into an empty store; ``False`` (nothing done) if it is already there."""
    existing = store.meetings()
    if len(existing) and LIVE_MEETING in set(existing["meeting_id"]):
        return False
    demo = make_demo(seed=seed)
    paths = [*sorted(SURVEYS_DIR.glob("*.yaml")), *sorted(SURVEYS_DIR.glob("park/*.yaml"))]
    surveys = {path.stem: load_survey(path) for path in paths}
    for survey in surveys.values():
        store.add_instrument(survey)
    store.add_participants(_participants(demo))
    communities = demo.city.communities.set_index("community_id")
    for meeting in demo.meetings.to_dict("records"):
        meeting_id = str(meeting["meeting_id"])
        community = communities.loc[meeting["community_id"]]
        issued = meeting["ballots_issued"]
        store.create_meeting(
            meeting_id,
            kind=meeting["kind"],
            title=str(meeting["title"]),
            instrument=_INSTRUMENT[meeting["kind"]],
            subjects=_subjects(meeting["subjects"]),
            community=str(meeting["community_id"]),
            street=str(meeting["street_id"]),
            district=str(community["district"]),
            date=pd.Timestamp(meeting["date"]).date(),
            ballots_issued=None if pd.isna(issued) else int(issued),
            members=int(meeting["members"]),
        )
        roster = demo.attendance[demo.attendance["meeting_id"] == meeting_id]
        store.invite(meeting_id, [str(p) for p in roster.loc[roster["invited"], "participant_id"]])
        arrived = pd.Timestamp(meeting["starts_at"]).floor("us").to_pydatetime()
        for pid in roster.loc[roster["attended"], "participant_id"]:
            store.check_in(meeting_id, str(pid), at=arrived)
    _load_ballots(store, demo, surveys["evaluation"])
    for meeting_id in demo.meetings["meeting_id"]:
        store.close_meeting(meeting_id)
    district = str(demo.city.communities["district"].iloc[0])
    bundle = make_cases(demo.city, seed=seed)
    load_cases(
        store,
        bundle,
        labels=SUBJECT_LABELS,
        district=district,
        attendance=case_attendance(demo.city, bundle, seed=seed),
    )
    _live_meeting(store, demo)
    return True


def _load_ballots(store: Store, demo: Demo, evaluation: Any) -> None:
    ballots = demo.ballots
    subjects = demo.meetings.set_index("meeting_id")["subjects"]
    meta = ballots[
        ["submission_id", "meeting_id", "device", "started_at", "submitted_at", "status"]
    ]
    for row, answers in zip(meta.to_dict("records"), ballots_answers(ballots), strict=True):
        uuid, meeting_id = str(row["submission_id"]), str(row["meeting_id"])
        meeting_subjects = tuple(subjects[meeting_id])
        # a ballot with blanks in required items can only have come from paper, keyed in afterwards
        complete = not check_answers(evaluation, answers, subjects=meeting_subjects)
        store.submit(
            Submission(
                uuid=uuid,
                meeting_id=meeting_id,
                answers=answers,
                device=None if pd.isna(row["device"]) else str(row["device"]),
                started_at=pd.Timestamp(row["started_at"]).floor("us").to_pydatetime(),
                submitted_at=pd.Timestamp(row["submitted_at"]).floor("us").to_pydatetime(),
                mode="tablet" if complete else "paper",
            )
        )
        if row["status"] == "void":
            store.void(uuid, "作废：填写不规范（合成数据）")


def _live_meeting(store: Store, demo: Demo) -> None:
    community = demo.city.communities.iloc[0]
    store.create_meeting(
        LIVE_MEETING,
        kind="evaluation",
        title=f"{community['community_name']} 2026年度居委会、物业工作评议会",
        instrument="evaluation",
        subjects=_subjects(["juweihui", "wuye"]),
        community=str(community["community_id"]),
        street=str(community["street_id"]),
        district=str(community["district"]),
        date=dt.date(2026, 12, 5),
        ballots_issued=40,
        members=40,
    )
    residents = demo.city.residents
    local = residents[residents["community_id"] == community["community_id"]]
    invited = local.sort_values("participant_id")["participant_id"].head(40).tolist()
    store.invite(LIVE_MEETING, invited)


def _code_digest() -> str:
    """A digest of everything the demo database is made from (generator, glue, instruments, schema),
    so a cached file is rebuilt whenever any of it changes."""
    root = Path(__file__).resolve().parent
    sources = [
        *sorted((root / "synth").glob("*.py")),
        *sorted((root / "store").rglob("*.py")),
        root / "demo.py",
        *sorted(SURVEYS_DIR.glob("*.yaml")),
        *sorted(SURVEYS_DIR.glob("park/*.yaml")),
    ]
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def _cache_dir() -> Path:
    base = os.environ.get("SANHUI_CACHE") or os.environ.get("XDG_CACHE_HOME")
    return Path(base) / "sanhui" if base else Path.home() / ".cache" / "sanhui"


@cache
def _cached_demo_path(seed: int) -> Path:
    """The built demo database for ``seed``, shared by processes through a cache folder.

    Built once per machine and code version (about 6 s), then reused: notebooks and reports start
    in well under a second. Built into a temporary file and renamed, so concurrent builders never
    see a half-written file.
    """
    folder = _cache_dir()
    path = folder / f"demo-{seed}-{_code_digest()}.db"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        building = Path(scratch) / "demo.db"
        with Store.open(building) as store:
            build_demo(store, seed=seed)
        os.replace(building, path)
    return path


def demo_store(*, seed: int = DEMO_SEED) -> Store:
    """A fresh, private copy of the demo database (for notebooks and tests).

    The demo is built once per machine and code version into a cache folder (``SANHUI_CACHE``,
    else ``$XDG_CACHE_HOME/sanhui`` or ``~/.cache/sanhui``); each call copies it into a temporary
    folder removed when the process ends, so changes made through one store never reach another.
    """
    source = _cached_demo_path(seed)
    folder = Path(tempfile.mkdtemp(prefix="sanhui-demo-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    target = folder / "demo.db"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    target.chmod(0o600)
    return Store.open(target)


def report_store(database_url: str | None) -> Store:
    """The store the meeting report reads: the store at ``database_url``, or with ``None`` a
    private copy of the demo database (:func:`demo_store`).

    The report notebook calls this, so the report modules never import the demo themselves.
    """
    from toolkit.report.meeting import open_report_store

    return demo_store() if database_url is None else open_report_store(database_url)


def summary_text(store: Store, *, built: bool, url: str) -> str:
    """A readable summary of the meetings in a store (what ``make run`` prints)."""
    from toolkit.analysis import satisfaction_rates

    lines = [
        ("Built" if built else "Using")
        + f" the demo database at {url} (synthetic data, seed fixed).",
        "",
    ]
    meetings = store.meetings()
    attendance = store.attendance_table()
    for meeting in meetings.to_dict("records"):
        meeting_id = str(meeting["meeting_id"])
        roster = attendance[attendance["meeting_id"] == meeting_id]
        invited = int(roster["invited"].sum())
        came = int(roster["attended"].sum())
        head = (
            f"{meeting_id}  {meeting['date']}  {meeting['kind']:<12} {meeting['title']}"
            f"  [{meeting['status']}]"
        )
        lines.append(head)
        lines.append(
            f"    turnout {came}/{invited}" + (f" ({came / invited:.0%})" if invited else "")
        )
        if meeting["kind"] != "evaluation":
            continue
        responses = store.responses(meeting_id, include_void=True)
        valid = responses[responses["status"] == "valid"]
        lines[-1] += f"; ballots {len(responses)} returned, {len(valid)} valid"
        record = store.meeting(meeting_id)
        items = [f"{s.id}__overall" for s in record.subjects if f"{s.id}__overall" in valid]
        if len(valid) == 0 or not items:
            continue
        rates = satisfaction_rates(valid, items=items)
        broad = rates[rates["measure"] == "broad"].set_index("item")
        for subject in record.subjects:
            if f"{subject.id}__overall" not in broad.index:
                continue
            row = broad.loc[f"{subject.id}__overall"]
            lines.append(
                f"    {subject.label_zh:<6} 满意+基本满意 {row['estimate']:6.1%}"
                f"  (95% CI {row['ci_low']:.1%}–{row['ci_high']:.1%}, n={row['n']})"
            )
    return "\n".join(lines)
