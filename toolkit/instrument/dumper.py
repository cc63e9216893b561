"""Write a :class:`~toolkit.instrument.model.Survey` as YAML text that
:func:`~toolkit.instrument.loader.loads_survey` reads back into an equal survey.

The store keeps instruments as this text. The output follows ``docs/instrument-format.md``:
labels as ``{zh: ..., en: ...}`` (or plain Chinese text when there is no English), defaults left
out, a choice list that belongs to one question (named after it) written inline.

>>> from toolkit.instrument.loader import loads_survey
>>> text = '''
... settings: {id: demo, version: "1", title: 示例}
... pages:
...   - id: p1
...     title: 第一页
...     questions:
...       - {id: agree, type: single, label: 同意吗？, choices: [{value: "yes", label: 是}]}
... '''
>>> print(dump_survey(loads_survey(text)), end="")
# sanhui instrument (format: docs/instrument-format.md)
settings:
  id: demo
  version: '1'
  title: 示例
  kind: other
  anonymous: true
  default_language: zh
pages:
- id: p1
  title: 第一页
  questions:
  - id: agree
    type: single
    label: 同意吗？
    choices:
    - {value: 'yes', label: 是}
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from toolkit.errors import InstrumentError, Problem
from toolkit.instrument.model import (
    DONT_KNOW_LABEL_EN,
    DONT_KNOW_LABEL_ZH,
    Choice,
    ChoiceList,
    GridItem,
    Group,
    Page,
    Question,
    Survey,
    Text,
)

__all__ = ["dump_survey"]

_HEADER = "# sanhui instrument (format: docs/instrument-format.md)\n"
_DEFAULT_MAX_LENGTH = Question("q", "text", Text("q")).max_length


class _Flow(dict[str, Any]):
    """A mapping written on one line: ``{zh: 满意, en: Satisfied}``."""


class _Dumper(yaml.SafeDumper):
    """Safe YAML, no aliases, flow style for labels and choices, block style for long text."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    if any(c in data for c in "\r\x85\u2028\u2029"):
        # other YAML line breaks would be normalised (PyYAML even writes NEL unquoted, and reads
        # it back as a space): double quotes escape them
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(_Flow, _represent_flow)
_Dumper.add_representer(str, _represent_str)


def _text(text: Text) -> str | dict[str, str]:
    if text.en is None:
        return text.zh
    short = len(text.zh) + len(text.en) <= 60 and "\n" not in text.zh + text.en
    return _Flow(zh=text.zh, en=text.en) if short else {"zh": text.zh, "en": text.en}


def _points(value: float) -> int | float:
    number = float(value)
    return int(number) if math.isfinite(number) and number.is_integer() else number


def _choice(choice: Choice) -> _Flow:
    out = _Flow(value=choice.value, label=_text(choice.label))
    if choice.points is not None:
        out["points"] = _points(choice.points)
    if choice.filters:
        out["filters"] = _Flow(dict(choice.filters))
    return out


def _choice_list(scale: ChoiceList) -> list[_Flow] | dict[str, Any]:
    entries = [_choice(c) for c in scale.choices]
    default_dont_know = scale.dont_know_label == Text(DONT_KNOW_LABEL_ZH, DONT_KNOW_LABEL_EN)
    if not scale.ordered and default_dont_know and not scale.external:
        return entries
    out: dict[str, Any] = {}
    if scale.ordered:
        out["ordered"] = True
    if scale.external:
        out["external"] = True
    if not default_dont_know:
        out["dont_know_label"] = _text(scale.dont_know_label)
    out["choices"] = entries
    return out


def _item(item: GridItem, grid_dont_know: bool | None) -> _Flow | dict[str, Any]:
    out: dict[str, Any] = {"id": item.id, "label": _text(item.label)}
    if item.hint is not None:
        out["hint"] = _text(item.hint)
    if item.allow_dont_know != bool(grid_dont_know):
        out["allow_dont_know"] = item.allow_dont_know
    if item.required is not None:
        out["required"] = item.required
    return _Flow(out) if item.hint is None else out


