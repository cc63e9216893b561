"""Double entry of paper ballots through the keying widget, driven at the widget level."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from tests.meeting_support import EVALUATION
from toolkit.collect.keying import KeyingApp, paper_ballot_uuid
from toolkit.instrument.paper import answers_from_keys
from toolkit.store import Store, schema
from toolkit.store.closing import close_meeting, open_meeting
from toolkit.store.meeting_setup import create_planned_meeting, plan_meeting


def _meeting(store: Store, meeting_id: str = "m1") -> None:
    plan = plan_meeting(
        store,
        meeting_id=meeting_id,
        kind="evaluation",
        title="2026年一季度评议会",
        instrument=EVALUATION,
        subjects=["wuye=物业公司", "juweihui=居委会"],
    )
    create_planned_meeting(store, plan)
    open_meeting(store, meeting_id)


def _truth(app: KeyingApp, rng: np.random.Generator) -> dict[str, str]:
    """What one paper ballot says, as keyed ("" = blank)."""
    keyed: dict[str, str] = {}
    for field in app.fields:
        if field.kind == "choice":
            keys = ["", *(o.key for o in field.options)]
            keyed[field.name] = str(rng.choice(keys))
        elif field.kind == "multiple":
            keyed[field.name] = "".join(sorted(set(rng.choice(["1", "2", "3", "5"], size=2))))
        elif field.kind == "integer":
            keyed[field.name] = str(rng.choice(["", "3", "12"]))
        else:
            keyed[field.name] = str(rng.choice(["", "楼道灯坏了"]))
    return keyed


def _key(app: KeyingApp, number: int, values: dict[str, str]) -> None:
    app.type(str(number))
    for field in app.fields:
        app.type(values[field.name] or "0")


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    opened = Store.open(tmp_path / "s.db")
    _meeting(opened)
    yield opened
    opened.close()


def test_hundred_ballots_keyed_twice_store_exactly_hundred(store: Store) -> None:
    rng = np.random.default_rng(2026)
    first = KeyingApp(store, "m1")
    truths = {n: _truth(first, rng) for n in range(1, 101)}
    for number, truth in truths.items():
        _key(first, number, truth)
    assert first.progress_counts() == {"keyed": 100, "compared": 0, "resolved": 0}
    second = KeyingApp(store, "m1")  # another person, another app
    planted: dict[int, set[str]] = {}
    for number, truth in truths.items():
        values = dict(truth)
        if number % 3 == 0:  # plant one to three differences
            names = rng.choice(
                [f.name for f in second.fields if f.kind == "choice"],
                size=1 + (number // 3) % 3,
                replace=False,
            )
            for name in names:
                field = next(f for f in second.fields if f.name == name)
                other = [k for k in ["", *(o.key for o in field.options)] if k != truth[name]]
                values[name] = str(rng.choice(other))
            planted[number] = set(names)
        _key(second, number, values)
        if number in planted:
            assert second.state == "resolve"
            assert set(second.differences) == planted[number]  # every one caught, no other
            assert "第一遍" in second.sheet.value and "第二遍" in second.sheet.value
            for name in list(second.differences):
                second.type(truth[name] or "0")  # what the paper says
        assert second.state == "number", (number, second.message.value)
    assert len(planted) == 33
    assert second.progress_counts() == {"keyed": 100, "compared": 100, "resolved": 100}
    s = schema.submissions
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(s.c.submission_id, s.c.answers, s.c.mode).where(s.c.meeting_id == "m1")
        ).all()
    assert len(rows) == 100 and {r.mode for r in rows} == {"paper"}
    stored = {r.submission_id: r.answers for r in rows}
    subjects = ("wuye", "juweihui")
    for number, truth in truths.items():
        answers = stored[paper_ballot_uuid("m1", number)]
        assert answers == answers_from_keys(first.survey, first.fields, truth, subjects=subjects)
        blanks = [n for n, v in truth.items() if v == "" and n.endswith(("attitude", "overall"))]
        assert all(n not in answers for n in blanks)  # blanks stay blanks
    # a paper ballot number is stored only once
    second.type("17")
    assert "只能保存一次" in second.message.value and second.state == "number"
    assert second.progress_counts()["resolved"] == 100


def test_keys_are_checked_and_minus_goes_back(store: Store) -> None:
    app = KeyingApp(store, "m1")
    for text in ("abc", "0", "100000"):
        app.type(text)
        assert "不是选票编号" in app.message.value and app.state == "number"
    app.type("5")
    assert app.state == "fields" and "No. 5 第1遍" in app.prompt.value
    assert "1=满意" in app.prompt.value and "0=空白" in app.prompt.value
    app.type("7")
    assert "不是这一题的选项" in app.message.value and app.position == 0
    app.type("2")
    app.type("-")
    assert app.position == 0
    app.type("3")
    assert app.keyed[app.fields[0].name] == "3" and app.position == 1
    assert "3 不满意" in app.sheet.value


def test_restart_between_passes_and_code_and_closed_meeting(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "c.db")
    _meeting(store, "m2")
    codes = store.issue_ballot_codes("m2", 2)
    app = KeyingApp(store, "m2")
    assert app.fields[0].label == "一次性投票码"
    values = {f.name: "" for f in app.fields}
    values[app.fields[0].name] = codes[0]
    _key(app, 1, values)
    app = KeyingApp(store, "m2")  # the first keying survived a restart
    _key(app, 1, values)
    assert app.state == "number" and "已保存" in app.message.value
    assert not store.ballot_code_usable("m2", codes[0])
    bad = dict(values)
    bad[app.fields[0].name] = "0000-0000"
    _key(app, 2, bad)
    _key(app, 2, bad)
    assert app.state == "resolve" and app.differences == ["_ballot_code"]
    assert "field `ballot_code`: " in app.message.value  # the problem is shown at its place
    app.type(codes[1])
    assert app.state == "number" and "已保存" in app.message.value
    close_meeting(store, "m2")
    app = KeyingApp(store, "m2")
    _key(app, 3, values | {app.fields[0].name: "1234-5678"})
    _key(app, 3, values | {app.fields[0].name: "1234-5678"})
    assert re.search("not open and takes no ballots", app.message.value)
    assert app.progress_counts()["resolved"] == 2
    store.close()


def test_served_with_keying_behind_the_access_code(tmp_path: Path) -> None:
    """`sanhui serve --keying`: /keying opens only with the access code, and keys a ballot."""
    import urllib.error
    import urllib.request

    from tests.serve_support import CODE, Server, WidgetClient

    server = Server(tmp_path, "--keying")
    try:
        server.wait_ready()
        log = server.log_path.read_text()
        assert f"/keying?code={CODE}" in log
        wrong = WidgetClient(server.base, "/keying?code=000000")
        assert wrong.wait(lambda: "访问码不正确" in wrong.text()), wrong.text()[:300]
        assert "纸质选票编号" not in wrong.text()
        wrong.close()
        page = WidgetClient(server.base, f"/keying?code={CODE}")
        assert page.wait(lambda: "纸质选票编号" in page.text()), page.text()[:500]
        (entry,) = page.find("Text", placeholder="输入后按回车 Enter")
        page.update(entry, value="7")
        assert page.wait(lambda: "No. 7 第1遍" in page.text()), page.text()[:500]
        page.close()
        with pytest.raises(urllib.error.HTTPError) as refused:  # nothing else is opened
            urllib.request.urlopen(server.base + "/keying/../lab", timeout=10)
        assert refused.value.code == 404
    finally:
        server.stop()
