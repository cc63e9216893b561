"""The variance engine of :class:`~toolkit.analysis.design.SurveyDesign`: its structure and
the Taylor-linearisation variance of ``survey:::svyrecvar`` (strata, one or two stages, fpc,
calibration residuals, lonely PSUs, domains).

Split from :mod:`toolkit.analysis.design`, whose module docstring documents the R semantics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from toolkit.analysis.calibration import PostStratum, Raking
from toolkit.errors import DataError, ParameterError

__all__ = [
    "LONELY_PSU",
    "PROPORTION_METHODS",
    "BoolArray",
    "DesignVariance",
    "FloatArray",
    "IntArray",
    "Structure",
    "as_list",
    "combine",
    "factorize",
]

LONELY_PSU = ("fail", "remove", "certainty", "adjust", "average")
PROPORTION_METHODS = ("logit", "likelihood", "beta", "mean")
_CERTAIN = 1e-7  # R: all(f < 1e-07) means a certainty stratum
_DENSE_LIMIT = 1 << 23  # largest (unit x domain) grid handled with a dense bincount
_CHUNK_CELLS = 1 << 24  # rows x columns per block for dense influence matrices

FloatArray = np.ndarray[Any, Any]  # bincount and friends are typed loosely by numpy
IntArray = np.ndarray[Any, Any]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


@dataclass(frozen=True)
class Structure:
    """Design structure fixed at construction (codes are per row, counts per unit)."""

    n: int
    stratum: np.ndarray  # int32 per row, 0..H-1
    psu: np.ndarray  # int32 per row, 0..P-1, nested in strata
    ssu: np.ndarray | None  # int32 per row, 0..Q-1, nested in PSUs (two-stage with fpc only)
    stratum_of_psu: IntArray  # per PSU
    psu_of_ssu: IntArray | None  # per SSU
    n_psu: IntArray  # per stratum: PSUs in the design (R's fpc$sampsize, stage 1)
    f1: FloatArray  # per stratum: (N_h - n_h) / N_h, 1 without fpc
    frac1: FloatArray  # per stratum: n_h / N_h (multiplies second-stage variance)
    n_ssu: IntArray | None  # per PSU: SSUs sampled (stage-2 sampsize)
    f2: FloatArray | None  # per PSU
    stratum_labels: list[Any]
    psu_labels: list[Any] | None


def factorize(values: pd.Series) -> tuple[IntArray, list[Any]]:
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.intp), list(uniques)


def combine(first: np.ndarray, second: np.ndarray) -> tuple[IntArray, IntArray]:
    """Codes of the pairs (first, second) in sorted order, and for each new code its ``first``."""
    base = int(second.max()) + 1 if len(second) else 1
    key = first.astype(np.int64) * base + second
    size = (int(first.max()) + 1 if len(first) else 1) * base
    if size <= max(_DENSE_LIMIT, 4 * len(key)):
        counts = np.bincount(key, minlength=size)
        uniq = np.flatnonzero(counts)
        del counts
        lookup = np.zeros(size, dtype=np.intp)
        lookup[uniq] = np.arange(len(uniq))
        codes = lookup[key]
    else:
        uniq, codes = np.unique(key, return_inverse=True)
    return codes.astype(np.intp, copy=False), (uniq // base).astype(np.intp)


def as_list(value: str | Sequence[str] | None, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    out = list(value)
    if not all(isinstance(v, str) for v in out):
        raise ParameterError(f"`{name}` must be a column name or a list of names; got {value!r}.")
    return out


class DesignVariance:
    """The variance engine :class:`~toolkit.analysis.design.SurveyDesign` is built on."""

    _s: Structure
    _data: pd.DataFrame
    _w: FloatArray
    _rows: BoolArray
    _cal: tuple[PostStratum | Raking, ...]
    lonely_psu: str

    def _calibrate(self, z: FloatArray) -> FloatArray:
        """Residuals of influence values (n x K) from the calibrations, as ``svyrecvar``."""
        if not self._cal:
            return z
        z = np.array(z, dtype=float, copy=True)
        for rec in self._cal:
            if isinstance(rec, Raking):
                margins = []
                for m in rec.margins:
                    # R divides by the weights (0/0 for zero weights, which makes its variance NaN);
                    # we leave zero-weight rows out of the margin means instead
                    inside = (m.codes >= 0) & (m.neww != 0)
                    k = int(m.codes[inside].max()) + 1 if inside.any() else 0
                    counts = np.bincount(m.codes[inside], minlength=k).astype(float)
                    margins.append((inside, m.codes, m.neww, counts))
                for _ in range(10):
                    for inside, codes, psw, counts in margins:
                        with np.errstate(divide="ignore", invalid="ignore"):
                            ratio = np.where(psw[:, None] != 0, z / psw[:, None], 0.0)
                        for j in range(z.shape[1]):
                            sums = np.bincount(
                                codes[inside], weights=ratio[inside, j], minlength=len(counts)
                            )
                            means = np.divide(
                                sums, counts, out=np.zeros_like(sums), where=counts > 0
                            )
                            z[inside, j] -= psw[inside] * means[codes[inside]]
            else:
                inside = rec.codes >= 0
                psw = rec.neww.copy()
                oldw = rec.oldw
                psw[(psw == 0) & (oldw == 0)] = 1.0
                codes = rec.codes[inside]
                k = int(codes.max()) + 1 if len(codes) else 0
                den = np.bincount(codes, weights=oldw[inside], minlength=k)
                with np.errstate(divide="ignore", invalid="ignore"):
                    factor = np.where(psw != 0, oldw / psw, 0.0)[inside]
                for j in range(z.shape[1]):
                    num = np.bincount(codes, weights=z[inside, j] * factor, minlength=k)
                    means = np.divide(num, den, out=np.zeros_like(num), where=den != 0)
                    z[inside, j] -= means[codes] * psw[inside]
        return z

    def _lonely_error(self, stratum: int, stage: int, psu: int | None = None) -> DataError:
        s = self._s
        if stage == 1:
            where = f"stratum {s.stratum_labels[stratum]!r} has only one PSU"
        else:
            label = s.psu_labels[psu] if (s.psu_labels is not None and psu is not None) else psu
            where = f"PSU {label!r} has only one second-stage unit"
        return DataError(
            f"SurveyDesign: {where} (stage {stage}), so its variance cannot be estimated. Choose "
            "lonely_psu='adjust' (centre it at the grand mean), 'average', 'certainty' or "
            "'remove', or merge the stratum with a similar one."
        )

    def _vcov(self, z: FloatArray, present: BoolArray, diag: bool = False) -> FloatArray:
        """Covariance (K x K, or its diagonal) of influence values ``z`` (n x K).

        ``present`` marks the rows that R would keep in the (sub)design: strata and PSUs without any
        present row are skipped, which matters only for lonely PSUs.
        """
        s = self._s
        z = self._calibrate(z)
        k = z.shape[1]
        n_strata = len(s.n_psu)
        n_units = len(s.stratum_of_psu)
        totals = np.empty((n_units, k))
        for j in range(k):
            totals[:, j] = np.bincount(s.psu, weights=z[:, j], minlength=n_units)
        strat_present = np.bincount(s.stratum[present], minlength=n_strata) > 0
        v = self._stage(totals, s.stratum_of_psu, s.n_psu, s.f1, strat_present, 1, diag)
        if s.ssu is not None and s.psu_of_ssu is not None and s.n_ssu is not None:
            assert s.f2 is not None
            n_ssu_units = len(s.psu_of_ssu)
            totals2 = np.empty((n_ssu_units, k))
            for j in range(k):
                totals2[:, j] = np.bincount(s.ssu, weights=z[:, j], minlength=n_ssu_units)
            psu_present = np.bincount(s.psu[present], minlength=n_units) > 0
            mult = s.frac1[s.stratum_of_psu]
            v = v + self._stage(
                totals2, s.psu_of_ssu, s.n_ssu, s.f2, psu_present, 2, diag, mult=mult
            )
        return v

    def _stage(
        self,
        totals: FloatArray,
        group_of_unit: IntArray,
        n_units: IntArray,
        f: FloatArray,
        group_present: BoolArray,
        stage: int,
        diag: bool,
        mult: FloatArray | None = None,
    ) -> FloatArray:
        """One stage of ``onestage``: groups are strata (stage 1) or PSUs (stage 2)."""
        n_groups = len(n_units)
        k = totals.shape[1]
        sums = np.empty((n_groups, k))
        for j in range(k):
            sums[:, j] = np.bincount(group_of_unit, weights=totals[:, j], minlength=n_groups)
        means = sums / np.maximum(n_units, 1)[:, None]
        lonely = n_units == 1
        certain = f < _CERTAIN
        centred = totals - means[group_of_unit]
        if self.lonely_psu == "adjust":
            unit_lonely = lonely[group_of_unit]
            centred[unit_lonely] = totals[unit_lonely]
        scale = np.where(n_units > 1, f * n_units / np.maximum(n_units - 1, 1), f)
        scale = np.where(certain, 0.0, scale)
        if mult is not None:
            scale = scale * mult
        bad = lonely & ~certain & group_present
        ratio = 1.0
        if bad.any():
            if self.lonely_psu == "fail":
                g = int(np.flatnonzero(bad)[0])
                raise self._lonely_error(g if stage == 1 else -1, stage, g if stage == 2 else None)
            if self.lonely_psu == "average":
                if stage == 2:
                    return np.full((k,) if diag else (k, k), np.nan)
                scale = np.where(bad, 0.0, scale)
                nstrat = int(group_present.sum())
                ratio = nstrat / (nstrat - int(bad.sum())) if nstrat > bad.sum() else np.nan
        unit_scale = scale[group_of_unit]
        if diag:
            out = np.einsum("ij,ij,i->j", centred, centred, unit_scale)
        else:
            out = (centred * unit_scale[:, None]).T @ centred
        return np.asarray(out * ratio, dtype=float)

    def _var_domains(
        self, z: FloatArray, dom: IntArray, n_dom: int, present: BoolArray
    ) -> FloatArray:
        """Variance of each domain's estimate: ``z`` has one influence value per row, non-zero only
        in the row's own domain ``dom`` (-1 outside every domain); ``present`` marks the rows in R's
        per-domain subset. Done for all domains at once from (unit x domain) group sums.
        """
        if self._cal:
            return self._var_domains_dense(z, dom, n_dom, present)
        idx = np.flatnonzero(present)
        return self._var_rows(idx, z[idx], dom[idx], n_dom)

    def _var_rows(self, idx: IntArray, z: FloatArray, dom: IntArray, n_dom: int) -> FloatArray:
        """``_var_domains`` on the present rows ``idx`` only (uncalibrated designs)."""
        s = self._s
        v = self._stage_sparse(s.psu[idx], z, dom, n_dom, s.stratum_of_psu, s.n_psu, s.f1, 1, None)
        if s.ssu is not None and s.psu_of_ssu is not None and s.n_ssu is not None:
            assert s.f2 is not None
            mult = s.frac1[s.stratum_of_psu]
            v = v + self._stage_sparse(
                s.ssu[idx], z, dom, n_dom, s.psu_of_ssu, s.n_ssu, s.f2, 2, mult
            )
        return v

    @staticmethod
    def _group(key: np.ndarray, size: int) -> tuple[np.ndarray, IntArray]:
        """Distinct keys and the index of each element's key among them."""
        if size <= max(_DENSE_LIMIT, 4 * len(key)):
            counts = np.bincount(key, minlength=size)
            uniq = np.flatnonzero(counts)
            lookup = np.zeros(size, dtype=np.intp)
            lookup[uniq] = np.arange(len(uniq))
            return uniq, lookup[key]
        uniq, inv = np.unique(key, return_inverse=True)
        return uniq, inv.astype(np.intp)

    def _stage_sparse(
        self,
        unit: np.ndarray,
        z: FloatArray,
        dom: np.ndarray,
        n_dom: int,
        group_of_unit: IntArray,
        n_units: IntArray,
        f: FloatArray,
        stage: int,
        mult: FloatArray | None,
    ) -> FloatArray:
        n_groups = len(n_units)
        n_unit_total = len(group_of_unit)
        # totals per (unit, domain) pair present
        key = unit.astype(np.int64)
        key *= n_dom
        key += dom
        ukey, inv = self._group(key, n_unit_total * n_dom)
        del key
        t = np.bincount(inv, weights=z, minlength=len(ukey))
        del inv
        u_unit = ukey // n_dom
        u_dom = ukey % n_dom
        u_group = group_of_unit[u_unit]
        gkey, ginv = self._group(u_group.astype(np.int64) * n_dom + u_dom, n_groups * n_dom)
        g_group = gkey // n_dom
        g_dom = gkey % n_dom
        g_sum = np.bincount(ginv, weights=t, minlength=len(gkey))
        g_nnz = np.bincount(ginv, minlength=len(gkey))
        g_n = n_units[g_group].astype(float)
        g_mean = g_sum / g_n
        ss = np.bincount(ginv, weights=(t - g_mean[ginv]) ** 2, minlength=len(gkey))
        ss += (g_n - g_nnz) * g_mean**2
        lonely = n_units[g_group] == 1
        certain = f[g_group] < _CERTAIN
        if self.lonely_psu == "adjust":
            ss = np.where(lonely, np.bincount(ginv, weights=t**2, minlength=len(gkey)), ss)
        fg = f[g_group]
        scale = np.where(g_n > 1, fg * g_n / np.maximum(g_n - 1, 1), fg)
        scale = np.where(certain, 0.0, scale)
        if mult is not None:
            scale = scale * mult[g_group]
        contrib = scale * ss
        bad = lonely & ~certain
        out = np.bincount(g_dom, weights=contrib, minlength=n_dom)
        if bad.any():
            if self.lonely_psu == "fail":
                g = int(g_group[np.flatnonzero(bad)[0]])
                raise self._lonely_error(g, stage, g if stage == 2 else None)
            if self.lonely_psu == "average":
                bad_dom = np.bincount(g_dom[bad], minlength=n_dom)
                if stage == 2:
                    out = np.where(bad_dom > 0, np.nan, out)
                else:
                    out = np.bincount(g_dom[~bad], weights=contrib[~bad], minlength=n_dom)
                    nstrat = np.bincount(g_dom, minlength=n_dom).astype(float)
                    nok = nstrat - bad_dom
                    with np.errstate(divide="ignore", invalid="ignore"):
                        out = out * nstrat / nok
        return out

    def _var_domains_dense(
        self, z: FloatArray, dom: IntArray, n_dom: int, present: BoolArray
    ) -> FloatArray:
        """Calibrated designs: influence values spread over all rows, so use dense blocks."""
        rows = self._rows
        out = np.empty(n_dom)
        step = max(1, _CHUNK_CELLS // max(self._s.n, 1))
        inside = np.flatnonzero(dom >= 0)
        for start in range(0, n_dom, step):
            stop = min(n_dom, start + step)
            block = np.zeros((self._s.n, stop - start))
            sel = inside[(dom[inside] >= start) & (dom[inside] < stop)]
            block[sel, dom[sel] - start] = z[sel]
            out[start:stop] = self._vcov(block, rows, diag=True)
        return out
