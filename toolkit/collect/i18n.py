"""The words of the tablet form, sign-in page and board, in Chinese and English.

Residents see these; keep them short and plain. ``t(key, language, **values)`` formats one.

>>> t("progress", "zh", page=3, pages=7)
'第 3 / 7 页'
>>> t("progress", "en", page=3, pages=7)
'Page 3 of 7'
"""

from __future__ import annotations

from toolkit.labels import TABLET_WORDS

#: The strings, in toolkit.labels (the one place of the package's bilingual text).
STRINGS: dict[str, dict[str, str]] = TABLET_WORDS


def t(key: str, language: str = "zh", /, **values: object) -> str:
    """The string ``key`` in ``language`` (Chinese when there is no translation), formatted."""
    entry = STRINGS[key]
    text = entry.get(language) or entry["zh"]
    return text.format(**values) if values else text
