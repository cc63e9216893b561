"""Tests of toolkit.analysis.hearing_consent: from hearing positions to the owners still needed,
checked against consent_check (民法典 Art. 278 and Shanghai's rules)."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit.analysis import consent_check
from toolkit.analysis.hearing_consent import consent_gap
from toolkit.errors import DataError


def test_consent_gap_names_the_owners_needed() -> None:
    units = pd.DataFrame(
        {
            "owner": [f"o{i}" for i in range(12)],
            "area": [60] * 6 + [75] * 6,
            "position": ["support"] * 6
            + ["conditional", "conditional", "dont_know", None, "oppose", "oppose"],
        }
    )
    gap = consent_gap(units, rules=["cc2021_major", "sh_two_thirds_no_objection"])
    major = gap.set_index("rule").loc["cc2021_major"]
    assert major["verdict"] == "fail"
    needed = major["needed_owners"].split(", ")
    # conditional supporters first (largest area), then the undecided
    assert needed[:2] == ["o6", "o7"]

    # winning exactly these owners passes the rule, one fewer does not
    def verdict(won: list[str]) -> str:
        units2 = units.assign(
            vote=[
                "agree" if o in won or p == "support" else ("against" if p == "oppose" else None)
                for o, p in zip(units["owner"], units["position"], strict=True)
            ],
            participated=[
                o in won or p in ("support", "oppose", "conditional")
                for o, p in zip(units["owner"], units["position"], strict=True)
            ],
        )
        return str(consent_check(units2, rule="cc2021_major")["verdict"].iloc[0])

    assert verdict(needed) == "pass"
    assert verdict(needed[:-1]) == "fail"
    # no objection allowed: every opponent must be won over
    no_objection = gap.set_index("rule").loc["sh_two_thirds_no_objection"]
    assert {"o10", "o11"} <= set(no_objection["needed_owners"].split(", "))
    with pytest.raises(DataError, match="positions \\['maybe'\\]"):
        consent_gap(units.assign(position=["maybe"] * 12))
