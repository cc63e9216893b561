"""The three served apps outside the server (``display=False``) on a private copy of the demo store:
the store and meeting come from the environment as ``sanhui serve`` sets them, drafts are keyed by
the tablet's token (never its label), and the board shows one short line while the store fails."""

from __future__ import annotations

import re
import uuid

import ipywidgets as w
import pytest
import sqlalchemy as sa

from toolkit.analysis import satisfaction_rates
from toolkit.collect.app import (
    board_app,
    draft_key,
    form_app,
    reset_shared_store,
    shared_store,
    signin_app,
)
from toolkit.collect.board import REFRESH_FAILED, LiveBoard, board_figures, render_board_html
from toolkit.collect.gate import AccessGate
from toolkit.collect.guard import new_token
from toolkit.collect.signin import SignInPage
from toolkit.demo import LIVE_MEETING, demo_store
from toolkit.store import Store, Submission, schema

CODE = "246810"
ITEMS = ("attitude", "efficiency", "transparency", "responsiveness", "integrity", "results")


@pytest.fixture
def store(monkeypatch):
    """A private copy of the demo database, served to the apps through the environment."""
    store = demo_store()
    monkeypatch.setenv("SANHUI_DB", store.url)
    monkeypatch.setenv("SANHUI_MEETING", LIVE_MEETING)
    monkeypatch.setenv("SANHUI_ACCESS_CODE", CODE)
    reset_shared_store()
    yield store
    reset_shared_store()
    store.close()


def all_names(store: Store) -> list[str]:
    with store.engine.connect() as connection:
        return [r[0] for r in connection.execute(sa.text("SELECT name FROM participant_names"))]


def invited_name(store: Store) -> tuple[str, str]:
    """Name and id of someone invited to the live meeting who has not checked in."""
    roster = store.roster(LIVE_MEETING)
    pid = str(roster[roster["invited"] & ~roster["attended"]]["participant_id"].iloc[0])
    with store.engine.connect() as connection:
        name = connection.execute(
            sa.text("SELECT name FROM participant_names WHERE participant_id = :p"), {"p": pid}
        ).scalar_one()
    return str(name), pid


def ballot(overall: str, *, juweihui: str = "satisfied", wuye: str = "satisfied") -> dict:
    answers = {f"juweihui__{i}": juweihui for i in ITEMS} | {f"wuye__{i}": wuye for i in ITEMS}
    answers |= {"juweihui__overall": overall, "wuye__overall": wuye, "project_elevator": "no"}
    return answers


def submit(store: Store, answers: dict) -> None:
    store.submit(Submission(uuid=str(uuid.uuid4()), meeting_id=LIVE_MEETING, answers=answers))


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def html_of(widget) -> str:
    return " ".join(str(c.value) for c in walk(widget) if isinstance(c, w.HTML))


# ------------------------------------------------------------------------------------------ form
def test_form_app_serves_the_live_meeting_with_its_two_subjects(store):
    form = form_app(device="A7", display=False)
    assert form.meeting == LIVE_MEETING
    assert form.subject_ids == ("juweihui", "wuye")
    assert [p.key for p in form.pages][:2] == ["ratings__juweihui", "ratings__wuye"]
    assert form.device == "A7" and form.language == "zh" and form.screen == "page"
    assert "居委会" in html_of(form.root)


def test_every_page_shares_one_store(store):
    first, second = form_app(display=False), form_app(display=False)
    assert first.store.store is second.store.store is shared_store()  # type: ignore[union-attr]
    assert signin_app(display=False) is not None
    assert shared_store() is first.store.store  # type: ignore[union-attr]


def test_without_a_served_store_the_apps_say_how_to_preview(monkeypatch):
    monkeypatch.delenv("SANHUI_DB", raising=False)
    reset_shared_store()
    with pytest.raises(Exception, match=r"SANHUI_DB.*store="):
        form_app(display=False)
    preview = demo_store()
    try:
        form = form_app(store=preview, meeting=LIVE_MEETING, display=False)
        assert form.meeting == LIVE_MEETING and form.draft_key is None  # a preview keeps no draft
    finally:
        preview.close()


def test_form_app_rejects_a_strange_device_label_and_takes_english(store):
    form = form_app(device="../../etc", language="en", display=False)
    assert form.device is None
    assert form.language == "en"


def test_the_draft_belongs_to_the_token_not_to_the_label(store):
    token = new_token()
    first = form_app(device="B2", token=token, display=False)
    first.controls["juweihui__attitude"].buttons[2].click()  # 不满意
    again = form_app(device="B2", token=token, display=False)  # the same tablet reloads
    assert again.respondent.submission_id == first.respondent.submission_id
    assert again.controls["juweihui__attitude"].value == "dissatisfied"
    assert "sh-selected" in again.controls["juweihui__attitude"].buttons[2]._dom_classes
    # another browser with the same label, with or without a token of its own: a blank form
    for other in (
        form_app(device="B2", token=new_token(), display=False),
        form_app(device="B2", display=False),
    ):
        assert other.answers == {}
        assert other.respondent.submission_id != first.respondent.submission_id
        assert other.notice == ""
    # the store holds the draft under a hash of the token: not the label, not the token itself
    with store.engine.connect() as connection:
        keys = [r[0] for r in connection.execute(sa.text("SELECT device FROM drafts"))]
    assert keys == [draft_key(token)] and token not in keys[0] and "B2" not in keys[0]


