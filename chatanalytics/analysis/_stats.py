"""Small statistics on aggregated counts (numpy only)."""

from __future__ import annotations

import numpy as np

Z95 = 1.959963984540054


def wilson(successes: np.ndarray, trials: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion; ``nan`` where there are no trials.

    Examples
    --------
    >>> lo, hi = wilson(np.array([8]), np.array([10]))
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.4902, 0.9433)
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        # exact ends at 0 and n successes (the formula leaves rounding noise of 1e-17 there)
        lo = np.where(n > 0, np.where(k <= 0, 0.0, np.clip(centre - half, 0, 1)), np.nan)
        hi = np.where(n > 0, np.where(k >= n, 1.0, np.clip(centre + half, 0, 1)), np.nan)
    return lo, hi


def kaplan_meier(
    times: np.ndarray, events: np.ndarray, counts: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier survival at each distinct event time, from raw or aggregated observations.

    Each row is a time, the number of events at it (a bool for one observation) and, aggregated, the
    number of observations it stands for (``counts``; the rest are censored at that time). Ties are
    handled exactly: all events at a time leave together, and censorings at that time leave just after
    them. The result depends only on the data, never on row order.

    Returns
    -------
    event_times, survival : numpy arrays
        Distinct times with at least one event, ascending, and S(t) just after each.

    Examples
    --------
    >>> t, s = kaplan_meier(np.array([1.0, 2, 2, 3, 4]), np.array([True, True, False, True, False]))
    >>> t.tolist(), [round(float(x), 4) for x in s]
    ([1.0, 2.0, 3.0], [0.8, 0.6, 0.3])
    >>> t, s = kaplan_meier(np.array([2.0, 1, 3, 4]), np.array([1, 1, 1, 0]), np.array([2, 1, 1, 1]))
    >>> [round(float(x), 4) for x in s]
    [0.8, 0.6, 0.3]
    """
    times = np.asarray(times, dtype=float)
    events = np.asarray(events, dtype=float)
    counts = np.ones(len(times)) if counts is None else np.asarray(counts, dtype=float)
    if len(times) == 0 or not (events > 0).any():
        return np.empty(0), np.empty(0)
    uniq, inverse = np.unique(times, return_inverse=True)
    deaths = np.bincount(inverse, weights=events, minlength=len(uniq))
    leaving = np.bincount(inverse, weights=counts, minlength=len(uniq))
    at_risk = leaving.sum() - np.concatenate([[0.0], np.cumsum(leaving)[:-1]])
    has = deaths > 0
    return uniq[has], np.cumprod(1.0 - deaths[has] / at_risk[has])


def km_quantile(event_times: np.ndarray, cdf: np.ndarray, q: float) -> float:
    """Smallest event time at which ``cdf`` reaches ``q`` (``nan`` when it never does)."""
    hit = np.flatnonzero(cdf >= q - 1e-12)
    return float(event_times[hit[0]]) if len(hit) else float("nan")


def beta_binomial_prior(successes: np.ndarray, trials: np.ndarray) -> tuple[float, float]:
    """Beta prior ``(a, b)`` for groups' binomial rates, fitted by the method of moments.

    The between-group spread is the weighted spread of the observed rates less what binomial noise
    alone would give (the ANOVA estimator of the intra-class correlation ``rho = 1 / (a + b + 1)``).
    The prior's weight ``a + b`` is at most the total number of trials: when the groups vary no more
    than noise explains (``rho`` is 0), every group's rate is pulled to the pooled rate, but the prior
    is never worth more than all the data together, so intervals on the pooled counts stay honest.
    Adding ``a`` successes and ``b`` failures to a group's counts gives its empirical-Bayes rate.

    Examples
    --------
    >>> a, b = beta_binomial_prior(np.array([2.0, 8.0]), np.array([10.0, 10.0]))
    >>> round(a / (a + b), 3), round(a + b, 3)
    (0.5, 0.452)
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    keep = n > 0
    k, n = k[keep], n[keep]
    total = n.sum()
    if total == 0:
        return 0.0, 0.0
    p = float(k.sum() / total)
    if p <= 0 or p >= 1 or len(n) < 2:
        return p * total, (1 - p) * total
    groups = len(n)
    spread = float((n * (k / n - p) ** 2).sum()) / (p * (1 - p))
    denom = total - (n**2).sum() / total - (groups - 1)
    rho = (spread - (groups - 1)) / denom if denom > 0 else 0.0
    weight = total if rho <= 0 else min(1.0 / min(rho, 1.0) - 1.0, total)
    return float(p * weight), float((1 - p) * weight)


# --------------------------------------------------------------------------- time to event


def event_table(
    times: np.ndarray, causes: np.ndarray, n_causes: int, counts: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct times, number at risk just before each, events per cause (``n_causes`` x times) and
    censorings at each, from one row per observation (``causes`` 0 = censored, 1..K = the event) or
    aggregated rows (``counts`` observations each).
    """
    times = np.asarray(times, dtype=float)
    causes = np.asarray(causes, dtype=np.int64)
    counts = np.ones(len(times)) if counts is None else np.asarray(counts, dtype=float)
    uniq, inverse = np.unique(times, return_inverse=True)
    grid = np.zeros((n_causes + 1, len(uniq)))
    np.add.at(grid, (causes, inverse), counts)
    leaving = grid.sum(axis=0)
    at_risk = leaving[::-1].cumsum()[::-1]
    return uniq, at_risk, grid[1:], grid[0]


def kaplan_meier_ci(times: np.ndarray, events: np.ndarray, z: float = Z95) -> dict[str, np.ndarray]:
    """Kaplan-Meier survival with Greenwood log(-log) 95% bounds, at every distinct time.

    Ties are exact (events at a time leave together, censorings at that time just after them).
    Returns ``time``, ``at_risk``, ``events``, ``censored``, ``survival``, ``low``, ``high``.
    """
    t, n, d, c = event_table(times, np.asarray(events, dtype=np.int64), 1)
    d = d[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.cumprod(1.0 - d / n)
        green = np.cumsum(np.where(n > d, d / (n * (n - d)), 0.0))
        log_s = np.log(s)
        spread = z * np.sqrt(green) / log_s
        low = np.exp(-np.exp(np.log(-log_s) - spread))
        high = np.exp(-np.exp(np.log(-log_s) + spread))
    inside = (s > 0) & (s < 1)
    low = np.where(inside, low, s)
    high = np.where(inside, high, s)
    return {"time": t, "at_risk": n, "events": d, "censored": c, "survival": s, "low": low, "high": high}


def aalen_johansen(
    times: np.ndarray, causes: np.ndarray, n_causes: int, z: float = Z95
) -> dict[str, np.ndarray]:
    """Cumulative incidence of competing events (Aalen-Johansen), with 95% bounds, at every distinct time.

    ``causes`` is 0 for a censored observation and 1..``n_causes`` for the event that ended it. Ties
    are exact and deterministic: all events at a time, of every cause, leave together (no jitter).
    The variance is the delta-method estimator in Collett, *Modelling Survival Data in Medical
    Research* (3rd ed., p. 411), and the bounds are taken on the log(-log) scale, as in lifelines'
    ``AalenJohansenFitter``.

    Returns ``time``, ``at_risk``, ``events`` (causes x times), ``censored``, ``survival`` (no event of
    any cause yet), ``cif``, ``low`` and ``high`` (causes x times).
    """
    t, n, d, c = event_table(times, causes, n_causes)
    d_all = d.sum(axis=0)
    # on a few requests, a bound's exp(exp(...)) overflows to inf: its limit, a bound of 0 or 1, is right
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = np.cumprod(1.0 - d_all / n)
        s_before = np.concatenate([[1.0], s[:-1]])
        cif = np.cumsum(s_before * d / n, axis=1)
        a = np.where(n > d_all, d_all / (n * (n - d_all)), 0.0)
        b = s_before**2 * d * (n - d) / n**3
        cc = s_before * d / n**2
        # sum over i <= j of (F_j - F_i)^2 a_i + b_i - 2 (F_j - F_i) c_i, expanded into running sums
        var = (
            cif**2 * np.cumsum(a)
            - 2 * cif * np.cumsum(a * cif, axis=1)
            + np.cumsum(a * cif**2, axis=1)
            + np.cumsum(b, axis=1)
            - 2 * (cif * np.cumsum(cc, axis=1) - np.cumsum(cc * cif, axis=1))
        )
        var = np.maximum(var, 0.0)
        log_f = np.log(cif)
        se = np.sqrt(var) / (cif * np.abs(log_f))
        one = np.exp(-np.exp(np.log(-log_f) + z * se))
        two = np.exp(-np.exp(np.log(-log_f) - z * se))
    inside = (cif > 0) & (cif < 1) & (var > 0)
    low = np.where(inside, np.minimum(one, two), cif)
    high = np.where(inside, np.maximum(one, two), cif)
    return {
        "time": t,
        "at_risk": n,
        "events": d,
        "censored": c,
        "survival": s,
        "cif": cif,
        "low": low,
        "high": high,
    }


def curve_quantile(times: np.ndarray, share: np.ndarray, q: float) -> float:
    """Smallest time at which a rising step curve (a share reached by then) reaches ``q``; ``nan`` if
    it never does.
    """
    hit = np.flatnonzero(np.asarray(share) >= q - 1e-12)
    return float(times[hit[0]]) if len(hit) else float("nan")


def step_value(times: np.ndarray, values: np.ndarray, at: np.ndarray, before: float = 0.0) -> np.ndarray:
    """The value of a right-continuous step function (``values`` from each of ``times`` on) at ``at``."""
    at = np.asarray(at, dtype=float)
    if len(times) == 0:
        return np.full(at.shape, before, dtype=float)
    idx = np.searchsorted(times, at, side="right") - 1
    return np.where(idx >= 0, np.asarray(values)[np.maximum(idx, 0)], before)


def chi2_sf(x: float, df: int) -> float:
    """Upper tail probability of the chi-squared distribution (the regularized gamma function Q).

    Examples
    --------
    >>> round(chi2_sf(3.841458820694124, 1), 6), round(chi2_sf(5.991464547107979, 2), 6)
    (0.05, 0.05)
    """
    import math

    if x <= 0:
        return 1.0
    a, y = df / 2.0, x / 2.0
    gln = math.lgamma(a)
    if y < a + 1:  # series for the lower function P
        term = total = 1.0 / a
        ap = a
        for _ in range(10_000):
            ap += 1
            term *= y / ap
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(-y + a * math.log(y) - gln))
    # continued fraction for Q (modified Lentz)
    tiny = 1e-300
    b = y + 1 - a
    c = 1 / tiny
    dd = 1 / b
    h = dd
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        dd = an * dd + b
        dd = tiny if abs(dd) < tiny else dd
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        dd = 1 / dd
        delta = dd * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(-y + a * math.log(y) - gln) * h)


def logrank(times: np.ndarray, events: np.ndarray, groups: np.ndarray) -> tuple[float, int]:
    """Log-rank statistic comparing the groups' event-time distributions: ``(chi2, degrees of freedom)``.

    ``groups`` are integer codes 0..G-1. Ties are handled exactly (hypergeometric variance).
    """
    times = np.asarray(times, dtype=float)
    ev = np.asarray(events, dtype=float)
    g = np.asarray(groups, dtype=np.int64)
    n_groups = int(g.max()) + 1 if len(g) else 0
    if n_groups < 2:
        return float("nan"), 0
    uniq, inverse = np.unique(times, return_inverse=True)
    leave = np.zeros((n_groups, len(uniq)))
    dead = np.zeros((n_groups, len(uniq)))
    np.add.at(leave, (g, inverse), 1.0)
    np.add.at(dead, (g, inverse), ev)
    risk = leave[:, ::-1].cumsum(axis=1)[:, ::-1]
    n = risk.sum(axis=0)
    d = dead.sum(axis=0)
    keep = (d > 0) & (n > 1)
    risk, dead, n, d = risk[:, keep], dead[:, keep], n[keep], d[keep]
    share = risk / n
    observed_minus_expected = (dead - d * share).sum(axis=1)
    factor = d * (n - d) / (n - 1)
    cov = -np.einsum("t,gt,ht->gh", factor, share, share)
    cov[np.diag_indices(n_groups)] += (factor * share).sum(axis=1)
    u = observed_minus_expected[:-1]
    v = cov[:-1, :-1]
    try:
        chi2 = float(u @ np.linalg.solve(v, u))
    except np.linalg.LinAlgError:
        chi2 = float(u @ np.linalg.pinv(v) @ u)
    return chi2, n_groups - 1


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of p-values for multiple comparisons (family-wise error).

    Examples
    --------
    >>> holm(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out
