r"""Residents' written comments: words and keywords, coder agreement, and themes by satisfaction.

- :func:`segment` cuts a Chinese comment into words with ``jieba`` (its dictionary only, no new-word
  guessing, so the same text always gives the same words; the dictionary loads on first use, quietly
  and without network);
- :func:`term_counts` counts words (or given keywords) per group, e.g. per subject and satisfaction
  level;
- :func:`coding_agreement` measures, code by code, how well two or more coders agree (Krippendorff's
  alpha, nominal, and Fleiss' kappa from :mod:`toolkit.analysis.agreement`), and
  :func:`coding_disagreements` lists the comments to reconcile;
- :func:`final_codes` takes the reconciled codes (or the codes all coders agreed on) and
  :func:`theme_crosstab` cross-tabulates the themes with the ballots' satisfaction.

Codings come as a long table: one row per coded comment and coder, with ``submission_id``,
``question``, ``coder``, ``role`` (``coder`` or ``final``) and ``codes`` (a list of codes).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns
from toolkit.analysis.agreement import fleiss_kappa, krippendorff_alpha
from toolkit.errors import DataError

__all__ = [
    "DOMAIN_WORDS",
    "STOPWORDS",
    "coding_agreement",
    "coding_disagreements",
    "final_codes",
    "segment",
    "term_counts",
    "theme_crosstab",
]

#: Words of the three meetings kept whole by the segmenter.
DOMAIN_WORDS: tuple[str, ...] = (
    "加装电梯",
    "居委会",
    "业委会",
    "物业费",
    "物业公司",
    "楼组长",
    "施工单位",
    "整改",
    "扬尘",
    "采光",
    "维修基金",
    "费用分摊",
)

#: Function words and fillers left out of term counts.
_STOP_TEXT = (
    "的 了 是 在 和 也 就 都 还 很 太 又 要 把 被 让 给 对 有 没有 不 没 我 我们 你 你们 他 他们 "
    "她 它 这 那 这个 那个 一个 一些 什么 怎么 可以 希望 建议 请 能 会 吧 啊 呢 吗 嘛 哦 但 但是 "
    "而且 因为 所以 如果 还是 以及 或者 比较 非常 有点 一直 已经 现在 还有 问题"
)
STOPWORDS: frozenset[str] = frozenset(_STOP_TEXT.split(" "))

_UNIT = ["submission_id", "question"]
_LOCK = threading.Lock()
_TOKENIZER: Any = None


def _tokenizer() -> Any:
    """The jieba tokenizer, built on first use (quietly: jieba logs at INFO while loading)."""
    global _TOKENIZER
    with _LOCK:
        if _TOKENIZER is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            for word in DOMAIN_WORDS:
                tokenizer.add_word(word, freq=20000)
            _TOKENIZER = tokenizer
    return _TOKENIZER


def segment(text: Any, *, stopwords: Iterable[str] = STOPWORDS, min_length: int = 2) -> list[str]:
    """The words of one comment: jieba's segmentation without punctuation, stop words, or words
    shorter than ``min_length`` characters.

    Examples
    --------
    >>> segment("施工噪音太大，晚上还在施工，加装电梯的费用分摊不公平。")
    ['施工', '噪音', '晚上', '施工', '加装电梯', '费用分摊', '公平']
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return []
    stop = stopwords if isinstance(stopwords, (set, frozenset)) else set(stopwords)
    words = _tokenizer().lcut(str(text), HMM=False)
    return [
        w
        for w in (w.strip() for w in words)
        if len(w) >= min_length and w not in stop and any(ch.isalnum() for ch in w)
    ]


