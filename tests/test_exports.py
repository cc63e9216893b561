"""Exports: every format written and read back with its own reader (labels and Chinese intact),
formula injection neutralised, no roster names in any file, codebook, small-cell suppression."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.error_support import raises_code
from toolkit.errors import DataError, ParameterError
from toolkit.exports import (
    aggregate_table,
    codebook,
    export_aggregate,
    export_responses,
    long_table,
    neutralize_formula,
    responses_from_answers,
    safe_names,
    suppress_small,
    write_codebook,
    write_csv,
    write_xlsx,
)
from toolkit.instrument.loader import load_survey
from toolkit.instrument.model import Survey
from toolkit.store.records import Submission
from toolkit.store.store import Store

PLANTED_NAME = "欧阳秀英"
HOSTILE = ('=HYPERLINK("http://x","点我")', "@SUM(1)", "+86 21 5555", "-1+2", "\tcmd")
SUBJECTS = (
    {"id": "wuye", "label_zh": "物业公司", "label_en": "Property management"},
    {"id": "juweihui", "label_zh": "居委会", "label_en": "Residents' committee"},
)
ITEMS = ("attitude", "efficiency", "transparency", "responsiveness", "integrity", "results")
SCALE = ("satisfied", "basically_satisfied", "dissatisfied")


def _answers(i: int) -> dict[str, object]:
    answers: dict[str, object] = {}
    for k, subject in enumerate(("wuye", "juweihui")):
        for j, item in enumerate(ITEMS):
            answers[f"{subject}__{item}"] = (
                "dont_know" if (i + j) % 5 == 0 else SCALE[(i + j + k) % 3]
            )
        answers[f"{subject}__overall"] = SCALE[(i + k) % 3]
    answers["rectify"] = ["slow_response", "other"] if i % 2 else ["attitude_issue"]
    if i % 2:
        answers["rectify_other"] = HOSTILE[i % len(HOSTILE)]
    answers["comments"] = HOSTILE[(i + 1) % len(HOSTILE)] if i < 5 else "电梯噪音太大，希望改进。"
    answers["gender"] = "female" if i % 3 else "male"
    answers["age_band"] = "70-79"
    answers["building"] = 1 + i
    return answers


@pytest.fixture(scope="module")
def survey() -> Survey:
    return load_survey("surveys/evaluation.yaml")


@pytest.fixture(scope="module")
def store(survey: Survey) -> Iterator[Store]:
    st = Store.open("sqlite://")
    st.add_instrument(survey)
    st.create_meeting(
        "m1", kind="evaluation", title="评议会", instrument=survey.id, subjects=SUBJECTS
    )
    # a name on the roster: it must never reach an export
    st.add_participants(
        pd.DataFrame(
            {"participant_id": ["p1"], "name": [PLANTED_NAME], "room": ["3-101"], "role": ["x"]}
        )
    )
    st.invite("m1", ["p1"])
    for i in range(8):
        st.submit(
            Submission(
                str(uuid.uuid4()),
                "m1",
                _answers(i),
                device="tablet-1",
                started_at=pd.Timestamp("2026-03-01 08:00", tz="UTC").to_pydatetime(),
                submitted_at=pd.Timestamp("2026-03-01 08:05", tz="UTC").to_pydatetime(),
                paradata={"seconds": {"ratings": 40 + i}},
            )
        )
    yield st
    st.close()


@pytest.fixture(scope="module")
def wide(store: Store) -> pd.DataFrame:
    return store.responses("m1")


# --- each format, read back ----------------------------------------------------------------------


def test_csv_round_trip_with_bom(store: Store, wide: pd.DataFrame, tmp_path: Path) -> None:
    (path,) = export_responses(store, tmp_path / "b.csv", meeting="m1", bom=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(back.columns) == list(wide.columns)
    assert back["wuye__overall"].tolist() == wide["wuye__overall"].astype(str).tolist()
    assert back["building"].tolist() == [str(b) for b in wide["building"]]
    plain = tmp_path / "labels.csv"
    export_responses(store, plain, meeting="m1", labels="zh")
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")
    labelled = pd.read_csv(plain, dtype=str)
    assert set(labelled["wuye__attitude"]) <= {"满意", "基本满意", "不满意", "不了解"}
    assert "电梯噪音太大，希望改进。" in set(labelled["comments"])


def test_xlsx_round_trip_with_codebook(store: Store, wide: pd.DataFrame, tmp_path: Path) -> None:
    (path,) = export_responses(
        store, tmp_path / "b.xlsx", meeting="m1", separate=("profile", "paradata")
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["responses", "profile", "paradata", "codebook", "values"]
    rows = list(book["responses"].iter_rows(values_only=True))
    header = list(rows[0])
    assert "gender" not in header and "device" not in header
    col = header.index("wuye__overall")
    assert [r[col] for r in rows[1:]] == wide["wuye__overall"].astype(str).tolist()
    profile = list(book["profile"].iter_rows(values_only=True))
    b = list(profile[0]).index("building")
    assert [r[b] for r in profile[1:]] == [int(v) for v in wide["building"]]  # numbers stay numbers
    codebook_rows = {r[0]: r for r in book["codebook"].iter_rows(values_only=True)}
    assert codebook_rows["wuye__attitude"][2] == "物业公司：工作态度"
    para = pd.read_excel(path, sheet_name="paradata")
    assert para["duration_seconds"].tolist() == [300.0] * 8
    assert para["paradata__seconds__ratings"].tolist() == list(range(40, 48))


def test_parquet_round_trip(store: Store, wide: pd.DataFrame, tmp_path: Path) -> None:
    (path,) = export_responses(store, tmp_path / "b.parquet", meeting="m1")
    back = pd.read_parquet(path)
    column = back["wuye__overall"]
    assert isinstance(column.dtype, pd.CategoricalDtype) and column.cat.ordered
    assert list(column.cat.categories) == list(SCALE)
    assert column.astype(str).tolist() == wide["wuye__overall"].astype(str).tolist()
    assert back["rectify__other"].tolist() == wide["rectify__other"].tolist()
    meta = pq.read_schema(path).metadata[b"sanhui"].decode()
    assert '"instrument": "evaluation"' in meta and "物业公司：工作态度" in meta


def test_sav_round_trip_with_labels(store: Store, wide: pd.DataFrame, tmp_path: Path) -> None:
    (path,) = export_responses(store, tmp_path / "b.sav", meeting="m1", language="zh")
    data, meta = pyreadstat.read_sav(str(path), user_missing=True)
    labels = meta.column_names_to_labels
    assert labels["wuye__attitude"] == "物业公司：工作态度"
    assert labels["rectify__slow_response"] == "需要整改的问题（可多选）：办事拖拉、回应不及时"
    values = meta.variable_value_labels["wuye__attitude"]
    assert values == {1.0: "满意", 2.0: "基本满意", 3.0: "不满意", 98.0: "不了解"}
    assert meta.missing_ranges["wuye__attitude"] == [{"lo": 98.0, "hi": 98.0}]
    numbers = {"satisfied": 1, "basically_satisfied": 2, "dissatisfied": 3, "dont_know": 98}
    expected = [numbers[v] for v in wide["wuye__attitude"].astype(str)]
    assert data["wuye__attitude"].tolist() == expected
    assert data["comments"].iloc[-1] == "电梯噪音太大，希望改进。"
    english = tmp_path / "en.sav"
    export_responses(store, english, meeting="m1", language="en")
    _, meta_en = pyreadstat.read_sav(str(english))
    assert meta_en.column_names_to_labels["wuye__attitude"] == "Property management: Attitude"


def test_dta_round_trip_with_labels(store: Store, wide: pd.DataFrame, tmp_path: Path) -> None:
    (path,) = export_responses(store, tmp_path / "b.dta", meeting="m1")
    with pd.io.stata.StataReader(path) as reader:
        labels = reader.variable_labels()
        value_labels = reader.value_labels()
        data = reader.read(convert_categoricals=False)
    assert labels["wuye__overall"] == "物业公司：总体评价"
    assert value_labels["wuye__attitude"][98] == "不了解"
    assert value_labels["wuye__overall"] == {1: "满意", 2: "基本满意", 3: "不满意"}
    assert data["building"].tolist() == [float(b) for b in wide["building"]]
    assert all(len(c) <= 32 and c.isascii() for c in data.columns)
    shown = pd.read_stata(path)
    assert shown["wuye__overall"].astype(str).tolist() == [
        {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}[v]
        for v in wide["wuye__overall"].astype(str)
    ]


def test_long_layout(store: Store, wide: pd.DataFrame, survey: Survey, tmp_path: Path) -> None:
    (path,) = export_responses(store, tmp_path / "long.csv", meeting="m1", layout="long")
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(back.columns) == [
        "submission_id",
        "meeting_id",
        "variable",
        "question",
        "subject",
        "item",
        "value",
    ]
    first = wide["submission_id"].iloc[0]
    mine = back[back["submission_id"] == first]
    answers = _answers(0)
    assert len(mine) == sum(len(v) if isinstance(v, list) else 1 for v in answers.values())
    attitude = mine[(mine["subject"] == "wuye") & (mine["item"] == "attitude")]["value"]
    assert attitude.tolist() == [answers["wuye__attitude"]]
    labelled = long_table(wide, survey, language="en")
    assert "Satisfied" in set(labelled["label"])
    with pytest.raises(ParameterError, match="long"):
        export_responses(store, tmp_path / "long.sav", meeting="m1", layout="long")


# --- formula injection ---------------------------------------------------------------------------


def test_formula_injection_neutralised(store: Store, tmp_path: Path) -> None:
    (csv,) = export_responses(store, tmp_path / "b.csv", meeting="m1")
    text = pd.read_csv(csv, dtype=str, keep_default_na=False)
    cells = set(text["comments"]) | set(text["rectify_other"])
    for hostile in HOSTILE:
        assert hostile not in cells
        assert "'" + hostile in cells
    (xlsx,) = export_responses(store, tmp_path / "b.xlsx", meeting="m1")
    sheet = openpyxl.load_workbook(xlsx)["responses"]
    values = [c for row in sheet.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in values)
    assert not any(
        isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@")) for c in values
    )
    assert any(c.value == "'" + HOSTILE[0] for c in values)


def test_numbers_stay_numbers(survey: Survey, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"x": [-3.5, 2.0], "t": ["-3.5", "好"], "n": pd.array([-1, None], "Int64")}
    )
    write_csv(frame, tmp_path / "n.csv")
    lines = (tmp_path / "n.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1] == "-3.5,'-3.5,-1"
    write_xlsx({"s": frame}, tmp_path / "n.xlsx")
    rows = list(openpyxl.load_workbook(tmp_path / "n.xlsx")["s"].iter_rows(values_only=True))
    assert rows[1] == (-3.5, "'-3.5", -1) and rows[2] == (2.0, "好", None)
    assert neutralize_formula("＝1+1") == "'＝1+1"


def test_xlsx_hostile_cell_is_text_never_formula(tmp_path: Path) -> None:
    hostile = '=HYPERLINK("http://x","点我")'
    frame = pd.DataFrame(
        {
            "comments": [hostile, "好", None],
            "choice": pd.Categorical(["@SUM(1)", "满意", None]),
            "n": pd.array([-2, 5, None], dtype="Int64"),
        }
    )
    path = write_xlsx({"responses": frame, "codebook": frame.head(1)}, tmp_path / "h.xlsx")
    sheet = openpyxl.load_workbook(path)["responses"]
    first = sheet["A2"]
    assert first.data_type == "s" and first.value == "'" + hostile
    assert sheet["B2"].value == "'@SUM(1)" and sheet["C2"].value == -2
    assert [sheet.cell(4, j).value for j in (1, 2, 3)] == [None, None, None]  # missing: empty
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert len(sheets) == 2
        for name in sheets:
            xml = archive.read(name).decode("utf-8")
            assert "<f>" not in xml and "<f " not in xml and "点我" in xml


def test_xlsx_cell_types_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "text": ["a&b<c>", "  电梯噪音太大  ", "x\ry", "a\tb\n", None],
            "float": [-3.5, np.nan, 1e20, 0.1, np.inf],
            "int": np.array([-5, 0, 1, 2, 2**40]),
            "flag": [True, False, True, False, True],
            "maybe": pd.array([True, None, False, True, False], dtype="boolean"),
            "at": pd.to_datetime(
                pd.Series(
                    ["2026-03-01 16:05:07+08:00", None, "1999-12-31 23:59:59+00:00", None, None]
                ),
                utc=True,
            ),
            "mixed": ["<5", 3, 2.5, None, "=1"],
            "control": pd.Series(["bad\x07char", "ok", "\ud800", None, "&"], dtype=object),
        }
    )
    path = write_xlsx({"a/b:" + "长" * 40: frame, "values": frame.head(0)}, tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["a_b_" + "长" * 27, "values"]
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2" and all(c.font.b for c in sheet[1])
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(frame.columns)
    assert [r[0] for r in rows[1:]] == ["a&b<c>", "  电梯噪音太大  ", "x\ry", "a\tb\n", None]
    assert [r[1] for r in rows[1:]] == [-3.5, None, 1e20, 0.1, None]
    assert [r[2] for r in rows[1:]] == [-5, 0, 1, 2, 2**40]
    assert [r[3] for r in rows[1:]] == [True, False, True, False, True]
    assert [r[4] for r in rows[1:]] == [True, None, False, True, False]
    assert [r[5] for r in rows[1:]] == [
        dt.datetime(2026, 3, 1, 8, 5, 7),  # UTC, no time zone
        None,
        dt.datetime(1999, 12, 31, 23, 59, 59),
        None,
        None,
    ]
    assert sheet["F2"].number_format == "yyyy-mm-dd h:mm:ss"
    assert [r[6] for r in rows[1:]] == ["<5", 3, 2.5, None, "'=1"]
    assert [r[7] for r in rows[1:]] == ["badchar", "ok", None, None, "&"]  # not allowed in XML
    assert list(book["values"].iter_rows(values_only=True)) == [tuple(frame.columns)]
    with pytest.raises(DataError, match="32,767"):
        write_xlsx({"s": pd.DataFrame({"t": ["x" * 32_768]})}, tmp_path / "long.xlsx")


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.text(
            st.sampled_from(list("=+-@\t\r\n <>&'＝a好\x00\x07_")) | st.characters(), max_size=12
        ),
        min_size=1,
        max_size=6,
    )
)
def test_xlsx_any_text_round_trips(texts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_xlsx(
            {"s": pd.DataFrame({"t": pd.Series(texts, dtype=object)})}, Path(tmp) / "t.xlsx"
        )
        back = [r[0] for r in openpyxl.load_workbook(path)["s"].iter_rows(values_only=True)]
    allowed = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
    expected = [neutralize_formula(allowed.sub("", t)) or None for t in texts]
    back += [None] * (1 + len(texts) - len(back))  # openpyxl stops at the last non-empty row
    assert back == ["t", *expected]


# --- no names ------------------------------------------------------------------------------------


def _file_text(path: Path) -> str:
    """Everything a file holds, as text (zip members and Parquet cells unpacked)."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        meta = b"".join(v for v in (table.schema.metadata or {}).values()).decode()
        return meta + table.to_pandas().astype(str).to_csv()
    return path.read_bytes().decode("utf-8", "replace")


