"""The notebook's meeting preparation widgets call the same functions as `sanhui meeting new`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.meeting_support import PEOPLE, filled_roster
from toolkit.collect.prepare import PrepareMeetingApp
from toolkit.store import Store


def _fill(app: PrepareMeetingApp) -> None:
    app.meeting_id.value = "nb-1"
    app.title.value = "2026年一季度评议会"
    app.date.value = "2026-03-15"
    app.subjects.value = "wuye=物业公司\njuweihui=居委会\n"
    app.members.value = 5
    app.rule.value = "majority_of_members"


def test_check_create_and_preview(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    app = PrepareMeetingApp(store)
    assert app.instrument.value == "evaluation.yaml"
    _fill(app)
    rows = [*PEOPLE, ("王芳", "3-201", "3", "1～3层", "居民代表", "女", "60～69岁", 1961, "否")]
    app.roster_path = filled_roster(tmp_path / "roster.xlsx", rows)
    app.subjects.value = "Wuye=物业公司"
    app.check_button.click()
    assert "problems found" in app.text
    # each problem at its place: the repeated person's row, the bad subject
    assert "roster.xlsx, sheet 名单 roster, row 7, column A (姓名 name): " in app.text
    assert "option --subject, `Wuye=物业公司`: " in app.text
    assert app.create() is None and store.meetings().empty
    app.subjects.value = "wuye=物业公司\njuweihui=居委会\n"
    app.roster_path = filled_roster(tmp_path / "roster.xlsx")
    assert app.check() and "4 people on the roster" in app.text
    form = app.show_preview()
    assert form is not None and form.subject_ids == ("wuye", "juweihui")
    meeting = app.create()
    assert meeting is not None and meeting.meeting_id == "nb-1"
    assert "已创建 created nb-1" in app.text and len(store.roster("nb-1")) == 4
    store.close()


def test_uploaded_roster_is_named_in_messages(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    app = PrepareMeetingApp(store)
    _fill(app)
    upload = "姓名 name,身份 role\n王芳,居民带表\n".encode()
    app.roster_upload.value = (
        {
            "name": "名单.csv",
            "type": "text/csv",
            "size": len(upload),
            "content": memoryview(upload),
            "last_modified": datetime(2026, 3, 1, tzinfo=UTC),
        },
    )
    app.create_button.click()
    assert "名单.csv, row 2, column B (身份 role): " in app.text
    store.close()
