"""Hygiene of the stored notebooks (nbval, in ``make test``, executes them and compares outputs).

These checks are cheap and run without a kernel: every research notebook is stored executed, without
errors or warnings, with nothing in its outputs that the sanitizer would have to hide; the sanitizer
never touches a number; the report notebook has its ``parameters`` cell.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import get_sanitize_patterns

from toolkit.report.meeting import REPORT_NOTEBOOK, _inject_parameters

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
RESEARCH = sorted(
    p
    for p in NOTEBOOKS.glob("*.ipynb")
    if p.name[:1] in "0125" or p.name.startswith(("40_", "60_"))
)
APPS = sorted(NOTEBOOKS.glob("3*.ipynb"))
SANITIZE = NOTEBOOKS / "nbval_sanitize.cfg"


def _text_outputs(nb: nbformat.NotebookNode) -> list[str]:
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                texts.append(output.text)
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/"):
                    texts.append(value)
    return texts


def test_the_research_notebooks_are_there() -> None:
    names = [p.name for p in RESEARCH]
    for prefix in ("01_", "02_", "10_", "20_", "40_"):
        assert any(n.startswith(prefix) for n in names), names


@pytest.mark.parametrize("path", RESEARCH, ids=lambda p: p.name)
def test_research_notebook_is_stored_executed_and_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code), "run `make notebooks`"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), "executed top to bottom in one kernel"
    for cell in code:
        assert "execution" not in cell.metadata, "no timing metadata (record_timing=False)"
        for output in cell.outputs:
            assert output.output_type != "error", cell.source[:80]
            assert not (output.output_type == "stream" and output.name == "stderr"), (
                f"a warning in {path.name}: {output.text[:200]}"
            )
        assert "NBVAL_IGNORE_OUTPUT" not in cell.source  # nothing here is non-deterministic
    assert "widgets" not in nb.metadata  # store_widget_state=False
    for text in _text_outputs(nb):
        assert not re.search(r"/tmp/|/var/folders/", text), text[:200]
        assert not re.search(r"\bat 0x[0-9a-fA-F]{6,}", text), text[:200]


@pytest.mark.parametrize("path", APPS, ids=lambda p: p.name)
def test_app_notebooks_keep_their_widget_output(path: Path) -> None:
    # the served apps are stored executed like the others: nbval compares the widget's text
    # fallback (model ids are sanitized), so a form that stops rendering fails the run
    nb = nbformat.read(path, as_version=4)
    (cell,) = [c for c in nb.cells if c.cell_type == "code"]
    assert cell.execution_count == 1
    (output,) = cell.outputs
    assert output.output_type == "display_data"
    assert "application/vnd.jupyter.widget-view+json" in output.data
    assert output.data["text/plain"].startswith(("VBox(", "AccessGate("))
    assert "widgets" not in nb.metadata


def test_sanitizer_masks_only_what_varies() -> None:
    patterns = get_sanitize_patterns(SANITIZE.read_text(encoding="utf-8"))
    assert len(patterns) == 4

    def sanitize(text: str) -> str:
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    numbers = "0.9512 43 75 57.3% (46.1%–67.9%) 2025-06-16 1.0e-06 -2.1967 S01-C01-M02 0x10"
    assert sanitize(numbers) == numbers
    assert sanitize("2026-11-27 07:45:03.526559+00:00") == "TIMESTAMP"
    assert sanitize("sqlite:////tmp/sanhui-demo-ab12cd/demo.db") == "sqlite:///TMPPATH"
    assert sanitize("<Store object at 0x7f3a2c1b9d60>") == "<Store object at 0xADDRESS>"
    model = '"model_id": "f4b31cde217b4a3f8442baec88038001"'
    assert sanitize(model) == '"model_id": "MODEL_ID"'


def test_report_notebook_parameters_cell() -> None:
    nb = nbformat.read(REPORT_NOTEBOOK, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    namespace: dict[str, object] = {}
    exec(tagged[0].source, namespace)
    assert {"meeting_id", "database_url", "language"} <= set(namespace)
    assert namespace["database_url"] is None and namespace["language"] in ("zh", "en")
    injected = _inject_parameters(nb, {"meeting_id": "X", "database_url": None, "language": "en"})
    where = injected.cells.index(tagged[0])
    follower = injected.cells[where + 1]
    assert follower.metadata["tags"] == ["injected-parameters"]
    assert "meeting_id = 'X'" in follower.source and "language = 'en'" in follower.source
    assert all(not c.get("outputs") for c in injected.cells if c.cell_type == "code")
