"""``sanhui print links``: what staff hand out for online ballots (registered in
:mod:`toolkit.commands.printing`).

``sanhui print links MEETING --count N --base-url https://...`` issues N one-time ballot codes and
writes one link per invited household or member, ``https://.../vote#code=12345678``. The code sits
in the URL fragment, which a browser never sends: neither the proxy's nor the server's log holds it.
Staff paste each link into a private message (never the group chat), or print its QR code. The
codes cannot be read back from the store later (only their hashes are kept), so keep the file
safe until the links are handed out, then delete it.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["links", "one_time_links"]


def one_time_links(base_url: str, codes: list[str]) -> list[str]:
    """The links for ``codes``: the code in the fragment (``#code=``), never in the query.

    >>> one_time_links("https://vote.example.org", ["12345678"])
    ['https://vote.example.org/vote#code=12345678']
    """
    from toolkit.collect.online import check_base_url

    base = check_base_url(base_url)
    return [f"{base}/vote#code={code.replace('-', '')}" for code in codes]


def _qr_png(link: str, path: Path) -> None:
    import qrcode

    qrcode.make(link, border=2).save(str(path))


def _qr_pdf(links: list[str], path: Path) -> None:
    """One A4 page per 6 links: QR code and its number (no code printed as text)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import qrcode
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        for start in range(0, len(links), 6):
            figure, axes = plt.subplots(3, 2, figsize=(8.27, 11.69))
            for offset, axis in enumerate(axes.flat):
                axis.axis("off")
                index = start + offset
                if index >= len(links):
                    continue
                qr = qrcode.QRCode(border=2)
                qr.add_data(links[index])
                axis.imshow(qr.get_matrix(), cmap="binary", interpolation="nearest")
                axis.set_title(f"No. {index + 1}", fontsize=12)
            pdf.savefig(figure)
            plt.close(figure)


def links(
    meeting: Annotated[str, typer.Argument(help="Meeting id the links vote in.")],
    count: Annotated[int, typer.Option(help="Links to make: one per invited household/member.")],
    base_url: Annotated[str, typer.Option(help="Public https address of `sanhui serve --online`.")],
    out: Annotated[Path, typer.Option(help="CSV file to write (number, link).")] = Path(
        "links.csv"
    ),
    qr_dir: Annotated[
        Path | None, typer.Option(help="Also write one QR code PNG per link into this folder.")
    ] = None,
    pdf: Annotated[Path | None, typer.Option(help="Also write the QR codes as a PDF.")] = None,
    database: Annotated[str | None, typer.Option(help="Store URL or SQLite path.")] = None,
) -> None:
    """Issue one-time ballot codes and write one link per household or member."""
    from toolkit.commands._common import database_url
    from toolkit.commands._common import fail as _fail
    from toolkit.errors import ToolkitError
    from toolkit.store import Store

    try:
        made = one_time_links(base_url, [])  # check the address before issuing anything
        with Store.open(database_url(database)) as store:
            codes = store.issue_ballot_codes(meeting, count)
        made = one_time_links(base_url, codes)
    except ToolkitError as error:
        raise _fail(error) from error
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["number", "link"])
        for number, link in enumerate(made, start=1):
            writer.writerow([number, link])  # a number and an https address: no formula
    out.chmod(0o600)
    if qr_dir is not None:
        qr_dir.mkdir(parents=True, exist_ok=True)
        for number, link in enumerate(made, start=1):
            _qr_png(link, qr_dir / f"link-{number:05d}.png")
    if pdf is not None:
        _qr_pdf(made, pdf)
    typer.echo(f"{len(made)} one-time links for `{meeting}` written to {out}.")
