"""Reading workbooks safely: bombs, real forms from other projects, validate on .xlsx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.instrument.xlsform import convert


def test_memory_bomb_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    """The work follows the cells present, not the size the sheet claims (its time against
    pyxform and pandas is in bench/bench_xlsform.py)."""
    from bench.bench_xlsform import bomb

    path = bomb(tmp_path / "bomb.xlsx")
    script = (
        "import sys, tracemalloc\n"
        "from toolkit.errors import InstrumentError\n"
        "from toolkit.instrument.xlsform import read_xlsform\n"
        "tracemalloc.start()\n"
        "try:\n    read_xlsform(sys.argv[1]); print('read')\n"
        "except InstrumentError as exc:\n    print(exc.problems[0].code)\n"
        "print(tracemalloc.get_traced_memory()[1])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    outcome, peak = done.stdout.splitlines()[-2:]
    assert outcome == "E_NO_PAGES"  # the sheet has a header and no questions
    assert int(peak) < 200 * 1024 * 1024  # allocated by Python, whatever the machine's load


def test_validate_accepts_the_converted_xlsx(tmp_path: Path) -> None:
    out = tmp_path / "evaluation.xlsx"
    convert("surveys/evaluation.yaml", out)
    result = CliRunner().invoke(app, ["validate", str(out)])
    assert result.exit_code == 0, result.output
    assert "ok (evaluation 2026.1" in result.output