def test_exports_never_contain_roster_names(store: Store, survey: Survey, tmp_path: Path) -> None:
    written: list[Path] = []
    for ext in ("csv", "xlsx", "parquet", "sav", "dta"):
        for layout in ("wide", "long") if ext in ("csv", "xlsx", "parquet") else ("wide",):
            written += export_responses(
                store,
                tmp_path / f"{layout}.{ext}",
                meeting="m1",
                layout=layout,
                labels="zh",
                separate=("profile", "paradata"),
            )
    for ext in ("csv", "xlsx", "md", "html"):
        written.append(write_codebook(survey, tmp_path / f"codebook.{ext}"))
    table = aggregate_table(store.responses("m1"), survey)
    written.append(export_aggregate(table, tmp_path / "aggregate.csv"))
    assert len(written) == 25  # 6 csv, 2 xlsx, 6 parquet, 3 sav, 3 dta, 4 codebooks, 1 table
    for path in written:
        text = _file_text(path)
        assert PLANTED_NAME not in text, path
        assert "3-101" not in text, path
    # the name is really in the store (the test would be vacuous otherwise)
    assert PLANTED_NAME in set(store.search_participants("m1", "欧阳")["name"])


# --- codebook ------------------------------------------------------------------------------------


def test_codebook_content(survey: Survey) -> None:
    book = codebook(survey, subjects=("wuye",)).set_index("variable")
    row = book.loc["wuye__attitude"]
    assert row["label_en"] == "wuye: Attitude"
    assert row["values"].startswith("satisfied = 满意 / Satisfied; ")
    assert (
        row["numeric_codes"]
        == "1 = satisfied; 2 = basically_satisfied; 3 = dissatisfied; 98 = dont_know"
    )
    assert "98" in row["missing"] and "blank" in row["missing"]
    assert book.loc["wuye__overall", "missing"].startswith("blank")
    assert book.loc["build_quality", "relevant"] == "${project_elevator} = 'yes'"
    assert book.loc["rectify__other", "type"] == "indicator"
    assert book.loc["building", "constraint"] == ". >= 1 and . <= 200"
    assert "submission_id" in book.index and "profile_note" not in book.index


