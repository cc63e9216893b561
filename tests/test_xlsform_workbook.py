"""Reading workbooks safely: bombs, real forms from other projects, validate on .xlsx."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.instrument.xlsform import convert


def _bomb(path: Path) -> None:
    """A small workbook whose survey sheet claims the range A1:XFD20000 and holds 3 cells."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label"])
    book.save(path)
    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    name = "xl/worksheets/sheet1.xml"
    xml = parts[name].decode()
    start = xml.index("<dimension")
    end = xml.index("/>", start) + 2
    parts[name] = (xml[:start] + '<dimension ref="A1:XFD20000"/>' + xml[end:]).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for key, data in parts.items():
            out.writestr(key, data)


def test_memory_bomb_is_refused_fast_and_small(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    _bomb(path)
    script = (
        "import resource, sys, time, tracemalloc\n"
        "from toolkit.errors import InstrumentError\n"
        "from toolkit.instrument.xlsform import read_xlsform\n"
        "tracemalloc.start(); t = time.perf_counter()\n"
        "try:\n    read_xlsform(sys.argv[1]); print('read')\n"
        "except InstrumentError as exc:\n    print(exc.problems[0].code)\n"
        "print(time.perf_counter() - t, tracemalloc.get_traced_memory()[1])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    outcome, measures = done.stdout.splitlines()[-2:]
    seconds, peak = (float(x) for x in measures.split())
    assert outcome == "E_NO_PAGES"  # the sheet has a header and no questions
    assert seconds < 1.0
    assert peak < 200 * 1024 * 1024


def test_validate_accepts_the_converted_xlsx(tmp_path: Path) -> None:
    out = tmp_path / "evaluation.xlsx"
    convert("surveys/evaluation.yaml", out)
    result = CliRunner().invoke(app, ["validate", str(out)])
    assert result.exit_code == 0, result.output
    assert "ok (evaluation 2026.1" in result.output