def test_form_app_ballot_reaches_the_store(store):
    form = form_app(device="C3", token=new_token(), display=False)
    for subject in ("juweihui", "wuye"):
        for item in (*ITEMS, "overall"):
            form.controls[f"{subject}__{item}"].buttons[0].click()
        assert form.next()
    while form.screen == "page":
        assert form.next()
    form.buttons["submit"].click()
    assert form.screen == "thanks"
    responses = store.responses(LIVE_MEETING, include_void=True)
    assert len(responses) == 1
    assert responses["device"].iloc[0] == "C3"
    assert str(responses["wuye__overall"].iloc[0]) == "satisfied"
    with store.engine.connect() as connection:  # the ballot's draft is gone with it
        assert connection.execute(sa.text("SELECT count(*) FROM drafts")).scalar_one() == 0


# --------------------------------------------------------------------------------------- sign-in
def test_signin_gate_refuses_a_wrong_code_in_the_url(store):
    gate = signin_app(code="000000", client="10.0.0.7", display=False)
    assert gate.client == "10.0.0.7"
    assert isinstance(gate, AccessGate) and not gate.opened
    assert "访问码不正确" in gate.message.value
    assert not any(isinstance(c, SignInPage) for c in walk(gate))
    assert gate.try_code(CODE + " ") is True  # typed with a trailing space
    assert isinstance(gate.children[0], SignInPage)


def test_signin_gate_without_an_access_code_never_opens(store, monkeypatch):
    monkeypatch.setenv("SANHUI_ACCESS_CODE", "")
    gate = signin_app(display=False)
    assert gate.try_code("") is False and not gate.opened


def test_signin_search_check_in_and_turnout(store, monkeypatch):
    gate = signin_app(code=CODE, display=False)
    assert gate.opened
    page = gate.children[0]
    assert isinstance(page, SignInPage)
    before = page.update_turnout()
    name, pid = invited_name(store)
    page.search.value = name
    rows = page.results.children
    assert rows and name in html_of(page.results)
    buttons = [b for b in walk(page.results) if isinstance(b, w.Button) and not b.disabled]
    buttons[0].click()
    after = page.update_turnout()
    assert after["attended"] == before["attended"] + 1
    assert after["invited_attended"] == before["invited_attended"] + 1
    assert f"已签到 {after['attended']} 人" in page.turnout.value  # shown at once
    roster = store.roster(LIVE_MEETING).set_index("participant_id")
    assert bool(roster.loc[pid, "attended"])
    page.search.value = "不存在的名字"
    assert "没有找到" in html_of(page.results)


def test_signin_registers_a_walk_in_with_role_and_demographics(store, monkeypatch):
    page = signin_app(code=CODE, display=False).children[0]
    before = page.update_turnout()
    fields = page.walk_in_fields

    def tap(key: str, code: str) -> None:
        control = fields[key]
        control.buttons[[c for c, _ in control.options].index(code)].click()

    tap("role", "party_member")
    tap("gender", "female")
    tap("age_band", "70-79")
    tap("floor_band", "4-6")
    fields["building"].value = "12"
    pid = page.register_walk_in()
    assert pid is not None
    after = page.update_turnout()
    assert after["walk_ins"] == before["walk_ins"] + 1
    assert after["attended"] == before["attended"] + 1
    table = store.attendance_table(LIVE_MEETING).set_index("participant_id")
    row = table.loc[pid]
    assert (row["role"], row["gender"], row["age_band"], row["floor_band"]) == (
        "party_member",
        "female",
        "70-79",
        "4-6",
    )
    assert str(row["building"]) == "12" and bool(row["walk_in"]) and not bool(row["invited"])
    assert fields["role"].value is None and fields["building"].value == ""  # ready for the next


# ----------------------------------------------------------------------------------------- board
def test_board_figures_equal_satisfaction_rates(store):
    """On a past demo meeting (about 40 ballots): the board's numbers are the analysis numbers."""
    meetings = store.meetings()
    past = meetings[(meetings["kind"] == "evaluation") & (meetings["status"] == "closed")]
    meeting = str(past["meeting_id"].iloc[0])
    figures = board_figures(store, meeting)
    responses = store.responses(meeting, include_void=True)
    valid = responses[responses["status"] == "valid"]
    assert figures["received"] == len(responses) and figures["valid"] == len(valid)
    assert figures["void"] == len(responses) - len(valid)
    shown = 0
    for row in figures["subjects"]:
        column = f"{row['subject']}__overall"
        rates = satisfaction_rates(valid, items=[column], method="wilson", confidence=0.95)
        for measure in ("strict", "broad"):
            expected = rates[rates["measure"] == measure].iloc[0]
            assert row["n"] == int(expected["n"])
            if row["suppressed"]:
                continue
            got = row[measure]
            assert got["count"] == int(expected["count"])
            for key in ("estimate", "ci_low", "ci_high"):
                assert got[key] == pytest.approx(float(expected[key]), rel=1e-12)
            shown += 1
    assert shown >= 2
    text = render_board_html(figures)
    strict = next(s for s in figures["subjects"] if not s["suppressed"])["strict"]
    assert f"{100 * strict['estimate']:.0f}%" in text


