"""Every public analysis result speaks the shared vocabulary (:mod:`toolkit.analysis.vocabulary`).

One small, valid call per public function of :data:`toolkit.analysis.__all__` (and per estimating
method of :class:`~toolkit.analysis.SurveyDesign`); each result's columns must be vocabulary
terms, the grouping columns the call named, or the input's own names (items, levels). A new
public function without a call here fails :func:`test_every_public_function_is_checked`.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import toolkit.analysis as analysis
from toolkit.analysis.vocabulary import COLUMNS, SPECIFIC

LEVELS = ["不满意", "基本满意", "满意"]
_CHANGE = ["satisfied", "basically_satisfied", "dissatisfied"]


def _ballots() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 60
    return pd.DataFrame(
        {
            "attitude": rng.choice(["满意", "基本满意", "不满意", "不了解"], n),
            "overall": rng.choice(["满意", "基本满意", "不满意"], n),
            "role": np.tile(["党员", "群众"], n // 2),
            "age": rng.integers(25, 85, n),
        }
    )


def _ratings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "r1": ["满意", "满意", "不满意", "基本满意", "满意", "基本满意"],
            "r2": ["满意", "基本满意", "不满意", "基本满意", "满意", "满意"],
            "r3": ["满意", "满意", "不满意", "不满意", "满意", "基本满意"],
        }
    )


def _scores() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    f = rng.normal(size=120)
    return pd.DataFrame({c: np.clip(np.round(3 + f + rng.normal(size=120)), 1, 5) for c in "abcd"})


def _groups() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    community = np.repeat(np.arange(12), 15)
    score = 7 + rng.normal(0, 0.8, 12)[community] + rng.normal(0, 1.5, community.size)
    return pd.DataFrame({"score": score, "community": community})


def _ordinal() -> pd.DataFrame:
    data = _ballots()
    data["overall"] = pd.Categorical(data["overall"], categories=LEVELS, ordered=True)
    return data


def _design() -> analysis.SurveyDesign:
    data = _ballots().assign(w=1.0, stratum=np.repeat(["s1", "s2"], 30))
    return analysis.SurveyDesign(data, weights="w", strata="stratum")


#: function name -> (call, names the call gave: grouping columns and the input's own names)
def _codings() -> pd.DataFrame:
    """Two coders' codes of four comments (one disagreement on ``b``)."""
    return pd.DataFrame(
        {
            "submission_id": ["a", "a", "b", "b", "c", "c", "d", "d"],
            "question": "comments",
            "coder": ["A", "B"] * 4,
            "codes": [["noise"], ["noise"], [], ["noise"], ["cost"], ["cost"], [], []],
        }
    )


def _turns() -> pd.DataFrame:
    """Speaking turns by seat and category."""
    return pd.DataFrame(
        {
            "seat": [1, 2, 1, 3, 4, 2],
            "category": ["resident", "property", "resident", "government", "resident", "property"],
            "seconds": [60.0, 120.0, 30.0, 90.0, 20.0, 45.0],
        }
    )


def _comments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "level": ["不满意", "不满意", "满意"],
            "text": ["噪音太大，噪音扰民", "施工噪音", "电梯很好"],
            "codes": [["noise", "cost"], ["noise"], []],
        }
    )


