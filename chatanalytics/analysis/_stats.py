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
