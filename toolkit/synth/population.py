"""A synthetic city: streets, communities, buildings, households and adult residents.

Everything is drawn from a numpy Generator seeded by ``seed``; the same arguments give identical
DataFrames on every run and machine. The numbers are plausible for central Shanghai's old
neighbourhoods (老公房 walk-ups of five to seven floors without elevators, some newer high-rises),
but they are synthetic: no row describes a real place or person.

Names are optional and live in their own DataFrame (:attr:`City.names`, keyed by
``participant_id``) so that a name never sits beside demographics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit._checks import check_range
from toolkit.synth._common import (
    AGE_BAND_HIGH,
    AGE_BAND_LOW,
    AGE_BANDS,
    FLOOR_BANDS,
    GENDERS,
    ROLES,
    TENURES,
    band_index,
    check_count,
    check_seed,
    expit,
    floor_band_index,
    hex_ids,
    rng_for,
)

__all__ = ["City", "make_city", "make_population_margins"]

_STREET_ROOTS = ("梧桐", "银杏", "香樟", "玉兰", "海棠", "紫藤", "枫林", "桂花", "松柏", "翠竹")
_DISTRICTS = ("黄浦区", "徐汇区", "静安区", "长宁区", "普陀区", "虹口区", "杨浦区")
_NUMERALS = "零一二三四五六七八九"

# age-band shares of household heads in old (老公房) and newer (商品房) communities
_AGE_SHARES_OLD = np.array([0.09, 0.12, 0.12, 0.16, 0.21, 0.17, 0.13])
_AGE_SHARES_NEW = np.array([0.16, 0.22, 0.18, 0.15, 0.14, 0.09, 0.06])

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高沈顾陆钱蒋"
# rough national frequencies (%); the last five (沈顾陆钱蒋) are common in Shanghai
_SURNAME_WEIGHTS = np.array(
    [
        *(7.1, 7.0, 6.8, 5.4, 4.5, 3.1, 2.2, 2.0, 1.8, 1.7, 1.6, 1.5, 1.3, 1.2, 1.1),
        *(1.0, 0.9, 0.9, 0.8, 0.8, 1.2, 1.1, 1.0, 0.9, 0.8),
    ]
)
_GIVEN = {
    "female": "丽芳敏静秀英华玲燕萍红霞梅琴兰娟婷雪慧颖佳怡欣",
    "male": "伟强军明勇杰涛斌磊刚平辉建国华东海峰志文俊浩宇",
}


@dataclass(frozen=True, repr=False)
class City:
    """A synthetic city: a frozen bundle of DataFrames (see :func:`make_city` for the columns).

    Attributes
    ----------
    seed : int
        The seed it was made from.
    streets, communities, buildings, households, residents : pandas.DataFrame
        One row per street (街道), community (居民区), building (楼), household (户) and adult
        resident. Residents carry demographics and a pseudonymous ``participant_id``, never a name.
    names : pandas.DataFrame
        ``participant_id``, ``surname``, ``given_name``, ``name``: synthetic Chinese names (empty
        when ``make_city(names=False)``). Keep it apart from the demographics.
    """

    seed: int
    streets: pd.DataFrame
    communities: pd.DataFrame
    buildings: pd.DataFrame
    households: pd.DataFrame
    residents: pd.DataFrame
    names: pd.DataFrame

    def __repr__(self) -> str:
        return (
            f"City(seed={self.seed}, streets={len(self.streets)}, "
            f"communities={len(self.communities)}, buildings={len(self.buildings)}, "
            f"households={len(self.households)}, residents={len(self.residents)})"
        )


def _numeral(k: int) -> str:
    """Chinese numeral for 1..99 (一, 二, ..., 十, 十一, ..., 九十九)."""
    tens, ones = divmod(k, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _NUMERALS[tens] + "十")
    return head + (_NUMERALS[ones] if ones else "")


def _pick_per_group(
    rng: np.random.Generator, group: np.ndarray, weight: np.ndarray, k: np.ndarray | int
) -> np.ndarray:
    """Boolean mask choosing up to ``k`` rows per group without replacement, with probability
    proportional to ``weight`` (Gumbel top-k; rows of zero weight are never chosen)."""
    n = len(group)
    with np.errstate(divide="ignore"):
        key = np.log(weight) + rng.gumbel(size=n)
    order = np.lexsort((-key, group))
    sorted_group = group[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_group)) + 1]
    counts = np.diff(np.r_[starts, n])
    rank = np.arange(n) - np.repeat(starts, counts)
    limit = np.asarray(k)[sorted_group] if np.ndim(k) else np.full(n, k)
    chosen = np.zeros(n, dtype=bool)
    chosen[order] = (rank < limit) & np.isfinite(key[order])
    return chosen


def make_city(
    *,
    seed: int = 0,
    streets: int = 2,
    communities_per_street: int = 3,
    buildings_per_community: int = 8,
    households_per_building: int = 24,
    names: bool = True,
) -> City:
    """Make a synthetic city of streets, communities, buildings, households and adult residents.

    Parameters
    ----------
    seed : int, default 0
        Seed of every draw; the same arguments always give identical DataFrames.
    streets : int, default 2
        Number of streets (街道).
    communities_per_street : int, default 3
        Communities (居民区) per street.
    buildings_per_community : int, default 8
        Residential buildings per community (at most 200, the range of the ballot's 楼号).
    households_per_building : int, default 24
        Mean households per building (each building gets 75–125 % of it).
    names : bool, default True
        Also draw synthetic Chinese names into :attr:`City.names`.

    Returns
    -------
    City
        Frozen bundle of DataFrames (ids are hierarchical strings: street ``S01``, community
        ``S01-C02``, building ``S01-C02-B03``, household ``S01-C02-B03-H007``):

        - ``streets``: street_id, street_name, district.
        - ``communities``: community_id, street_id, district, community_name, housing (``old``
          walk-ups or ``new`` high-rises), satisfaction_effect (the community's shift of the
          latent satisfaction of :func:`toolkit.synth.make_ballots`, logit scale, N(0, 0.5²)).
        - ``buildings``: building_id, community_id, street_id, building_no (1.. within the
          community; the ballot's ``building``), floors, has_elevator, built_year, households.
        - ``households``: household_id, building_id, community_id, street_id, floor, floor_band,
          tenure (``owner``/``renter``), adults, area_m2 (exclusive area).
        - ``residents`` (adults 18+): participant_id (pseudonymous), household_id, building_id,
          building_no, community_id, street_id, age, age_band, gender (``female``/``male``),
          party_member, role (``resident``, ``building_head`` 楼组长, ``party_member``,
          ``owners_committee`` 业委会, ``deputy`` 人大代表; one per person, most specific wins),
          tenure, floor, floor_band.
        - ``names``: participant_id, surname, given_name, name.

    Notes
    -----
    Model. Communities are ``old`` (90 % walk-ups built 1978–1999, 5–7 floors, no elevator) with
    probability 0.65, else ``new`` (90 % high-rises built 2000–2018 with elevators). Household heads'
    age bands follow a Dirichlet(200·s) draw around the shares s of the housing type (old
    communities are older), ages uniform within the band; a second adult (52 % of households,
    partner, age ± 4) and a third (20 %, an adult child or a parent, 28 years apart) are added.
    Women are more common at older ages; party membership has log-odds −3.3 + 0.03 (age − 18)
    (+0.4 for men), about 14 % overall; renters are younger households (log-odds 1 − 0.06 (age −
    18) of the head). One building head per building (older, female, party members and owners
    favoured), an owners' committee of 5 (7 above 300 households) among owners, and a deputy in
    40 % of communities.

    Examples
    --------
    >>> city = make_city(seed=1, streets=1, communities_per_street=2)
    >>> city
    City(seed=1, streets=1, communities=2, buildings=16, households=..., residents=...)
    >>> sorted(city.residents["age_band"].unique())
    ['18-29', '30-39', '40-49', '50-59', '60-69', '70-79', '80+']
    >>> "name" in city.residents.columns, "name" in city.names.columns
    (False, True)
    """
    seed = check_seed(seed)
    n_streets = check_count("streets", streets)
    per_street = check_count("communities_per_street", communities_per_street)
    per_community = check_count("buildings_per_community", buildings_per_community)
    check_range("buildings_per_community", per_community, high=200)  # the ballot's 楼号 ≤ 200
    per_building = check_count("households_per_building", households_per_building)
    rng = rng_for("population", seed)

    # --- streets -------------------------------------------------------------------------------
    street_ids = [f"S{i + 1:02d}" for i in range(n_streets)]
    street_roots = [
        _STREET_ROOTS[i % len(_STREET_ROOTS)]
        + ("" if i < len(_STREET_ROOTS) else _numeral(i // 10))
        for i in range(n_streets)
    ]
    districts = rng.choice(np.array(_DISTRICTS, dtype=object), size=n_streets)
    streets_df = pd.DataFrame(
        {
            "street_id": street_ids,
            "street_name": [f"{root}路街道" for root in street_roots],
            "district": districts,
        }
    )

    # --- communities ---------------------------------------------------------------------------
    n_comm = n_streets * per_street
    comm_street = np.repeat(np.arange(n_streets), per_street)
    comm_no = np.tile(np.arange(1, per_street + 1), n_streets)
    comm_old = rng.random(n_comm) < 0.65
    comm_effect = rng.normal(0.0, 0.5, n_comm)
    comm_ids = [f"{street_ids[s]}-C{k:02d}" for s, k in zip(comm_street, comm_no, strict=True)]
    comm_names = [
        f"{street_roots[s]}{_numeral(int(k))}{'村' if old else '苑'}居民区"
        for s, k, old in zip(comm_street, comm_no, comm_old, strict=True)
    ]
    communities_df = pd.DataFrame(
        {
            "community_id": comm_ids,
            "street_id": np.array(street_ids, dtype=object)[comm_street],
            "district": districts[comm_street],
            "community_name": comm_names,
            "housing": np.where(comm_old, "old", "new"),
            "satisfaction_effect": comm_effect,
        }
    )

    # --- buildings -----------------------------------------------------------------------------
    n_bld = n_comm * per_community
    bld_comm = np.repeat(np.arange(n_comm), per_community)
    bld_no = np.tile(np.arange(1, per_community + 1), n_comm)
    walkup = rng.random(n_bld) < np.where(comm_old[bld_comm], 0.9, 0.1)
    floors = np.where(
        walkup,
        rng.choice([5, 6, 7], size=n_bld, p=[0.2, 0.6, 0.2]),
        rng.integers(11, 31, size=n_bld),
    )
    built = np.where(walkup, rng.integers(1978, 2000, n_bld), rng.integers(2000, 2019, n_bld))
    has_elevator = ~walkup | (rng.random(n_bld) < 0.05)  # a few walk-ups already added one
    n_hh = np.maximum(np.rint(per_building * rng.uniform(0.75, 1.25, n_bld)).astype(np.int64), 1)
    comm_ids_arr = np.array(comm_ids, dtype=object)
    bld_ids = np.array(
        [f"{comm_ids[c]}-B{b:02d}" for c, b in zip(bld_comm, bld_no, strict=True)], dtype=object
    )
    buildings_df = pd.DataFrame(
        {
            "building_id": bld_ids,
            "community_id": comm_ids_arr[bld_comm],
            "street_id": communities_df["street_id"].to_numpy(dtype=object)[bld_comm],
            "building_no": bld_no,
            "floors": floors,
            "has_elevator": has_elevator,
            "built_year": built,
            "households": n_hh,
        }
    )

    # --- households ----------------------------------------------------------------------------
    hh_bld = np.repeat(np.arange(n_bld), n_hh)
    n_house = len(hh_bld)
    hh_no = np.arange(n_house) - np.repeat(np.cumsum(n_hh) - n_hh, n_hh) + 1
    hh_floor = (rng.random(n_house) * floors[hh_bld]).astype(np.int64) + 1
    hh_comm = bld_comm[hh_bld]
    area = np.where(
        walkup[hh_bld], rng.uniform(38.0, 72.0, n_house), rng.uniform(70.0, 145.0, n_house)
    ).round(1)
    # age of the household head: band from the community's shares, uniform within the band
    shares = np.where(comm_old[:, None], _AGE_SHARES_OLD, _AGE_SHARES_NEW)
    comm_shares = np.vstack([rng.dirichlet(200.0 * s) for s in shares])
    cum = np.cumsum(comm_shares[hh_comm], axis=1)
    head_band = np.minimum((rng.random(n_house)[:, None] > cum).sum(axis=1), 6)
    low = np.asarray(AGE_BAND_LOW)[head_band]
    high = np.asarray(AGE_BAND_HIGH)[head_band]
    head_age = low + (rng.random(n_house) * (high - low + 1)).astype(np.int64)
    renter = rng.random(n_house) < expit(1.0 - 0.06 * (head_age - 18))
    adults = rng.choice([1, 2, 3], size=n_house, p=[0.28, 0.52, 0.20])
    hh_ids = np.array(
        [f"{bld_ids[b]}-H{k:03d}" for b, k in zip(hh_bld, hh_no, strict=True)], dtype=object
    )
    households_df = pd.DataFrame(
        {
            "household_id": hh_ids,
            "building_id": bld_ids[hh_bld],
            "community_id": comm_ids_arr[hh_comm],
            "street_id": buildings_df["street_id"].to_numpy(dtype=object)[hh_bld],
            "floor": hh_floor,
            "floor_band": np.array(FLOOR_BANDS, dtype=object)[floor_band_index(hh_floor)],
            "tenure": np.where(renter, "renter", "owner"),
            "adults": adults,
            "area_m2": area,
        }
    )

    # --- residents -----------------------------------------------------------------------------
    res_hh = np.repeat(np.arange(n_house), adults)
    n_res = len(res_hh)
    member = np.arange(n_res) - np.repeat(np.cumsum(adults) - adults, adults)  # 0 head, 1, 2
    h_age = head_age[res_hh]
    partner_age = h_age + np.rint(rng.normal(0.0, 4.0, n_res)).astype(np.int64)
    generation = np.where(h_age >= 50, -28, 28) + np.rint(rng.normal(0.0, 4.0, n_res)).astype(
        np.int64
    )
    age = np.where(member == 0, h_age, np.where(member == 1, partner_age, h_age + generation))
    age = np.clip(age, 18, 99)
    p_female = np.clip(0.46 + 0.004 * (age - 40), 0.40, 0.68)
    head_female = rng.random(n_house) < np.clip(0.46 + 0.004 * (head_age - 40), 0.40, 0.68)
    female = np.where(
        member == 0,
        head_female[res_hh],
        np.where(
            member == 1,
            np.where(rng.random(n_res) < 0.92, ~head_female[res_hh], head_female[res_hh]),
            rng.random(n_res) < p_female,
        ),
    )
    party = rng.random(n_res) < expit(-3.3 + 0.03 * (age - 18) + 0.4 * ~female)
    res_bld = hh_bld[res_hh]
    res_comm = hh_comm[res_hh]
    owner = ~renter[res_hh]

    # roles: most specific wins (deputy > owners_committee > building_head > party_member)
    role = np.where(party, 2, 0)  # index into ROLES
    head_w = (1.0 + 3.0 * (age >= 50)) * np.where(female, 1.5, 1.0)
    head_w = head_w * np.where(party, 2.0, 1.0) * np.where(owner, 1.5, 1.0)
    is_head = _pick_per_group(rng, res_bld, head_w, 1)
    hh_per_comm = np.bincount(hh_comm, minlength=n_comm)
    committee_size = np.where(hh_per_comm > 300, 7, 5)
    committee_w = np.where(owner & ~is_head & (age >= 30) & (age <= 78), 1.0, 0.0)
    is_committee = _pick_per_group(rng, res_comm, committee_w, committee_size)
    has_deputy = rng.random(n_comm) < 0.4
    deputy_w = np.where(~is_head & ~is_committee & (age >= 35) & (age <= 70), 1.0, 0.0)
    deputy_w = deputy_w * np.where(party, 3.0, 1.0)
    is_deputy = _pick_per_group(rng, res_comm, deputy_w, has_deputy.astype(np.int64))
    role = np.where(is_head, 1, role)
    role = np.where(is_committee, 3, role)
    role = np.where(is_deputy, 4, role)

    participant_id = hex_ids(rng, n_res, prefix="p", digits=10)
    res_floor = hh_floor[res_hh]
    residents_df = pd.DataFrame(
        {
            "participant_id": participant_id,
            "household_id": hh_ids[res_hh],
            "building_id": bld_ids[res_bld],
            "building_no": bld_no[res_bld],
            "community_id": comm_ids_arr[res_comm],
            "street_id": buildings_df["street_id"].to_numpy(dtype=object)[res_bld],
            "age": age,
            "age_band": np.array(AGE_BANDS, dtype=object)[band_index(age)],
            "gender": np.where(female, GENDERS[0], GENDERS[1]),
            "party_member": party,
            "role": np.array(ROLES, dtype=object)[role],
            "tenure": np.where(owner, TENURES[0], TENURES[1]),
            "floor": res_floor,
            "floor_band": np.array(FLOOR_BANDS, dtype=object)[floor_band_index(res_floor)],
        }
    )

    names_df = (
        _make_names(seed, participant_id, female)
        if names
        else pd.DataFrame({c: pd.Series(dtype=str) for c in _NAME_COLUMNS})
    )
    return City(
        seed=seed,
        streets=streets_df,
        communities=communities_df,
        buildings=buildings_df,
        households=households_df,
        residents=residents_df,
        names=names_df,
    )


_NAME_COLUMNS = ("participant_id", "surname", "given_name", "name")


def _make_names(seed: int, participant_id: np.ndarray, female: np.ndarray) -> pd.DataFrame:
    """Synthetic names (a common surname and one or two given-name characters), own stream."""
    rng = rng_for("names", seed)
    n = len(participant_id)
    surnames = np.array(list(_SURNAMES), dtype=object)
    surname = surnames[
        rng.choice(len(surnames), size=n, p=_SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum())
    ]
    pools = {g: np.array(list(chars), dtype=object) for g, chars in _GIVEN.items()}
    first = np.where(
        female,
        pools["female"][rng.integers(0, len(pools["female"]), n)],
        pools["male"][rng.integers(0, len(pools["male"]), n)],
    )
    second = np.where(
        female,
        pools["female"][rng.integers(0, len(pools["female"]), n)],
        pools["male"][rng.integers(0, len(pools["male"]), n)],
    )
    two = (rng.random(n) < 0.7) & (first != second)
    given = np.where(two, first + second, first)
    return pd.DataFrame(
        {
            "participant_id": participant_id,
            "surname": surname,
            "given_name": given,
            "name": surname + given,
        }
    )


def make_population_margins(city: City) -> pd.DataFrame:
    """Population counts and shares by community × age band × gender (targets for raking).

    Parameters
    ----------
    city : City
        A city from :func:`make_city`.

    Returns
    -------
    pandas.DataFrame
        One row per street_id, community_id, age_band, gender (every combination, zero counts
        included; age bands youngest first, ``female`` before ``male``) with ``count`` (adult
        residents) and ``share`` = count / adults of the community (sums to 1 per community).

    Notes
    -----
    The shipped ``data/population_margins.csv`` is this table for ``make_city(seed=0)`` with a
    ``source`` column saying it is synthetic.

    Examples
    --------
    >>> margins = make_population_margins(make_city(seed=1, streets=1, communities_per_street=2))
    >>> margins.shape
    (28, 6)
    >>> margins.groupby("community_id")["share"].sum().round(6).tolist()
    [1.0, 1.0]
    """
    residents = city.residents
    index = pd.MultiIndex.from_product(
        [city.communities["community_id"], AGE_BANDS, GENDERS],
        names=["community_id", "age_band", "gender"],
    )
    counts = (
        residents.groupby(["community_id", "age_band", "gender"])
        .size()
        .reindex(index, fill_value=0)
    )
    out = counts.rename("count").reset_index()
    street = dict(zip(city.communities["community_id"], city.communities["street_id"], strict=True))
    out.insert(0, "street_id", out["community_id"].map(street))
    totals = out.groupby("community_id")["count"].transform("sum")
    out["count"] = out["count"].astype(np.int64)
    out["share"] = out["count"] / totals
    return out