CALLS: dict[str, tuple[Callable[[], Any], set[str]]] = {
    "evaluation_verdict": (
        lambda: analysis.evaluation_verdict(_ballots(), items="overall", members=60),
        set(),
    ),
    "likert_counts": (
        lambda: analysis.likert_counts(
            _ballots(), items="overall", by="role", levels=LEVELS, exclude=["不了解"]
        ),
        {"role"},
    ),
    "likert_summary": (
        lambda: analysis.likert_summary(_ordinal(), items="overall", by="role"),
        {"role"},
    ),
    "proportion_ci": (lambda: analysis.proportion_ci(18, 24), set()),
    "satisfaction_index": (
        lambda: analysis.satisfaction_index(_ballots(), items=["attitude", "overall"]),
        set(),
    ),
    "satisfaction_rates": (
        lambda: analysis.satisfaction_rates(_ballots(), items="attitude", by="role"),
        {"role"},
    ),
    "satisfaction_rates_from_counts": (
        lambda: analysis.satisfaction_rates_from_counts(
            pd.DataFrame(
                {
                    "variable": "attitude",
                    "value": ["满意", "基本满意", "不满意", "不了解"],
                    "count": [12, 6, 2, 4],
                }
            ),
            items="attitude",
        ),
        set(),
    ),
    "cronbach_alpha": (lambda: analysis.cronbach_alpha(_scores()), set()),
    "item_analysis": (lambda: analysis.item_analysis(_scores()), set()),
    "omega": (lambda: analysis.omega(_scores()), set()),
    "compare_groups": (
        lambda: analysis.compare_groups(_ordinal(), y="overall", by="role"),
        set(),
    ),
    "multilevel_model": (
        lambda: analysis.multilevel_model(_groups(), formula="score ~ 1", group="community"),
        set(),
    ),
    "multilevel_model_fit": (
        lambda: analysis.multilevel_model_fit(_groups(), formula="score ~ 1", group="community"),
        set(),
    ),
    "ordinal_model_fit": (
        lambda: analysis.ordinal_model_fit(_ordinal(), formula="overall ~ age"),
        set(),
    ),
    "ordinal_regression": (
        lambda: analysis.ordinal_regression(_ordinal(), formula="overall ~ age"),
        set(),
    ),
    "proportional_odds_test": (
        lambda: analysis.proportional_odds_test(_ordinal(), formula="overall ~ age"),
        set(),
    ),
    "fleiss_kappa": (lambda: analysis.fleiss_kappa(_ratings(), n_boot=50), set()),
    "icc": (lambda: analysis.icc(_scores()), set()),
    "kendall_w": (lambda: analysis.kendall_w(_scores()), set()),
    "krippendorff_alpha": (lambda: analysis.krippendorff_alpha(_ratings(), n_boot=50), set()),
    "consent_check": (
        lambda: analysis.consent_check(
            pd.DataFrame(
                {
                    "owner": ["a", "b", "c", "d"],
                    "area": [55.37, 60.0, 48.5, 70.25],
                    "participated": [True, True, True, False],
                    "vote": ["同意", "同意", "反对", None],
                }
            )
        ),
        set(),
    ),
    "repeat_participation": (
        lambda: analysis.repeat_participation(
            pd.DataFrame(
                {
                    "meeting": ["听证会"] * 4 + ["协调会"] * 3 + ["评议会"] * 3,
                    "participant": ["a", "b", "c", "d", "a", "b", "e", "a", "e", "f"],
                }
            )
        ),
        {"meeting"},
    ),
    "representativeness": (
        lambda: analysis.representativeness(
            pd.DataFrame({"age": ["60+"] * 14 + ["40-59"] * 5 + ["18-39"] * 1}),
            {"18-39": 0.35, "40-59": 0.35, "60+": 0.30},
            by="age",
        ),
        {"age"},
    ),
    "response_rates": (
        lambda: analysis.response_rates(
            {"I": 4, "P": 2, "R": 1, "NC": 1, "O": 1, "UH": 1, "UO": 1, "NE": 1}
        ),
        set(),
    ),
    "turnout": (
        lambda: analysis.turnout(
            pd.DataFrame(
                {
                    "attended": [True, True, False, True, False, False],
                    "role": ["resident", "resident", "resident", "cadre", "cadre", "resident"],
                }
            ),
            by="role",
        ),
        {"role"},
    ),
    "plan_sample_size": (
        lambda: analysis.plan_sample_size(half_width=0.10, population=40),
        set(),
    ),
    "precision": (lambda: analysis.precision(n=29, population=40), set()),
    "cochran_armitage": (
        lambda: analysis.cochran_armitage([83, 90, 129, 70], [86, 93, 136, 82]),
        set(),
    ),
    "newcombe_difference": (lambda: analysis.newcombe_difference(56, 70, 48, 80), set()),
    "satisfaction_trend": (
        lambda: analysis.satisfaction_trend(
            pd.DataFrame(
                {
                    "year": [2023] * 10 + [2024] * 10 + [2025] * 10,
                    "overall": ["满意"] * 5
                    + ["不满意"] * 5
                    + ["满意"] * 7
                    + ["不满意"] * 3
                    + ["满意"] * 9
                    + ["不满意"],
                }
            ),
            item="overall",
            year="year",
        ),
        set(),
    ),
    "driver_analysis": (
        lambda: analysis.driver_analysis(
            pd.DataFrame(
                {
                    "attitude": [3, 3, 2, 1, 3, 2, 2, 1, 3, 2],
                    "results": [3, 2, 2, 1, 3, 1, 2, 1, 2, 3],
                    "overall": [3, 3, 2, 1, 3, 1, 2, 1, 2, 3],
                }
            ),
            outcome="overall",
            items=["attitude", "results"],
            method="dominance",
            n_boot=0,
        ),
        set(),
    ),
    "small_area_rates": (
        lambda: analysis.small_area_rates(
            pd.DataFrame(
                [
                    {"community": c, "overall": "满意" if i < s else "不满意"}
                    for c, (s, n) in {"康乐": (9, 12), "长寿": (20, 40), "曹杨": (30, 35)}.items()
                    for i in range(n)
                ]
            ),
            item="overall",
            area="community",
            rate="strict",
        ),
        {"community"},
    ),
    "importance_performance": (
        lambda: analysis.importance_performance(
            pd.DataFrame(
                {
                    "attitude": ["满意"] * 9 + ["不满意"],
                    "results": ["满意"] * 4 + ["不满意"] * 6,
                    "integrity": ["满意"] * 6 + ["基本满意", "不满意", "不满意", "不满意"],
                }
            ),
            items=["attitude", "results", "integrity"],
            importance={"attitude": 2, "results": 5, "integrity": 1},
        ),
        set(),
    ),
    # the three meetings as one process (hearing, coordination, rectification)
    "agreement_rates": (
        lambda: analysis.agreement_rates(
            pd.DataFrame({"agreement": ["reached"] * 3 + ["none"]}), by=None
        ),
        set(),
    ),
    "agreement_times": (
        lambda: analysis.agreement_times(
            pd.DataFrame(
                {
                    "case_id": ["a", "a", "b"],
                    "stage": ["hearing", "coordination", "hearing"],
                    "date": pd.to_datetime(["2026-01-01", "2026-01-31", "2026-02-01"]).date,
                    "agreement": [None, "reached", None],
                }
            ),
            as_of="2026-03-01",
        ),
        {"case_id"},
    ),
    "concern_cooccurrence": (
        lambda: analysis.concern_cooccurrence(
            pd.DataFrame({"concerns__cost": [1, 1, 0, 0], "concerns__noise": [1, 1, 0, 1]})
        ),
        set(),
    ),
    "concern_frequency": (
        lambda: analysis.concern_frequency(
            pd.DataFrame({"concerns__cost": [1, 1, 0], "concerns__noise": [0, 1, 0]})
        ),
        set(),
    ),
    "consent_gap": (
        lambda: analysis.consent_gap(
            pd.DataFrame(
                {
                    "owner": list("abcdef"),
                    "area": [50, 60, 55, 70, 45, 80],
                    "position": ["support", "support", "oppose", "conditional", None, "support"],
                }
            ),
            rules=["cc2021_major"],
        ),
        set(),
    ),
    "parties_per_meeting": (
        lambda: analysis.parties_per_meeting(pd.DataFrame({"parties": [3, 4, 5, None]}), by=None),
        set(),
    ),
    "position_association": (
        lambda: analysis.position_association(
            pd.DataFrame(
                {
                    "o": ["support"] * 8 + ["oppose"] * 8,
                    "f": ["7+"] * 6 + ["1-3"] * 2 + ["7+"] * 2 + ["1-3"] * 6,
                }
            ),
            item="o",
            by="f",
        ),
        set(),
    ),
    "position_consensus": (
        lambda: analysis.position_consensus(
            pd.DataFrame({"o": ["support"] * 5 + ["oppose"] * 5}),
            items=["o"],
            levels=["support", "conditional", "oppose"],
        ),
        set(),
    ),
    "position_crosstab": (
        lambda: analysis.position_crosstab(
            pd.DataFrame({"o": ["support", "oppose", "support"], "f": ["1-3", "1-3", "7+"]}),
            item="o",
            by="f",
        ),
        {"f"},
    ),
    "position_shares": (
        lambda: analysis.position_shares(
            pd.DataFrame({"option_1": ["support"] * 3 + ["oppose"]}), items=["option_1"]
        ),
        set(),
    ),
    "rate_difference": (lambda: analysis.rate_difference(3, 10, 9, 10), set()),
    "rectified_vs_others": (
        lambda: analysis.rectified_vs_others(
            pd.DataFrame(
                {"item": list("abcdef"), "estimate": [0.30, 0.25, 0.20, 0.02, -0.05, 0.01]}
            ),
            rectified=["a", "b", "c"],
        ),
        set(),
    ),
    "satisfaction_change": (
        lambda: analysis.satisfaction_change(
            pd.DataFrame(
                {
                    "a": pd.Categorical(
                        ["dissatisfied"] * 6 + ["satisfied"] * 4, _CHANGE, ordered=True
                    )
                }
            ),
            pd.DataFrame(
                {
                    "a": pd.Categorical(
                        ["dissatisfied"] * 2 + ["satisfied"] * 8, _CHANGE, ordered=True
                    )
                }
            ),
            items=["a"],
        ),
        set(),
    ),
    "terms_recorded": (
        lambda: analysis.terms_recorded(
            pd.DataFrame({"terms": [["补偿"], ["补偿", "工期"], []]}), by=None
        ),
        set(),
    ),
    "time_to_agreement": (
        lambda: analysis.time_to_agreement(
            pd.DataFrame({"days": [10, 20, 20, 30], "event": [1, 1, 0, 1]})
        ),
        set(),
    ),
    "coding_agreement": (lambda: analysis.coding_agreement(_codings()), set()),
    "coding_disagreements": (lambda: analysis.coding_disagreements(_codings()), {"A", "B"}),
    "final_codes": (lambda: analysis.final_codes(_codings()), set()),
    "gini": (lambda: analysis.gini(_turns(), n_boot=20), set()),
    "lorenz_curve": (lambda: analysis.lorenz_curve(_turns()), set()),
    "speaking_time": (lambda: analysis.speaking_time(_turns()), {"category"}),
    "term_counts": (
        lambda: analysis.term_counts(_comments(), by="level", keywords=["噪音", "电梯"]),
        {"level"},
    ),
    "theme_crosstab": (lambda: analysis.theme_crosstab(_comments()), {"level"}),
    "top_share": (lambda: analysis.top_share(_turns()), set()),
    "turn_transitions": (lambda: analysis.turn_transitions(_turns()), set()),
    "voice_shares": (lambda: analysis.voice_shares(_turns()), set()),
    "SurveyDesign.mean": (lambda: _design().mean("age", by="role"), {"role"}),
    "SurveyDesign.total": (lambda: _design().total("age"), set()),
    "SurveyDesign.ratio": (lambda: _design().ratio("age", "age"), set()),
    "SurveyDesign.proportion": (lambda: _design().proportion("overall", by="role"), {"role"}),
}

