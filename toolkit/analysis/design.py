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

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns, check_option
from toolkit.analysis.calibration import (
    PostStratum,
    Raking,
    as_columns,
    codes_for,
    population_map,
    poststratify_step,
    rake_arrays,
)
from toolkit.analysis.design_tables import DesignTables
from toolkit.analysis.design_variance import (
    LONELY_PSU,
    BoolArray,
    FloatArray,
    IntArray,
    Structure,
    as_list,
    combine,
    factorize,
)
from toolkit.errors import DataError, ParameterError

__all__ = ["SurveyDesign"]


class SurveyDesign(DesignTables):
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
        strata_cols = as_list(strata, "strata")
        cluster_cols = as_list(cluster, "cluster")
        fpc_cols = as_list(fpc, "fpc")
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
                stratum, stratum_labels = factorize(data[strata_cols[0]])
            else:
                codes, uniq = pd.factorize(pd.MultiIndex.from_frame(data[strata_cols]), sort=True)
                stratum, stratum_labels = codes.astype(np.intp), [tuple(u) for u in uniq]
        else:
            stratum, stratum_labels = np.zeros(n, dtype=np.intp), [None]
        # PSUs nested in strata
        psu_labels: list[Any] | None = None
        if cluster_cols:
            c1, c1_labels = factorize(data[cluster_cols[0]])
            psu, stratum_of_psu = combine(stratum, c1)
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
            c2, _ = factorize(data[cluster_cols[1]])
            ssu, psu_of_ssu = combine(psu, c2)
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
        self._s = Structure(
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
