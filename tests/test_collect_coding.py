"""Widget-level tests of the comment-coding app: two coders code 200 comments, their agreement is
reported per code, and a third person reconciles the disagreements."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.store_support import good_answers, setup_meeting
from toolkit.analysis.comments import coding_agreement, final_codes
from toolkit.collect.coding import CodingApp, comment_units
from toolkit.errors import ParameterError
from toolkit.instrument.coding import load_codebook
from toolkit.store import Store, Submission

ROOT = Path(__file__).resolve().parents[1]
BOOK = load_codebook(ROOT / "surveys" / "codebooks" / "comment_codes.yaml")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.open(tmp_path / "coding.db")
    setup_meeting(opened)
    return opened


def units(n: int = 200) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "submission_id": [f"b{i:04d}" for i in range(n)],
            "question": "comments",
            "text": [f"第{i}条意见：电梯噪音和费用问题" for i in range(n)],
        }
    )


def plan(rng: np.random.Generator, n: int) -> list[list[str]]:
    """What a coder means to give each comment (a mix of one, two or no codes)."""
    codes = list(BOOK.code_ids)
    weights = np.array([0.3, 0.1, 0.2, 0.05, 0.05, 0.1, 0.05, 0.1, 0.03, 0.02])
    out = []
    for _ in range(n):
        k = int(rng.choice([0, 1, 1, 1, 2]))
        out.append(sorted(rng.choice(codes, size=k, replace=False, p=weights).tolist()))
    return out


def test_two_coders_code_200_comments_and_get_their_agreement(store: Store) -> None:
    rng = np.random.default_rng(200)
    truth = plan(rng, 200)
    key_of = {c.code: c.key for c in BOOK.codes}
    given: dict[str, list[list[str]]] = {}
    for coder, noise in (("A", 0.08), ("B", 0.15)):
        app = CodingApp(store, "m1", BOOK, coder=coder, units=units())
        chosen = []
        for i, meant in enumerate(truth):
            codes = list(meant)
            if rng.random() < noise:  # a slip: one code added or dropped
                extra = str(rng.choice(BOOK.code_ids))
                codes = [c for c in codes if c != extra] if extra in codes else [*codes, extra]
            chosen.append(sorted(codes))
            assert f"第 {i + 1} / 200 条" in app.progress.value
            if i % 2:  # half by keyboard shortcut, half by buttons
                app.shortcut.value = "".join(key_of[c] for c in codes) + "n"
            else:
                for code in codes:
                    app.code_buttons[code].click()
                if i == 10:
                    app.note.value = "含糊，需讨论"
                app.next_button.click()
        app.next_button.click()  # the last comment saved again: no duplicate
        given[coder] = chosen
    stored = store.codings("m1")
    assert len(stored) == 400 and set(stored["coder"]) == {"A", "B"}
    assert set(stored["codebook"]) == {"comment_codes@1"}
    for coder in ("A", "B"):
        mine = stored[stored["coder"] == coder].sort_values("submission_id")
        assert mine["codes"].tolist() == given[coder]
    assert (
        stored.loc[(stored["coder"] == "A") & (stored["submission_id"] == "b0010"), "note"].item()
        == "含糊，需讨论"
    )

    app = CodingApp(store, "m1", BOOK, coder="A", units=units())
    got = app.agreement()
    expected = pd.DataFrame(
        [
            (f"b{i:04d}", "comments", coder, "coder", codes)
            for coder in ("A", "B")
            for i, codes in enumerate(given[coder])
        ],
        columns=["submission_id", "question", "coder", "role", "codes"],
    )
    want = coding_agreement(expected, codes=BOOK.code_ids)
    pd.testing.assert_frame_equal(got, want)
    assert got["n"].eq(200).all() and len(got) == 20
    app.agreement_button.click()
    assert "Krippendorff" in app.agreement_view.value and "噪音扬尘" in app.agreement_view.value
    n_disagree = sum(a != b for a, b in zip(given["A"], given["B"], strict=True))
    assert len(app.disagreements()) == n_disagree > 0
    assert f"待核对分歧 {n_disagree} 条" in app.agreement_view.value

    # reconcile: walk through the disagreements only, see both coders' codes, store final codes
    rec = CodingApp(store, "m1", BOOK, coder="R", units=units(), reconcile=True)
    assert len(rec.units) == n_disagree
    assert "各编码员" in rec.others.value and "A：" in rec.others.value
    for i in range(n_disagree):
        sid = rec.units.iloc[rec.position]["submission_id"]
        assert sid == rec.units.iloc[i]["submission_id"]
        for code in truth[int(sid[1:])]:
            rec.toggle(code)
        rec.next()
    assert "待核对分歧 0 条" not in rec.agreement_view.value
    rec.show_agreement()
    assert "待核对分歧 0 条" in rec.agreement_view.value
    final = final_codes(store.codings("m1"))
    assert len(final) == 200
    settled = final.set_index("submission_id")["codes"]
    assert all(
        settled[f"b{i:04d}"] == truth[i] for i in range(200) if given["A"][i] != given["B"][i]
    )


def test_previous_restores_codes_and_bad_code(store: Store) -> None:
    app = CodingApp(store, "m1", BOOK, coder="A", units=units(3))
    app.shortcut.value = "13"
    app.next()
    assert app.selected == [] and app.position == 1
    app.shortcut.value = "p"
    assert app.position == 0 and app.selected == ["cost_sharing", "noise_dust"]
    assert "sh-selected" in app.code_buttons["cost_sharing"]._dom_classes
    with pytest.raises(ParameterError, match="not in codebook"):
        app.toggle("weather")
    app.show_agreement()
    assert "two coders" in app.agreement_view.value


def test_comment_units_from_ballots(store: Store) -> None:
    for i, text in enumerate(["  电梯太吵  ", "   ", None]):
        answers = good_answers(i)
        if text is not None:
            answers["comments"] = text
        store.submit(Submission(f"00000000-0000-4000-8000-00000000000{i}", "m1", answers))
    found = comment_units(store, "m1")
    assert found["text"].tolist() == ["电梯太吵"] and found["question"].tolist() == ["comments"]
    app = CodingApp(store, "m1", BOOK, coder="A")
    assert "电梯太吵" in app.comment.value
    empty = CodingApp(store, "m1", BOOK, coder="A", units=units(0))
    assert "没有需要编码的意见" in empty.comment.value and empty.save() is False