#: Public names that return no result table (warnings, records, weights, a number, the design).
NOT_TABLES = {
    "AnalysisWarning",
    "SmallExpectedCountWarning",
    "CONSENT_RULES",
    "ConsentCondition",
    "ConsentRule",
    "SurveyDesign",
    "kish_effective_n",
    "poststratify",
    "rake",
    "trim_weights",
    "tastle_wierman_consensus",  # a number
    "van_der_eijk_agreement",  # a number
    "segment",  # a list of words
}

#: Public functions merged after this test was written (speaking turns, comment coding), each
#: needing a call in CALLS; the test fails when one is listed here and no longer public.
UNCHECKED: set[str] = set()


def test_every_public_function_is_checked() -> None:
    public = set(analysis.__all__)
    assert public >= UNCHECKED
    assert public - NOT_TABLES - UNCHECKED == {name for name in CALLS if "." not in name}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_result_columns_are_vocabulary_terms(name: str) -> None:
    call, own = CALLS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = call()
    assert isinstance(result, pd.DataFrame)
    specific = SPECIFIC.get(name, {})
    unknown = [c for c in result.columns if c not in COLUMNS and c not in specific and c not in own]
    assert not unknown, f"{name} returns columns outside the vocabulary: {unknown}"


def test_vocabulary_terms_have_meanings() -> None:
    terms = {**COLUMNS, **{k: v for table in SPECIFIC.values() for k, v in table.items()}}
    assert all(isinstance(v, str) and v for v in terms.values())
    assert all(k == k.lower() and " " not in k for k in terms)


def test_a_specific_column_belongs_to_one_function_and_is_not_shared() -> None:
    assert set(SPECIFIC) <= set(analysis.__all__)
    seen: dict[str, str] = {}
    for function, table in SPECIFIC.items():
        for column in table:
            assert column not in COLUMNS, f"{column} of {function} is a shared term already"
            assert column not in seen, f"{column} is used by {seen[column]} and {function}"
            seen[column] = function


@pytest.mark.parametrize("kind", ["test", "type", "kind"])
def test_one_name_for_a_rows_kind(kind: str) -> None:
    """``measure`` names which quantity a row holds; no result uses another name for it."""
    assert kind not in COLUMNS
    assert all(kind not in table for table in SPECIFIC.values())


def test_the_design_methods_are_all_checked() -> None:
    methods = {
        f"SurveyDesign.{m}"
        for m, f in inspect.getmembers(analysis.SurveyDesign, inspect.isfunction)
        if not m.startswith("_") and m in ("mean", "total", "ratio", "proportion", "crosstab")
    }
    assert methods - set(CALLS) <= {"SurveyDesign.crosstab"}
