"""The shared column vocabulary of every analysis result.

Every public function in :mod:`toolkit.analysis` returns a tidy :class:`pandas.DataFrame`: one row per
estimate (item, group, term, level, ...), identifying columns first, then the columns below, never
rounded (round only for display). A column that does not apply is left out rather than filled with NaN;
a column that applies but cannot be computed for one row (an empty group) holds NaN for that row.

======================  ===========================================================================
column                  meaning
======================  ===========================================================================
``item``                the variable (column of the input) the row is about
``group``/by columns    grouping columns keep their own names (``by="community"`` gives ``community``)
``subject``             the evaluated party (居委会, 物业, ...) where ballots rate several
``level``               a response level (满意, 基本满意, ...) for per-level rows
``term``                a model term (coefficient, threshold ``1|2``, variance component)
``measure``             which quantity a row holds when a function returns several (``"strict"``)
``method``              the interval or test method used (``"wilson"``, ``"feldt"``, ``"holm"``)
``count``               number of cases with the property (numerator of a rate)
``n``                   number of cases used (denominator of a rate, cases in a group or model)
``estimate``            the point estimate (a rate in [0, 1], a mean, an alpha, a coefficient)
``se``                  its standard error
``ci_low``/``ci_high``  confidence interval bounds at ``confidence``
``confidence``          the confidence level of the interval (0.95)
``statistic``           a test statistic (z, chi-square, H, U, F, ...)
``df``                  degrees of freedom of the statistic (``df1``/``df2`` for F)
``p_value``             the p-value of the test (two-sided unless ``alternative`` says otherwise)
``p_adjusted``          a multiplicity-adjusted p-value, method named in ``method``
``deff``                design effect (survey estimates)
``odds_ratio``          exp(coefficient) for logistic and ordinal models
``effect_size``         a named effect size; ``effect_size_name`` says which (``"rank_biserial"``)
``denominator``         the declared denominator rule of a rate (``"valid"``, ``"members"``)
``rule``                the decision rule applied (``evaluation_verdict``)
``verdict``             the outcome of a decision rule (满意 / 基本满意 / 不满意, pass / fail)
``half_width``          half the width of a (planned) interval, (ci_high - ci_low) / 2
``power``               probability that a test detects an effect of the planned size
``population``          number of people who could answer (finite population correction)
``n_srs``               effective sample size needed (simple random sampling, unlimited population)
``year``                the evaluation year of a trend row (named as the input column)
``importance``          an item's importance (derived share of R², a correlation, or stated)
``quadrant``            importance-performance quadrant (``concentrate_here``, ``keep_up``, ...)
``level_other``         the second level of a pair (concerns raised together)
``min_expected``        smallest expected count of a contingency table
``fisher_p_value``      Fisher's exact test p-value (2×2 tables)
``n_risk``/``events``   survival: cases at risk just before a time, events at it
``censored``            survival: cases censored at a time
``*_before``, ``*_after``
                        ``count``, ``n``, ``estimate`` of the two samples of a before/after change
``n_other``             cases in the comparison group
``seconds``             speaking time in seconds (voice); ``mean_seconds`` per turn
``share_turns``         share of all turns (voice); ``share_time`` share of all speaking time
``population_share``    cumulative share of people on a Lorenz curve; ``cumulative_share`` theirs
``top``                 the fraction of people at the top (``top_share``)
``code``                a code of a codebook (comment coding)
``docs``                comments containing a ``term`` (a segmented word of the comments)
======================  ===========================================================================

Counts are integers; rates and shares are proportions in [0, 1], never percentages.

>>> sorted(COLUMNS)[:3]
['censored', 'ci_high', 'ci_low']
"""

from __future__ import annotations

COLUMNS: dict[str, str] = {
    "item": "the variable the row is about",
    "subject": "the evaluated party",
    "level": "a response level",
    "term": "a model term",
    "measure": "which quantity a row holds",
    "method": "the interval, test or adjustment method",
    "count": "number of cases with the property",
    "n": "number of cases used",
    "estimate": "the point estimate",
    "se": "standard error of the estimate",
    "ci_low": "lower confidence bound",
    "ci_high": "upper confidence bound",
    "confidence": "confidence level of the interval",
    "statistic": "test statistic",
    "df": "degrees of freedom",
    "p_value": "p-value",
    "p_adjusted": "multiplicity-adjusted p-value",
    "deff": "design effect",
    "odds_ratio": "exp(coefficient)",
    "effect_size": "a named effect size",
    "effect_size_name": "which effect size",
    "denominator": "the declared denominator rule",
    "rule": "the decision rule applied",
    "verdict": "the outcome of a decision rule",
    # planning
    "half_width": "half the width of a (planned) interval",
    "power": "probability that a test detects the planned effect",
    "population": "number of people who could answer",
    "n_srs": "effective sample size needed under simple random sampling",
    "year": "the evaluation year of a trend row",
    # importance-performance
    "importance": "an item's importance (derived or stated)",
    "quadrant": "importance-performance quadrant",
    # three meetings as one process (hearing, coordination, rectification)
    "level_other": "the second level of a pair (co-occurrence)",
    "min_expected": "smallest expected count of a contingency table",
    "fisher_p_value": "p-value of Fisher's exact test (2x2 tables)",
    "n_risk": "cases still at risk just before a time (survival)",
    "events": "events at a time (survival)",
    "censored": "cases censored at a time (survival)",
    "count_before": "count in the earlier sample of a before/after comparison",
    "n_before": "cases in the earlier sample",
    "estimate_before": "rate in the earlier sample",
    "count_after": "count in the later sample",
    "n_after": "cases in the later sample",
    "estimate_after": "rate in the later sample",
    "n_other": "cases in the comparison group",
    "seconds": "speaking time in seconds",
    "mean_seconds": "mean speaking time per turn",
    "share_turns": "share of all turns",
    "share_time": "share of all speaking time",
    "population_share": "cumulative share of people (Lorenz curve)",
    "cumulative_share": "cumulative share of the total (Lorenz curve)",
    "top": "fraction of people at the top",
    "code": "a code of a codebook",
    "docs": "number of documents containing a term",
}
