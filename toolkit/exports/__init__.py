"""Exports of ballots for researchers: CSV, XLSX, Parquet, SPSS and Stata files, the codebook,
and safe cells (formula injection, small-cell suppression).

- :mod:`toolkit.exports.tables`: the wide, long, profile and paradata tables, column meanings;
- :mod:`toolkit.exports.writers`: :func:`export_responses` and one writer per format,
  :func:`aggregate_table` / :func:`export_aggregate` for published tables;
- :mod:`toolkit.exports.codebook`: :func:`codebook`, :func:`write_codebook`;
- :mod:`toolkit.exports.safe`: :func:`neutralize_formula`, :func:`suppress_small`.
"""

from __future__ import annotations

from toolkit.exports.codebook import CODEBOOK_COLUMNS, codebook, value_labels, write_codebook
from toolkit.exports.safe import (
    FORMULA_PREFIXES,
    neutralize_formula,
    neutralize_frame,
    suppress_small,
    suppressed_marker,
)
from toolkit.exports.tables import (
    DONT_KNOW_NUMBER,
    META_COLUMNS,
    Column,
    describe_columns,
    load_responses,
    long_table,
    responses_from_answers,
    safe_names,
    split_tables,
    store_paradata,
    with_labels,
)
from toolkit.exports.writers import (
    EXPORT_FORMATS,
    aggregate_table,
    export_aggregate,
    export_responses,
    write_csv,
    write_dta,
    write_parquet,
    write_sav,
    write_xlsx,
)

__all__ = [
    "CODEBOOK_COLUMNS",
    "DONT_KNOW_NUMBER",
    "EXPORT_FORMATS",
    "FORMULA_PREFIXES",
    "META_COLUMNS",
    "Column",
    "aggregate_table",
    "codebook",
    "describe_columns",
    "export_aggregate",
    "export_responses",
    "load_responses",
    "long_table",
    "neutralize_formula",
    "neutralize_frame",
    "responses_from_answers",
    "safe_names",
    "split_tables",
    "store_paradata",
    "suppress_small",
    "suppressed_marker",
    "value_labels",
    "with_labels",
    "write_codebook",
    "write_csv",
    "write_dta",
    "write_parquet",
    "write_sav",
    "write_xlsx",
]
