"""Analysis: plain pandas DataFrames in, tidy DataFrames out.

This package knows nothing of widgets or databases. Every function takes ``data`` first and everything
else by keyword, and returns a tidy DataFrame in the shared vocabulary of
:mod:`toolkit.analysis.vocabulary`. Every number is tested against R (scripts and outputs in
``tests/reference/``) or a cited published value.
"""

from __future__ import annotations

# --- satisfaction: rates, verdicts, Likert, index (proportions.py, satisfaction.py, likert.py) ---
# --- reliability (reliability.py) ---
# --- group comparisons and models (compare.py, ordinal.py, multilevel.py) ---
# --- agreement among raters (agreement.py) ---
# --- survey design and weighting (design.py, weighting.py) ---
# --- participation (participation.py, response_rates.py, consent.py) ---
from toolkit.analysis.agreement import fleiss_kappa, icc, kendall_w, krippendorff_alpha
from toolkit.analysis.compare import AnalysisWarning, SmallExpectedCountWarning, compare_groups
from toolkit.analysis.consent import CONSENT_RULES, ConsentCondition, ConsentRule, consent_check
from toolkit.analysis.design import SurveyDesign
from toolkit.analysis.likert import likert_counts, likert_summary
from toolkit.analysis.multilevel import multilevel_model, multilevel_model_fit
from toolkit.analysis.ordinal import (
    ordinal_model_fit,
    ordinal_regression,
    proportional_odds_test,
)
from toolkit.analysis.participation import repeat_participation, representativeness, turnout
from toolkit.analysis.proportions import proportion_ci
from toolkit.analysis.reliability import cronbach_alpha, item_analysis, omega
from toolkit.analysis.response_rates import response_rates
from toolkit.analysis.satisfaction import evaluation_verdict, satisfaction_index, satisfaction_rates
from toolkit.analysis.weighting import kish_effective_n, poststratify, rake, trim_weights

__all__: list[str] = []
__all__ += [  # satisfaction
    "evaluation_verdict",
    "likert_counts",
    "likert_summary",
    "proportion_ci",
    "satisfaction_index",
    "satisfaction_rates",
]
__all__ += [  # reliability
    "cronbach_alpha",
    "item_analysis",
    "omega",
]
__all__ += [  # participation
    "CONSENT_RULES",
    "ConsentCondition",
    "ConsentRule",
    "consent_check",
    "repeat_participation",
    "representativeness",
    "response_rates",
    "turnout",
]
__all__ += [  # group comparisons and models
    "AnalysisWarning",
    "SmallExpectedCountWarning",
    "compare_groups",
    "multilevel_model",
    "multilevel_model_fit",
    "ordinal_model_fit",
    "ordinal_regression",
    "proportional_odds_test",
]
__all__ += [  # survey design and weighting
    "SurveyDesign",
    "kish_effective_n",
    "poststratify",
    "rake",
    "trim_weights",
]
__all__ += [  # agreement
    "fleiss_kappa",
    "icc",
    "kendall_w",
    "krippendorff_alpha",
]
