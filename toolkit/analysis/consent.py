"""Owners' consent for changing common parts (adding an elevator), checked exactly.

民法典 (Civil Code) Art. 278, in force from 2021, makes owners decide together, per building or
doorway, with a double test on area and head count. Shanghai's own elevator rules changed over time,
so every result records the rule version it applied (:data:`CONSENT_RULES`).

All area arithmetic uses :class:`fractions.Fraction` (a decimal area such as 55.37 becomes
``Fraction("55.37")`` = 5537/100), so a share that is exactly 2/3, 3/4 or 1/2 is compared exactly,
never through floating point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import pandas as pd

from toolkit._checks import check_columns, check_option
from toolkit.errors import DataError, ParameterError

__all__ = ["CONSENT_RULES", "ConsentCondition", "ConsentRule", "consent_check"]

Measure = Literal["area", "owners"]
Numerator = Literal["participating", "agreeing", "against"]
Base = Literal["all", "participating"]


@dataclass(frozen=True)
class ConsentCondition:
    """One condition of a consent rule.

    A *share* condition (``threshold`` set) passes when ``numerator / base`` reaches ``threshold``:
    at least (``strict=False``, 以上) or more than (``strict=True``, 过半数). A *no-objection*
    condition (``threshold`` None, ``numerator == "against"``) passes when the owners voting
    against are at most ``max_against`` (an argument of :func:`consent_check`, default 0).
    """

    name: str
    description: str
    measure: Measure
    numerator: Numerator
    base: Base = "all"
    threshold: Fraction | None = None
    strict: bool = False


@dataclass(frozen=True)
class ConsentRule:
    """A named consent rule: an id, a human description and its conditions (all must pass)."""

    id: str
    description: str
    conditions: tuple[ConsentCondition, ...]


_QUORUM = (
    ConsentCondition(
        "quorum_area",
        "owners taking part hold at least 2/3 of the exclusive area (专有部分面积占比三分之二以上)",
        "area",
        "participating",
        "all",
        Fraction(2, 3),
    ),
    ConsentCondition(
        "quorum_owners",
        "at least 2/3 of the owners take part (人数占比三分之二以上)",
        "owners",
        "participating",
        "all",
        Fraction(2, 3),
    ),
)

_NO_OBJECTION = ConsentCondition(
    "no_objection",
    "no owner votes against (at most `max_against` owners against)",
    "owners",
    "against",
)

CONSENT_RULES: dict[str, ConsentRule] = {
    "cc2021_major": ConsentRule(
        "cc2021_major",
        "民法典 Art. 278 (2021), rebuilding or changing common parts (e.g. adding an elevator): "
        "owners holding at least 2/3 of the exclusive area and at least 2/3 of the owners take "
        "part, and at least 3/4 of the participating area and at least 3/4 of the participating "
        "owners agree.",
        (
            *_QUORUM,
            ConsentCondition(
                "approval_area",
                "owners agreeing hold at least 3/4 of the participating area "
                "(参与表决专有部分面积四分之三以上)",
                "area",
                "agreeing",
                "participating",
                Fraction(3, 4),
            ),
            ConsentCondition(
                "approval_owners",
                "at least 3/4 of the participating owners agree (参与表决人数四分之三以上)",
                "owners",
                "agreeing",
                "participating",
                Fraction(3, 4),
            ),
        ),
    ),
    "cc2021_ordinary": ConsentRule(
        "cc2021_ordinary",
        "民法典 Art. 278 (2021), other matters: owners holding at least 2/3 of the exclusive area "
        "and at least 2/3 of the owners take part, and more than half of the participating area "
        "and more than half of the participating owners agree (过半数: exactly 1/2 fails).",
        (
            *_QUORUM,
            ConsentCondition(
                "approval_area",
                "owners agreeing hold more than half of the participating area "
                "(参与表决专有部分面积过半数)",
                "area",
                "agreeing",
                "participating",
                Fraction(1, 2),
                strict=True,
            ),
            ConsentCondition(
                "approval_owners",
                "more than half of the participating owners agree (参与表决人数过半数)",
                "owners",
                "agreeing",
                "participating",
                Fraction(1, 2),
                strict=True,
            ),
        ),
    ),
    "sh2014_pilot": ConsentRule(
        "sh2014_pilot",
        "Shanghai elevator pilot (2014): at least 90% (9/10) of all owners of the building or "
        "doorway agree and no owner objects. Modelled as a head count over all owners (owners who "
        "do not vote do not agree) and 'no strong objection' as at most `max_against` (default 0) "
        "owners voting against.",
        (
            ConsentCondition(
                "agree_owners",
                "at least 9/10 of all owners agree",
                "owners",
                "agreeing",
                "all",
                Fraction(9, 10),
            ),
            _NO_OBJECTION,
        ),
    ),
    "sh_two_thirds_no_objection": ConsentRule(
        "sh_two_thirds_no_objection",
        "Shanghai later practice: owners holding at least 2/3 of the exclusive area and at least "
        "2/3 of all owners agree, and no owner explicitly objects. Modelled as the double 2/3 "
        "test over all owners (not only participants) and 'no explicit objection' as at most "
        "`max_against` (default 0) owners voting against.",
        (
            ConsentCondition(
                "agree_area",
                "owners agreeing hold at least 2/3 of the exclusive area",
                "area",
                "agreeing",
                "all",
                Fraction(2, 3),
            ),
            ConsentCondition(
                "agree_owners",
                "at least 2/3 of all owners agree",
                "owners",
                "agreeing",
                "all",
                Fraction(2, 3),
            ),
            _NO_OBJECTION,
        ),
    ),
}
"""The rule versions :func:`consent_check` knows, by id."""

_AGREE = {"agree", "yes", "y", "同意", "赞成"}
_AGAINST = {"against", "no", "n", "反对", "不同意"}
_ABSTAIN = {"abstain", "弃权"}


def _exact_area(value: Any, position: int, column: str) -> Fraction:
    where = f"`units` column `{column}`, row position {position}"
    if isinstance(value, Fraction):
        out = value
    elif isinstance(value, (bool, np.bool_)):
        raise DataError(f"{where}: area must be a number of square metres; got {value!r}.")
    elif isinstance(value, (int, np.integer)):
        out = Fraction(int(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise DataError(f"{where}: area must be a finite number; got {value!r}.")
        out = Fraction(value)
    elif isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise DataError(
                f"{where}: area is missing or infinite; every exclusive unit needs its area."
            )
        out = Fraction(str(float(value)))
    elif isinstance(value, str):
        try:
            out = Fraction(value.strip())
        except ValueError:
            raise DataError(
                f"{where}: area {value!r} is not a number; write it like 55.37."
            ) from None
    elif value is None or value is pd.NA:
        raise DataError(f"{where}: area is missing; every exclusive unit needs its area.")
    else:
        raise DataError(f"{where}: area must be a number; got {value!r}.")
    if out <= 0:
        raise DataError(f"{where}: area must be positive; got {value!r}.")
    return out


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _normalise_vote(value: Any, position: int, column: str) -> str | None:
    if _is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "agree" if bool(value) else "against"
    if isinstance(value, (int, np.integer, float, np.floating)) and float(value) in (0.0, 1.0):
        return "agree" if float(value) == 1.0 else "against"
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _AGREE:
            return "agree"
        if text in _AGAINST:
            return "against"
        if text in _ABSTAIN:
            return "abstain"
    raise DataError(
        f"`units` column `{column}`, row position {position}: unknown vote {value!r}. Use "
        "'agree'/'同意', 'against'/'反对', 'abstain'/'弃权' (or True/False), and leave it empty "
        "for owners who did not vote."
    )


def _flag(value: Any, position: int, column: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if (
        isinstance(value, (int, np.integer, float, np.floating))
        and not _is_missing(value)
        and float(value) in (0.0, 1.0)
    ):
        return float(value) == 1.0
    raise DataError(
        f"`units` column `{column}`, row position {position}: participation must be True/False "
        f"(or 1/0); got {value!r}."
    )


def _needed(condition: ConsentCondition, value: Any, base: Any, max_against: int) -> Any:
    """Smallest increase of the numerator (base held fixed) that makes the condition pass."""
    if condition.threshold is None:
        return max(0, int(value) - max_against)
    target = condition.threshold * base
    if condition.measure == "owners":
        need = math.floor(target) + 1 if condition.strict else math.ceil(target)
        return max(0, need - int(value))
    # for a strict (过半数) area condition the shortfall must be exceeded: needed_rule "more than"
    return max(Fraction(0), Fraction(target) - Fraction(value))


def _building_rows(
    part: pd.DataFrame,
    key: dict[str, Any],
    rule: ConsentRule,
    max_against: int,
    owner: str,
) -> list[dict[str, Any]]:
    owners: dict[Any, dict[str, Any]] = {}
    for rec in part.itertuples(index=False):
        oid, area_v, part_v, vote_v, pos = rec
        entry = owners.get(oid)
        if entry is None:
            owners[oid] = {"area": area_v, "participated": part_v, "vote": vote_v, "first": pos}
            continue
        if entry["participated"] != part_v or entry["vote"] != vote_v:
            where = ", ".join(f"{k} {v!r}" for k, v in key.items())
            raise DataError(
                f"`units`: owner {oid!r}{' in ' + where if where else ''} has several units with "
                f"different participation or votes (row positions {entry['first']} and {pos}: "
                f"{entry['vote'] or 'no vote'} vs {vote_v or 'no vote'}). An owner counts once in "
                "the head count, so the units must vote alike; correct the record or treat the "
                f"units as separate owners (give them different `{owner}` ids) if they have "
                "different owners."
            )
        entry["area"] += area_v

    figures: dict[Measure, dict[str, Any]] = {
        "owners": {"all": 0, "participating": 0, "agreeing": 0, "against": 0},
        "area": {
            "all": Fraction(0),
            "participating": Fraction(0),
            "agreeing": Fraction(0),
            "against": Fraction(0),
        },
    }
    for entry in owners.values():
        flags = {
            "all": True,
            "participating": entry["participated"],
            "agreeing": entry["vote"] == "agree",
            "against": entry["vote"] == "against",
        }
        for name, on in flags.items():
            if on:
                figures["owners"][name] += 1
                figures["area"][name] += entry["area"]

    rows: list[dict[str, Any]] = []
    for cond in rule.conditions:
        value = figures[cond.measure][cond.numerator]
        base = figures[cond.measure][cond.base]
        if cond.threshold is None:
            passed = int(value) <= max_against
            share: Fraction | None = None
            threshold = str(max_against)
            comparison = "≤"
            needed: Any = _needed(cond, value, base, max_against)
        else:
            share = Fraction(value) / Fraction(base) if base else None
            threshold = str(cond.threshold)
            comparison = ">" if cond.strict else "≥"
            if not base:
                passed = False
                needed = None
            else:
                target = cond.threshold * Fraction(base)
                passed = Fraction(value) > target if cond.strict else Fraction(value) >= target
                needed = _needed(cond, value, base, max_against)
        rows.append(
            {
                **key,
                "rule": rule.id,
                "rule_description": rule.description,
                "condition": cond.name,
                "description": cond.description,
                "unit": "owners" if cond.measure == "owners" else "m²",
                "value": value,
                "base": base,
                "share": share,
                "comparison": comparison,
                "threshold": threshold,
                "passed": bool(passed),
                "needed": needed,
                "needed_rule": "more than"
                if (cond.strict and cond.measure == "area" and not passed)
                else "at least",
            }
        )
    verdict = "pass" if all(r["passed"] for r in rows) else "fail"
    for r in rows:
        r["verdict"] = verdict
        r["owners"] = figures["owners"]["all"]
        r["participating_owners"] = figures["owners"]["participating"]
        r["agreeing_owners"] = figures["owners"]["agreeing"]
        r["against_owners"] = figures["owners"]["against"]
        r["area"] = figures["area"]["all"]
        r["participating_area"] = figures["area"]["participating"]
        r["agreeing_area"] = figures["area"]["agreeing"]
        r["against_area"] = figures["area"]["against"]
    return rows


def consent_check(
    units: pd.DataFrame,
    *,
    rule: str | ConsentRule = "cc2021_major",
    area: str = "area",
    owner: str = "owner",
    participated: str | None = "participated",
    vote: str = "vote",
    building: str | None = None,
    max_against: int = 0,
) -> pd.DataFrame:
    r"""Check owners' consent per building or doorway under a named rule version.

    Parameters
    ----------
    units : pandas.DataFrame
        One row per exclusive unit (专有部分, a flat) of the building(s), voters or not: the whole
        building's area and owners are the bases of the quorum.
    rule : str or ConsentRule
        ``"cc2021_major"`` (民法典 Art. 278, rebuilding or changing common parts, the default),
        ``"cc2021_ordinary"`` (other matters), ``"sh2014_pilot"`` or
        ``"sh_two_thirds_no_objection"`` (Shanghai elevator rules); see :data:`CONSENT_RULES`. A
        :class:`ConsentRule` object runs a custom rule.
    area : str
        Exclusive area of the unit in m². Decimal numbers are taken as written
        (``Fraction(str(55.37))`` = 5537/100); strings ("55.37", "1/3"), :class:`decimal.Decimal`
        and :class:`fractions.Fraction` are exact too.
    owner : str
        Owner id. An owner of several units counts once in the head count and with the sum of the
        units' areas. Co-owners of one unit share one id.
    participated : str or None
        True/False (or 1/0): the owner took part in the vote (参与表决). ``None`` derives it from
        ``vote`` (any vote, abstention included, means taking part).
    vote : str
        The unit's vote: ``"agree"``/``"同意"``/True, ``"against"``/``"反对"``/False,
        ``"abstain"``/``"弃权"``, or empty (no vote). A participating owner without a vote counts
        as taking part but not agreeing.
    building : str, optional
        Building or doorway column; each is decided separately. Without it the table is one
        building.
    max_against : int
        For the no-objection rules, the largest number of owners voting against that still
        counts as "no objection" (default 0).

    Returns
    -------
    pandas.DataFrame
        One row per building and condition (buildings sorted), with: the building column (if
        given); ``rule`` (id) and ``rule_description``; ``condition`` (e.g. ``quorum_area``) and
        its ``description``; ``unit`` (``"owners"`` or ``"m²"``); ``value`` (the condition's
        numerator) and ``base`` (its denominator) and ``share`` (value/base, exact Fraction);
        ``comparison`` (``"≥"`` for 以上, ``">"`` for 过半数, ``"≤"`` for no objection) and
        ``threshold`` (rendered exactly, ``"2/3"``); ``passed``; ``needed``, the minimum additional
        owners or m² to pass with the base held fixed (0 when passed) and ``needed_rule``
        (``"at least"``, or ``"more than"`` for a 过半数 area condition, whose shortfall must be
        exceeded); ``verdict`` (``"pass"`` when every condition passes, else ``"fail"``); and
        the building's figures ``owners``, ``participating_owners``, ``agreeing_owners``,
        ``against_owners``, ``area``, ``participating_area``, ``agreeing_area``,
        ``against_area``. Areas, shares and area shortfalls are :class:`fractions.Fraction`
        (``float(x)`` for display); head counts are ints.

    Raises
    ------
    DataError
        If a column is missing, an area is missing/non-positive/not a number, a vote is not
        recognised, an owner did not take part but has a vote, or **an owner of several units
        has units with different participation or votes** (the owner counts once, so one
        owner's units must vote alike; the message names the owner and rows).
    ParameterError
        If ``rule`` is unknown or ``max_against`` is negative.

    Notes
    -----
    With :math:`A` the building's exclusive area, :math:`N` its owners, and :math:`A_p, N_p`
    (taking part), :math:`A_y, N_y` (agreeing), Art. 278 "major" requires
    :math:`A_p \ge \tfrac23 A`, :math:`N_p \ge \tfrac23 N`, :math:`A_y \ge \tfrac34 A_p`,
    :math:`N_y \ge \tfrac34 N_p`; "ordinary" replaces the last two by :math:`A_y > \tfrac12 A_p`,
    :math:`N_y > \tfrac12 N_p`. 以上 includes the threshold; 过半数 does not. ``needed`` for a
    head-count condition is :math:`\lceil tB\rceil - V` (≥) or :math:`\lfloor tB\rfloor + 1 - V`
    (>), for an area condition the exact shortfall :math:`tB - V` (an approval is met by
    participants who switch to agree; quorum by owners who take part). An approval condition
    with no participants fails with ``needed`` None (quorum tells what is missing).

    References
    ----------
    中华人民共和国民法典 (Civil Code of the PRC, 2020, in force 2021-01-01), Art. 278.
    Shanghai rule versions as summarised in ``docs/domain.md`` (Owners' consent).

    Examples
    --------
    >>> import pandas as pd
    >>> units = pd.DataFrame({
    ...     "owner": ["a", "b", "c", "d"],
    ...     "area": [55.37, 60.0, 48.5, 70.25],
    ...     "participated": [True, True, True, False],
    ...     "vote": ["同意", "同意", "反对", None],
    ... })
    >>> res = consent_check(units)
    >>> res[["condition", "value", "base", "threshold", "passed", "needed"]]
             condition      value       base threshold  passed    needed
    0      quorum_area  16387/100    5853/25       2/3    True         0
    1    quorum_owners          3          4       2/3    True         0
    2    approval_area  11537/100  16387/100       3/4   False  3013/400
    3  approval_owners          2          3       3/4   False         1
    >>> float(res["needed"].iloc[2])  # m² more agreeing area: 3/4 x 163.87 - 115.37
    7.5325
    >>> res["verdict"].iloc[0]
    'fail'
    """
    if not isinstance(units, pd.DataFrame):
        raise ParameterError(
            f"`units` must be a pandas DataFrame with one row per exclusive unit; got "
            f"{type(units).__name__}."
        )
    if isinstance(rule, ConsentRule):
        rule_obj = rule
    else:
        check_option("rule", rule, tuple(CONSENT_RULES))
        rule_obj = CONSENT_RULES[rule]
    if isinstance(max_against, bool) or not isinstance(max_against, (int, np.integer)):
        raise ParameterError(f"`max_against` must be a whole number >= 0; got {max_against!r}.")
    if max_against < 0:
        raise ParameterError(f"`max_against` must be a whole number >= 0; got {max_against!r}.")
    columns = [area, owner, vote] + ([participated] if participated is not None else [])
    if building is not None:
        columns.append(building)
    if len(set(columns)) != len(columns):
        raise ParameterError(f"the column arguments must name different columns; got {columns}.")
    check_columns(units, columns, argument="units")
    if len(units) == 0:
        raise DataError("`units` has no rows; list every exclusive unit of the building.")

    rows_area = [_exact_area(v, i, area) for i, v in enumerate(units[area].to_numpy(dtype=object))]
    votes = [_normalise_vote(v, i, vote) for i, v in enumerate(units[vote].to_numpy(dtype=object))]
    if participated is None:
        flags = [v is not None for v in votes]
    else:
        flags = [
            _flag(v, i, participated)
            for i, v in enumerate(units[participated].to_numpy(dtype=object))
        ]
        for i, (took_part, v) in enumerate(zip(flags, votes, strict=True)):
            if not took_part and v is not None:
                raise DataError(
                    f"`units` row position {i}: the owner did not take part (`{participated}` is "
                    f"False) but has vote {v!r}; set `{participated}` to True or clear the vote."
                )
    owner_ids = units[owner].to_numpy(dtype=object)
    missing_owner = [i for i, v in enumerate(owner_ids) if _is_missing(v)]
    if missing_owner:
        raise DataError(
            f"`units` column `{owner}` has {len(missing_owner)} missing owner id(s) (first at row "
            f"position(s) {missing_owner[:5]}); every unit needs its owner."
        )

    work = pd.DataFrame(
        {
            "_owner": pd.Series(owner_ids, dtype=object),
            "_area": pd.Series(rows_area, dtype=object),
            "_part": flags,
            "_vote": pd.Series(votes, dtype=object),
            "_pos": range(len(units)),
        }
    )
    results: list[dict[str, Any]] = []
    if building is None:
        results += _building_rows(work, {}, rule_obj, int(max_against), owner)
    else:
        labels = units[building].to_numpy(dtype=object)
        missing_b = [i for i, v in enumerate(labels) if _is_missing(v)]
        if missing_b:
            raise DataError(
                f"`units` column `{building}` has {len(missing_b)} missing building id(s) (first "
                f"at row position(s) {missing_b[:5]}); every unit belongs to a building or doorway."
            )
        work["_building"] = labels
        for label in sorted(pd.unique(labels), key=lambda v: (type(v).__name__, v)):
            part = work.loc[
                work["_building"] == label, ["_owner", "_area", "_part", "_vote", "_pos"]
            ]
            results += _building_rows(part, {building: label}, rule_obj, int(max_against), owner)
    return pd.DataFrame.from_records(results)