def _question(q: Question, inline: ChoiceList | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": q.id, "type": q.type}
    if q.label.languages or q.type != "calculate":
        out["label"] = _text(q.label)
    if q.hint is not None:
        out["hint"] = _text(q.hint)
    if q.required:
        out["required"] = True
    if q.required_message is not None:
        out["required_message"] = _text(q.required_message)
    if q.relevant is not None:
        out["relevant"] = q.relevant
    if q.constraint is not None:
        out["constraint"] = q.constraint
    if q.constraint_message is not None:
        out["constraint_message"] = _text(q.constraint_message)
    if q.appearance:
        out["appearance"] = " ".join(q.appearance)
    if q.choices is not None:
        out["choices"] = _choice_list(inline) if inline is not None else q.choices
    if q.per_subject:
        out["per_subject"] = True
    if q.type == "grid":
        # a grid-level `allow_dont_know: true` when most items allow it; items say otherwise
        allowing = sum(item.allow_dont_know for item in q.items)
        grid_dont_know = allowing * 2 > len(q.items)
        if grid_dont_know:
            out["allow_dont_know"] = True
        out["items"] = [_item(item, grid_dont_know) for item in q.items]
    if q.default is not None:
        out["default"] = q.default
    if q.min_length is not None:
        out["min_length"] = q.min_length
    if q.max_length != _DEFAULT_MAX_LENGTH:
        out["max_length"] = q.max_length
    for name in ("calculation", "choice_filter", "parameters", "group", "name"):
        if getattr(q, name) is not None:
            out[name] = getattr(q, name)
    for name in ("read_only", "or_other"):
        if getattr(q, name):
            out[name] = True
    return out


def _group(group: Group) -> dict[str, Any]:
    out: dict[str, Any] = {"id": group.id}
    if group.label is not None:
        out["label"] = _text(group.label)
    for name in ("relevant", "appearance", "parent", "repeat_count"):
        if getattr(group, name) is not None:
            out[name] = getattr(group, name)
    if group.repeat:
        out["repeat"] = True
    return out


def _page(page: Page, inline: dict[str, ChoiceList]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": page.id, "title": _text(page.title)}
    if page.relevant is not None:
        out["relevant"] = page.relevant
    if page.repeat:
        out["repeat"] = True
    if page.repeat_count is not None:
        out["repeat_count"] = page.repeat_count
    out["questions"] = [_question(q, inline.get(q.id)) for q in page.questions]
    if page.groups:
        out["groups"] = [_group(g) for g in page.groups]
    return out


def survey_to_document(survey: Survey) -> dict[str, Any]:
    """The plain YAML document (nested dicts and lists) that :func:`dump_survey` writes."""
    uses: dict[str, list[Question]] = {}
    for q in survey.questions:
        if q.choices is not None:
            uses.setdefault(q.choices, []).append(q)
    # a list named after the one question that uses it is written inline in that question
    inline = {
        list_id: scale
        for list_id, scale in survey.choice_lists.items()
        if len(uses.get(list_id, ())) == 1 and uses[list_id][0].id == list_id
    }
    s = survey.settings
    settings: dict[str, Any] = {"id": s.id, "version": s.version, "title": _text(s.title)}
    if s.description is not None:
        settings["description"] = _text(s.description)
    settings["kind"] = s.kind
    settings["anonymous"] = s.anonymous
    settings["default_language"] = s.default_language
    if s.metadata:
        settings["metadata"] = dict(s.metadata)
    if s.allow_choice_duplicates:
        settings["allow_choice_duplicates"] = True
    if s.xlsform_names:
        settings["xlsform_names"] = True
    document: dict[str, Any] = {"settings": settings}
    named = {k: _choice_list(v) for k, v in survey.choice_lists.items() if k not in inline}
    if named:
        document["choices"] = named
    document["pages"] = [_page(page, inline) for page in survey.pages]
    return document


def dump_survey(survey: Survey, *, check: bool = True) -> str:
    """Write an instrument as YAML text (the format of ``docs/instrument-format.md``).

    Parameters
    ----------
    survey : Survey
        The instrument.
    check : bool
        Read the text back and make sure it gives an equal survey (default). A survey built in
        Python that the YAML format cannot express (an invalid id, a text bound on a non-text
        question...) then raises instead of producing text that would not load.

    Returns
    -------
    str
        UTF-8-ready YAML text; ``loads_survey(dump_survey(s)) == s``.

    Raises
    ------
    InstrumentError
        With ``check=True``, when the text does not read back into an equal survey: the problems
        the loader found, or a problem saying the survey is not representable.

    Examples
    --------
    >>> from toolkit.instrument.loader import load_survey, loads_survey
    >>> survey = load_survey("surveys/evaluation.yaml")
    >>> loads_survey(dump_survey(survey)) == survey
    True
    """
    text = _HEADER + yaml.dump(
        survey_to_document(survey),
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=100,
    )
    if check:
        from toolkit.instrument.yaml_reader import loads_survey

        source = f"<dump of {survey.settings.id} {survey.settings.version}>"
        again = loads_survey(text, source=source)
        if again != survey:
            raise InstrumentError(
                [
                    Problem(
                        source,
                        "the survey cannot be written as YAML without changing it "
                        "(it was probably built in Python with values the format cannot hold).",
                        "Build it with `loads_survey` or `load_survey` instead.",
                        code="E_UNREPRESENTABLE",
                    )
                ],
                source=source,
            )
    return text
