"""Instruments from files: :func:`load_survey` (YAML, see :mod:`toolkit.instrument.yaml_reader`)
and :func:`validate_files`, which reads YAML and XLSForm files alike.

The YAML reader lives in :mod:`toolkit.instrument.yaml_reader`, which the XLSForm and YAML
writers use, so that this module may import the XLSForm reader without a cycle; the names are
re-exported here unchanged.

>>> load_survey("surveys/evaluation.yaml").id
'evaluation'
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from toolkit.errors import InstrumentError
from toolkit.instrument.yaml_reader import (
    MAX_FILE_BYTES,
    MAX_ID_LENGTH,
    check_id,
    load_survey,
    loads_survey,
)

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_ID_LENGTH",
    "check_id",
    "load_survey",
    "loads_survey",
    "validate_files",
]


def validate_files(paths: Sequence[str | Path], *, drop_unsupported: bool = False) -> int:
    """Validate instrument files (YAML, or XLSForm ``.xlsx``); print one result per file; return the
    exit code (0 ok, 1 not).

    This is the body of ``sanhui validate FILE...``. A valid file prints
    ``surveys/evaluation.yaml: ok (evaluation 2026.1, 4 pages, 14 questions)``; an invalid one
    prints the full :class:`~toolkit.errors.InstrumentError` listing (to standard error).

    Examples
    --------
    >>> validate_files(["surveys/evaluation.yaml"])
    surveys/evaluation.yaml: ok (evaluation 2026.1, 4 pages, 14 questions)
    0
    """
    code = 0
    for path in paths:
        try:
            if Path(path).suffix.lower() in (".xlsx", ".xls"):
                from toolkit.instrument.xlsform import read_xlsform  # openpyxl only when needed

                survey = read_xlsform(path, drop_unsupported=drop_unsupported)
            else:
                survey = load_survey(path)
        except InstrumentError as exc:
            sys.stdout.flush()
            print(str(exc), file=sys.stderr, flush=True)
            code = 1
            continue
        pages = len(survey.pages)
        count = len(survey.questions)
        print(
            f"{path}: ok ({survey.id} {survey.version}, {pages} page{'s' * (pages != 1)}, "
            f"{count} question{'s' * (count != 1)})"
        )
    return code
