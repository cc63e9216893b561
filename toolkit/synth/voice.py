"""Synthetic speaking turns and coded comments, for the voice notebook, the report and tests.

:func:`make_turns` simulates one meeting's floor: the residents' committee chair opens and speaks
often; cadres and the evaluated party speak less often but longer (log-normal lengths with larger
medians); a few residents talk a lot and many not at all (a Zipf-like propensity), and a
resident's question or objection is answered by a cadre or the evaluated party more often than
not. :func:`make_comments` writes comments mostly on low ratings, with themes that match the
rating; :func:`make_codings` has coders code them with slips, so agreement is high but not perfect.

>>> turns = make_turns(seed=1)
>>> round(turns["seconds"].sum() / 60)
60
>>> g = turns.groupby("category")["seconds"].median()
>>> bool(g["residents_committee"] > g["resident"])
True
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from toolkit.instrument.speakers import VOICE_GROUPS

__all__ = ["make_codings", "make_comments", "make_turns", "record_turns"]

#: Who is present at a typical 30-person evaluation meeting (category, people).
SEATING: tuple[tuple[str, int], ...] = (
    ("resident", 13),
    ("party_member", 5),
    ("building_head", 4),
    ("owners_committee", 2),
    ("residents_committee", 2),
    ("government", 1),
    ("property", 2),
    ("contractor", 1),
)

#: Median turn length in seconds by category (cadres and the evaluated party speak longer).
MEDIAN_SECONDS: dict[str, float] = {
    "resident": 40.0,
    "party_member": 55.0,
    "building_head": 50.0,
    "owners_committee": 70.0,
    "residents_committee": 140.0,
    "government": 170.0,
    "property": 110.0,
    "contractor": 100.0,
    "other": 40.0,
}

_RESIDENT_CODES = ("question", "objection", "proposal", "agreement")
_CADRE_CODES = ("information", "agreement", "proposal")

#: Comment templates per code (a comment joins one or two of them).
THEME_TEXTS: dict[str, tuple[str, ...]] = {
    "noise_dust": ("晚上还在施工，吵得睡不着", "楼道里灰尘太大", "施工噪音影响老人休息"),
    "schedule": ("工期一拖再拖", "电梯装了半年还没完工", "什么时候完工没人说清楚"),
    "cost_sharing": ("一楼也要出钱不合理", "费用分摊不公平", "维修基金用在哪里不清楚"),
    "daylight": ("电梯挡住了我家的阳光", "低楼层采光受影响，补偿太少"),
    "quality_safety": ("电梯经常坏", "脚手架不安全", "门禁坏了有安全隐患"),
    "maintenance": ("路灯坏了很久没人修", "保洁不到位，楼道很脏", "绿化没人管"),
    "attitude": ("物业人员态度不好", "工作人员推来推去"),
    "responsiveness": ("反映了好几次都没人回", "问题迟迟没有答复"),
    "transparency": ("方案没有公示就开工了", "希望公开费用明细"),
    "praise": ("居委会辛苦了", "电梯装得很好，谢谢", "物业维修很及时，值得表扬"),
}
_NEGATIVE = tuple(c for c in THEME_TEXTS if c != "praise")
_NEG_WEIGHTS = np.array([0.2, 0.1, 0.16, 0.06, 0.08, 0.14, 0.08, 0.1, 0.08])


def make_turns(
    *, seed: int = 0, minutes: float = 60.0, start: datetime | None = None
) -> pd.DataFrame:
    """One meeting's speaking turns: ``category``, ``seat``, ``started_at``, ``ended_at``,
    ``seconds``, ``codes``; back to back, ``minutes`` long in all."""
    rng = np.random.default_rng(seed)
    start = start or datetime(2026, 3, 14, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    seats: list[str] = [c for c, k in SEATING for _ in range(k)]
    n = len(seats)
    # propensity to take the floor: Zipf-like among residents, steady for cadres
    weights = np.empty(n)
    resident_rank = rng.permutation(n) + 1
    for i, category in enumerate(seats):
        if VOICE_GROUPS[category] == "residents":
            weights[i] = 1.0 / resident_rank[i] ** 1.1 * (rng.random() < 0.8)
        else:
            weights[i] = 0.25
    chair = seats.index("residents_committee")
    answerers = [i for i, c in enumerate(seats) if VOICE_GROUPS[c] in ("cadres", "evaluated")]
    residents = [i for i, c in enumerate(seats) if VOICE_GROUPS[c] == "residents"]
    rows: list[dict[str, Any]] = []
    clock = 0.0
    total = minutes * 60
    speaker = chair
    while clock < total:
        category = seats[speaker]
        length = float(rng.lognormal(np.log(MEDIAN_SECONDS[category]), 0.5))
        length = min(max(length, 5.0), total - clock)
        pool = _RESIDENT_CODES if VOICE_GROUPS[category] == "residents" else _CADRE_CODES
        codes = sorted({str(c) for c in rng.choice(pool, size=int(rng.integers(0, 2)) + 1)})
        rows.append(
            {
                "category": category,
                "seat": speaker + 1,
                "started_at": start + timedelta(seconds=clock),
                "ended_at": start + timedelta(seconds=clock + length),
                "seconds": length,
                "codes": codes,
            }
        )
        clock += length
        asked = VOICE_GROUPS[category] == "residents" and bool(
            {"question", "objection"} & set(codes)
        )
        if asked and rng.random() < 0.65:
            speaker = int(rng.choice(answerers))
        elif speaker != chair and rng.random() < 0.2:
            speaker = chair
        else:
            p = weights[residents] / weights[residents].sum()
            speaker = (
                int(rng.choice(residents, p=p))
                if rng.random() < 0.75
                else int(rng.choice(answerers))
            )
    frame = pd.DataFrame(rows)
    frame["seat"] = frame["seat"].astype("Int64")
    return frame


def record_turns(
    store: Any, meeting: str, turns: pd.DataFrame, *, device: str = "secretary"
) -> int:
    """Write synthetic turns into a store as a recorder would (start, codes, end); returns count."""
    for row in turns.to_dict("records"):
        turn = store.start_turn(
            meeting,
            row["category"],
            seat=None if pd.isna(row["seat"]) else int(row["seat"]),
            device=device,
            at=row["started_at"],
        )
        if row["codes"]:
            store.set_turn_codes(turn.turn_id, row["codes"])
        store.end_turn(turn.turn_id, at=row["ended_at"])
    return len(turns)


def make_comments(*, seed: int = 0, n: int = 200) -> pd.DataFrame:
    """Ballots with an overall rating and (mostly for low ratings) a comment.

    Returns ``submission_id``, ``overall`` (满意 / 基本满意 / 不满意, ordered), ``text`` (None when
    no comment) and ``themes`` (the codes the text was written from: the truth coders aim at).
    """
    rng = np.random.default_rng(seed)
    levels = ["满意", "基本满意", "不满意"]
    overall = rng.choice(3, size=n, p=[0.45, 0.33, 0.22])
    rows = []
    for i in range(n):
        level = int(overall[i])
        writes = rng.random() < (0.25, 0.5, 0.85)[level]
        themes: list[str] = []
        if writes:
            if level == 0 and rng.random() < 0.8:
                themes = ["praise"]
            else:
                k = 1 + int(rng.random() < (0.15, 0.3, 0.45)[level])
                p = _NEG_WEIGHTS / _NEG_WEIGHTS.sum()
                themes = sorted(str(c) for c in rng.choice(_NEGATIVE, size=k, replace=False, p=p))
        text = "，".join(str(rng.choice(THEME_TEXTS[t])) for t in themes) + "。" if themes else None
        rows.append(
            {
                "submission_id": f"{seed:02d}{i:06d}-0000-4000-8000-000000000000"[:36],
                "overall": levels[level],
                "text": text,
                "themes": themes,
            }
        )
    frame = pd.DataFrame(rows)
    frame["overall"] = pd.Categorical(frame["overall"], categories=levels, ordered=True)
    return frame


def make_codings(
    comments: pd.DataFrame,
    *,
    coders: tuple[str, ...] = ("A", "B"),
    slips: tuple[float, ...] = (0.06, 0.12),
    seed: int = 0,
) -> pd.DataFrame:
    """Each coder's codes for every comment: the true themes, with a slip (one code added or
    dropped) at the coder's rate. Long table as ``Store.codings``."""
    rng = np.random.default_rng(seed)
    codes = list(THEME_TEXTS)
    rows = []
    written = comments[comments["text"].notna()]
    for coder, slip in zip(coders, slips, strict=True):
        for sid, themes in zip(written["submission_id"], written["themes"], strict=True):
            given = set(themes)
            if rng.random() < slip:
                other = str(rng.choice(codes))
                given ^= {other}
            rows.append((sid, "comments", coder, "coder", sorted(given)))
    return pd.DataFrame(rows, columns=["submission_id", "question", "coder", "role", "codes"])
