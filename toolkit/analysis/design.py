"""Complex survey designs: stratified, clustered (one or two stages), weighted, with fpc.

:class:`SurveyDesign` reproduces R's ``survey`` package (``svydesign``, ``svymean``, ``svytotal``,
``svyby``, ``svyratio``, ``svyciprop``, ``svychisq``, ``postStratify``, ``rake``) by Taylor
linearisation, the algorithm of ``survey:::svyrecvar``:

1. every estimate is turned into influence (linearisation) values ``z_i``, one per case, zero for
   cases outside the domain;
2. calibration (post-stratification, raking) replaces ``z`` by its residuals, as R does;
3. ``z`` is summed within PSUs; PSU totals are centred within their stratum and
   ``V = sum_h f_h n_h / (n_h - 1) sum_i (z_hi - zbar_h)^2`` with ``f_h = (N_h - n_h) / N_h`` (1 without
   fpc); with two stages and an fpc, the second stage adds
   ``sum_i (n_h / N_h) f_2i m_i / (m_i - 1) sum_j (z_ij - zbar_i)^2`` (``survey.ultimate.cluster``
   FALSE, R's default).

Domain estimates (``by=``) use the whole design: influence values of other domains are zero, a PSU
without cases of the domain counts as a zero total (R: ``svyby`` on a subset keeps the design's PSU
counts). All domains are computed at once from group sums over (PSU x domain) pairs, so a million
rows and hundreds of domains take well under a second.

Semantics copied from R and worth knowing:

* PSUs are nested in strata (R's ``nest=TRUE``); second-stage units are nested in PSUs.
* Missing values are dropped case-wise for the variables of one estimate (R's ``na.rm=TRUE``); the
  design information (strata, PSU counts) is kept.
* ``lonely_psu`` is R's ``options(survey.lonely.psu=)``: ``"fail"`` raises :class:`DataError`,
  ``"remove"`` and ``"certainty"`` give a single-PSU stratum zero variance (in survey 4.x they are the
  same), ``"adjust"`` centres its PSU total at zero (the grand mean) instead of its stratum mean,
  ``"average"`` replaces it by the average variance of the other strata. Which strata count is decided
  per domain, as R's ``svyby`` does on each subset; a stratum whose other PSUs just have no cases of
  the domain is not lonely (``survey.adjust.domain.lonely = FALSE``, R's default).
* Intervals: ``mean``, ``total`` and ``ratio`` use normal quantiles (R's ``confint`` on ``svystat``
  uses ``df = Inf``); ``proportion`` uses Student t quantiles with ``df = degf(design)`` (number of
  PSUs minus number of strata, within the domain) as R's ``svyciprop``.
* ``deff`` is R's ``deff=TRUE``: the variance over the variance of simple random sampling *without*
  replacement of the same (weighted) number of cases, ``s^2 (N - n) / (N n)``; it is infinite when
  the weights add up to the sample size (no fpc information) and NaN when they add up to less.

>>> import pandas as pd
>>> df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6], "s": [1, 1, 1, 2, 2, 2], "w": [2.0] * 6})
>>> d = SurveyDesign(df, weights="w", strata="s")
>>> print(d.mean("y")[["estimate", "se"]].round(4).to_string(index=False))
 estimate     se
      3.5 0.4082
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from toolkit._checks import check_columns, check_option, check_range
from toolkit.analysis.calibration import (
    PostStratum,
    Raking,
    as_columns,
    codes_for,
    population_map,
    poststratify_step,
    rake_arrays,
)
from toolkit.errors import DataError, ParameterError

__all__ = ["SurveyDesign"]

LONELY_PSU = ("fail", "remove", "certainty", "adjust", "average")
PROPORTION_METHODS = ("logit", "likelihood", "beta", "mean")
_CERTAIN = 1e-7  # R: all(f < 1e-07) means a certainty stratum
_DENSE_LIMIT = 1 << 23  # largest (unit x domain) grid handled with a dense bincount
_CHUNK_CELLS = 1 << 24  # rows x columns per block for dense influence matrices

FloatArray = np.ndarray[Any, Any]  # bincount and friends are typed loosely by numpy
IntArray = np.ndarray[Any, Any]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


@dataclass(frozen=True)
class _Structure:
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


def _factorize(values: pd.Series) -> tuple[IntArray, list[Any]]:
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.intp), list(uniques)


def _combine(first: np.ndarray, second: np.ndarray) -> tuple[IntArray, IntArray]:
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


def _as_list(value: str | Sequence[str] | None, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    out = list(value)
    if not all(isinstance(v, str) for v in out):
        raise ParameterError(f"`{name}` must be a column name or a list of names; got {value!r}.")
    return out


class SurveyDesign:
    """A stratified, clustered, weighted survey design with finite population correction.

    Parameters
    ----------
    data : DataFrame
        One row per sampled case. It is referenced, not copied.
    weights : str, optional
        Column of sampling weights (inverse inclusion probabilities). Without it the weights are
        derived from ``fpc`` (product over stages of population size / sample size) or set to 1.
    strata : str or list of str, optional
        Stratum column(s); several columns are crossed.
    cluster : str or list of str, optional
        PSU column, or ``[psu, ssu]`` for two stages (the second stage enters the variance only when
        ``fpc`` is given for both stages, as in R). Default: every case is its own PSU.
    fpc : str or list of str, optional
        Finite population correction per stage: population sizes (all values >= 1: number of PSUs in
        the stratum, number of SSUs in the PSU) or sampling fractions (all values <= 1), as R's
        ``svydesign(fpc=)``. Must be constant within a stratum (stage 1) / PSU (stage 2).
    lonely_psu : {"fail", "remove", "certainty", "adjust", "average"}
        What to do with a stratum that has a single PSU (R's ``options(survey.lonely.psu=)``).

    Notes
    -----
    Estimation methods return tidy DataFrames with ``estimate``, ``se``, ``ci_low``, ``ci_high``,
    ``deff`` and ``n`` (cases with non-zero weight used). See the module docstring for the variance
    formula and the R conventions followed.

    References
    ----------
    Lumley, T. (2004). Analysis of complex survey samples. *J. Stat. Softw.* 9(8).
    Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.
    R package ``survey`` 4.x: ``svydesign``, ``svyrecvar``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [3.0, 5, 4, 8, 6, 7], "psu": [1, 1, 2, 2, 3, 3], "w": [10.0] * 6})
    >>> d = SurveyDesign(df, weights="w", cluster="psu")
    >>> print(d.total("y")[["estimate", "se"]].round(2).to_string(index=False))
     estimate    se
        330.0 45.83
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        weights: str | None = None,
        strata: str | Sequence[str] | None = None,
        cluster: str | Sequence[str] | None = None,
        fpc: str | Sequence[str] | None = None,
        lonely_psu: str = "fail",
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise ParameterError(
                f"SurveyDesign: `data` must be a pandas DataFrame; got {type(data).__name__}."
            )
        check_option("lonely_psu", lonely_psu, LONELY_PSU)
        strata_cols = _as_list(strata, "strata")
        cluster_cols = _as_list(cluster, "cluster")
        fpc_cols = _as_list(fpc, "fpc")
        if len(cluster_cols) > 2:
            raise ParameterError(
                f"SurveyDesign: `cluster` supports one or two stages; got {len(cluster_cols)} "
                "columns. Use the first-stage PSU for the ultimate-cluster variance."
            )
        if fpc_cols and len(fpc_cols) != max(1, len(cluster_cols)):
            raise ParameterError(
                f"SurveyDesign: `fpc` needs one column per stage ({max(1, len(cluster_cols))}); "
                f"got {fpc_cols!r}."
            )
        named = [*strata_cols, *cluster_cols, *fpc_cols, *([weights] if weights else [])]
        check_columns(data, named)
        n = len(data)
        if n == 0:
            raise DataError("SurveyDesign: `data` has no rows.")
        for col in named:
            miss = data[col].isna().to_numpy()
            if miss.any():
                raise DataError(
                    f"SurveyDesign: design column `{col}` has missing values (row "
                    f"{data.index[np.flatnonzero(miss)[0]]!r}); every case needs its stratum, "
                    "cluster, fpc and weight. Fill or drop those rows first."
                )
        # strata
        if strata_cols:
            if len(strata_cols) == 1:
                stratum, stratum_labels = _factorize(data[strata_cols[0]])
            else:
                codes, uniq = pd.factorize(pd.MultiIndex.from_frame(data[strata_cols]), sort=True)
                stratum, stratum_labels = codes.astype(np.intp), [tuple(u) for u in uniq]
        else:
            stratum, stratum_labels = np.zeros(n, dtype=np.intp), [None]
        # PSUs nested in strata
        psu_labels: list[Any] | None = None
        if cluster_cols:
            c1, c1_labels = _factorize(data[cluster_cols[0]])
            psu, stratum_of_psu = _combine(stratum, c1)
            first = np.zeros(len(stratum_of_psu), dtype=np.intp)
            first[psu[::-1]] = np.arange(n - 1, -1, -1)
            psu_labels = [c1_labels[c1[i]] for i in first]
        else:
            psu = np.arange(n, dtype=np.intp)
            stratum_of_psu = stratum.copy()
        n_strata = len(stratum_labels)
        n_psu = np.bincount(stratum_of_psu, minlength=n_strata).astype(np.intp)
        ssu: IntArray | None = None
        psu_of_ssu: IntArray | None = None
        n_ssu_arr: IntArray | None = None
        if len(cluster_cols) == 2:
            c2, _ = _factorize(data[cluster_cols[1]])
            ssu, psu_of_ssu = _combine(psu, c2)
            n_ssu_arr = np.bincount(psu_of_ssu, minlength=len(stratum_of_psu)).astype(np.intp)
        # fpc
        f1 = np.ones(n_strata)
        frac1 = np.zeros(n_strata)
        f2: FloatArray | None = None
        popsize1: FloatArray | None = None
        popsize2: FloatArray | None = None
        if fpc_cols:
            values = [
                pd.to_numeric(data[c], errors="coerce").to_numpy(dtype=float) for c in fpc_cols
            ]
            if any(np.isnan(v).any() for v in values):
                raise DataError("SurveyDesign: `fpc` columns must be numeric.")
            allv = np.concatenate(values)
            is_pop = bool((allv > 1).any())
            if is_pop != bool((allv >= 1).all()) or (allv <= 0).any():
                raise DataError(
                    "SurveyDesign: `fpc` must hold either population sizes (all values >= 1, some "
                    "> 1) or sampling fractions (all values in (0, 1]); got a mixture "
                    f"(min {allv.min():g}, max {allv.max():g}). R's svydesign refuses this too."
                )
            popsize1 = self._per_unit(values[0], stratum, n_strata, fpc_cols[0], "stratum")
            if not is_pop:
                popsize1 = n_psu / popsize1
            if (popsize1 < n_psu - 1e-9).any():
                raise DataError(
                    f"SurveyDesign: `fpc` column `{fpc_cols[0]}` implies more than 100% sampling "
                    "in some strata (population size below the number of sampled PSUs)."
                )
            with np.errstate(divide="ignore", invalid="ignore"):
                f1 = np.where(np.isinf(popsize1), 1.0, (popsize1 - n_psu) / popsize1)
                frac1 = np.where(np.isinf(popsize1), 0.0, n_psu / popsize1)
            if ssu is not None and n_ssu_arr is not None:
                popsize2 = self._per_unit(values[1], psu, len(stratum_of_psu), fpc_cols[1], "PSU")
                if not is_pop:
                    popsize2 = n_ssu_arr / popsize2
                if (popsize2 < n_ssu_arr - 1e-9).any():
                    raise DataError(
                        f"SurveyDesign: `fpc` column `{fpc_cols[1]}` implies more than 100% "
                        "sampling of second-stage units in some PSUs."
                    )
                with np.errstate(divide="ignore", invalid="ignore"):
                    f2 = np.where(np.isinf(popsize2), 1.0, (popsize2 - n_ssu_arr) / popsize2)
        # weights
        if weights is not None:
            w = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
            if np.isnan(w).any() or (w < 0).any() or np.isinf(w).any():
                raise DataError(
                    f"SurveyDesign: weight column `{weights}` must hold finite numbers >= 0."
                )
            w = w.copy()
        elif popsize1 is not None:
            w = (popsize1 / n_psu)[stratum]
            if popsize2 is not None and n_ssu_arr is not None:
                w = w * (popsize2 / n_ssu_arr)[psu]
        else:
            w = np.ones(n)
        two_stage = ssu is not None and f2 is not None
        self._s = _Structure(
            n=n,
            stratum=stratum.astype(np.int32),
            psu=psu.astype(np.int32),
            ssu=ssu.astype(np.int32) if (two_stage and ssu is not None) else None,
            stratum_of_psu=stratum_of_psu,
            psu_of_ssu=psu_of_ssu if two_stage else None,
            n_psu=n_psu,
            f1=f1,
            frac1=frac1,
            n_ssu=n_ssu_arr if two_stage else None,
            f2=f2 if two_stage else None,
            stratum_labels=stratum_labels,
            psu_labels=psu_labels,
        )
        self._data = data
        self._w: FloatArray = w
        self._rows: BoolArray = np.ones(n, dtype=bool)
        self._cal: tuple[PostStratum | Raking, ...] = ()
        self.lonely_psu = lonely_psu
        self._spec = {
            "weights": weights,
            "strata": strata_cols,
            "cluster": cluster_cols,
            "fpc": fpc_cols,
        }

    @staticmethod
    def _per_unit(values: FloatArray, unit: IntArray, k: int, column: str, what: str) -> FloatArray:
        lo = np.full(k, np.inf)
        hi = np.full(k, -np.inf)
        np.minimum.at(lo, unit, values)
        np.maximum.at(hi, unit, values)
        if (hi - lo > 1e-9 * np.maximum(1.0, np.abs(hi))).any():
            raise DataError(
                f"SurveyDesign: `fpc` column `{column}` varies within a {what}; it must hold one "
                f"population size (or sampling fraction) per {what}."
            )
        return lo

    # --------------------------------------------------------------------------------------------
    # small public helpers
    # --------------------------------------------------------------------------------------------

    @property
    def data(self) -> pd.DataFrame:
        """The DataFrame the design was built on (all rows, also those outside a subset)."""
        return self._data

    @property
    def weights(self) -> pd.Series:
        """Current weights (calibrated if the design was raked/post-stratified; 0 outside a subset)."""
        return pd.Series(self._w, index=self._data.index, name="weight")

    @property
    def calibrated(self) -> bool:
        """Whether post-stratification or raking information is kept for the variance."""
        return bool(self._cal)

    @property
    def degf(self) -> int:
        """Design degrees of freedom as R's ``degf()``: PSUs minus strata among cases with weight."""
        inset = self._rows & (self._w != 0)
        return int(len(np.unique(self._s.psu[inset])) - len(np.unique(self._s.stratum[inset])))

    def __len__(self) -> int:
        return int(self._rows.sum())

    def __repr__(self) -> str:
        s = self._s
        stages = "two-stage" if s.ssu is not None else "one-stage"
        return (
            f"SurveyDesign({len(self)} cases, {len(s.stratum_labels)} strata, "
            f"{len(s.stratum_of_psu)} PSUs, {stages}, lonely_psu={self.lonely_psu!r}"
            f"{', calibrated' if self._cal else ''})"
        )

    def _copy(self, **changes: Any) -> SurveyDesign:
        new = object.__new__(SurveyDesign)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new

    def _mask(self, mask: Any, name: str = "mask") -> BoolArray:
        if isinstance(mask, pd.Series):
            if not mask.index.equals(self._data.index):
                mask = mask.reindex(self._data.index)
            arr = mask.to_numpy()
        else:
            arr = np.asarray(mask)
        if arr.shape != (self._s.n,):
            raise ParameterError(
                f"`{name}` must have one value per row of the design's data ({self._s.n}); "
                f"got shape {arr.shape}."
            )
        if arr.dtype == bool:
            return arr
        out = pd.array(arr, dtype="boolean")
        return np.asarray(out.fillna(False), dtype=bool)

    def subset(self, mask: Any) -> SurveyDesign:
        """Restrict the design to the cases where ``mask`` is true, keeping the design information.

        Strata, PSU counts and fpc stay those of the full design (R's ``subset.survey.design``), so
        estimates on the subset are domain estimates. Missing mask values count as false.

        Parameters
        ----------
        mask : bool array or Series
            One value per row of ``data``.

        Returns
        -------
        SurveyDesign

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "g": ["a", "a", "b", "b"]})
        >>> d = SurveyDesign(df).subset(df["g"] == "b")
        >>> float(d.mean("y")["estimate"].iloc[0])
        3.5
        """
        keep = self._mask(mask)
        if self._cal:  # R: calibrated designs keep the rows with zero weight
            return self._copy(_w=np.where(keep, self._w, 0.0))
        rows = self._rows & keep
        return self._copy(_rows=rows, _w=np.where(rows, self._w, 0.0))

    # --------------------------------------------------------------------------------------------
    # calibration
    # --------------------------------------------------------------------------------------------

    def poststratify(
        self, strata: str | Sequence[str], population: Any, *, partial: bool = False
    ) -> SurveyDesign:
        """Post-stratify to population counts, keeping the calibration for the variance.

        Parameters
        ----------
        strata : str or list of str
            Post-stratification column(s).
        population : dict, Series or DataFrame
            Population count per post-stratum (see :func:`toolkit.analysis.weighting.poststratify`).
        partial : bool
            Ignore populated post-strata without sample cases (R's ``partial=TRUE``).

        Returns
        -------
        SurveyDesign
            Weights ``w_i N_g / sum_{j in g} w_j``; standard errors use the residuals of the influence
            values from their post-stratum means, as R's ``postStratify``.

        References
        ----------
        R ``survey::postStratify``; Lumley (2010), section 7.3.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "g": ["a", "a", "b", "b"]})
        >>> d = SurveyDesign(df).poststratify("g", {"a": 30, "b": 70})
        >>> print(d.mean("y")[["estimate", "se"]].round(4).to_string(index=False))
         estimate     se
              2.9 0.3109
        """
        cols = as_columns(strata)
        codes, labels = codes_for(self._data, cols, self._rows, "poststratify")
        pop = population_map(population, cols, "poststratify")
        new, rec = poststratify_step(self._w, codes, labels, pop, "poststratify", partial=partial)
        return self._copy(_w=new, _cal=(*self._cal, rec))

    def rake(
        self, margins: Mapping[str, Any], *, max_iter: int = 50, tol: float = 1.0
    ) -> SurveyDesign:
        """Rake to population margins, keeping the raking for the variance (R's ``rake``).

        Parameters
        ----------
        margins : dict
            ``{column: {category: population total}}``.
        max_iter, tol :
            As :func:`toolkit.analysis.weighting.rake` (R's ``control = list(maxit, epsilon)``).

        Returns
        -------
        SurveyDesign
            The raked design. Standard errors use R's raking residuals: ten rounds of subtracting
            post-stratum means of the influence values, margin after margin.

        References
        ----------
        R ``survey::rake`` and ``survey:::svyrecvar``.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "a": [0, 0, 1, 1], "b": [0, 1, 0, 1]})
        >>> d = SurveyDesign(df).rake({"a": {0: 60, 1: 40}, "b": {0: 50, 1: 50}})
        >>> d.weights.round(1).tolist()
        [30.0, 30.0, 20.0, 20.0]
        """
        new, rec, _ = rake_arrays(self._data, self._w, margins, self._rows, max_iter, tol)
        return self._copy(_w=new, _cal=(*self._cal, rec))

    # --------------------------------------------------------------------------------------------
    # the variance engine
    # --------------------------------------------------------------------------------------------

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

    # --------------------------------------------------------------------------------------------
    # preparing variables and domains
    # --------------------------------------------------------------------------------------------

    def _numeric(self, column: str) -> FloatArray:
        check_columns(self._data, [column])
        col = self._data[column]
        if not (pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype)):
            conv = pd.to_numeric(col, errors="coerce")
            if (conv.isna() & col.notna()).any():
                raise DataError(
                    f"SurveyDesign: column `{column}` is not numeric; use .proportion() for "
                    "categories."
                )
            col = conv
        if col.dtype == bool:
            return col.to_numpy(dtype=float)
        return pd.to_numeric(col).to_numpy(dtype=float, na_value=np.nan)

    def _domains(self, by: str | Sequence[str] | None) -> tuple[IntArray, pd.DataFrame | None]:
        """Domain code per row (-1: no domain / missing ``by``) and the domain labels."""
        if by is None:
            return np.where(self._rows, 0, -1).astype(np.int32), None
        cols = _as_list(by, "by")
        if not cols:
            raise ParameterError("`by` must name at least one column.")
        check_columns(self._data, cols)
        if len(cols) == 1:
            col = self._data[cols[0]]
            codes, uniques = pd.factorize(col, sort=True)
            if isinstance(col.dtype, pd.CategoricalDtype):
                labels = pd.DataFrame(
                    {cols[0]: pd.Categorical(col.cat.categories, categories=col.cat.categories)}
                )
                codes = col.cat.codes.to_numpy().astype(np.int64)
            else:
                labels = pd.DataFrame({cols[0]: uniques})
        else:
            grouper = self._data.groupby(cols, sort=True, dropna=True, observed=True)
            ngroup = grouper.ngroup().to_numpy(dtype=float, na_value=np.nan)
            codes = np.where(np.isnan(ngroup), -1, ngroup).astype(np.int64)
            labels = grouper.size().index.to_frame(index=False)
        codes = np.asarray(codes).astype(np.int32)
        if not self._rows.all():
            codes[~self._rows] = -1
        return codes, labels

    def _frame(
        self,
        labels: pd.DataFrame | None,
        columns: dict[str, Any],
        extra: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        body = pd.DataFrame(columns)
        parts = [p for p in (labels, extra) if p is not None]
        if parts:
            body = pd.concat([*(p.reset_index(drop=True) for p in parts), body], axis=1)
        return body

    def _df_per_domain(self, dom: IntArray, n_dom: int) -> FloatArray:
        """R's ``degf()`` of each domain's subset design (PSUs minus strata with weight)."""
        s = self._s
        inset = (dom >= 0) & (self._w != 0)
        d = dom[inset].astype(np.int64)
        n_psu = np.zeros(n_dom)
        n_str = np.zeros(n_dom)
        if len(d):
            up = np.unique(s.psu[inset].astype(np.int64) * n_dom + d)
            n_psu = np.bincount(up % n_dom, minlength=n_dom).astype(float)
            us = np.unique(s.stratum[inset].astype(np.int64) * n_dom + d)
            n_str = np.bincount(us % n_dom, minlength=n_dom).astype(float)
        return n_psu - n_str

    def _present(self, valid: BoolArray) -> BoolArray:
        """Rows R keeps in the domain subset: the valid rows, or all rows of a calibrated design."""
        return self._rows if self._cal else valid

    def _mean_core(
        self, y: FloatArray, dom: IntArray, n_dom: int, valid: BoolArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """Means, variances, SRS variances, n and weight sums for all domains.

        Works on the valid rows only (compressed arrays), so memory stays a few columns' worth.
        """
        idx = np.flatnonzero(valid)
        dc = dom[idx]
        wc = self._w[idx]
        rc = y[idx]
        wsum = np.bincount(dc, weights=wc, minlength=n_dom)
        ysum = np.bincount(dc, weights=wc * rc, minlength=n_dom)
        nobs = np.bincount(dc[wc != 0], minlength=n_dom).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            est = ysum / wsum
            rc -= est[dc]  # residuals y - ybar (in place)
            s2 = self._srs_var(rc, wc, dc, n_dom, wsum, nobs)
            rc *= wc
            rc /= wsum[dc]  # influence values w (y - ybar) / W
        del wc
        if self._cal:
            z = np.zeros(self._s.n)
            z[idx] = rc
            del rc
            var = self._var_domains_dense(z, np.where(valid, dom, -1), n_dom, self._rows)
        else:
            var = self._var_rows(idx, rc, dc, n_dom)
        return est, var, s2, nobs, wsum

    @staticmethod
    def _srs_var(
        x: FloatArray, w: FloatArray, d: IntArray, n_dom: int, wsum: FloatArray, nobs: FloatArray
    ) -> FloatArray:
        """R's ``svyvar``: weighted variance with the n / (n - 1) factor, per domain."""
        with np.errstate(divide="ignore", invalid="ignore"):
            xbar = np.bincount(d, weights=w * x, minlength=n_dom) / wsum
            dev = x - xbar[d]
            return np.bincount(d, weights=w * dev * dev, minlength=n_dom) / wsum * nobs / (nobs - 1)

    @staticmethod
    def _deff(var: FloatArray, vsrs_unit: FloatArray, wsum: FloatArray, nobs: FloatArray) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):
            vsrs = vsrs_unit * (wsum - nobs) / (wsum * nobs)
            deff = var / vsrs
        return np.where(wsum < nobs, np.nan, deff)

    @staticmethod
    def _z(confidence: float) -> float:
        check_range(
            "confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False
        )
        return float(stats.norm.ppf(1 - (1 - confidence) / 2))

    # --------------------------------------------------------------------------------------------
    # estimators
    # --------------------------------------------------------------------------------------------

    def mean(
        self,
        y: str | Sequence[str],
        *,
        by: str | Sequence[str] | None = None,
        confidence: float = 0.95,
    ) -> pd.DataFrame:
        """Design-based mean of ``y``, overall or per domain.

        Parameters
        ----------
        y : str or list of str
            Numeric column(s); each is estimated separately, dropping its own missing values.
        by : str or list of str, optional
            Domain column(s). Domains use the whole design (R's ``svyby``).
        confidence : float
            Level of the normal-quantile interval (R's ``confint`` on ``svymean``).

        Returns
        -------
        DataFrame
            ``by`` columns, ``item``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``deff``, ``n``.

        Notes
        -----
        ``ybar = sum w y / sum w``; influence ``z_i = w_i (y_i - ybar) / sum w`` inside the domain,
        0 outside; ``se = sqrt(V(z))`` with the stratified cluster variance of the module docstring.

        References
        ----------
        R ``survey::svymean``, ``survey::svyby``.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6], "g": list("aabbab")})
        >>> print(SurveyDesign(df).mean("y", by="g")[["g", "estimate"]].to_string(index=False))
        g  estimate
        a  2.666667
        b  4.333333
        """
        zq = self._z(confidence)
        dom, labels = self._domains(by)
        n_dom = 1 if labels is None else len(labels)
        frames = []
        for item in _as_list(y, "y"):
            values = self._numeric(item)
            valid = (dom >= 0) & ~np.isnan(values)
            est, var, s2, nobs, wsum = self._mean_core(values, dom, n_dom, valid)
            se = np.sqrt(var)
            frames.append(
                self._frame(
                    labels,
                    {
                        "item": item,
                        "estimate": est,
                        "se": se,
                        "ci_low": est - zq * se,
                        "ci_high": est + zq * se,
                        "deff": self._deff(var, s2, wsum, nobs),
                        "n": nobs.astype(np.int64),
                    },
                )
            )
        return pd.concat(frames, ignore_index=True)

    def total(
        self,
        y: str | Sequence[str],
        *,
        by: str | Sequence[str] | None = None,
        confidence: float = 0.95,
    ) -> pd.DataFrame:
        """Design-based total of ``y``, overall or per domain.

        Parameters
        ----------
        y : str or list of str
            Numeric column(s), each dropping its own missing values.
        by : str or list of str, optional
            Domain column(s).
        confidence : float
            Level of the normal-quantile interval.

        Returns
        -------
        DataFrame
            ``by`` columns, ``item``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``deff``, ``n``.

        Notes
        -----
        ``Y = sum w y`` over the domain; influence ``z_i = w_i y_i`` (0 outside). ``deff`` divides by
        ``s^2 W^2 (W - n) / (W n)``, ``W = sum w`` (R's ``svytotal(deff=TRUE)``).

        References
        ----------
        R ``survey::svytotal``.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "w": [10.0, 10, 20, 20]})
        >>> float(SurveyDesign(df, weights="w").total("y")["estimate"].iloc[0])
        170.0
        """
        zq = self._z(confidence)
        dom, labels = self._domains(by)
        n_dom = 1 if labels is None else len(labels)
        frames = []
        for item in _as_list(y, "y"):
            values = self._numeric(item)
            valid = (dom >= 0) & ~np.isnan(values)
            w = np.where(valid, self._w, 0.0)
            d = np.where(valid, dom, 0)
            yv = np.where(valid, values, 0.0)
            est = np.bincount(d, weights=w * yv, minlength=n_dom)
            var = self._var_domains(w * yv, np.where(valid, dom, -1), n_dom, self._present(valid))
            wsum = np.bincount(d, weights=w, minlength=n_dom)
            nobs = np.bincount(d[valid & (w != 0)], minlength=n_dom).astype(float)
            s2 = self._srs_var(yv, w, d, n_dom, wsum, nobs) * wsum**2
            se = np.sqrt(var)
            frames.append(
                self._frame(
                    labels,
                    {
                        "item": item,
                        "estimate": est,
                        "se": se,
                        "ci_low": est - zq * se,
                        "ci_high": est + zq * se,
                        "deff": self._deff(var, s2, wsum, nobs),
                        "n": nobs.astype(np.int64),
                    },
                )
            )
        return pd.concat(frames, ignore_index=True)

    def ratio(
        self,
        num: str,
        den: str,
        *,
        by: str | Sequence[str] | None = None,
        confidence: float = 0.95,
    ) -> pd.DataFrame:
        """Ratio of two totals, ``sum w y / sum w x``, overall or per domain.

        Parameters
        ----------
        num, den : str
            Numerator and denominator columns; cases missing either are dropped.
        by : str or list of str, optional
            Domain column(s).
        confidence : float
            Level of the normal-quantile interval (R's ``confint.svyratio``).

        Returns
        -------
        DataFrame
            ``by`` columns, ``item`` (``"num/den"``), ``estimate``, ``se``, ``ci_low``, ``ci_high``,
            ``deff``, ``n``.

        Notes
        -----
        Influence ``z_i = w_i (y_i - R x_i) / sum w x``.

        References
        ----------
        R ``survey::svyratio``.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "x": [2.0, 2, 4, 4]})
        >>> float(SurveyDesign(df).ratio("y", "x")["estimate"].iloc[0])
        0.8333333333333334
        """
        zq = self._z(confidence)
        dom, labels = self._domains(by)
        n_dom = 1 if labels is None else len(labels)
        yv = self._numeric(num)
        xv = self._numeric(den)
        valid = (dom >= 0) & ~np.isnan(yv) & ~np.isnan(xv)
        w = np.where(valid, self._w, 0.0)
        d = np.where(valid, dom, 0)
        yv = np.where(valid, yv, 0.0)
        xv = np.where(valid, xv, 0.0)
        ysum = np.bincount(d, weights=w * yv, minlength=n_dom)
        xsum = np.bincount(d, weights=w * xv, minlength=n_dom)
        with np.errstate(divide="ignore", invalid="ignore"):
            est = ysum / xsum
            r = np.where(valid, (yv - est[d] * xv) / xsum[d], 0.0)
        var = self._var_domains(w * r, np.where(valid, dom, -1), n_dom, self._present(valid))
        wsum = np.bincount(d, weights=w, minlength=n_dom)
        nobs = np.bincount(d[valid & (w != 0)], minlength=n_dom).astype(float)
        s2 = self._srs_var(r, w, d, n_dom, wsum, nobs) * wsum**2
        se = np.sqrt(var)
        return self._frame(
            labels,
            {
                "item": f"{num}/{den}",
                "estimate": est,
                "se": se,
                "ci_low": est - zq * se,
                "ci_high": est + zq * se,
                "deff": self._deff(var, s2, wsum, nobs),
                "n": nobs.astype(np.int64),
            },
        )

    def proportion(
        self,
        y: str,
        *,
        level: Any = None,
        by: str | Sequence[str] | None = None,
        method: str = "logit",
        confidence: float = 0.95,
    ) -> pd.DataFrame:
        """Proportion of cases at each level of ``y`` (or at ``level``), with R's ``svyciprop`` CIs.

        Parameters
        ----------
        y : str
            Categorical (or 0/1) column; missing values are dropped.
        level : optional
            Only this level (``y == level``); default: every observed level (all categories of a
            Categorical).
        by : str or list of str, optional
            Domain column(s).
        method : {"logit", "likelihood", "beta", "mean"}
            Interval method of R's ``svyciprop``: Wald interval on the logit scale, Rao-Scott scaled
            profile likelihood, Korn-Graubard beta (Clopper-Pearson with effective sample size), or
            Wald on the proportion scale.
        confidence : float
            Interval level; quantiles are Student t with ``df`` = ``degf`` of the domain design.

        Returns
        -------
        DataFrame
            ``by`` columns, ``level``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``deff``, ``n``,
            ``df``, ``method``.

        Notes
        -----
        ``p = sum w 1[y = level] / sum w``, ``se`` as :meth:`mean`. ``logit``:
        ``expit(logit p +- t_df se / (p (1 - p)))``. ``beta``: ``n* = p (1 - p) / se^2 *
        (t_{n-1} / t_df)^2``, interval ``(Beta_{a/2}(n* p, n* (1 - p) + 1), Beta_{1-a/2}(n* p + 1,
        n* (1 - p)))``. ``likelihood`` reproduces R's profile of the quasi-binomial deviance
        (including its spline interpolation). At ``p = 0`` or ``1`` the standard error is 0 and R's
        logistic fit diverges; there the ``logit``, ``likelihood`` and ``beta`` methods return the
        Korn-Graubard interval with ``n*`` = number of cases (e.g. ``[0, Beta_{1-a/2}(1, n*)]``), and
        ``mean`` returns ``[p, p]`` as R does.

        References
        ----------
        Korn, E. L. and Graubard, B. I. (1998). Confidence intervals for proportions with small
        expected number of positive counts estimated from survey data. *Survey Methodology* 24,
        193-201. R ``survey::svyciprop``.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"ok": ["y", "y", "n", "y", "n", "y", "y", "n"]})
        >>> r = SurveyDesign(df).proportion("ok", level="y")
        >>> print(r[["estimate", "ci_low", "ci_high"]].round(4).to_string(index=False))
         estimate  ci_low  ci_high
            0.625  0.2083   0.9135
        """
        check_option("method", method, PROPORTION_METHODS)
        check_range(
            "confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False
        )
        check_columns(self._data, [y])
        dom, labels = self._domains(by)
        n_dom = 1 if labels is None else len(labels)
        col = self._data[y]
        isna = col.isna().to_numpy()
        valid = (dom >= 0) & ~isna
        if level is not None:
            levels = [level]
        elif isinstance(col.dtype, pd.CategoricalDtype):
            levels = list(col.cat.categories)
        else:
            levels = sorted(pd.unique(col[self._rows & ~isna]).tolist())
        df_dom = self._df_per_domain(dom, n_dom)
        nrow_dom = (
            np.full(n_dom, float(self._rows.sum()))
            if self._cal
            else np.bincount(dom[dom >= 0], minlength=n_dom).astype(float)
        )
        # sum of weights over R's domain-design rows (normalises the glm weights)
        w_norm = np.bincount(dom[dom >= 0], weights=self._w[dom >= 0], minlength=n_dom)
        if self._cal:  # calibrated: the domain design keeps every row (weight 0 outside)
            nglm_dom = nrow_dom - float(np.count_nonzero(self._rows & isna))
        else:
            na_dom = np.bincount(dom[(dom >= 0) & isna], minlength=n_dom).astype(float)
            nglm_dom = nrow_dom - na_dom
        nok_dom = np.bincount(dom[valid & (self._w != 0)], minlength=n_dom).astype(float)
        alpha = 1 - confidence
        frames = []
        values = col.to_numpy()
        for lev in levels:
            ind = np.zeros(len(values))
            ind[valid] = (values[valid] == lev).astype(float)
            est, var, s2, nobs, wsum = self._mean_core(ind, dom, n_dom, valid)
            se = np.sqrt(var)
            lo = np.full(n_dom, np.nan)
            hi = np.full(n_dom, np.nan)
            glm = np.full((n_dom, 5), np.nan)
            if method == "likelihood":
                wmean = w_norm / np.maximum(nrow_dom, 1)
                glm = self._glm_sums(ind, dom, n_dom, valid, wmean)
                rows_after = np.full(n_dom, float(self._rows.sum())) if self._cal else nglm_dom
                with np.errstate(divide="ignore", invalid="ignore"):
                    c_r = (wsum / rows_after) / wmean  # R: sqrt(prior w / rescaled w)^2
                glm = np.column_stack([glm, est, c_r])
            for i in range(n_dom):
                lo[i], hi[i] = _ciprop(
                    method,
                    float(est[i]),
                    float(var[i]),
                    float(df_dom[i]),
                    alpha,
                    nrow=float(nrow_dom[i]),
                    nobs=float(nobs[i]),
                    n_glm=float(nglm_dom[i]),
                    n_ok=float(nok_dom[i]),
                    glm=glm[i],
                )
            frames.append(
                self._frame(
                    labels,
                    {
                        "level": [lev] * n_dom,
                        "estimate": est,
                        "se": se,
                        "ci_low": lo,
                        "ci_high": hi,
                        "deff": self._deff(var, s2, wsum, nobs),
                        "n": nobs.astype(np.int64),
                        "df": df_dom,
                        "method": method,
                    },
                )
            )
        out = pd.concat(frames, ignore_index=True)
        if labels is not None:
            out = out.sort_values(list(labels.columns), kind="stable").reset_index(drop=True)
        return out

    def _glm_sums(
        self, y: FloatArray, dom: IntArray, n_dom: int, valid: BoolArray, wmean: FloatArray
    ) -> FloatArray:
        """Per domain: sums R's ``glm.fit`` needs for an intercept-only logistic model.

        Weights are R's ``svyglm`` rescaled weights (mean one over the domain design's rows). Columns:
        ``S = sum W``, ``S1 = sum W y``, and at glm's starting values ``m = (W y + 1/2) / (W + 1)``:
        ``A = sum W m (1 - m)``, ``B = sum W m (1 - m) z`` (z the working response), ``D0`` the
        deviance.
        """
        use = valid & (self._w > 0)
        d = dom[use]
        big_w = self._w[use] / wmean[d]
        yy = y[use]
        m = (big_w * yy + 0.5) / (big_w + 1)
        a = big_w * m * (1 - m)
        z = np.log(m / (1 - m)) + (yy - m) / (m * (1 - m))
        dev = -2 * big_w * (yy * np.log(m) + (1 - yy) * np.log1p(-m))
        return np.column_stack(
            [
                np.bincount(d, weights=big_w, minlength=n_dom),
                np.bincount(d, weights=big_w * yy, minlength=n_dom),
                np.bincount(d, weights=a, minlength=n_dom),
                np.bincount(d, weights=a * z, minlength=n_dom),
                np.bincount(d, weights=dev, minlength=n_dom),
            ]
        )

    def crosstab(self, row: str, col: str) -> pd.DataFrame:
        """Rao-Scott tests of independence in the design-weighted two-way table of ``row`` x ``col``.

        Parameters
        ----------
        row, col : str
            Categorical columns; cases missing either are dropped.

        Returns
        -------
        DataFrame
            Two rows, ``method`` ``"F"`` (second-order Rao-Scott correction: ``statistic`` is
            ``X^2 / tr(Delta)`` on ``df1 = d0``, ``df2 = d0 nu`` degrees of freedom, R's
            ``svychisq`` default) and ``"Chisq"`` (first-order: ``statistic`` is
            ``X^2 / mean(diag(Delta))`` on ``df1 = (r - 1)(c - 1)``, chi-square; ``df2`` NaN);
            ``pearson`` is Pearson's ``X^2`` of the weighted table scaled to the sample size; ``n``.

        Notes
        -----
        ``Delta = (C' D^-1 C / N)^-1 C' D^-1 V D^-1 C`` with ``V`` the design covariance of the cell
        proportions, ``D = diag(p)``, ``C`` the interaction contrasts orthogonal to the main effects,
        ``d0 = tr(Delta)^2 / tr(Delta^2)``, ``nu`` = number of PSUs minus number of strata.

        References
        ----------
        Rao, J. N. K. and Scott, A. J. (1984). On chi-squared tests for multiway contingency tables
        with cell proportions estimated from survey data. *Ann. Statist.* 12, 46-60.
        R ``survey::svychisq``.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"a": list("xxyyxyxy"), "b": list("ppqqpqqp")})
        >>> r = SurveyDesign(df).crosstab("a", "b")
        >>> print(r[["method", "statistic", "p_value", "pearson"]].round(4).to_string(index=False))
        method  statistic  p_value  pearson
             F       1.75   0.2275      2.0
         Chisq       1.75   0.1859      2.0
        """
        s = self._s
        check_columns(self._data, [row, col])
        rv = self._data[row]
        cv = self._data[col]
        valid = self._rows & rv.notna().to_numpy() & cv.notna().to_numpy()
        rcodes, rlev = pd.factorize(rv.where(pd.Series(self._rows, index=rv.index)), sort=True)
        ccodes, clev = pd.factorize(cv.where(pd.Series(self._rows, index=cv.index)), sort=True)
        nr, nc = len(rlev), len(clev)
        if nr < 2 or nc < 2:
            raise DataError(
                f"crosstab: `{row}` and `{col}` need at least two categories each; got {nr} and "
                f"{nc}."
            )
        cell = np.where(valid, rcodes + nr * ccodes, 0)
        k = nr * nc
        w = np.where(valid, self._w, 0.0)
        wsum = float(w.sum())
        p = np.bincount(cell, weights=w, minlength=k) / wsum
        z = np.zeros((s.n, k))
        idx = np.flatnonzero(valid)
        z[idx] = -p[None, :]
        z[idx, cell[idx]] += 1.0
        z *= (w / wsum)[:, None]
        v = self._vcov(z, self._present(valid))
        big_n = float(self._rows.sum())
        nu = len(np.unique(s.psu[self._rows])) - len(np.unique(s.stratum[self._rows]))
        rr = np.tile(np.arange(nr), nc)
        cc = np.repeat(np.arange(nc), nr)
        x1 = np.column_stack(
            [np.ones(k)]
            + [(rr == i).astype(float) for i in range(1, nr)]
            + [(cc == j).astype(float) for j in range(1, nc)]
        )
        x12 = np.column_stack(
            [((rr == i) & (cc == j)).astype(float) for j in range(1, nc) for i in range(1, nr)]
        )
        coef, *_ = np.linalg.lstsq(x1, x12, rcond=None)
        cmat = x12 - x1 @ coef
        with np.errstate(divide="ignore"):
            idiag = np.where(p == 0, 0.0, 1.0 / p)
        denom = cmat.T @ (idiag[:, None] * cmat) / big_n
        numr = cmat.T @ (idiag[:, None] * v * idiag[None, :]) @ cmat
        delta = np.linalg.solve(denom, numr)
        tr = float(np.trace(delta))
        d0 = tr**2 / float(np.trace(delta @ delta))
        table = (p * big_n).reshape(nc, nr).T
        expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            pearson = float(np.sum((table - expected) ** 2 / expected))
        f_stat = pearson / tr
        chi_stat = pearson / float(np.mean(np.diag(delta)))
        dfc = (nr - 1) * (nc - 1)
        nobs = int(np.count_nonzero(valid & (self._w != 0)))
        return pd.DataFrame(
            {
                "method": ["F", "Chisq"],
                "statistic": [f_stat, chi_stat],
                "df1": [d0, float(dfc)],
                "df2": [d0 * nu, np.nan],
                "p_value": [
                    float(stats.f.sf(f_stat, d0, d0 * nu)),
                    float(stats.chi2.sf(chi_stat, dfc)),
                ],
                "pearson": [pearson, pearson],
                "n": [nobs, nobs],
            }
        )


# ------------------------------------------------------------------------------------------------
# svyciprop intervals
# ------------------------------------------------------------------------------------------------


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _qt(p: float, df: float) -> float:
    return float(stats.norm.ppf(p)) if math.isinf(df) else float(stats.t.ppf(p, df))


def _ciprop(
    method: str,
    p: float,
    var: float,
    df: float,
    alpha: float,
    *,
    nrow: float,
    nobs: float,
    n_glm: float,
    n_ok: float,
    glm: FloatArray,
) -> tuple[float, float]:
    if not (nobs > 0) or math.isnan(p) or math.isnan(var):
        return math.nan, math.nan
    if df <= 0:
        return math.nan, math.nan
    if 0 < p < 1 and var <= 1e-18 * (p * (1 - p)) ** 2:  # se < 1e-9 p (1 - p): rounding noise
        return p, p  # fixed by calibration (a raking margin): no sampling variance at all
    if method == "mean":
        q = _qt(1 - alpha / 2, df)
        se = math.sqrt(var)
        return p - q * se, p + q * se
    edge = p <= 0 or p >= 1
    if method == "beta" or edge:
        n_eff = nobs if edge else p * (1 - p) / var
        n_eff *= (_qt(alpha / 2, nrow - 1) / _qt(alpha / 2, df)) ** 2 if nrow > 1 else 1.0
        lo = float(stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)) if p > 0 else 0.0
        hi = float(stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))) if p < 1 else 1.0
        return lo, hi
    beta0 = math.log(p / (1 - p))
    var_beta = var / (p * (1 - p)) ** 2
    if method == "logit":
        q = abs(_qt(alpha / 2, df))
        half = q * math.sqrt(var_beta)
        return _expit(beta0 - half), _expit(beta0 + half)
    return _profile_ci(var, df, alpha, n_glm=n_glm, n_ok=n_ok, glm=glm)


