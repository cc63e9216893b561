"""Printed paper through Chromium: ballots, code slips and the results sheet (计票单), read back as
text (pdftotext) and as a PNG rendering (pdftoppm) to check that everything fits on A4."""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.meeting_support import EVALUATION, PEOPLE, need_chromium
from toolkit.analysis import evaluation_verdict, satisfaction_rates
from toolkit.errors import ParameterError, StoreError
from toolkit.instrument.paper import answers_from_keys, paper_fields
from toolkit.report.paper import print_ballots, print_codes, print_tally
from toolkit.store import Store, Submission
from toolkit.store.closing import open_meeting
from toolkit.store.meeting_setup import create_planned_meeting, plan_meeting

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _chromium() -> None:
    need_chromium()


A4 = (595.0, 842.0)  # points
MARGIN = 12 / 25.4 * 72  # the 12 mm page margin, in points


def _store(tmp_path: Path, *, ballots: bool = True) -> Store:
    import pandas as pd

    store = Store.open(tmp_path / "s.db")
    roster = pd.DataFrame([{"name": p[0], "room": p[1]} for p in PEOPLE])
    plan = plan_meeting(
        store,
        meeting_id="m1",
        kind="evaluation",
        title="2026年一季度评议会",
        instrument=EVALUATION,
        subjects=["wuye=物业公司", "juweihui=居委会"],
        date="2026-03-15",
        roster=roster,
        members=35,
        ballots_issued=40,
        rule="majority_of_members",
        codes=4,
    )
    create_planned_meeting(store, plan)
    open_meeting(store, "m1")
    if ballots:
        survey = plan.survey
        fields = paper_fields(survey, [("wuye", "物业公司"), ("juweihui", "居委会")])
        rng = np.random.default_rng(7)
        for i in range(33):
            keyed = {
                f.name: str(rng.choice(["1", "1", "2", "3", "4", ""]))
                for f in fields
                if f.kind == "choice" and f.question == "ratings"
            }
            for name in ("wuye__overall", "juweihui__overall"):  # overall: no 不了解
                keyed[name] = str(rng.choice(["1", "1", "2", "3"]))
            mode = "paper" if i % 3 == 0 else "tablet"
            if mode == "tablet":  # the form asks for every row
                keyed = {k: v or "1" for k, v in keyed.items()}
            else:
                keyed["wuye__attitude"] = ""  # a blank kept on a paper ballot
            answers = answers_from_keys(survey, fields, keyed, subjects=["wuye", "juweihui"])
            ballot = str(uuid.uuid4())
            store.submit(Submission(ballot, "m1", answers, mode=mode))
            if i == 5:
                store.void(ballot, "一人两票")
    return store


def _words(pdf: Path) -> list[tuple[int, float, float, float, float, str]]:
    xml = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = []
    for page, body in enumerate(re.split(r"<page ", xml)[1:], start=1):
        for m in re.finditer(
            r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
            r"([^<]*)</word>",
            body,
        ):
            words.append((page, *map(float, m.groups()[:4]), m.group(5)))
    return words


