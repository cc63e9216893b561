"""Tests of toolkit.instrument.coding: the comment codebook in YAML and its located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.errors import InstrumentError
from toolkit.instrument.coding import load_codebook, loads_codebook

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_codebook() -> None:
    book = load_codebook(ROOT / "surveys" / "codebooks" / "comment_codes.yaml")
    assert book.ref == "comment_codes@1" and len(book.codes) == 10
    assert len(set(book.by_key())) == 10 and book.by_key()["3"] == "cost_sharing"
    assert all(c.label_zh and c.label_en and c.definition and c.examples for c in book.codes)
    assert book.get("praise").label("en") == "Praise" and book.title_zh == "评议会意见编码表"


def problems(text: str) -> list[str]:
    with pytest.raises(InstrumentError) as caught:
        loads_codebook(text, source="codes.yaml")
    assert all(p.code and p.code.startswith("E_") for p in caught.value.problems)
    return [f"{p.code} {p}" for p in caught.value.problems]


def test_every_problem_is_located() -> None:
    text = """codebook: {id: cc, version: "1"}
codes:
  - code: noise
    label: {zh: 噪音}
    definition: 噪音扰民
    key: "1"
  - code: noise
    label: {en: Noise}
    definiton: typo
    key: "1"
  - code: cost
    label: 费用
    definition: 费用分摊
    examples: 不是列表
    key: "12"
"""
    found = problems(text)
    assert any(
        "line 7, code 2, field `code`" in p and "listed twice" in p and "E_DUPLICATE_ID" in p
        for p in found
    )
    assert any("line 8, code 2, field `label`" in p and "`zh` is missing" in p for p in found)
    assert any(
        "field `definiton`" in p and "Did you mean `definition`" in p and "E_UNKNOWN_FIELD" in p
        for p in found
    )
    assert any("line 10, code 2, field `key`" in p and "taken by `noise`" in p for p in found)
    assert any("line 14, code 3, field `examples`" in p for p in found)
    assert any("line 15, code 3, field `key`" in p and "one character" in p for p in found)


def test_header_yaml_and_file_errors(tmp_path: Path) -> None:
    found = problems("codes: []\n")
    assert any("`codebook:` header is missing" in p for p in found)
    assert any("no codes" in p for p in found)
    bad = problems("codebook: {id: x, version: '1'}\ncodes: [a, b\nmore: 1\n")
    assert any("line 3" in p and "not valid YAML" in p for p in bad)
    missing = tmp_path / "missing.yaml"
    with pytest.raises(InstrumentError) as info:
        load_codebook(missing)
    (problem,) = info.value.problems
    assert (problem.code, problem.where) == ("E_UNREADABLE", str(missing))  # as the loader's
    assert problem.fix is not None