def term_counts(
    data: pd.DataFrame,
    *,
    text: str = "text",
    by: str | Sequence[str] | None = None,
    keywords: Sequence[str] | None = None,
    min_length: int = 2,
    top: int | None = None,
) -> pd.DataFrame:
    r"""Word (or keyword) counts in the comments, per group.

    Parameters
    ----------
    data : DataFrame
        One row per comment, with the column ``text`` and the ``by`` columns.
    text : str
        The comment column.
    by : str or list of str, optional
        Grouping columns (``subject``, a satisfaction level ...).
    keywords : sequence of str, optional
        Count these strings as written (substring occurrences) instead of segmented words.
    min_length : int
        Shortest word counted (2 leaves out single characters).
    top : int, optional
        Keep the ``top`` most frequent terms per group.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``term``, ``count`` (occurrences), ``docs`` (comments containing it),
        ``n`` (comments in the group) and ``estimate`` = docs / n; sorted by group, then count
        (descending) and term.

    Examples
    --------
    >>> comments = pd.DataFrame({"level": ["不满意", "不满意", "满意"],
    ...                          "text": ["噪音太大，噪音扰民", "施工噪音", "电梯很好"]})
    >>> term_counts(comments, by="level", keywords=["噪音", "电梯"])
      level term  count  docs  n  estimate
    0   不满意   噪音      3     2  2       1.0
    1    满意   电梯      1     1  1       1.0
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"term_counts: `data` must be a DataFrame; got {type(data).__name__}.")
    groups = [by] if isinstance(by, str) else list(by or [])
    check_columns(data, [text, *groups])
    rows: list[dict[str, Any]] = []
    keyed = data.groupby(groups, sort=True, dropna=False) if groups else [((), data)]
    for key, part in keyed:
        key = key if isinstance(key, tuple) else (key,)
        texts = [t for t in part[text].tolist() if isinstance(t, str) and t.strip()]
        counts: Counter[str] = Counter()
        docs: Counter[str] = Counter()
        for comment in texts:
            if keywords is not None:
                found = {k: comment.count(k) for k in keywords if k and k in comment}
            else:
                found = dict(Counter(segment(comment, min_length=min_length)))
            counts.update(found)
            docs.update(found.keys())
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if top is not None:
            ranked = ranked[:top]
        for term, count in ranked:
            row = dict(zip(groups, key, strict=True))
            row |= {"term": term, "count": count, "docs": docs[term], "n": len(texts)}
            rows.append(row)
    columns = [*groups, "term", "count", "docs", "n"]
    out = pd.DataFrame(rows, columns=columns)
    out = out.astype({"count": "int64", "docs": "int64", "n": "int64"})
    out["estimate"] = out["docs"] / out["n"]
    return out


def _check_codings(data: Any, function: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"{function}: `data` must be the codings table (Store.codings); got "
            f"{type(data).__name__}."
        )
    check_columns(data, [*_UNIT, "coder", "codes"])
    if "role" in data.columns:
        return data
    return data.assign(role="coder")


def _coder_matrix(data: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Coder rows only, units coded by at least two coders: one row per unit, a column per
    coder holding the set of codes."""
    coders = data[data["role"] == "coder"]
    wide = coders.pivot_table(
        index=_UNIT, columns="coder", values="codes", aggfunc="first", dropna=False
    )
    names = [str(c) for c in wide.columns]
    coded = wide.notna().sum(axis=1) >= 2
    return wide[coded], names


