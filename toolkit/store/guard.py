"""Bounds on what a tablet may make the store keep: size and Unicode of ballots and drafts.

A ballot's answers are checked against its instrument (known variables only, each text within the
question's ``max_length``, 2,000 characters by default), but paradata and drafts are free-form
JSON saved on every tap, and a browser can send anything. :func:`check_payload` refuses, before
anything is written and with a message in Chinese and English (a resident may see it):

- more than :data:`MAX_BALLOT_BYTES` of UTF-8 JSON: the same cap for a submission (answers and
  paradata together) and for a draft. 256 KiB is 13 times the largest ballot of the shipped
  instruments (``surveys/hearing.yaml`` with every text at its 2,000-character limit in Chinese:
  19.9 KB of JSON), and a quarter of the 1 MB comment a review saved as a draft;
- texts (values or keys, at any depth) that are not valid Unicode or hold control characters: lone
  surrogates (which PostgreSQL's JSONB refuses and SQLite would store), NUL and the other C0 controls
  except tab, newline and carriage return;
- nesting deeper than :data:`MAX_DEPTH` (a form never nests more than three levels).

>>> check_payload({"comments": "楼道灯坏了\\n请尽快修理"}, where="draft")
47
>>> try:
...     check_payload({"comments": "a\\x00b"}, where="draft")
... except AnswerError as error:
...     print(error.problems[0].field, error.problems[0].message.split("。")[0])
comments 含有无法保存的字符 (U+0000)，未保存
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from toolkit.errors import AnswerError, Problem

__all__ = ["MAX_BALLOT_BYTES", "MAX_DEPTH", "check_payload"]

#: The most UTF-8 bytes of JSON a submission (answers + paradata) or a draft may take.
MAX_BALLOT_BYTES = 256 * 1024
#: The deepest nesting of mappings and lists accepted.
MAX_DEPTH = 8
# lone surrogates and C0 controls other than tab, newline and carriage return
_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def check_payload(*values: Any, where: str) -> int:
    """Check JSON-ready ``values`` for storage; their UTF-8 JSON size in bytes if acceptable.

    Parameters
    ----------
    *values
        Mappings, lists, texts and numbers (answers, paradata, a draft's state).
    where : str
        Where the values come from, for the message (``"ballot <uuid>"``, ``"draft"``).

    Raises
    ------
    AnswerError
        Bad text, too deep or too large; nothing is stored.
    """
    for value in values:
        _walk(value, where=where, field=None, depth=0)
    size = 0
    for value in values:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        size += len(text.encode("utf-8"))
    if size > MAX_BALLOT_BYTES:
        raise AnswerError(
            [
                Problem(
                    where,
                    f"内容过长（{size:,} 字节，上限 {MAX_BALLOT_BYTES:,}），未保存。 Too large to store "
                    f"({size:,} bytes of JSON; at most {MAX_BALLOT_BYTES:,}); nothing was saved.",
                    "请缩短文字后重试。 Shorten the texts and try again.",
                    code="E_TOO_LARGE",
                )
            ],
            source=where,
        )
    return size


def _walk(value: Any, *, where: str, field: str | None, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise AnswerError(
            [
                Problem(
                    where,
                    f"数据嵌套过深，未保存。 Nested more than {MAX_DEPTH} levels deep; nothing "
                    "was saved.",
                    "Send flat answers (lists of texts at most).",
                    field,
                    code="E_TOO_DEEP",
                )
            ],
            source=where,
        )
    if isinstance(value, str):
        _check_text(value, where=where, field=field)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_text(str(key), where=where, field=field)
            _walk(item, where=where, field=field or str(key), depth=depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _walk(item, where=where, field=field, depth=depth + 1)


def _check_text(text: str, *, where: str, field: str | None) -> None:
    bad = _BAD.search(text)
    if bad is None:
        return
    code = f"U+{ord(bad.group()):04X}"
    place = f"{where}, field `{_printable(field)}`" if field else where
    raise AnswerError(
        [
            Problem(
                place,
                f"含有无法保存的字符 ({code})，未保存。 The text holds a character that cannot be "
                f"stored ({code}); nothing was saved.",
                "请删除该字符后重试。 Remove it and try again.",
                None if field is None else _printable(field),
                code="E_BAD_CHARACTER",
            )
        ],
        source=where,
    )


def _printable(text: str) -> str:
    return _BAD.sub("\ufffd", text)
