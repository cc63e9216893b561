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

``measure`` is the one name for what a row holds (a rate, a test, a model term's kind); no result
uses ``test``, ``type`` or ``kind`` for it. :data:`COLUMNS` lists the shared terms (also counts such
as ``n_items`` and fit statistics such as ``aic``); :data:`SPECIFIC` the few columns of one function
only. ``tests/test_vocabulary.py`` checks every public result against both.

>>> sorted(COLUMNS)[-3:]
['top', 'verdict', 'year']
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
    "population_share": "a share of the population: a group's (representativeness) or the "
    "cumulative share of people (Lorenz curve)",
    "cumulative_share": "cumulative share of the total (Lorenz curve)",
    "top": "fraction of people at the top",
    "code": "a code: the stored code of a response level, or a code of a codebook",
    "docs": "number of documents containing a term",
    # coded comments (coding_disagreements, final_codes)
    "submission_id": "the ballot a comment belongs to",
    "question": "the question a comment answers",
    "codes": "the codes given to a comment (a sorted list)",
    # counts of what a result was computed from
    "n_items": "number of items in the scale",
    "n_raters": "number of raters",
    "n_units": "number of rated units",
    "n_levels": "number of response levels",
    "n_groups": "number of groups (clusters) in a multilevel model",
    "n_dropped": "cases left out for missing values",
    "n_params": "number of estimated parameters",
    # descriptive statistics
    "mean": "the mean",
    "sd": "the standard deviation",
    "median": "the median",
    # model fit
    "log_likelihood": "log-likelihood of a fitted model",
    "aic": "Akaike information criterion",
    "bic": "Bayesian information criterion",
    "deviance": "deviance of a fitted model",
    "df1": "numerator degrees of freedom of an F statistic",
    "df2": "denominator degrees of freedom of an F statistic",
    # decisions
    "threshold": "the cut-off a value is compared with",
    "members": "members of the body, the denominator of a majority-of-members rule",
    "note": "warnings about the row (left-out cases, undefined values); empty when none",
    # owners' consent (consent_check, consent_gap)
    "owners": "owners in the building or estate",
    "agreeing_owners": "owners who agreed",
}

#: Columns that belong to one function only, with their meaning (documented in its docstring too).
#: A column used by two or more functions belongs in :data:`COLUMNS`.
SPECIFIC: dict[str, dict[str, str]] = {
    "agreement_times": {
        "days": "days from a case's hearing to its agreement (or to as_of)",
        "event": "1 when the case reached agreement, 0 when it is censored",
    },
    "consent_gap": {"needed_owners": "how many more owners must agree"},
    "position_association": {"by": "the grouping column the positions are compared across"},
    "time_to_agreement": {"time": "days since the hearing (a survival time)"},
    "compare_groups": {
        "group1": "first group of a pairwise comparison",
        "group2": "second group of a pairwise comparison",
        "n1": "cases in group1",
        "n2": "cases in group2",
        "z": "Dunn's z of a pairwise comparison",
    },
    "consent_check": {
        "rule_description": "the consent rule in words",
        "condition": "which condition of the rule the row checks",
        "description": "the condition in words",
        "unit": "what the condition counts (owners or area)",
        "value": "the agreeing share or count",
        "base": "what the share is of",
        "share": "value divided by its base",
        "comparison": "how value is compared with the threshold",
        "passed": "whether the condition holds",
        "needed": "how much more agreement the condition needs",
        "needed_rule": "how needed is computed",
        "participating_owners": "owners who took part in the vote",
        "against_owners": "owners who were against",
        "area": "total floor area",
        "participating_area": "floor area of owners who took part",
        "agreeing_area": "floor area of owners who agreed",
        "against_area": "floor area of owners who were against",
    },
    "evaluation_verdict": {
        "ballots": "ballots returned",
        "valid": "valid answers to the item",
        "count_satisfied": "answers 满意",
        "count_basically_satisfied": "answers 基本满意",
        "count_dissatisfied": "answers 不满意",
        "count_dont_know": "answers 不了解",
        "count_blank": "ballots that left the item blank",
        "strict_share": "满意 over the rule's denominator",
        "broad_share": "满意 or 基本满意 over the rule's denominator",
    },
    "item_analysis": {
        "reversed": "whether the item was reverse-scored",
        "r_drop": "item-rest correlation",
        "alpha_if_deleted": "Cronbach's alpha without the item",
        "std_alpha_if_deleted": "standardised alpha without the item",
    },
    "likert_summary": {
        "top_box": "share of the most favourable level",
        "top2_box": "share of the two most favourable levels",
        "bottom2_box": "share of the two least favourable levels",
    },
    "multilevel_model_fit": {
        "reml": "whether the fit is REML",
        "theta": "relative standard deviation of the random intercept (lme4's theta)",
        "sigma": "residual standard deviation",
    },
    "omega": {
        "sum_loadings": "sum of the one-factor loadings",
        "sum_uniquenesses": "sum of the uniquenesses",
        "heywood": "whether a loading hit the Heywood bound",
    },
    "ordinal_model_fit": {
        "link": "the link function",
        "iterations": "Newton iterations of the fit",
        "max_gradient": "largest absolute gradient at the solution",
        "levels": "the response levels in order",
    },
    "repeat_participation": {
        "position": "the meeting's place in the order",
        "attendees": "people at the meeting",
        "first_timers": "attendees at none of the earlier meetings",
        "returners": "attendees at an earlier meeting",
        "returner_share": "returners over attendees",
        "previous_attendees": "people at the previous meeting",
        "retained": "people at both this and the previous meeting",
        "retention": "retained over previous attendees",
    },
    "representativeness": {
        "sample_share": "the group's share of the sample",
        "ratio": "sample share over population share",
        "expected": "count expected from the population share",
        "dissimilarity": "Duncan's index of dissimilarity",
    },
    "coding_agreement": {"agreement": "share of comments on which the coders agree (observed)"},
    "coding_disagreements": {
        "differing": "the codes the coders do not all give",
        "reconciled": "whether a reconciled (final) coding of the comment is recorded",
    },
    "final_codes": {"source": "where the codes come from: final, agreed or single"},
    "turn_transitions": {
        "from": "the group of the speaker before",
        "to": "the group of the speaker who followed",
    },
    "voice_shares": {"group": "the group of speakers (residents, cadres, evaluated)"},
    "response_rates": {
        "e": "estimated share of eligible cases among those of unknown eligibility (AAPOR e)",
        "formula": "the AAPOR formula of the rate",
    },
}
