"""The margin of a document and the percentage rounding it uses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.margin import CostLine, compute_margin
from app.domain.money import ratio_percent, round_percent


def test_margin_subtracts_the_cost_of_the_costed_lines_only() -> None:
    # 10 × 12.50 sold, cost 7.333 each (73.33 after rounding the sum); a line without a cost
    # price counts in the net only
    margin = compute_margin(Decimal("200.00"), [CostLine(Decimal("10"), Decimal("7.333")), CostLine(Decimal("3"), None)])
    assert (margin.cost, margin.amount, margin.rate, margin.costed_lines) == (
        Decimal("73.33"), Decimal("126.67"), Decimal("63.34"), 1,
    )


def test_cost_is_rounded_once_on_the_sum() -> None:
    # 3 lines of 1 × 0.005: 0.015 → 0.02 (rounding each line would give 0.03)
    margin = compute_margin(Decimal("1.00"), [CostLine(Decimal("1"), Decimal("0.005"))] * 3)
    assert margin.cost == Decimal("0.02") and margin.amount == Decimal("0.98")


def test_a_loss_is_a_negative_margin_and_no_net_has_no_rate() -> None:
    loss = compute_margin(Decimal("50.00"), [CostLine(Decimal("2"), Decimal("40"))])
    assert (loss.amount, loss.rate) == (Decimal("-30.00"), Decimal("-60.00"))
    empty = compute_margin(Decimal("0.00"), [CostLine(Decimal("1"), Decimal("5"))])
    assert (empty.amount, empty.rate) == (Decimal("-5.00"), None)


def test_no_cost_price_means_no_costed_line() -> None:
    margin = compute_margin(Decimal("10.00"), [CostLine(Decimal("1"), None)])
    assert margin.costed_lines == 0 and margin.cost == Decimal("0.00")


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [("1", "3", "33.33"), ("2", "3", "66.67"), ("0.005", "100", "0.01"), ("-1", "8", "-12.50"), ("126.67", "200", "63.34")],
)
def test_ratio_percent_rounds_half_up(part: str, whole: str, expected: str) -> None:
    assert ratio_percent(Decimal(part), Decimal(whole)) == Decimal(expected)


def test_round_percent_is_half_up_and_never_negative_zero() -> None:
    assert round_percent(Decimal("35.555")) == Decimal("35.56")
    assert str(round_percent(Decimal("-0.001"))) == "0.00"
