"""Comparisons of two periods on aggregated counts (numpy only): proportions, Poisson counts, and the
symmetric (Kitagawa) decomposition of a change in a rate into mix and rate effects per group.
"""

from __future__ import annotations

import math

import numpy as np

from ._stats import Z95, wilson

__all__ = [
    "binomial_two_sided_p",
    "count_contributions",
    "kitagawa",
    "normal_two_sided_p",
    "poisson_change",
    "two_proportions",
]


def normal_two_sided_p(z: float) -> float:
    """``P(|Z| >= |z|)`` for a standard normal ``Z``."""
    return float(math.erfc(abs(z) / math.sqrt(2.0))) if np.isfinite(z) else float("nan")


def two_proportions(k1: float, n1: float, k0: float, n0: float, z: float = Z95) -> dict[str, float]:
    """Compare ``k1 / n1`` (after) with ``k0 / n0`` (before).

    The difference gets Newcombe's hybrid score interval (method 10 of Newcombe 1998, built from the
    two Wilson intervals), the test is the pooled two-proportion z-test.

    Examples
    --------
    >>> r = two_proportions(31, 100, 36, 100)
    >>> round(r["change"], 2), round(r["p_value"], 3)
    (-0.05, 0.454)
    """
    nan = float("nan")
    if n1 <= 0 or n0 <= 0:
        return {"change": nan, "low": nan, "high": nan, "statistic": nan, "p_value": nan}
    p1, p0 = k1 / n1, k0 / n0
    (l1,), (u1,) = wilson(np.array([k1]), np.array([n1]), z)
    (l0,), (u0,) = wilson(np.array([k0]), np.array([n0]), z)
    d = p1 - p0
    low = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    pooled = (k1 + k0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    stat = d / se if se > 0 else 0.0
    return {"change": d, "low": low, "high": high, "statistic": stat, "p_value": normal_two_sided_p(stat)}


def binomial_two_sided_p(k: int, n: int, p: float) -> float:
    """Exact two-sided binomial test of ``k`` successes in ``n`` trials against ``p``: the total
    probability of the outcomes no more likely than ``k`` (the rule of R's ``binom.test``).

    Examples
    --------
    >>> round(binomial_two_sided_p(7, 10, 0.5), 4)
    0.3438
    """
    if n <= 0:
        return 1.0
    if p <= 0 or p >= 1:
        return 1.0 if (p <= 0 and k == 0) or (p >= 1 and k == n) else 0.0
    ks = np.arange(n + 1, dtype=float)
    # log C(n, k) as a running sum of log((n - j + 1) / j): exact enough and vectorised
    steps = np.log(n - ks[1:] + 1) - np.log(ks[1:])
    log_choose = np.concatenate([[0.0], np.cumsum(steps)])
    log_pmf = log_choose + ks * math.log(p) + (n - ks) * math.log1p(-p)
    pmf = np.exp(log_pmf - log_pmf.max())
    total = pmf.sum()
    return float(min(1.0, pmf[pmf <= pmf[int(k)] * (1 + 1e-7)].sum() / total))


def poisson_change(x1: float, length1: float, x0: float, length0: float, z: float = Z95) -> dict[str, float]:
    """Compare a count ``x1`` over an exposure ``length1`` with ``x0`` over ``length0`` (Poisson).

    ``expected`` is the before count scaled to the after exposure, ``x0 * length1 / length0`` (for
    periods of one length with ``n`` before periods: the mean per period). ``change = x1 - expected``
    with a Wald interval (variance ``x1 + (length1 / length0)^2 x0``); ``relative`` is the rate ratio
    minus one with a Wald interval on the log rate ratio; the p-value is the exact conditional test
    (``x1`` given ``x1 + x0`` is binomial with ``p = length1 / (length1 + length0)`` when the rates are
    equal), which adjusts for periods of different lengths.

    Examples
    --------
    >>> r = poisson_change(120, 7.0, 100, 7.0)
    >>> round(r["relative"], 2), round(r["p_value"], 3)
    (0.2, 0.2)
    """
    nan = float("nan")
    c = length1 / length0
    expected = x0 * c
    change = x1 - expected
    half = z * math.sqrt(x1 + c * c * x0)
    out = {"expected": expected, "change": change, "low": change - half, "high": change + half}
    if x1 > 0 and x0 > 0:
        log_rr = math.log(x1 / expected)
        se = math.sqrt(1 / x1 + 1 / x0)
        out.update(
            relative=x1 / expected - 1,
            relative_low=math.exp(log_rr - z * se) - 1,
            relative_high=math.exp(log_rr + z * se) - 1,
            statistic=log_rr / se,
        )
    else:
        out.update(
            relative=x1 / expected - 1 if expected > 0 else nan,
            relative_low=nan,
            relative_high=nan,
            statistic=nan,
        )
    n = round(x1 + x0)
    out["p_value"] = binomial_two_sided_p(round(x1), n, length1 / (length1 + length0)) if n else nan
    return out


def kitagawa(
    k0: np.ndarray, n0: np.ndarray, k1: np.ndarray, n1: np.ndarray, z: float = Z95
) -> dict[str, np.ndarray]:
    """Kitagawa's symmetric decomposition of the change in an overall rate into per-group parts.

    With group shares ``w = n / sum(n)`` and rates ``r = k / n`` in the before (0) and after (1)
    periods, the overall rate is ``R = sum(w * r)`` and, exactly,

    ``R1 - R0 = sum((w1 - w0) * ((r0 + r1) / 2 - Rm)) + sum((r1 - r0) * (w0 + w1) / 2)``

    with ``Rm = (R0 + R1) / 2``: the first sum is the **mix** effect (units moved between groups), the
    second the **rate** effect (rates changed within groups). Because the shares sum to one in both
    periods, ``sum(w1 - w0) = 0`` and centring on ``Rm`` changes no total: the total mix equals
    Kitagawa's ``sum((w1 - w0) * (r0 + r1) / 2)``. Centring makes each group's mix part read as a
    gain or a loss: units moving into a group whose rate is below the overall rate pull the rate
    down. A group absent before (``new``) or after (``vanished``) has no rate change: its rate in the
    missing period is taken equal to the other one, so its whole part is mix (``w1 * (r1 - Rm)``, or
    ``-w0 * (r0 - Rm)``) and its rate part is 0. Every group's ``mix + rate`` adds up to the total
    change to rounding.

    ``total_low`` / ``total_high`` are 95% delta-method bounds of each group's part, with the group
    counts multinomial within a period, the successes binomial within a group and the two periods
    independent.

    Returns
    -------
    dict of numpy arrays
        ``share_before``, ``share_after``, ``rate_before``, ``rate_after`` (``nan`` where the group has
        no units), ``mix``, ``rate``, ``total``, ``total_low``, ``total_high``, ``status`` (``both``,
        ``new``, ``vanished``), and the scalars ``overall_before``, ``overall_after`` as 0-d arrays.

    Examples
    --------
    >>> import numpy as np
    >>> d = kitagawa(np.array([5, 10]), np.array([50, 50]), np.array([2, 16]), np.array([20, 80]))
    >>> [round(float(x), 4) for x in d["mix"]], [round(float(x), 4) for x in d["rate"]]
    ([0.0195, 0.0105], [0.0, 0.0])
    """
    k0, n0, k1, n1 = (np.asarray(a, dtype=float) for a in (k0, n0, k1, n1))
    big_n0, big_n1 = n0.sum(), n1.sum()
    w0, w1 = n0 / big_n0, n1 / big_n1
    with np.errstate(invalid="ignore", divide="ignore"):
        r0 = np.where(n0 > 0, k0 / np.where(n0 > 0, n0, 1), np.nan)
        r1 = np.where(n1 > 0, k1 / np.where(n1 > 0, n1, 1), np.nan)
    new = (n0 == 0) & (n1 > 0)
    vanished = (n1 == 0) & (n0 > 0)
    r0e = np.where(new, r1, r0)
    r1e = np.where(vanished, r0, r1)
    big_r0, big_r1 = k0.sum() / big_n0, k1.sum() / big_n1
    rm = (big_r0 + big_r1) / 2
    mix = (w1 - w0) * ((r0e + r1e) / 2 - rm)
    rate = (r1e - r0e) * (w0 + w1) / 2
    total = mix + rate
    # delta method: gradients of each group's part with respect to every group's shares and rates
    eye = np.eye(len(n0))
    dw = (w1 - w0)[:, None]
    g_w1 = eye * (r1e - rm)[:, None] - dw * r1e[None, :] / 2
    g_w0 = eye * (rm - r0e)[:, None] - dw * r0e[None, :] / 2
    g_r1 = eye * w1[:, None] - dw * w1[None, :] / 2
    g_r0 = -eye * w0[:, None] - dw * w0[None, :] / 2
    cov_w1 = (np.diag(w1) - np.outer(w1, w1)) / big_n1
    cov_w0 = (np.diag(w0) - np.outer(w0, w0)) / big_n0
    with np.errstate(invalid="ignore", divide="ignore"):
        var_r1 = np.where(n1 > 0, r1e * (1 - r1e) / np.where(n1 > 0, n1, 1), 0.0)
        var_r0 = np.where(n0 > 0, r0e * (1 - r0e) / np.where(n0 > 0, n0, 1), 0.0)
    var = (
        np.einsum("gh,hk,gk->g", g_w1, cov_w1, g_w1)
        + np.einsum("gh,hk,gk->g", g_w0, cov_w0, g_w0)
        + (g_r1**2 * var_r1[None, :]).sum(axis=1)
        + (g_r0**2 * var_r0[None, :]).sum(axis=1)
    )
    half = z * np.sqrt(np.maximum(var, 0.0))
    status = np.where(new, "new", np.where(vanished, "vanished", "both"))
    return {
        "share_before": w0,
        "share_after": w1,
        "rate_before": r0,
        "rate_after": r1,
        "mix": mix,
        "rate": rate,
        "total": total,
        "total_low": total - half,
        "total_high": total + half,
        "status": status,
        "overall_before": np.asarray(big_r0),
        "overall_after": np.asarray(big_r1),
    }


def count_contributions(
    x0: np.ndarray, x1: np.ndarray, length0: float, length1: float, z: float = Z95
) -> dict[str, np.ndarray]:
    """Each group's part of the change in a count: ``x1 - x0 * length1 / length0`` (the before count
    scaled to the after exposure), with a Wald 95% interval (Poisson counts); the parts add up to the
    total change. Also the groups' shares of the count before and after.
    """
    x0 = np.asarray(x0, dtype=float)
    x1 = np.asarray(x1, dtype=float)
    c = length1 / length0
    total = x1 - c * x0
    half = z * np.sqrt(x1 + c * c * x0)
    status = np.where((x0 == 0) & (x1 > 0), "new", np.where((x1 == 0) & (x0 > 0), "vanished", "both"))
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "share_before": x0 / x0.sum(),
            "share_after": x1 / x1.sum(),
            "total": total,
            "total_low": total - half,
            "total_high": total + half,
            "status": status,
        }
