"""Analysis: plain pandas DataFrames in, tidy DataFrames out.

>>> from toolkit.analysis import proportion_ci
>>> proportion_ci(30, 40)[["estimate", "ci_low", "ci_high"]].round(4)
   estimate  ci_low  ci_high
0      0.75  0.5981   0.8581

This package knows nothing of widgets or databases. Every function takes ``data`` first and everything
else by keyword, and returns a tidy DataFrame in the shared vocabulary of
:mod:`toolkit.analysis.vocabulary`. Every number is tested against R (scripts and outputs in
``tests/reference/``) or a cited published value.
"""

from __future__ import annotations

from toolkit.analysis.agreement import fleiss_kappa, krippendorff_alpha
from toolkit.analysis.comments import (
    coding_agreement,
    coding_disagreements,
    final_codes,
    segment,
    term_counts,
    theme_crosstab,
)
from toolkit.analysis.compare import AnalysisWarning, SmallExpectedCountWarning, compare_groups
from toolkit.analysis.concordance import icc, kendall_w
from toolkit.analysis.consent import CONSENT_RULES, ConsentCondition, ConsentRule, consent_check
from toolkit.analysis.coordination import (
    agreement_rates,
    agreement_times,
    parties_per_meeting,
    terms_recorded,
    time_to_agreement,
)
from toolkit.analysis.design import SurveyDesign
from toolkit.analysis.drivers import driver_analysis
from toolkit.analysis.hearing import (
    concern_cooccurrence,
    concern_frequency,
    position_association,
    position_consensus,
    position_crosstab,
    position_shares,
    tastle_wierman_consensus,
    van_der_eijk_agreement,
)
from toolkit.analysis.hearing_consent import consent_gap
from toolkit.analysis.ipa import importance_performance
from toolkit.analysis.likert import likert_counts, likert_summary
from toolkit.analysis.multilevel import multilevel_model, multilevel_model_fit
from toolkit.analysis.ordinal import (
    ordinal_model_fit,
    ordinal_regression,
    proportional_odds_test,
)
from toolkit.analysis.participation import repeat_participation, representativeness, turnout
from toolkit.analysis.planning import plan_sample_size, precision
from toolkit.analysis.proportions import proportion_ci
from toolkit.analysis.rectification import (
    rate_difference,
    rectified_vs_others,
    satisfaction_change,
)
from toolkit.analysis.reliability import cronbach_alpha, item_analysis, omega
from toolkit.analysis.response_rates import response_rates
from toolkit.analysis.satisfaction import (
    evaluation_verdict,
    satisfaction_index,
    satisfaction_rates,
    satisfaction_rates_from_counts,
)
from toolkit.analysis.small_area import small_area_rates
from toolkit.analysis.trends import cochran_armitage, newcombe_difference, satisfaction_trend
from toolkit.analysis.voice import (
    gini,
    lorenz_curve,
    speaking_time,
    top_share,
    turn_transitions,
    voice_shares,
)
from toolkit.analysis.weighting import kish_effective_n, poststratify, rake, trim_weights

__all__ = [  # noqa: RUF022 - grouped by topic, as the package docstring lists them
    # satisfaction: rates, verdicts, Likert summaries, index
    "evaluation_verdict",
    "likert_counts",
    "likert_summary",
    "proportion_ci",
    "satisfaction_index",
    "satisfaction_rates",
    "satisfaction_rates_from_counts",
    # reliability
    "cronbach_alpha",
    "item_analysis",
    "omega",
    # group comparisons and models
    "AnalysisWarning",
    "SmallExpectedCountWarning",
    "compare_groups",
    "multilevel_model",
    "multilevel_model_fit",
    "ordinal_model_fit",
    "ordinal_regression",
    "proportional_odds_test",
    # agreement among raters
    "fleiss_kappa",
    "icc",
    "kendall_w",
    "krippendorff_alpha",
    # survey design and weighting
    "SurveyDesign",
    "kish_effective_n",
    "poststratify",
    "rake",
    "trim_weights",
    # participation
    "CONSENT_RULES",
    "ConsentCondition",
    "ConsentRule",
    "consent_check",
    "repeat_participation",
    "representativeness",
    "response_rates",
    "turnout",
    # issue 17: planning, drivers, importance-performance, small areas, trends
    "plan_sample_size",
    "precision",
    "cochran_armitage",
    "newcombe_difference",
    "satisfaction_trend",
    "driver_analysis",
    "small_area_rates",
    "importance_performance",
    # the three meetings as one process: hearing, coordination, rectification
    "agreement_rates",
    "agreement_times",
    "concern_cooccurrence",
    "concern_frequency",
    "consent_gap",
    "parties_per_meeting",
    "position_association",
    "position_consensus",
    "position_crosstab",
    "position_shares",
    "rate_difference",
    "rectified_vs_others",
    "satisfaction_change",
    "tastle_wierman_consensus",
    "terms_recorded",
    "time_to_agreement",
    "van_der_eijk_agreement",
    # comments: words, coding agreement, themes
    "coding_agreement",
    "coding_disagreements",
    "final_codes",
    "segment",
    "term_counts",
    "theme_crosstab",
    # voice: speaking turns
    "gini",
    "lorenz_curve",
    "speaking_time",
    "top_share",
    "turn_transitions",
    "voice_shares",
]
