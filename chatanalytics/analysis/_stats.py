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
        lo = np.where(n > 0, np.clip(centre - half, 0, 1), np.nan)
        hi = np.where(n > 0, np.clip(centre + half, 0, 1), np.nan)
    return lo, hi


def kaplan_meier(times: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier survival at each distinct event time.

    Ties are handled exactly: all events at a time leave together, and censorings at the same time are
    taken to happen just after the events (the usual convention). The result depends only on the data,
    never on row order.

    Returns
    -------
    event_times, survival : numpy arrays
        Distinct times with at least one event, ascending, and S(t) just after each.

    Examples
    --------
    >>> t, s = kaplan_meier(np.array([1.0, 2, 2, 3, 4]), np.array([True, True, False, True, False]))
    >>> t.tolist(), [round(float(x), 4) for x in s]
    ([1.0, 2.0, 3.0], [0.8, 0.6, 0.3])
    """
    times = np.asarray(times, dtype=float)
    observed = np.asarray(observed, dtype=bool)
    if len(times) == 0 or not observed.any():
        return np.empty(0), np.empty(0)
    everyone = np.sort(times)
    events = np.sort(times[observed])
    event_times, deaths = np.unique(events, return_counts=True)
    # at risk at t: everyone whose time is t or later (censorings at t leave after the events at t)
    at_risk = len(everyone) - np.searchsorted(everyone, event_times, side="left")
    return event_times, np.cumprod(1.0 - deaths / at_risk)


def km_quantile(event_times: np.ndarray, cdf: np.ndarray, q: float) -> float:
    """Smallest event time at which ``cdf`` reaches ``q`` (``nan`` when it never does)."""
    hit = np.flatnonzero(cdf >= q - 1e-12)
    return float(event_times[hit[0]]) if len(hit) else float("nan")
