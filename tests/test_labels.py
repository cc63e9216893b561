"""toolkit.labels: the one place of the package's bilingual text (the instruments carry their own)."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from tests.error_support import raises_code
from toolkit import labels
from toolkit.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]

#: Modules still carrying translations of their own, with the reason (the test fails when one of
#: them no longer does, so the list only shrinks).
KNOWN: dict[str, str] = {}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("name", sorted(labels.TABLES))
def test_every_text_has_chinese_and_english_with_the_same_fields(name: str) -> None:
    for key, text in labels.TABLES[name].items():
        assert set(text) == {"zh", "en"}, f"{name}[{key!r}]"
        assert text["zh"].strip() and text["en"].strip(), f"{name}[{key!r}]"
        assert _fields(text["zh"]) == _fields(text["en"]), f"{name}[{key!r}] fields differ"


def test_the_same_key_reads_the_same_in_every_table() -> None:
    """A code shown in several places (a subject, a role, a gender, a level) has one label."""
    entities = ("LEVELS", "ITEMS", "SUBJECTS", "GENDERS", "ROLES", "VARIABLES")
    seen: dict[str, tuple[str, dict[str, str]]] = {}
    for name in entities:
        for key, text in labels.TABLES[name].items():
            if key in seen:
                assert text == seen[key][1], f"{key}: {seen[key][0]} and {name} disagree"
            seen[key] = (name, text)


def test_the_demo_and_the_charts_use_these_labels() -> None:
    from toolkit.demo import SUBJECT_LABELS
    from toolkit.report.palette import SUBJECT_LABELS as CHART_SUBJECTS

    assert {k: (v["zh"], v["en"]) for k, v in labels.SUBJECTS.items()} == SUBJECT_LABELS
    assert all(CHART_SUBJECTS[k] == v for k, v in labels.SUBJECTS.items())
    assert labels.SUBJECTS["wuye"]["en"] == "Property management"


def test_labels_choice_is_checked() -> None:
    assert labels.label_language("codes") == "zh"
    with raises_code(ParameterError, "E_OPTION", argument="labels"):
        labels.check_labels("labels")


def _translations(path: Path) -> list[int]:
    """Lines of dict literals ``{"zh": ..., "en": ...}`` and ``Text("...", "...")`` calls."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Dict) and node.keys:
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            if keys == {"zh", "en"}:
                found.append(node.lineno)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "Text"
            and len(node.args) == 2
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)
        ):
            found.append(node.lineno)
    return found


def test_no_other_module_carries_translations() -> None:
    bad = {}
    for path in sorted((ROOT / "toolkit").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative == "toolkit/labels.py" or relative.startswith("toolkit/instrument/"):
            continue  # the one place, and the instrument model (an instrument's own text)
        lines = _translations(path)
        if lines and relative not in KNOWN:
            bad[relative] = lines
    assert not bad, f"bilingual text outside toolkit/labels.py: {bad}"


def test_known_exceptions_still_carry_translations() -> None:
    done = [relative for relative in sorted(KNOWN) if not _translations(ROOT / relative)]
    assert done == [], f"{done} are done: remove them from KNOWN"
