"""From hearing positions to the owners' vote: which owners would still be needed for consent.

For an elevator, the hearing says where the doorway stands; the consent rules (民法典 Art. 278 and
Shanghai's elevator rules, :func:`~toolkit.analysis.consent_check`) say what the vote needs.
:func:`consent_gap` joins them: from each owner's position it names, per rule, the owners who would
still have to be won over.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from toolkit._checks import check_columns, check_option
from toolkit.analysis.consent import consent_check
from toolkit.errors import DataError

__all__ = ["POSITION_VOTES", "consent_gap"]

#: The hearing form's code for 还没想好 (undecided).
DONT_KNOW = "dont_know"

#: How a hearing position counts in a consent vote: 支持 agrees; 反对 votes against; 有条件支持
#: takes part without agreeing (yet); 还没想好 or no answer has not taken part.
POSITION_VOTES = {"support": "agree", "oppose": "against", "conditional": "abstain"}
#: The order in which owners are approached: conditional supporters, then the undecided, then
#: those against; within each, the largest area first.
_APPROACH = {"conditional": 0, DONT_KNOW: 1, None: 1, "oppose": 2}


def consent_gap(
    units: pd.DataFrame,
    *,
    position: str = "position",
    rules: Sequence[str] = ("cc2021_major", "sh_two_thirds_no_objection"),
    area: str = "area",
    owner: str = "owner",
    building: str | None = None,
) -> pd.DataFrame:
    """Which owners would still be needed for each consent rule, from their hearing positions.

    Each owner's position (from the doorway roster, e.g. the signed list of a hearing or a
    door-to-door canvass; anonymous ballots cannot give it) becomes a vote: 支持 → agree,
    反对 → against, 有条件支持 → taking part without agreeing, 还没想好 or blank → not taking part
    (:data:`POSITION_VOTES`). Then, per rule and building, owners are won over one at a time —
    conditional supporters first, then the undecided, then opponents, each group largest area
    first — until :func:`~toolkit.analysis.consent_check` passes.

    Parameters
    ----------
    units : DataFrame
        One row per exclusive unit with ``owner``, ``area`` and ``position``.
    position : str
        Column of positions (``support``, ``conditional``, ``oppose``, ``dont_know`` or blank).
    rules : sequence of str
        Rule ids of :data:`~toolkit.analysis.CONSENT_RULES`.
    area, owner, building : str
        As in :func:`~toolkit.analysis.consent_check`.

    Returns
    -------
    DataFrame
        One row per rule (and building): ``rule``, the building column if given, ``verdict`` now
        (``pass``/``fail``), ``count`` (owners still needed, 0 if passing; NaN if even every owner
        agreeing would not pass), ``needed_owners`` (their ids, in the order approached) and
        ``agreeing_owners``, ``owners``.

    Notes
    -----
    The order is a plan, not a guaranteed minimum when area and head count pull apart; the result
    under each rule is checked exactly by :func:`~toolkit.analysis.consent_check` (民法典 Art. 278
    for ``cc2021_*``; Shanghai's rules otherwise).

    Examples
    --------
    >>> units = pd.DataFrame({"owner": list("abcdef"), "area": [50, 60, 55, 70, 45, 80],
    ...     "position": ["support", "support", "oppose", "conditional", None, "support"]})
    >>> gap = consent_gap(units, rules=["cc2021_major"])
    >>> gap[["rule", "verdict", "count", "needed_owners"]].values.tolist()
    [['cc2021_major', 'fail', 1, 'd']]
    """
    check_columns(units, [position, area, owner] + ([building] if building else []))
    for rule in rules:
        from toolkit.analysis.consent import CONSENT_RULES

        check_option("rules", rule, tuple(CONSENT_RULES))
    frame = units.copy()
    raw = frame[position].astype(object).where(frame[position].notna(), None)
    bad = sorted({str(v) for v in raw.dropna()} - {*POSITION_VOTES, DONT_KNOW})
    if bad:
        raise DataError(
            f"column `{position}` has positions {bad}; use support, conditional, oppose, "
            "dont_know or leave it blank."
        )
    frame["_position"] = raw
    groups = [(None, frame)] if building is None else list(frame.groupby(building, sort=True))
    rows = []
    for rule in rules:
        for key, group in groups:
            rows.append(_gap_one(group, rule, area=area, owner=owner, building=building, key=key))
    return pd.DataFrame(rows)


def _votes(group: pd.DataFrame, won: set[Any]) -> pd.DataFrame:
    units = group.copy()
    positions = units["_position"]
    vote = positions.map(lambda p: POSITION_VOTES.get(p) if p is not None else None)
    participated = positions.map(lambda p: p in POSITION_VOTES)
    is_won = units["_owner"].isin(won)
    units["_vote"] = vote.where(~is_won, "agree")
    units["_participated"] = participated | is_won
    return units


def _gap_one(
    group: pd.DataFrame, rule: str, *, area: str, owner: str, building: str | None, key: Any
) -> dict[str, Any]:
    group = group.assign(_owner=group[owner])

    def check(won: set[Any]) -> pd.DataFrame:
        units = _votes(group, won)
        return consent_check(
            units.rename(columns={"_vote": "vote_", "_participated": "participated_"}),
            rule=rule,
            area=area,
            owner=owner,
            participated="participated_",
            vote="vote_",
        )

    first = check(set())
    row: dict[str, Any] = {"rule": rule}
    if building is not None:
        row[building] = key
    row["verdict"] = str(first["verdict"].iloc[0])
    owners_table = (
        group.groupby("_owner", sort=True)
        .agg(position=("_position", "first"), area=(area, lambda s: sum(float(v) for v in s)))
        .reset_index()
    )
    candidates = owners_table[owners_table["position"] != "support"].copy()
    candidates["order"] = candidates["position"].map(lambda p: _APPROACH.get(p, 1))
    candidates = candidates.sort_values(["order", "area", "_owner"], ascending=[True, False, True])
    won: list[Any] = []
    result = first
    for candidate in candidates["_owner"]:
        if result["verdict"].iloc[0] == "pass":
            break
        won.append(candidate)
        result = check(set(won))
    passed = result["verdict"].iloc[0] == "pass"
    row["count"] = len(won) if passed else float("nan")
    row["needed_owners"] = ", ".join(str(w) for w in won) if passed else ""
    row["agreeing_owners"] = int(first["agreeing_owners"].iloc[0])
    row["owners"] = int(first["owners"].iloc[0])
    return row