def _irls(glm: FloatArray) -> tuple[float, float]:
    """R's ``glm.fit`` IRLS for ``y ~ 1`` (logit link): the last two iterates of the coefficient."""
    big_s, s1, a, b, dev_old = (float(v) for v in glm)
    beta_prev = beta = b / a  # first weighted least-squares step from glm's starting values

    def deviance(x: float) -> float:
        mu = _expit(x)
        return -2 * (s1 * math.log(mu) + (big_s - s1) * math.log1p(-mu))

    dev = deviance(beta)
    for _ in range(24):
        if abs(dev - dev_old) / (abs(dev) + 0.1) < 1e-8:
            break
        dev_old = dev
        mu = _expit(beta)
        beta_prev, beta = beta, beta + (s1 - big_s * mu) / (big_s * mu * (1 - mu))
        dev = deviance(beta)
    return beta_prev, beta


def _profile_ci(
    var: float, df: float, alpha: float, *, n_glm: float, n_ok: float, glm: FloatArray
) -> tuple[float, float]:
    """R's ``confint.svyglm(method="likelihood")`` for ``svyglm(y ~ 1, family=quasibinomial)``.

    Reproduces glm's last IRLS step (the naive covariance uses the working weights of the previous
    iterate), MASS's profiling grid and R's ``spline``/``approx`` interpolation.
    """
    big_s, s1, p, c_r = float(glm[0]), float(glm[1]), float(glm[5]), float(glm[6])
    beta_prev, beta0 = _irls(glm[:5])
    mu = _expit(beta0)
    mu_old = _expit(beta_prev)
    naive = 1.0 / (big_s * mu_old * (1 - mu_old))  # glm's cov.unscaled (last working weights)
    var_beta = var / (mu * (1 - mu)) ** 2  # svyglm's design-based vcov
    # summary.svyglm's dispersion: svyvar of the Pearson residuals
    phi = c_r * p * (1 - p) / (mu * (1 - mu)) * n_ok / (n_ok - 1)
    std_err = math.sqrt(var_beta)
    lam = var_beta / naive
    q = _qt(alpha / 2, df)
    a = float(stats.norm.cdf(q * math.sqrt(lam))) / 2
    zmax = float(stats.t.isf(a / 2, n_glm - 1))  # sqrt(qf(a, 1, n - 1, lower=FALSE))
    delta = zmax / 5

    def deviance(x: float) -> float:
        m = _expit(min(max(x, -30.0), 30.0))  # binomial()$linkinv clamps eta to [-30, 30]
        return -2 * (s1 * math.log(m) + (big_s - s1) * math.log1p(-m))

    dev0 = deviance(beta0)

    def zstat(b: float) -> float:
        return math.sqrt(max((deviance(b) - dev0) / phi, 0.0))

    zs = [0.0]
    bs = [beta0]
    for sgn in (-1, 1):
        step = 0
        z = 0.0
        while True:
            step += 1
            if not (step < 10 and abs(z) < zmax):
                break
            b = beta0 + sgn * step * delta * std_err
            z = sgn * zstat(b)
            zs.append(z)
            bs.append(b)
    order = np.argsort(np.array(zs), kind="stable")
    x = np.array(bs)[order]
    yv = np.array(zs)[order]
    xs, ys = _spline_fmm(x, yv, 3 * len(x))
    cutoff_p = float(stats.norm.ppf(2 * a))
    cut = np.array([cutoff_p, -cutoff_p])
    ci = _approx(ys, xs, cut)
    return _expit(float(ci[0])) if not np.isnan(ci[0]) else math.nan, (
        _expit(float(ci[1])) if not np.isnan(ci[1]) else math.nan
    )


