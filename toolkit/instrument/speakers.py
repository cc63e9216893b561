"""The speaker categories and turn codes of the speaking-turn recorder, shared by every layer.

A turn is recorded with a speaker *category* (never a name) and, where seat cards are used, an
anonymous seat number. The categories follow who attends the three meetings (see docs): residents
and their representatives, party members, building heads (楼组长), the owners' committee (业委会),
the property company (物业), the residents' committee (居委会), the contractor (施工单位) and
government departments.

>>> SPEAKER_LABELS["property"]
'物业'
>>> VOICE_GROUPS["residents_committee"]
'cadres'
"""

from __future__ import annotations

__all__ = [
    "SPEAKER_CATEGORIES",
    "SPEAKER_LABELS",
    "SPEAKER_LABELS_EN",
    "TURN_CODES",
    "TURN_CODE_LABELS",
    "VOICE_GROUPS",
    "VOICE_GROUP_LABELS",
]

#: (code, Chinese label, English label), in the order of the recorder's buttons.
SPEAKER_CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("resident", "居民", "Resident"),
    ("party_member", "党员", "Party member"),
    ("building_head", "楼组长", "Building head"),
    ("owners_committee", "业委会", "Owners' committee"),
    ("property", "物业", "Property company"),
    ("residents_committee", "居委会", "Residents' committee"),
    ("contractor", "施工单位", "Contractor"),
    ("government", "政府部门", "Government department"),
    ("other", "其他", "Other"),
)
SPEAKER_LABELS: dict[str, str] = {code: zh for code, zh, _ in SPEAKER_CATEGORIES}
SPEAKER_LABELS_EN: dict[str, str] = {code: en for code, _, en in SPEAKER_CATEGORIES}

#: The default grouping of categories for the share of voice: residents (and the residents who
#: hold a role among them), cadres (the convening committee and government), and the evaluated or
#: service-providing party (property company, contractor).
VOICE_GROUPS: dict[str, str] = {
    "resident": "residents",
    "party_member": "residents",
    "building_head": "residents",
    "owners_committee": "residents",
    "residents_committee": "cadres",
    "government": "cadres",
    "property": "evaluated",
    "contractor": "evaluated",
    "other": "other",
}
VOICE_GROUP_LABELS: dict[str, tuple[str, str]] = {
    "residents": ("居民方", "Residents"),
    "cadres": ("干部（居委会、政府部门）", "Cadres"),
    "evaluated": ("被评议方（物业、施工单位）", "Evaluated party"),
    "other": ("其他", "Other"),
}

#: Optional codes of a turn: (code, Chinese, English).
TURN_CODES: tuple[tuple[str, str, str], ...] = (
    ("question", "提问", "Question"),
    ("proposal", "建议", "Proposal"),
    ("objection", "反对", "Objection"),
    ("agreement", "赞同", "Agreement"),
    ("information", "说明情况", "Information"),
)
TURN_CODE_LABELS: dict[str, str] = {code: zh for code, zh, _ in TURN_CODES}
