from __future__ import annotations

import random

import pytest

from shared.reliability.policy import DeadLetter, GiveUp, Retry, RetryPolicy, decide

POLICY = RetryPolicy(max_deliveries=4, base_delay_ms=1000, max_delay_ms=5000, jitter=0.0)


@pytest.mark.parametrize(
    ("deliveries", "transient", "requested", "expected"),
    [
        (1, False, None, Retry(1000)),
        (2, False, None, Retry(2000)),
        (3, True, None, Retry(4000)),
        (3, True, 250, Retry(250)),  # a Retry-After wins over the backoff
        (2, True, 999_999, Retry(5000)),  # but never past the cap
        (4, True, None, GiveUp("gave up after 4 deliveries: boom")),
        (4, False, None, DeadLetter("gave up after 4 deliveries: boom")),
        (9, False, 10, DeadLetter("gave up after 9 deliveries: boom")),
    ],
)
def test_decide(deliveries: int, transient: bool, requested: int | None, expected: object) -> None:
    outcome = decide(
        deliveries, transient=transient, reason="boom", policy=POLICY, requested_delay_ms=requested
    )
    assert outcome == expected


def test_backoff_is_capped_and_jittered_within_bounds() -> None:
    policy = RetryPolicy(base_delay_ms=1000, max_delay_ms=60_000, jitter=0.2)
    rng = random.Random(7)
    delays = [policy.backoff_ms(3, rng) for _ in range(200)]
    assert min(delays) >= 3200
    assert max(delays) <= 4800
    assert len(set(delays)) > 50
    assert policy.backoff_ms(30, rng) <= 60_000