def coding_agreement(
    data: pd.DataFrame,
    *,
    codes: Sequence[str] | None = None,
    n_boot: int = 0,
    seed: int | None = 0,
) -> pd.DataFrame:
    r"""Agreement of the coders, code by code: Krippendorff's alpha (nominal) and Fleiss' kappa.

    Each code becomes a yes/no rating of every comment by every coder (did the coder give this
    code?). Comments coded by fewer than two coders are left out.

    Parameters
    ----------
    data : DataFrame
        The codings (``submission_id``, ``question``, ``coder``, ``codes``; ``role`` optional,
        only ``coder`` rows are used).
    codes : sequence of str, optional
        The codes to assess (the codebook's); by default every code used.
    n_boot : int
        Bootstrap replicates for intervals (0: none).
    seed : int or None
        Seed of the bootstrap.

    Returns
    -------
    DataFrame
        Two rows per code: ``code``, ``measure`` (``krippendorff_alpha``, ``fleiss_kappa``),
        ``estimate``, ``ci_low``/``ci_high``/``confidence`` (with ``n_boot``), ``agreement``
        (share of comments on which all coders agree about the code), ``count`` (coders' uses of
        the code), ``n`` (comments), ``n_raters``, ``note``.

    Notes
    -----
    The coefficients are :func:`~toolkit.analysis.krippendorff_alpha` (level nominal) and
    :func:`~toolkit.analysis.fleiss_kappa` on the comments x coders table of 0/1 (tested against
    R in ``tests/reference/comments.R``); with two coders and no missing codes Fleiss' kappa is
    Scott's pi. A code never or always given has no variation: NaN with a note.

    References
    ----------
    Krippendorff, K. (2018). *Content Analysis*, 4th ed., ch. 12. Sage.
    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. *Psychological
    Bulletin* 76(5), 378-382.

    Examples
    --------
    >>> codings = pd.DataFrame({
    ...     "submission_id": ["a", "a", "b", "b", "c", "c", "d", "d"],
    ...     "question": "comments", "coder": ["A", "B"] * 4,
    ...     "codes": [["noise"], ["noise"], [], ["noise"], ["cost"], ["cost"], [], []]})
    >>> out = coding_agreement(codings)
    >>> out[["code", "measure", "estimate", "agreement"]].round(4)
        code             measure  estimate  agreement
    0   cost  krippendorff_alpha    1.0000       1.00
    1   cost        fleiss_kappa    1.0000       1.00
    2  noise  krippendorff_alpha    0.5333       0.75
    3  noise        fleiss_kappa    0.4667       0.75
    """
    data = _check_codings(data, "coding_agreement")
    wide, coders = _coder_matrix(data)
    if wide.empty:
        raise DataError(
            "coding_agreement: no comment was coded by two coders; agreement needs at least two "
            "coders on the same comments."
        )
    used = sorted({c for codes_ in data["codes"] for c in (codes_ or [])})
    rows: list[dict[str, Any]] = []
    for code in list(codes) if codes is not None else used:
        binary = wide.apply(
            lambda column, c=code: column.map(
                lambda v: np.nan if not isinstance(v, (list, tuple)) else float(c in v)
            )
        )
        binary.columns = coders
        complete = binary.dropna()
        agree = float((complete.nunique(axis=1) == 1).mean()) if len(complete) else np.nan
        count = int(np.nansum(binary.to_numpy()))
        for measure in ("krippendorff_alpha", "fleiss_kappa"):
            row: dict[str, Any] = {"code": code, "measure": measure}
            try:
                if measure == "krippendorff_alpha":
                    result = krippendorff_alpha(binary, metric="nominal", n_boot=n_boot, seed=seed)
                else:
                    result = fleiss_kappa(binary, n_boot=n_boot, seed=seed)
                first = result.iloc[0]
                row["estimate"] = float(first["estimate"])
                if n_boot > 0:
                    row |= {k: float(first[k]) for k in ("ci_low", "ci_high", "confidence")}
                note = first["note"]
            except DataError as error:
                row["estimate"] = np.nan
                note = str(error)
            if not np.isfinite(row["estimate"]) and not note:
                note = "the code does not vary: agreement is undefined"
            row |= {
                "agreement": agree,
                "count": count,
                "n": len(binary),
                "n_raters": len(coders),
                "note": None if note is None or note != note else note,
            }
            rows.append(row)
    out = pd.DataFrame(rows)
    return out.astype({"count": "int64", "n": "int64", "n_raters": "int64"})


def coding_disagreements(data: pd.DataFrame) -> pd.DataFrame:
    """The comments on which coders gave different codes (to reconcile).

    Returns
    -------
    DataFrame
        ``submission_id``, ``question``, one column per coder with the codes given (a list),
        ``differing`` (the codes not given by every coder, sorted) and ``reconciled`` (whether a
        ``final`` coding exists).

    Examples
    --------
    >>> codings = pd.DataFrame({"submission_id": ["a", "a", "b", "b"], "question": "comments",
    ...                         "coder": ["A", "B", "A", "B"],
    ...                         "codes": [["noise"], ["noise", "cost"], [], []]})
    >>> coding_disagreements(codings)[["submission_id", "A", "B", "differing"]]
      submission_id        A              B differing
    0             a  [noise]  [noise, cost]    [cost]
    """
    data = _check_codings(data, "coding_disagreements")
    wide, coders = _coder_matrix(data)
    finals = set(map(tuple, data.loc[data["role"] == "final", _UNIT].to_numpy().tolist()))
    rows = []
    for index, values in wide.iterrows():
        key: tuple[Any, ...] = tuple(index)  # type: ignore[arg-type]
        sets = [set(v) for v in values if isinstance(v, (list, tuple))]
        differing = sorted(set().union(*sets) - set.intersection(*sets))
        if differing:
            row = dict(zip(_UNIT, key, strict=True))
            row |= {
                c: (list(v) if isinstance(v, (list, tuple)) else None)
                for c, v in zip(coders, values, strict=True)
            }
            row |= {"differing": differing, "reconciled": key in finals}
            rows.append(row)
    return pd.DataFrame(rows, columns=[*_UNIT, *coders, "differing", "reconciled"])


