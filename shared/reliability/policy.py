"""Pure decisions about a failed delivery: retry when, or stop how.

Policy and mechanism live apart (as in dramatiq's Retries middleware): this module only
decides; ``shared.stage`` and ``shared.reliability.maintenance`` act on the decision.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["DeadLetter", "GiveUp", "Outcome", "Retry", "RetryPolicy", "decide"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_deliveries: int = 5
    base_delay_ms: int = 2_000
    # A retry waits at most until the entry would be reclaimed anyway.
    max_delay_ms: int = 60_000
    jitter: float = 0.2  # +-20 %, so retries of one burst do not land together

    def backoff_ms(self, deliveries: int, rng: random.Random | None = None) -> int:
        """Exponential: base, 2*base, 4*base, ... capped, with jitter."""
        delay = min(self.base_delay_ms * 2 ** max(deliveries - 1, 0), self.max_delay_ms)
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return max(0, min(int(delay * (1 + spread)), self.max_delay_ms))


@dataclass(frozen=True, slots=True)
class Retry:
    delay_ms: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An unexpected error that kept happening: park the entry for a person to look at."""

    reason: str


@dataclass(frozen=True, slots=True)
class GiveUp:
    """A transient failure that outlived its retries: a final, recorded failure."""

    reason: str


Outcome = Retry | DeadLetter | GiveUp


def decide(
    deliveries: int,
    *,
    transient: bool,
    reason: str,
    policy: RetryPolicy,
    requested_delay_ms: int | None = None,
    rng: random.Random | None = None,
) -> Outcome:
    """``deliveries`` counts this one; ``transient`` is True for a stage's RetryLater."""
    if deliveries >= policy.max_deliveries:
        final = f"gave up after {deliveries} deliveries: {reason}"
        return GiveUp(final) if transient else DeadLetter(final)
    if requested_delay_ms is not None:
        return Retry(max(0, min(requested_delay_ms, policy.max_delay_ms)))
    return Retry(policy.backoff_ms(deliveries, rng))
