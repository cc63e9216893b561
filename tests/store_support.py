"""Shared helpers of the store tests and of the crash-test child process (not a test module)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.ci_support import in_ci, skip_or_fail
from toolkit.instrument.model import (
    Choice,
    ChoiceList,
    GridItem,
    Page,
    Question,
    Settings,
    Survey,
    Text,
)
from toolkit.store import Store

ROOT = Path(__file__).resolve().parents[1]

SUBJECTS = (
    {"id": "wuye", "label_zh": "物业公司", "label_en": "Property management"},
    {"id": "juweihui", "label_zh": "居委会", "label_en": "Residents' committee"},
)


def make_survey(version: str = "1", *, anonymous: bool = True, extra_item: bool = False) -> Survey:
    """A small evaluation ballot built directly from the model (no YAML)."""
    satisfaction = ChoiceList(
        "satisfaction",
        (
            Choice("satisfied", Text("满意", "Satisfied"), 100.0),
            Choice("basically_satisfied", Text("基本满意", "Basically satisfied"), 60.0),
            Choice("dissatisfied", Text("不满意", "Dissatisfied"), 0.0),
        ),
        ordered=True,
    )
    roles = ChoiceList(
        "roles",
        (
            Choice("resident_rep", Text("居民代表", "Resident representative")),
            Choice("party_member", Text("党员", "Party member")),
            Choice("other", Text("其他", "Other")),
        ),
    )
    issues = ChoiceList(
        "issues",
        (
            Choice("attitude_issue", Text("工作态度", "Attitude")),
            Choice("slow_response", Text("响应慢", "Slow response")),
            Choice("other", Text("其他", "Other")),
        ),
    )
    items = [
        GridItem("attitude", Text("工作态度", "Attitude"), allow_dont_know=True),
        GridItem("overall", Text("总体评价", "Overall")),
    ]
    if extra_item:
        items.insert(
            1, GridItem("efficiency", Text("办事效率", "Efficiency"), allow_dont_know=True)
        )
    ratings = Question(
        "ratings",
        "grid",
        Text("请评价", "Please rate"),
        required=True,
        choices="satisfaction",
        items=tuple(items),
        per_subject=True,
    )
    pages = (
        Page("ratings", Text("评价", "Ratings"), (ratings,)),
        Page(
            "more",
            Text("其他", "More"),
            (
                Question(
                    "rectify", "multiple", Text("需要整改的问题", "To rectify"), choices="issues"
                ),
                Question("comments", "text", Text("意见和建议", "Comments")),
                Question("role", "single", Text("身份", "Role"), choices="roles"),
                Question(
                    "building",
                    "integer",
                    Text("楼号", "Building"),
                    constraint=". >= 1 and . <= 200",
                ),
                Question("score", "decimal", Text("总分", "Score")),
            ),
        ),
    )
    settings = Settings(
        "evaltest", version, Text("测评表", "Ballot"), anonymous=anonymous, kind="evaluation"
    )
    return Survey(settings, pages, {"satisfaction": satisfaction, "roles": roles, "issues": issues})


def good_answers(i: int = 0, subjects: tuple[str, ...] = ("wuye", "juweihui")) -> dict[str, Any]:
    """A valid ballot; ``i`` varies the values deterministically."""
    scale = ("satisfied", "basically_satisfied", "dissatisfied")
    answers: dict[str, Any] = {}
    for k, subject in enumerate(subjects):
        answers[f"{subject}__attitude"] = scale[(i + k) % 3] if i % 4 else "dont_know"
        answers[f"{subject}__overall"] = scale[(i + 2 * k) % 3]
    answers["building"] = 1 + i % 12
    if i % 2 and i % 3:
        answers["rectify"] = ["slow_response", "other"] if i % 5 == 0 else ["slow_response"]
    return answers


def setup_meeting(store: Any, meeting_id: str = "m1", **kwargs: Any) -> Any:
    """Add the test instrument and an open evaluation meeting with the two usual subjects."""
    survey = kwargs.pop("survey", None) or make_survey()
    store.add_instrument(survey)
    options: dict[str, Any] = {
        "kind": "evaluation",
        "title": "2026年一季度评议会",
        "instrument": survey.id,
        "instrument_version": survey.version,
        "subjects": SUBJECTS,
        "community": "五里桥一居",
        "street": "五里桥街道",
        "district": "黄浦区",
        "date": "2026-03-01",
    }
    options.update(kwargs)
    return store.create_meeting(meeting_id, **options)


def new_uuid() -> str:
    return str(uuid.uuid4())


# --- PostgreSQL for the store tests: required in CI, skipped with a reason elsewhere -----------------

PG_URL = os.environ.get("SANHUI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# PostgreSQL stores key ballot codes with this variable (toolkit/store/codes.py); a test value
PG_CODE_SECRET = "test-secret-0123456789abcdef0123456789abcdef"
os.environ.setdefault("SANHUI_CODE_SECRET", PG_CODE_SECRET)


def _pg_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3):
            return None
    except Exception as error:  # any failure means "not reachable"
        return f"{type(error).__name__}: {error}".strip()


_PG_PROBLEM = _pg_problem()


def need_postgres() -> None:
    """Skip a test when PostgreSQL is unreachable, or fail it in CI (:func:`tests.ci_support.in_ci`)."""
    if _PG_PROBLEM is None:
        return
    skip_or_fail(
        f"PostgreSQL at {PG_URL} is unreachable ({_PG_PROBLEM})",
        "start PostgreSQL (or set SANHUI_TEST_PG) to run these tests.",
    )


# --- the store fixture (SQLite and PostgreSQL) and a row counter ----------------------------------


@pytest.fixture(
    name="store", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def store_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = Store.open(tmp_path / "sanhui.db")
        yield opened
        opened.close()
        return
    need_postgres()
    schema = f"sanhui_test_{uuid.uuid4().hex[:12]}"
    opened = Store.open(PG_URL, schema=schema)
    try:
        yield opened
    finally:
        opened.close()
        engine = sa.create_engine(PG_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def count(store: Store, table: sa.Table, *where: Any) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    if where:
        query = query.where(*where)
    with store.engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def require_postgres() -> None:
    """As :func:`need_postgres`, but any non-empty ``CI`` value (not only ``true``) requires the
    server: the PostgreSQL tests must run whenever ``CI`` is set."""
    if _PG_PROBLEM is not None and in_ci():
        pytest.fail(f"PostgreSQL at {PG_URL} is unreachable ({_PG_PROBLEM}); CI requires it.")
    need_postgres()
