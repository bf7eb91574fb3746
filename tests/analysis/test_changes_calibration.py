"""Calibration of the change digest: with nothing planted, how often does any metric get flagged?

Each history is a small synthetic site (600 sessions over 15 days from Monday 2026-06-01, New York
time, no dirt) with no planted change; the second week is compared with the first. Holm's adjustment
over the nine metrics claims a family-wise error rate of at most 5%: the share of histories with any
metric flagged. With 200 histories the count of false alarms is at most Binomial(200, 0.05) when the
claim holds; the test allows up to its 99.9th percentile (21 histories, 10.5%), so it fails by chance
at most once in a thousand runs when the claim is true. Measured on this seed: 10 of 200 (5.0%).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from chatanalytics.analysis._changes import compute_changes
from chatanalytics.datasets._simulate import _simulate

HISTORIES = 200


@pytest.mark.slow
def test_false_alarms_stay_within_the_claimed_error_rate() -> None:
    flagged = []
    for i in range(HISTORIES):
        events = _simulate(600, seed=1000 + i, start="2026-06-01", days=15, tz="America/New_York", dirt=False)
        metrics = compute_changes(events, tz="America/New_York", by=())["metrics"]
        assert metrics["comparable"].sum() >= 8  # the median wait may lack a median in a tiny week
        flagged.append(bool(metrics["significant"].any()))
    limit = int(stats.binom.ppf(0.999, HISTORIES, 0.05))
    assert limit == 21
    assert int(np.sum(flagged)) <= limit, f"{np.mean(flagged):.1%} of histories flagged a metric"
