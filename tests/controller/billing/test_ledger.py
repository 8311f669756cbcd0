"""Money arithmetic: integer micro-dollars, rounding up, holds that bound every settlement."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.billing import ledger


def test_a_hold_is_tasks_times_timeout_times_rate_times_attempts_rounded_up() -> None:
    # 3 tasks × 100 s × 2 attempts = 600 task-seconds at $0.04/h = 6,666.67 µ$ → 6,667
    assert ledger.hold_micro(3, 100, 40_000, 1) == 6667
    assert ledger.hold_micro(1, 3600, 40_000, 0) == 40_000


def test_a_charge_rounds_up_to_a_micro_dollar() -> None:
    assert ledger.charge_micro(1, 40_000) == 1
    assert ledger.charge_micro(0, 40_000) == 0
    assert ledger.charge_micro(90_000, 40_000) == 1000


@given(
    tasks=st.integers(1, 100_000),
    timeout_s=st.integers(1, 86_400),
    rate=st.integers(0, 10_000_000),
    retries=st.integers(0, 10),
    used_fraction=st.fractions(0, 2),
)
def test_a_settlement_never_charges_more_than_the_hold_and_releases_the_rest(
    tasks: int, timeout_s: int, rate: int, retries: int, used_fraction: object
) -> None:
    held = ledger.hold_micro(tasks, timeout_s, rate, retries)
    most_ms = tasks * timeout_s * 1000 * (1 + retries)
    used_ms = int(most_ms * used_fraction)

    outcome = ledger.settle(held, used_ms, rate)

    assert outcome.charged + outcome.released == held
    assert 0 <= outcome.charged <= held
    if used_ms <= most_ms:  # the task-time a hold was sized for always fits in it
        assert outcome.charged == ledger.charge_micro(used_ms, rate)


@given(started=st.floats(0, 2e9), elapsed_ms=st.integers(-10_000, 200_000_000), timeout_s=st.integers(1, 86_400))
def test_an_attempt_counts_whole_milliseconds_between_zero_and_its_timeout(
    started: float, elapsed_ms: int, timeout_s: int
) -> None:
    ms = ledger.attempt_ms(started, started + elapsed_ms / 1000, timeout_s)
    assert 0 <= ms <= timeout_s * 1000
    assert isinstance(ms, int)


def test_a_shortfall_rounds_up_to_a_cent() -> None:
    assert ledger.shortfall_micro(1_000_001, 1_000_000) == 10_000
    assert ledger.shortfall_micro(5_000_000, 0) == 5_000_000
    assert ledger.shortfall_micro(100, 200) == 0


@given(st.integers(1, 10**15 - 1))  # up to a billion dollars: 15 significant digits fit a float
def test_usd_shows_the_exact_micro_dollar_amount(micro: int) -> None:
    assert Decimal(str(ledger.usd(micro))) * ledger.MICRO_PER_USD == micro


@pytest.mark.parametrize(
    ("value", "micro"), [(10, 10_000_000), ("2.50", 2_500_000), (0.000001, 1), ("1e2", 100_000_000)]
)
def test_dollar_amounts_parse_to_micro_dollars(value: object, micro: int) -> None:
    assert ledger.parse_usd(value) == micro


@pytest.mark.parametrize("value", [0, -1, "abc", True, None, [1], "0.0000001", float("nan"), "Infinity"])
def test_amounts_that_are_not_positive_micro_dollars_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        ledger.parse_usd(value)


@pytest.mark.parametrize("value", ["1000000.000001", "4611686018427.387904", 2**62, "1e999999"])
def test_a_dollar_amount_above_a_million_is_refused_before_any_arithmetic(value: object) -> None:
    # Given amounts above the largest single amount: 2**62 micro-dollars, 2**62 dollars, and one whose exponent
    # would overflow the multiplication to micro-dollars
    # When they are parsed, Then each is refused with a message naming the limit
    with pytest.raises(ValueError, match="at most 1,000,000 USD"):
        ledger.parse_usd(value)
    # And the limit itself is accepted
    assert ledger.parse_usd("1000000") == ledger.MAX_AMOUNT_MICRO


@pytest.mark.parametrize("micro", [0, -1, ledger.MAX_AMOUNT_MICRO + 1, 2**62])
def test_an_amount_outside_one_micro_dollar_to_a_million_dollars_is_refused(micro: int) -> None:
    # Given an amount computed inside the controller, When it is checked, Then it is refused
    with pytest.raises(ValueError):
        ledger.check_amount(micro)


def test_the_limits_keep_every_ledger_sum_far_below_the_largest_database_integer() -> None:
    # Given the largest balance plus the largest single amount (a credit or payment on top of a full account)
    largest_sum = ledger.MAX_BALANCE_MICRO + ledger.MAX_AMOUNT_MICRO
    # Then even a thousand of them fit a signed 64-bit integer (SQLite INTEGER, PostgreSQL BIGINT)
    assert 1000 * largest_sum < 2**63 - 1
    # And usd() still shows the largest balance exactly
    assert Decimal(str(ledger.usd(ledger.MAX_BALANCE_MICRO))) * ledger.MICRO_PER_USD == ledger.MAX_BALANCE_MICRO