def final_codes(data: pd.DataFrame) -> pd.DataFrame:
    """The codes of each comment for analysis: the reconciled (``final``) codes where they exist,
    else the codes every coder agreed on; comments with unreconciled disagreements are left out.

    Returns
    -------
    DataFrame
        ``submission_id``, ``question``, ``codes`` (sorted list), ``source`` (``final``,
        ``agreed`` or ``single`` for a comment only one coder coded).
    """
    data = _check_codings(data, "final_codes")
    rows = []
    for key, part in data.groupby(_UNIT, sort=True):
        finals = part[part["role"] == "final"]
        if len(finals):
            codes, source = finals["codes"].iloc[-1], "final"
        else:
            sets = {tuple(sorted(c or [])) for c in part["codes"]}
            if len(sets) != 1:
                continue
            codes, source = list(next(iter(sets))), "agreed" if len(part) > 1 else "single"
        rows.append(
            {**dict(zip(_UNIT, key, strict=True)), "codes": sorted(codes or []), "source": source}
        )
    return pd.DataFrame(rows, columns=[*_UNIT, "codes", "source"])


def theme_crosstab(data: pd.DataFrame, *, codes: str = "codes", by: str = "level") -> pd.DataFrame:
    r"""Themes against satisfaction: how often each code occurs among the comments at each level.

    Parameters
    ----------
    data : DataFrame
        One row per coded comment, with a list of codes (``codes``) and the grouping (``by``,
        e.g. the ballot's overall rating).

    Returns
    -------
    DataFrame
        One row per level and code: ``by``, ``code``, ``count`` (comments at that level with the
        code), ``n`` (coded comments at that level), ``estimate`` = count / n; levels in their
        categorical order (or sorted). The counts are R's ``table(level, code)`` on the comments
        unnested to one row per code.

    Examples
    --------
    >>> d = pd.DataFrame({"level": ["不满意", "不满意", "满意"],
    ...                   "codes": [["noise", "cost"], ["noise"], []]})
    >>> theme_crosstab(d)
      level   code  count  n  estimate
    0   不满意   cost      1  2       0.5
    1   不满意  noise      2  2       1.0
    2    满意   cost      0  1       0.0
    3    满意  noise      0  1       0.0
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"theme_crosstab: `data` must be a DataFrame; got {type(data).__name__}.")
    check_columns(data, [codes, by])
    frame = data[data[by].notna()]
    levels = (
        list(frame[by].cat.categories)
        if isinstance(frame[by].dtype, pd.CategoricalDtype)
        else sorted(pd.unique(frame[by]).tolist(), key=str)
    )
    all_codes = sorted({c for value in frame[codes] for c in (value or [])})
    rows = []
    for level in levels:
        part = frame[frame[by] == level]
        n = len(part)
        for code in all_codes:
            count = int(sum(code in (v or []) for v in part[codes]))
            rows.append({by: level, "code": code, "count": count, "n": n})
    out = pd.DataFrame(rows, columns=[by, "code", "count", "n"])
    out = out.astype({"count": "int64", "n": "int64"})
    if isinstance(frame[by].dtype, pd.CategoricalDtype):  # keep the levels' order (满意 first)
        out[by] = pd.Categorical(out[by], categories=levels, ordered=frame[by].cat.ordered)
    out["estimate"] = out["count"] / out["n"].where(out["n"] > 0)
    return out
