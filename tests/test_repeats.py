"""Tests of toolkit.exports.repeats: the long table and the codebook of repeat groups."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from tests.store_support import new_uuid, store_fixture  # noqa: F401  (the `store` fixture)
from tests.test_answers_repeat import household
from toolkit.exports.repeats import repeat_codebook, repeat_table, write_repeat_table
from toolkit.instrument.model import Question
from toolkit.store import Store, Submission


def test_the_codebook_lists_each_repeat_variable() -> None:
    book = repeat_codebook(household())
    assert book["variable"].tolist() == ["age", "sex", "job"]
    row = book.set_index("variable").loc["sex"]
    assert row["values"] == "f = 女 / Female; m = 男 / Male"
    assert book.set_index("variable").loc["job", "relevant"] == "${age} >= 16"
    assert book.set_index("variable").loc["age", "constraint"] == ". < 130"
    assert set(book["repeat"]) == {"member"}


def test_the_table_is_written_without_formulas(store: Store, tmp_path: Path) -> None:
    survey = household()
    page = survey.pages[0]
    jobs = Question("jobs", "multiple", page.questions[2].label, choices="sex", group="member")
    survey = type(survey)(
        survey.settings,
        (type(page)(page.id, page.title, (*page.questions, jobs), groups=page.groups),),
        survey.choice_lists,
    )
    store.create_meeting("hh2", kind="evaluation", title="评议会", instrument=survey)
    uuid = new_uuid()
    member = {"age": 30, "job": "=HYPERLINK(1)", "jobs": ["f", "m"]}
    store.submit(Submission(uuid, "hh2", {"size": 1, "member": [member]}))
    table = repeat_table(store, "hh2")
    assert table["value"].tolist() == [30, "'=HYPERLINK(1)", "f m"]
    assert table["label"].tolist()[-1] == "女; 男"
    path = write_repeat_table(store, "hh2", tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(path)
    cells = [c.value for row in book["repeats"].iter_rows() for c in row]
    assert "'=HYPERLINK(1)" in cells and uuid in cells
    assert not any(isinstance(c, str) and c.startswith("=") for c in cells)
    assert [c.value for c in book["codebook"][1]][:2] == ["repeat", "variable"]
