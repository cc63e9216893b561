"""Instruments as data: the model, the YAML loader with located errors, the expression language and
the answer checks.

>>> from toolkit.instrument import load_survey
>>> survey = load_survey("surveys/evaluation.yaml")
>>> survey.id, survey.version
('evaluation', '2026.1')
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from toolkit.instrument.answers import (
    check_answers,
    clean_answers,
    is_relevant,
    relevance,
    relevant_variables,
)
from toolkit.instrument.dumper import dump_survey
from toolkit.instrument.expressions import Expression, evaluate, is_true, parse
from toolkit.instrument.loader import load_survey, loads_survey, validate_files

if TYPE_CHECKING:
    from toolkit.instrument.odk_import import OdkImport, read_odk_csv
    from toolkit.instrument.xlsform import convert, read_xlsform, write_xlsform
from toolkit.instrument.model import (
    DONT_KNOW,
    LANGUAGES,
    QUESTION_TYPES,
    Choice,
    ChoiceList,
    GridItem,
    Language,
    Page,
    Question,
    QuestionType,
    Settings,
    Survey,
    Text,
    Variable,
)

# XLSForm and ODK imports need pandas and openpyxl; load them on first use so that the tablet
# form (which imports this package) stays light.
_LAZY = {
    "OdkImport": "toolkit.instrument.odk_import",
    "read_odk_csv": "toolkit.instrument.odk_import",
    "convert": "toolkit.instrument.xlsform",
    "read_xlsform": "toolkit.instrument.xlsform",
    "write_xlsform": "toolkit.instrument.xlsform",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'toolkit.instrument' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "DONT_KNOW",
    "LANGUAGES",
    "QUESTION_TYPES",
    "Choice",
    "ChoiceList",
    "Expression",
    "GridItem",
    "Language",
    "OdkImport",
    "Page",
    "Question",
    "QuestionType",
    "Settings",
    "Survey",
    "Text",
    "Variable",
    "check_answers",
    "clean_answers",
    "convert",
    "dump_survey",
    "evaluate",
    "is_relevant",
    "is_true",
    "load_survey",
    "loads_survey",
    "parse",
    "read_odk_csv",
    "read_xlsform",
    "relevance",
    "relevant_variables",
    "validate_files",
    "write_xlsform",
]
