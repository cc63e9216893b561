"""Bilingual text of the package, and the one way to choose how answers are shown.

Answers are shown as their stored codes (``satisfied``) or as labels in Chinese or English
(满意 / Satisfied). :data:`LABELS` names the three choices; :meth:`toolkit.store.Store.responses`
(``labels=``) and :func:`toolkit.exports.export_responses` (``labels=``) take the same argument.

>>> check_labels("zh")
'zh'
"""

from __future__ import annotations

from typing import Literal

from toolkit._checks import check_option

__all__ = ["LABELS", "Labels", "check_labels", "label_language"]

#: How answers are shown: stored codes, or labels in Chinese or English.
Labels = Literal["codes", "zh", "en"]
LABELS: tuple[Labels, ...] = ("codes", "zh", "en")


def check_labels(labels: str, *, name: str = "labels") -> Labels:
    """``labels`` if it is one of :data:`LABELS`, else a :class:`~toolkit.errors.ParameterError`.

    >>> check_labels("fr")
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: `labels` must be one of 'codes', 'zh', 'en'; got 'fr'.
    """
    return check_option(name, labels, LABELS)  # type: ignore[arg-type]


def label_language(labels: Labels, default: Literal["zh", "en"] = "zh") -> Literal["zh", "en"]:
    """The language of ``labels`` (``default`` for codes).

    >>> label_language("en"), label_language("codes")
    ('en', 'zh')
    """
    return default if labels == "codes" else labels
