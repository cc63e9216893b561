"""Collection: the tablet form, the sign-in page and the live board, served offline by Solara.

This package never imports scipy, statsmodels or matplotlib at import time (the board loads the
analysis stack when it first computes), so the server stays small.
"""

from __future__ import annotations

from toolkit.collect.backend import StoreBackend
from toolkit.collect.form import FormBackend, FormPage, Subject, SurveyForm, form_pages

__all__ = [
    "FormBackend",
    "FormPage",
    "StoreBackend",
    "Subject",
    "SurveyForm",
    "form_pages",
]
