"""Proportions with their intervals and two-way tables of
:class:`~toolkit.analysis.design.SurveyDesign` (R's ``svyciprop``, ``svychisq``).

Split from :mod:`toolkit.analysis.design`, whose module docstring documents the R semantics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from toolkit._checks import check_columns, check_option, check_range
from toolkit.analysis.design_estimates import DesignEstimates
from toolkit.analysis.design_intervals import ciprop
from toolkit.analysis.design_variance import PROPORTION_METHODS, BoolArray, FloatArray, IntArray
from toolkit.errors import DataError

__all__ = ["DesignTables"]


class DesignTables(DesignEstimates):
    """Proportions and two-way tables of :class:`~toolkit.analysis.design.SurveyDesign`."""

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
        >>> from toolkit.analysis import SurveyDesign
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
                lo[i], hi[i] = ciprop(
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
        >>> from toolkit.analysis import SurveyDesign
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
