"""A small, general renderer of report notebooks: run a parameterised notebook, write HTML, print PDF.

:func:`execute_notebook` runs a notebook with its parameters injected after the cell tagged
``parameters`` (the papermill convention); :func:`export_html` writes a self-contained page
without code cells and without any script or style fetched from the network; :func:`html_to_pdf`
prints it with headless Chromium. :func:`render_notebook` does all three. Any report (the meeting
report, and reports of other meetings) is a notebook plus the data and display modules it calls.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.errors import BrowserError, DataError, ParameterError, StoreError

if TYPE_CHECKING:
    from toolkit.store import Store

__all__ = [
    "execute_notebook",
    "export_html",
    "find_chromium",
    "html_to_pdf",
    "inject_parameters",
    "open_report_store",
    "render_notebook",
]

# ----------------------------------------------------------------------------------------------
# rendering: execute the notebook, export HTML without code, optional PDF
# ----------------------------------------------------------------------------------------------

_REPORT_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block data_png scoped -%}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
 alt="{{ (output | get_metadata('alt', 'image/png')) or 'chart' | escape_html }}"
 style="max-width: 100%; height: auto;">
</div>
{%- endblock data_png -%}
{%- block extra_css -%}
<style type="text/css">
  body { max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem; }
  .jp-RenderedHTMLCommon table { font-size: 0.95rem; }
  .jp-OutputPrompt, .jp-InputPrompt { display: none; }
</style>
{%- endblock extra_css -%}
"""


def open_report_store(database_url: str | None) -> Store:
    """The store a report reads, at ``database_url`` (a SQLAlchemy URL).

    The report notebook gets its store from above: :func:`toolkit.demo.report_store` opens this
    or, without a URL, a private copy of the demo database.
    """
    from toolkit.store import Store

    if not isinstance(database_url, str) or not database_url:
        raise ParameterError(
            "`database_url` must be a database URL such as 'sqlite:///data/sanhui.db'; for the "
            f"demo database use toolkit.demo.report_store(None). Got {database_url!r}."
        )
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        if not path.exists():
            raise StoreError(
                f"no database at {path}; build the demo with `sanhui demo` or pass --database URL."
            )
    return Store.open(database_url)


def inject_parameters(notebook: Any, parameters: Mapping[str, Any]) -> Any:
    """Insert a cell tagged ``injected-parameters`` after the ``parameters`` cell (papermill)."""
    import nbformat

    lines = ["# Parameters (injected by toolkit.report.render)"]
    lines += [f"{name} = {value!r}" for name, value in parameters.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    cells = notebook.cells
    where = next(
        (
            i
            for i, c in enumerate(cells)
            if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])
        ),
        None,
    )
    if where is None:
        raise DataError(
            "the report notebook has no cell tagged `parameters`; tag the cell that sets "
            f"{', '.join(parameters)}."
        )
    cells.insert(where + 1, cell)
    for other in cells:  # a re-executed notebook starts clean
        if other.cell_type == "code":
            other.outputs = []
            other.execution_count = None
    return notebook


def export_html(nb: Any) -> str:
    """A self-contained HTML page of an executed notebook: no code, no network references."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.remove_cell_tags = {"remove_cell", "parameters"}
    config.TagRemovePreprocessor.enabled = True
    exporter = HTMLExporter(
        config=config,
        template_name="lab",
        extra_loaders=[DictLoader({"sanhui_report.html.j2": _REPORT_TEMPLATE})],
        template_file="sanhui_report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    exporter.register_preprocessor(TagRemovePreprocessor(config=config), enabled=True)
    nb = nb.copy()
    nb.metadata.pop("widgets", None)
    html, _resources = exporter.from_notebook_node(nb)
    # the lab theme's CSS cites its sources in comments (https://...): drop comments inside <style>
    return _STYLE.sub(lambda m: _CSS_COMMENT.sub("", m.group(0)), str(html))


_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.DOTALL | re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def find_chromium() -> str | None:
    """The Chromium (or Chrome) executable on this machine, if any."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html_path: Path, pdf_path: Path, *, timeout: float = 60) -> Path:
    """Print an HTML file to PDF with headless Chromium (``--print-to-pdf``), offline."""
    chromium = find_chromium()
    if chromium is None:
        raise BrowserError(
            "--pdf needs Chromium: install it (Debian: `apt-get install chromium`) or open the "
            "HTML report in a browser and print it to PDF.",
            code="E_BROWSER_MISSING",
        )
    with tempfile.TemporaryDirectory(prefix="sanhui-chromium-") as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf_path.resolve()}",
            html_path.resolve().as_uri(),
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)
    if not pdf_path.exists():
        raise BrowserError(
            f"Chromium did not write {pdf_path}; open the HTML report in a browser and print it."
        )
    return pdf_path


def execute_notebook(
    notebook: str | os.PathLike[str], parameters: Mapping[str, Any], *, timeout: int = 120
) -> Any:
    """Execute ``notebook`` with ``parameters`` injected (its folder as the working directory).

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(notebook)
    nb = nbformat.read(path, as_version=4)
    inject_parameters(nb, parameters)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return nb


def render_notebook(
    notebook: str | os.PathLike[str],
    parameters: Mapping[str, Any],
    *,
    out: str | os.PathLike[str],
    pdf: bool = False,
    what: str = "the report",
) -> dict[str, Any]:
    """Execute ``notebook`` with ``parameters`` and write its HTML page (and optionally a PDF).

    Parameters
    ----------
    notebook : path
        A notebook with a cell tagged ``parameters``.
    parameters : mapping
        Name → value, injected after that cell.
    out : path
        The HTML file to write; the PDF, if asked for, goes beside it with ``.pdf``.
    pdf : bool
        Also print the page to PDF with headless Chromium.
    what : str
        What is rendered, for the error message (``"meeting X"``).

    Returns
    -------
    dict
        ``html`` (path), ``pdf`` (path or None), ``seconds`` (wall time).

    Raises
    ------
    DataError
        A cell of the notebook failed; the message names the notebook and the error.
    """
    from nbclient.exceptions import CellExecutionError

    started = time.perf_counter()
    try:
        nb = execute_notebook(notebook, parameters)
    except CellExecutionError as error:
        raise DataError(
            f"the report notebook {Path(notebook).name} failed for {what}: "
            f"{error.ename}: {error.evalue}"
        ) from error
    html = export_html(nb)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    pdf_path = None
    if pdf:
        pdf_path = html_to_pdf(target, target.with_suffix(".pdf"))
    return {"html": target, "pdf": pdf_path, "seconds": time.perf_counter() - started}
