"""Reading an XLSForm "bomb": read_xlsform vs pyxform's reader and pandas.read_excel.

Run: ``.venv/bin/python -m bench.bench_xlsform``. The workbook is about 100 KB: one header row,
then 20,000 rows that each hold one formatted, empty cell in the last column (XFD), and a
``<dimension>`` that claims ``A1:XFD20000``. A reader that trusts the sheet's size walks 327 million
empty cells. Each reader runs in a subprocess of its own (wall time, and peak resident memory above
the interpreter with its imports loaded), with a time limit and an address-space cap so that none
can take the machine down. Peers: pyxform (the reference XLSForm reader) and pandas.read_excel
(what a researcher would try first). The target: refused in under 1 s, using under 200 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"seconds": 1.0, "mb": 200.0}

_MEASURE = """
import json, resource, sys, time
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
if sys.argv[1] == "sanhui":
    from toolkit.errors import InstrumentError
    from toolkit.instrument.xlsform import read_xlsform as read
    refused = (InstrumentError,)
elif sys.argv[1] == "pandas":
    import pandas as pd
    def read(path):
        return pd.read_excel(path, sheet_name=None)
    refused = (ValueError,)
else:
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import parse_file_to_json
    def read(path):
        return parse_file_to_json(path, warnings=[])
    refused = (PyXFormError,)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    read(sys.argv[2]); outcome = "read"
except refused as exc:
    outcome = "refused: " + str(exc).splitlines()[0][:120]
except MemoryError:
    outcome = "MemoryError"
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "mb": (peak - before) / 1024, "outcome": outcome}))
"""


def bomb(path: Path) -> Path:
    """One header row and 20,000 formatted empty cells in column XFD."""
    import zipfile

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
    xml = xml[:start] + '<dimension ref="A1:XFD20000"/>' + xml[end:]
    rows = "".join(f'<row r="{n}"><c r="XFD{n}" s="0"/></row>' for n in range(2, 20001))
    parts[name] = xml.replace("</sheetData>", rows + "</sheetData>").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for key, data in parts.items():
            out.writestr(key, data)
    return path


def measure(reader: str, path: Path, *, timeout: float, limit_gb: float) -> dict[str, object]:
    command = [sys.executable, "-c", _MEASURE, reader, str(path), str(int(limit_gb * 2**30))]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False
        )
    except subprocess.TimeoutExpired:
        return {"seconds": float("inf"), "mb": float("nan"), "outcome": f"stopped at {timeout:g} s"}
    lines = done.stdout.strip().splitlines()
    if not lines:
        return {"seconds": float("inf"), "mb": float("nan"), "outcome": done.stderr[-200:]}
    result: dict[str, object] = json.loads(lines[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_xlsform", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="pyxform's time limit (s)")
    parser.add_argument("--limit-gb", type=float, default=4.0, help="address-space cap (GB)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sanhui-bench-xlsform-") as tmp:
        path = bomb(Path(tmp) / "bomb.xlsx")
        size = path.stat().st_size
        ours = measure("sanhui", path, timeout=args.timeout, limit_gb=args.limit_gb)
        peers = {
            name: measure(name, path, timeout=args.timeout, limit_gb=args.limit_gb)
            for name in ("pyxform", "pandas")
        }
    seconds, mb = float(ours["seconds"]), float(ours["mb"])  # type: ignore[arg-type]
    shown = []
    for name, peer in peers.items():
        peer_seconds = float(peer["seconds"])  # type: ignore[arg-type]
        if peer_seconds == float("inf"):
            shown.append(f"{name} {peer['outcome']}")
        else:
            peer_mb = float(peer["mb"])  # type: ignore[arg-type]
            shown.append(
                f"{name} {peer_seconds:.2f} s, {peer_mb:.0f} MB ({str(peer['outcome'])[:20]}), "
                f"ratio {peer_seconds / seconds:.1f}x"
            )
    print(
        f"XLSForm bomb ({size:,} bytes, 20,000 formatted cells in column XFD): read_xlsform "
        f"{seconds:.2f} s, {mb:.0f} MB, {str(ours['outcome'])[:7]}; " + "; ".join(shown) + "; "
        f"targets < {TARGETS['seconds']:g} s: "
        f"{'met' if seconds < TARGETS['seconds'] else 'MISSED'}, < {TARGETS['mb']:g} MB: "
        f"{'met' if mb < TARGETS['mb'] else 'MISSED'}",
        flush=True,
    )


if __name__ == "__main__":
    main()