def test_board_shows_the_ballots_of_each_channel(store):
    """Online ballots beside the tablet and paper ones: counts per channel, as stored."""
    meeting = "S01-C01-M02"
    s = schema.submissions
    with store.engine.begin() as connection:
        ids = connection.execute(
            sa.select(s.c.submission_id)
            .where(s.c.meeting_id == meeting, s.c.mode == "tablet")
            .order_by(s.c.submission_id)
        ).scalars()
        online = [i for k, i in enumerate(ids) if k % 2 == 0]
        connection.execute(sa.update(s).where(s.c.submission_id.in_(online)).values(mode="online"))
        connection.execute(sa.update(s).where(s.c.submission_id == online[0]).values(status="void"))
        stored = dict(
            connection.execute(
                sa.select(s.c.mode, sa.func.count())
                .where(s.c.meeting_id == meeting)
                .group_by(s.c.mode)
            ).all()
        )
    figures = board_figures(store, meeting)
    channels = {c["channel"]: c for c in figures["channels"]}
    assert [c["channel"] for c in figures["channels"]] == ["tablet", "paper", "online"]
    assert {c: channels[c]["received"] for c in channels} == stored
    assert channels["online"]["valid"] == stored["online"] - 1  # the void one
    assert channels["tablet"]["valid"] == stored["tablet"]
    assert sum(c["received"] for c in figures["channels"]) == figures["received"]
    text = render_board_html(figures)
    assert f'线上（手机） <span class="sh-big">{stored["online"]}</span>' in text
    assert f'现场平板 <span class="sh-big">{stored["tablet"]}</span>' in text
    assert "纸质票（录入）" in text


def test_board_suppresses_small_cells_and_shows_no_names(store, monkeypatch):
    for overall in ("satisfied", "dissatisfied", "basically_satisfied"):
        submit(store, ballot(overall))
    gate = board_app(code=CODE, display=False, interval=3600)
    board = gate.children[0]
    assert isinstance(board, LiveBoard)
    try:
        figures = board.figures
        assert figures["received"] == 3
        assert all(s["suppressed"] and s["n"] == 3 for s in figures["subjects"])
        assert "有效票不足 5 张" in board.view.value
        assert "95% CI" not in board.view.value  # no rate of a small cell anywhere
        for overall in ("satisfied", "satisfied", "dissatisfied"):
            submit(store, ballot(overall))
        figures = board.refresh()
        assert figures["received"] == 6 and not any(s["suppressed"] for s in figures["subjects"])
        juweihui = figures["subjects"][0]
        assert juweihui["strict"]["count"] == 3 and juweihui["broad"]["count"] == 4
        assert "已收选票" in board.view.value and "95% CI" in board.view.value
        # checked-in residents' names are in the store, never on the board
        name, pid = invited_name(store)
        store.check_in(LIVE_MEETING, pid)
        store.register_walk_in(
            LIVE_MEETING,
            role="resident",
            gender="male",
            age_band="60-69",
            building="3",
            name="测试现场居民",
        )
        board.refresh()
        shown = html_of(gate)
        names = all_names(store)
        assert "测试现场居民" in names and name in names
        leaked = [n for n in names if n and n in shown]
        assert leaked == [], f"names on the board: {leaked[:5]}"
    finally:
        board.stop()


def test_board_gate_refuses_a_wrong_code(store):
    gate = board_app(code="13579", display=False)
    assert not gate.opened
    assert not any(isinstance(c, LiveBoard) for c in walk(gate))


def test_a_failing_store_shows_one_short_line_however_often_the_board_refreshes(store, caplog):
    board = LiveBoard(store, LIVE_MEETING)
    shown = board.view.value
    store.close()  # every read now fails

    def broken(*_args, **_kwargs):
        raise RuntimeError("/secret/path/sanhui.db: database is locked")

    board.store = type("Broken", (), {"meeting": broken, "responses": broken})()  # type: ignore[assignment]
    for _ in range(5):
        board.refresh()
    assert board.view.value.count(REFRESH_FAILED) == 1
    assert "/secret/path" not in board.view.value and "database is locked" not in board.view.value
    assert board.view.value.startswith(shown[:40])  # the last figures stay on screen
    assert "database is locked" in caplog.text  # the details go to the log


def test_board_html_escapes_titles():
    figures = {
        "meeting": "m",
        "title": "<script>x</script>",
        "issued": None,
        "received": 0,
        "valid": 0,
        "void": 0,
        "invited": 0,
        "invited_attended": 0,
        "walk_ins": 0,
        "attended": 0,
        "subjects": [],
    }
    text = render_board_html(figures)
    assert "<script>" not in text and re.search(r"&lt;script&gt;", text)