def test_codebook_files(survey: Survey, tmp_path: Path) -> None:
    md = write_codebook(survey, tmp_path / "c.md").read_text(encoding="utf-8")
    assert "| wuye" not in md and "| rectify__other |" in md
    html = write_codebook(survey, tmp_path / "c.html").read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in html and "需要整改的问题" in html
    assert "${project_elevator} = 'yes'" in html  # relevance shown as written
    from toolkit.exports.codebook import _html_table

    cell = _html_table(pd.DataFrame({"label": ["<script>x</script>", None]}))
    assert "&lt;script&gt;x&lt;/script&gt;" in cell and "<script>" not in cell
    csv = write_codebook(survey, tmp_path / "c.csv", subjects=("wuye",), bom=True)
    back = pd.read_csv(csv, encoding="utf-8-sig")
    assert "wuye__attitude" in set(back["variable"])
    xlsx = write_codebook(survey, tmp_path / "c.xlsx")
    assert openpyxl.load_workbook(xlsx).sheetnames == ["codebook", "values"]


# --- names, suppression, tables ------------------------------------------------------------------


def test_safe_names() -> None:
    names = safe_names(["wuye__attitude", "q__18-29", "q__18_29", "1st", "x" * 40, "x" * 41])
    assert names["wuye__attitude"] == "wuye__attitude"
    assert names["q__18_29"] == "q__18_29" and names["q__18-29"] == "q__18_29_2"
    assert names["1st"] == "v1st"
    assert len(names["x" * 40]) == 32 and names["x" * 40] != names["x" * 41]