def _spline_fmm(x: FloatArray, y: FloatArray, nout: int) -> tuple[FloatArray, FloatArray]:
    """R's ``spline(x, y, n = nout)`` with the default Forsythe-Malcolm-Moler end conditions."""
    ux, inv = np.unique(x, return_inverse=True)
    uy = np.bincount(inv, weights=y) / np.bincount(inv)
    x, y = ux, uy
    n = len(x)
    b = np.zeros(n)
    c = np.zeros(n)
    d = np.zeros(n)
    if n < 2:
        return x, y
    if n < 3:
        t = (y[1] - y[0]) / (x[1] - x[0])
        b[:] = t
    else:
        nm1 = n - 1
        d[0] = x[1] - x[0]
        c[1] = (y[1] - y[0]) / d[0]
        for i in range(1, nm1):
            d[i] = x[i + 1] - x[i]
            b[i] = 2.0 * (d[i - 1] + d[i])
            c[i + 1] = (y[i + 1] - y[i]) / d[i]
            c[i] = c[i + 1] - c[i]
        b[0] = -d[0]
        b[nm1] = -d[n - 2]
        c[0] = c[nm1] = 0.0
        if n > 3:
            c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
            c[nm1] = c[n - 2] / (x[nm1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
            c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
            c[nm1] = -c[nm1] * d[n - 2] * d[n - 2] / (x[nm1] - x[n - 4])
        for i in range(1, n):
            t = d[i - 1] / b[i - 1]
            b[i] = b[i] - t * d[i - 1]
            c[i] = c[i] - t * c[i - 1]
        c[nm1] = c[nm1] / b[nm1]
        for i in range(n - 2, -1, -1):
            c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
        b[nm1] = (y[nm1] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[nm1])
        for i in range(nm1):
            b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
            d[i] = (c[i + 1] - c[i]) / d[i]
            c[i] = 3.0 * c[i]
        c[nm1] = 3.0 * c[nm1]
        d[nm1] = d[n - 2]
    u = np.linspace(x[0], x[-1], nout)
    # R's seq.int(xmin, xmax, length.out = n): from + (0:(n-1)) * by
    u = x[0] + np.arange(nout) * ((x[-1] - x[0]) / (nout - 1))
    i = np.clip(np.searchsorted(x, u, side="right") - 1, 0, n - 1)
    dx = u - x[i]
    out = y[i] + dx * (b[i] + dx * (c[i] + dx * d[i]))
    return u, out


def _approx(x: FloatArray, y: FloatArray, xout: FloatArray) -> FloatArray:
    """R's ``approx(x, y, xout)`` (ties averaged, NA outside the range)."""
    ux, inv = np.unique(x, return_inverse=True)
    uy = np.bincount(inv, weights=y) / np.bincount(inv)
    out = np.interp(xout, ux, uy)
    return np.where((xout < ux[0]) | (xout > ux[-1]), np.nan, out)
