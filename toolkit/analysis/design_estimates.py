"""The estimators of :class:`~toolkit.analysis.design.SurveyDesign`: means, totals and ratios,
overall and by domain (R's ``svymean``, ``svytotal``, ``svyratio``, ``svyby``).

Split from :mod:`toolkit.analysis.design`, whose module docstring documents the R semantics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from toolkit._checks import check_columns, check_range
from toolkit.analysis.design_variance import (
    BoolArray,
    DesignVariance,
    FloatArray,
    IntArray,
    as_list,
)
from toolkit.errors import DataError, ParameterError

__all__ = ["DesignEstimates"]


class DesignEstimates(DesignVariance):
    """Means, totals and ratios of :class:`~toolkit.analysis.design.SurveyDesign`."""

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
        cols = as_list(by, "by")
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
        >>> from toolkit.analysis import SurveyDesign
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
        for item in as_list(y, "y"):
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
        >>> from toolkit.analysis import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "w": [10.0, 10, 20, 20]})
        >>> float(SurveyDesign(df, weights="w").total("y")["estimate"].iloc[0])
        170.0
        """
        zq = self._z(confidence)
        dom, labels = self._domains(by)
        n_dom = 1 if labels is None else len(labels)
        frames = []
        for item in as_list(y, "y"):
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
        >>> from toolkit.analysis import SurveyDesign
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