def test_suppression(survey: Survey, wide: pd.DataFrame, tmp_path: Path) -> None:
    table = aggregate_table(wide, survey, variables=["gender", "wuye__overall"], by=("gender",))
    small = table[table["gender"] == "male"]  # 3 male raters
    assert small["suppressed"].all() and small["count"].isna().all()
    big = table[table["gender"] == "female"]  # 5 female raters
    assert not big["suppressed"].any()
    assert big[big["variable"] == "gender"]["count"].tolist() == [5, 0]
    out = export_aggregate(table, tmp_path / "agg.csv")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert any(line.endswith(",<5,<5,<5,True") for line in lines)
    open_table = aggregate_table(wide, survey, variables=["gender"], by=(), suppress_below=None)
    assert open_table["count"].tolist() == [5, 3]
    assert open_table["percent"].round(4).tolist() == [62.5, 37.5]
    frame = pd.DataFrame({"n": [4, 5], "count": [1, 2]})
    assert suppress_small(frame)["suppressed"].tolist() == [True, False]


def test_responses_from_answers_matches_store(
    survey: Survey, wide: pd.DataFrame, store: Store
) -> None:
    answers = [_answers(i) for i in range(8)]
    built = responses_from_answers(survey, answers, subjects=("wuye", "juweihui"))
    variables = [
        c for c in wide.columns if c not in ("submission_id", "started_at", "submitted_at")
    ]
    variables = [
        c
        for c in variables
        if c in built.columns
        and c not in ("meeting_id", "kind", "device", "community", "street", "status")
    ]
    for column in variables:
        left, right = wide[column], built[column]
        assert str(left.dtype) == str(right.dtype) or column in ("comments", "rectify_other"), (
            column
        )
        assert (
            left.astype(object).where(left.notna(), None).tolist()
            == right.astype(object).where(right.notna(), None).tolist()
        ), column
    assert np.array_equal(built["building"].to_numpy(), wide["building"].to_numpy())


