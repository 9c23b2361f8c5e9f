"""Per-principal limits on a hand-driven clock: the bucket empties, says when to come back, and refills."""

from __future__ import annotations

import pytest

from server.api.errors import retry_after_seconds, to_status
from server.auth.limits import RateLimiter, StreamLimiter, TokenBucket
from server.domain.errors import ResourceExhausted


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_says_how_long_until_the_next_token() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(0.5)
    clock.now += 0.2
    assert bucket.take() == pytest.approx(0.3)  # a refusal takes nothing
    clock.now += 0.3
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(0.5)


def test_a_bucket_refills_to_its_burst_and_no_further() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10.0, burst=2, clock=clock)
    bucket.take(), bucket.take()
    clock.now += 3600
    assert bucket.full()
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, pytest.approx(0.1)]


def test_a_clock_going_backwards_adds_no_tokens() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=1, clock=clock)
    bucket.take()
    clock.now -= 10
    assert bucket.take() == pytest.approx(1.0)


def test_each_principal_has_its_own_bucket_and_the_refusal_carries_a_retry_delay() -> None:
    clock = Clock()
    limiter = RateLimiter(qps=4.0, burst=2, clock=clock)
    limiter.charge("alice"), limiter.charge("alice")
    with pytest.raises(ResourceExhausted) as refused:
        limiter.charge("alice")
    assert refused.value.reason == "RATE_LIMITED" and refused.value.retry_after_seconds == pytest.approx(0.25)
    limiter.charge("bob")  # unaffected
    clock.now += 0.25
    limiter.charge("alice")


def test_the_retry_delay_reaches_the_status_and_rounds_up_for_retry_after() -> None:
    status = to_status(ResourceExhausted("slow down", reason="RATE_LIMITED", retry_after_seconds=0.25))
    assert retry_after_seconds(status) == 1
    assert retry_after_seconds(to_status(ResourceExhausted("pool is full"))) is None


def test_zero_qps_is_no_limit_and_zero_burst_is_one_seconds_worth() -> None:
    clock = Clock()
    off = RateLimiter(qps=0, burst=0, clock=clock)
    for _ in range(10_000):
        off.charge("alice")
    limiter = RateLimiter(qps=3.0, burst=0, clock=clock)
    for _ in range(3):
        limiter.charge("alice")
    with pytest.raises(ResourceExhausted):
        limiter.charge("alice")


def test_streams_count_while_open_and_are_given_back_however_they_end() -> None:
    limiter = StreamLimiter(2)
    with limiter.slot("alice"), limiter.slot("alice"):
        with pytest.raises(ResourceExhausted) as refused, limiter.slot("alice"):
            pass
        assert refused.value.reason == "TOO_MANY_WATCHES" and refused.value.retry_after_seconds is None
        with limiter.slot("bob"):
            assert limiter.open_streams("bob") == 1
        assert limiter.open_streams("alice") == 2
    with pytest.raises(RuntimeError), limiter.slot("alice"):
        raise RuntimeError("the stream failed")
    assert limiter.open_streams("alice") == 0
    with limiter.slot("alice"), limiter.slot("alice"):
        pass


def test_zero_streams_is_no_limit() -> None:
    limiter = StreamLimiter(0)
    with limiter.slot("alice"), limiter.slot("alice"), limiter.slot("alice"):
        assert limiter.open_streams("alice") == 0
