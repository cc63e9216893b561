"""Tests of toolkit.analysis.comments: segmentation, term counts, coder agreement against R
(tests/reference/comments.R), disagreements, final codes and themes by satisfaction."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from toolkit.analysis.comments import (
    coding_agreement,
    coding_disagreements,
    final_codes,
    segment,
    term_counts,
    theme_crosstab,
)
from toolkit.errors import DataError

REF = json.loads((Path(__file__).parent / "reference" / "comments.json").read_text())
RTOL = 1e-9


def codings_from_ref(coders: tuple[str, ...]) -> pd.DataFrame:
    codes = REF["codes"]
    rows = []
    for coder in coders:
        for unit, flags in enumerate(REF[coder], start=1):
            if coder == "C" and unit in REF["skipped"]:
                continue
            given = [c for c, f in zip(codes, flags, strict=True) if f == 1]
            rows.append((f"s{unit:03d}", "comments", coder, "coder", given))
    return pd.DataFrame(rows, columns=["submission_id", "question", "coder", "role", "codes"])


@pytest.mark.parametrize(("coders", "suffix"), [(("A", "B"), "two"), (("A", "B", "C"), "three")])
def test_agreement_per_code_matches_r(coders: tuple[str, ...], suffix: str) -> None:
    out = coding_agreement(codings_from_ref(coders), codes=REF["codes"])
    assert out["code"].tolist() == [c for c in REF["codes"] for _ in range(2)]
    for code in REF["codes"]:
        rows = out[out["code"] == code].set_index("measure")
        want = REF["results"][code]
        assert rows.loc["krippendorff_alpha", "estimate"] == pytest.approx(
            want[f"alpha_{suffix}"], rel=RTOL
        )
        assert rows.loc["fleiss_kappa", "estimate"] == pytest.approx(
            want[f"kappa_{suffix}"], rel=RTOL
        )
        assert rows.loc["fleiss_kappa", "n"] == 60 and rows.loc["fleiss_kappa", "n_raters"] == len(
            coders
        )
        if suffix == "two":
            assert rows.loc["fleiss_kappa", "agreement"] == pytest.approx(
                want["agreement_two"], rel=RTOL
            )


def test_agreement_intervals_and_constant_code() -> None:
    codings = codings_from_ref(("A", "B"))
    out = coding_agreement(codings, codes=["noise", "never_used"], n_boot=200)
    noise = out[(out["code"] == "noise") & (out["measure"] == "krippendorff_alpha")].iloc[0]
    assert noise["ci_low"] < noise["estimate"] < noise["ci_high"]
    never = out[out["code"] == "never_used"]
    assert never["estimate"].isna().all() and never["note"].notna().all()
    with pytest.raises(DataError, match="two coders"):
        coding_agreement(codings[codings["coder"] == "A"])


def test_disagreements_and_final_codes() -> None:
    codings = pd.DataFrame(
        {
            "submission_id": ["a", "a", "b", "b", "c", "c", "c", "d"],
            "question": "comments",
            "coder": ["A", "B", "A", "B", "A", "B", "A", "A"],
            "role": ["coder", "coder", "coder", "coder", "coder", "coder", "final", "coder"],
            "codes": [["noise"], ["noise"], ["cost"], [], ["noise"], ["cost"], ["cost"], ["x"]],
        }
    )
    dis = coding_disagreements(codings)
    assert dis["submission_id"].tolist() == ["b", "c"]
    assert dis["differing"].tolist() == [["cost"], ["cost", "noise"]]
    assert dis["reconciled"].tolist() == [False, True]
    final = final_codes(codings)
    assert final["submission_id"].tolist() == ["a", "c", "d"]  # b is not reconciled yet
    assert final["codes"].tolist() == [["noise"], ["cost"], ["x"]]
    assert final["source"].tolist() == ["agreed", "final", "single"]


def test_theme_crosstab_matches_r_table() -> None:
    codings = codings_from_ref(("A",))
    data = pd.DataFrame(
        {
            "level": pd.Categorical(REF["level"], categories=["满意", "基本满意", "不满意"]),
            "codes": codings["codes"].tolist(),
        }
    )
    out = theme_crosstab(data)
    want = pd.DataFrame(REF["crosstab"]).sort_values(["level", "code"]).reset_index(drop=True)
    assert list(out["level"].cat.categories) == ["满意", "基本满意", "不满意"]  # order kept
    got = out.assign(level=out["level"].astype(str))
    got = got.sort_values(["level", "code"]).reset_index(drop=True)
    assert got["level"].astype(str).tolist() == want["level"].tolist()
    assert got["code"].tolist() == want["code"].tolist()
    assert got["count"].tolist() == want["count"].tolist()
    assert got["n"].tolist() == want["n"].tolist()


def test_segment_is_deterministic_and_keeps_domain_words() -> None:
    text = "加装电梯以后楼组长说物业费要涨，业委会没有公开维修基金的账目！"
    words = segment(text)
    assert {"加装电梯", "楼组长", "物业费", "业委会", "维修基金"} <= set(words)
    assert all(len(w) >= 2 for w in words) and "，" not in words and "没有" not in words
    assert segment(text) == words
    assert segment(None) == [] and segment(float("nan")) == []


def test_segmenter_loads_quietly_without_network() -> None:
    code = (
        "import socket\n"
        "def no(*a, **k): raise OSError('network used')\n"
        "socket.socket.connect = no\n"
        "from toolkit.analysis.comments import segment\n"
        "print(segment('电梯噪音'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "['电梯', '噪音']"
    assert done.stderr == ""


def test_term_counts_by_group() -> None:
    data = pd.DataFrame(
        {
            "subject": ["wuye", "wuye", "wuye", "juweihui"],
            "text": ["电梯噪音很大，噪音扰民", "施工噪音", None, "居委会回应及时"],
        }
    )
    out = term_counts(data, by="subject")
    wuye = out[out["subject"] == "wuye"].set_index("term")
    assert wuye.loc["噪音", "count"] == 3 and wuye.loc["噪音", "docs"] == 2
    assert wuye.loc["噪音", "n"] == 2 and wuye.loc["噪音", "estimate"] == 1.0
    assert out[out["subject"] == "wuye"]["term"].iloc[0] == "噪音"  # most frequent first
    top = term_counts(data, by="subject", top=1)
    assert top.groupby("subject").size().tolist() == [1, 1]
    with pytest.raises(DataError, match="no column"):
        term_counts(data, text="comment")