def test_bad_arguments(store: Store, wide: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="extension"):
        export_responses(store, tmp_path / "b.txt", meeting="m1")
    with pytest.raises(ParameterError, match="survey"):
        export_responses(wide, tmp_path / "b.csv")
    with pytest.raises(ParameterError, match="values"), pytest.warns(FutureWarning):
        export_responses(store, tmp_path / "b.csv", meeting="m1", values="text")


def test_values_is_the_deprecated_name_of_labels(store: Store, tmp_path: Path) -> None:
    new = export_responses(store, tmp_path / "new.csv", meeting="m1", labels="en")
    with pytest.warns(FutureWarning, match=r"export_responses\(labels="):
        old = export_responses(
            store, tmp_path / "old.csv", meeting="m1", values="labels", language="en"
        )
    assert old[0].read_text(encoding="utf-8") == new[0].read_text(encoding="utf-8")
    with raises_code(ParameterError, "E_OPTION", argument="labels"):
        export_responses(store, tmp_path / "bad.csv", meeting="m1", labels="labels")  # type: ignore[arg-type]


def test_xlsx_texts_that_differ_only_after_a_nul_keep_their_own_cells() -> None:
    """pandas 3.0 hashes a string up to its first NUL, so factorizing ["", "\\x00="] gave one
    value for both (found by the property above at the pandas floor)."""
    texts = ["", "\x00=", "a\x00b", "a\x00c", "ab"]  # all text: pandas' string hash table
    with tempfile.TemporaryDirectory() as tmp:
        path = write_xlsx(
            {"s": pd.DataFrame({"t": pd.Series(texts, dtype=object)})}, Path(tmp) / "t.xlsx"
        )
        back = [r[0] for r in openpyxl.load_workbook(path)["s"].iter_rows(values_only=True)]
    assert back == ["t", None, "'=", "ab", "ac", "ab"]