def _check_fits_a4(pdf: Path, tmp_path: Path) -> int:
    """Every page is A4; every word lies inside the margins; the rendering has ink only there."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert abs(width - A4[0]) < 1 and abs(height - A4[1]) < 1
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    for _page, x0, y0, x1, y1, _text in _words(pdf):
        assert x0 >= MARGIN - 2 and x1 <= width - MARGIN + 2, (x0, x1, _text)
        assert y0 >= 0 and y1 <= height - MARGIN + 12, (y0, y1, _text)
    prefix = tmp_path / pdf.stem
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(prefix)], check=True)
    pngs = sorted(tmp_path.glob(f"{pdf.stem}-*.png"))
    assert len(pngs) == pages
    for png in pngs:
        ink = np.asarray(Image.open(png).convert("L")) < 128
        rows, cols = np.nonzero(ink)
        edge = int(30 * 10 / 25.4)  # 10 mm at 30 dpi: nothing printed in the outer band
        h, w = ink.shape
        assert rows.min() >= edge and rows.max() < h - edge, png
        assert cols.min() >= edge and cols.max() < w - edge, png
    return pages


def _text(pdf: Path, *, layout: bool = False) -> str:
    args = ["pdftotext", *(["-layout"] if layout else []), str(pdf), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def test_ballots_with_codes(tmp_path: Path) -> None:
    store = _store(tmp_path, ballots=False)
    pdf, pages = print_ballots(store, "m1", tmp_path / "ballots.pdf", count=2, first=7, codes=True)
    assert _check_fits_a4(pdf, tmp_path) == pages
    assert pages % 2 == 0  # both ballots have the same number of pages
    text = _text(pdf)
    per_ballot = pages // 2
    for number in ("0007", "0008"):
        assert text.count(f"No. {number}") == per_ballot  # the number on every page
    survey = store.instrument("evaluation")
    for field in paper_fields(survey, [("wuye", "物业公司"), ("juweihui", "居委会")]):
        assert field.label.replace(" ", "") in text.replace(" ", ""), field.label
        for option in field.options:
            assert option.label in text, option.label
    assert "物业公司" in text and "居委会" in text and "一次性投票码" in text
    codes = re.findall(r"\b\d{4}-\d{4}\b", text)
    assert len(codes) == 2 and all(store.ballot_code_usable("m1", c) for c in codes)
    labels = [w for w in _words(pdf) if w[5] == "工作态度"]
    assert labels and all(w[4] - w[2] >= 14 for w in labels)  # at least 14 pt body type
    store.close()


def test_codes_slips_and_bad_inputs(tmp_path: Path) -> None:
    store = _store(tmp_path, ballots=False)
    pdf, pages = print_codes(store, "m1", tmp_path / "codes.pdf")
    assert pages == 1 and _check_fits_a4(pdf, tmp_path) == 1
    codes = re.findall(r"\b\d{4}-\d{4}\b", _text(pdf))
    assert len(codes) == 4 and all(store.ballot_code_usable("m1", c) for c in codes)
    with pytest.raises(ParameterError, match=r"must name a \.pdf"):
        print_codes(store, "m1", tmp_path / "codes.html", count=1)
    with pytest.raises(ParameterError, match="pass --count N"):
        print_ballots(store, "m1", tmp_path / "b.pdf", count=0)
    store.update_meeting("m1", status="closed")
    with pytest.raises(StoreError, match="is prepared: one-time codes are made for an open"):
        print_codes(store, "m1", tmp_path / "c2.pdf")
    assert not (tmp_path / "c2.pdf").exists() and not (tmp_path / "codes.html").exists()
    store.close()


def test_tally_numbers_equal_the_analysis(tmp_path: Path) -> None:
    store = _store(tmp_path)
    pdf, data = print_tally(store, "m1", tmp_path / "tally.pdf")
    assert _check_fits_a4(pdf, tmp_path) >= 1
    text = _text(pdf, layout=True)
    valid = store.responses("m1")  # valid ballots only
    assert data.ballots == {"issued": 40, "returned": 33, "valid": 32, "void": 1}
    assert re.search(r"40\s+33\s+32\s+1\n", text)
    lines = text.splitlines()
    subjects = {"wuye": "物业公司", "juweihui": "居委会"}
    items = {"attitude": "工作态度", "efficiency": "办事效率", "overall": "总体评价"}
    rates = satisfaction_rates(valid, items=[f"{s}__{i}" for s in subjects for i in items])
    for subject, subject_label in subjects.items():
        for item, item_label in items.items():
            variable = f"{subject}__{item}"
            heading = next(i for i, line in enumerate(lines) if line.strip() == subject_label)
            index = next(
                i
                for i, line in enumerate(lines)
                if i > heading and re.match(rf"\s*{item_label}\s", line)
            )
            numbers = re.findall(r"(?<![\d.])\d+(?![\d.%])", lines[index])
            column = valid[variable].astype("string")
            expected = [
                int((column == code).sum())
                for code in ("satisfied", "basically_satisfied", "dissatisfied", "dont_know")
            ]
            expected.append(int(column.isna().sum()))
            expected.append(sum(expected[:3]))
            assert [int(n) for n in numbers] == expected, (variable, lines[index])
            shown = re.findall(r"(\d+\.\d)%? \((\d+\.\d)–(\d+\.\d)\)", lines[index])
            mine = rates[rates["item"] == variable].set_index("measure")
            want = [
                tuple(f"{100 * mine.loc[m, c]:.1f}" for c in ("estimate", "ci_low", "ci_high"))
                for m in ("strict", "broad", "dissatisfied")
            ]
            assert shown == want, (variable, shown)
    assert int(valid["wuye__attitude"].isna().sum()) >= 11  # the paper blanks are counted as blanks
    verdict = evaluation_verdict(
        valid, items=["wuye__overall", "juweihui__overall"], rule="majority_of_members", members=35
    )
    for subject_label, value in zip(subjects.values(), verdict["verdict"], strict=True):
        assert re.search(rf"{subject_label}\s+{value}\s*\n", text), (subject_label, value)
    assert "评定规则：全体成员过半数；成员数 35" in text
    for role in ("计票人", "监票人", "主持人"):
        assert role in text
    store.close()
