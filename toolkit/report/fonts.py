"""A CJK font for matplotlib, so Chinese labels never render as missing-glyph boxes.

matplotlib's default font (DejaVu Sans) has no Chinese glyphs: a title such as 满意率 is drawn as
empty boxes with a ``Glyph ... missing from font(s) DejaVu Sans`` warning. :func:`configure_matplotlib`
finds a CJK font through :mod:`matplotlib.font_manager`, registers it and puts it first in
``font.sans-serif``; every chart of :mod:`toolkit.report` calls it.

Where the font comes from, in order:

1. the file named by the environment variable ``SANHUI_CJK_FONT`` (a ``.ttf``/``.otf``/``.ttc``),
   for fonts kept outside the system font folders;
2. a font matplotlib already knows, by family name, in the order of :data:`CJK_FAMILIES` (Debian's
   ``fonts-noto-cjk`` package gives "Noto Sans CJK SC");
3. the system font folders scanned afresh (matplotlib caches its font list, so a font installed
   after the cache was built is otherwise invisible until the cache is deleted).

If none is found, :class:`FontError` says how to install one (``apt-get install fonts-noto-cjk``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import FontError

__all__ = ["CJK_FAMILIES", "CJKFont", "FontError", "configure_matplotlib", "find_cjk_font"]

#: CJK families tried in order (simplified-Chinese forms first). The first is the one the project
#: installs (Debian ``fonts-noto-cjk``); the others are common on developers' machines.
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "SimHei",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "Noto Serif CJK SC",
)

#: Characters the chosen font must have (ballot levels, meeting words, full-width punctuation).
PROBE = "满意基本不了解评议会工作态度率（）：，"

#: File names of CJK fonts, used when scanning the font folders.
_FILE_PATTERN = re.compile(
    r"(cjk|sourcehan|wqy|wenquanyi|droidsansfallback|notosanssc|simhei|msyh|pingfang|uming|ukai)",
    re.IGNORECASE,
)

ENV_VARIABLE = "SANHUI_CJK_FONT"

_INSTALL_HINT = (
    "Install one: on Debian/Ubuntu `sudo apt-get install fonts-noto-cjk` (the project's .ci/run "
    "does this), on macOS and Windows a Chinese system font (PingFang SC, Microsoft YaHei) is "
    f"found by itself; or point the environment variable {ENV_VARIABLE} at a .ttf/.otf/.ttc file "
    "with Chinese glyphs. If you installed the font after matplotlib first ran, it is still "
    "found: the font folders are scanned again."
)


@dataclass(frozen=True)
class CJKFont:
    """The font chosen for Chinese text: family ``name``, font ``path`` and ``index`` in a .ttc."""

    name: str
    path: str
    index: int = 0


_chosen: CJKFont | None = None


def _covers(path: str, index: int, text: str = PROBE) -> bool:
    """True if the font (face ``index`` of a collection) has a glyph for every character."""
    from fontTools.ttLib import TTFont

    try:
        with TTFont(path, fontNumber=index, lazy=True) as font:
            cmap = font.getBestCmap() or {}
    except Exception:  # an unreadable or odd font file is simply not a candidate
        return False
    return all(ord(ch) in cmap for ch in text)


def _known_entries() -> list[tuple[str, str, int, int]]:
    """(family, path, face index, weight) of every font matplotlib knows."""
    from matplotlib import font_manager

    out = []
    for entry in font_manager.fontManager.ttflist:
        weight = entry.weight if isinstance(entry.weight, int) else 400
        out.append((entry.name, str(entry.fname), int(getattr(entry, "index", 0)), weight))
    return out


def _pick(entries: list[tuple[str, str, int, int]]) -> CJKFont | None:
    for family in CJK_FAMILIES:
        matches = [e for e in entries if e[0] == family]
        # the regular face first (weight closest to 400), then by path for determinism
        for name, path, index, _ in sorted(matches, key=lambda e: (abs(e[3] - 400), e[1], e[2])):
            if _covers(path, index):
                return CJKFont(name=name, path=path, index=index)
    return None


def _register(path: str) -> list[str]:
    """Add a font file to matplotlib; return the family names it brought."""
    from matplotlib import font_manager

    before = len(font_manager.fontManager.ttflist)
    font_manager.fontManager.addfont(path)
    return [e.name for e in font_manager.fontManager.ttflist[before:]]


def _from_environment() -> CJKFont | None:
    value = os.environ.get(ENV_VARIABLE, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise FontError(
            f"environment variable {ENV_VARIABLE}: no font file at {str(path)!r}. Point it at a "
            ".ttf/.otf/.ttc file with Chinese glyphs, or unset it to use a system font."
        )
    try:
        names = _register(str(path))
    except Exception as exc:
        raise FontError(
            f"environment variable {ENV_VARIABLE}: {str(path)!r} is not a font matplotlib can "
            f"read ({exc}). Point it at a .ttf/.otf/.ttc file."
        ) from None
    for index, name in enumerate(names):
        if _covers(str(path), index):
            return CJKFont(name=name, path=str(path), index=index)
    raise FontError(
        f"environment variable {ENV_VARIABLE}: the font {str(path)!r} has no glyphs for Chinese "
        f"text such as {PROBE[:4]!r}. Point it at a CJK font (e.g. NotoSansCJK-Regular.ttc)."
    )


def _scan_system() -> CJKFont | None:
    """Register CJK-looking font files found in the system folders, then pick again."""
    from matplotlib import font_manager

    known = {path for _, path, _, _ in _known_entries()}
    for path in sorted(font_manager.findSystemFonts()):
        if path in known or not _FILE_PATTERN.search(Path(path).name):
            continue
        try:
            _register(path)
        except Exception:  # an unreadable file is skipped
            continue
    return _pick(_known_entries())


def find_cjk_font() -> CJKFont:
    """Find (once per process) a font with Chinese glyphs that matplotlib can use.

    Returns
    -------
    CJKFont
        The family name, file path and face index of the font.

    Raises
    ------
    FontError
        If no installed font has the Chinese glyphs the charts need; the message says how to
        install one.

    Examples
    --------
    >>> font = find_cjk_font()
    >>> font.name in CJK_FAMILIES or bool(os.environ.get("SANHUI_CJK_FONT"))
    True
    """
    global _chosen
    if _chosen is None:
        chosen = _from_environment() or _pick(_known_entries()) or _scan_system()
        if chosen is None:
            raise FontError(
                "toolkit.report: no font with Chinese glyphs was found, so Chinese labels would "
                f"be drawn as empty boxes (tried {', '.join(CJK_FAMILIES[:4])}, ...). "
                + _INSTALL_HINT
            )
        _chosen = chosen
    return _chosen


def configure_matplotlib() -> CJKFont:
    """Make matplotlib draw Chinese text: put a CJK font first in ``font.sans-serif``.

    Idempotent and cheap after the first call (the font is searched for once per process; the
    settings are re-applied each time, so a ``plt.rcdefaults()`` in between does no harm). Sets
    ``font.family = ["sans-serif"]``, ``font.sans-serif = [<CJK font>, <previous entries>]`` and
    ``axes.unicode_minus = False`` (many CJK fonts lack the U+2212 minus sign; the ASCII hyphen is
    used instead). Latin text is drawn with the CJK font too (Noto Sans CJK has Latin glyphs), so
    a chart mixing 满意 and "n = 24" has one consistent typeface.

    Returns
    -------
    CJKFont
        The font in use.

    Raises
    ------
    FontError
        If no CJK font is installed (see :func:`find_cjk_font`).

    Examples
    --------
    >>> import matplotlib
    >>> font = configure_matplotlib()
    >>> matplotlib.rcParams["font.sans-serif"][0] == font.name
    True
    >>> matplotlib.rcParams["axes.unicode_minus"]
    False
    """
    import matplotlib

    font = find_cjk_font()
    rc = matplotlib.rcParams
    rest = [name for name in rc["font.sans-serif"] if name != font.name]
    if list(rc["font.sans-serif"][:1]) != [font.name]:
        rc["font.sans-serif"] = [font.name, *rest]
    if list(rc["font.family"]) != ["sans-serif"]:
        rc["font.family"] = ["sans-serif"]
    rc["axes.unicode_minus"] = False
    return font
