"""The number filters of the PDF templates (app/documents/pdf_context.py), French typography:
a narrow no-break space between thousands, a decimal comma."""

from __future__ import annotations

import pytest

from app.documents.pdf_context import amount, number, price

S = "\u202f"  # narrow no-break space


@pytest.mark.parametrize(
    ("value", "text"),
    [("1234.5", f"1{S}234,50"), ("0.005", "0,01"), ("-12", "-12,00"), ("1000000", f"1{S}000{S}000,00"), (None, "")],
)
def test_amount_has_two_decimals(value: str | None, text: str) -> None:
    assert amount(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [("45.5", "45,50"), ("45.5000", "45,50"), ("0.0125", "0,0125"), ("2400.0000", f"2{S}400,00"), ("-3.125", "-3,125"), ("", "")],
)
def test_price_keeps_its_decimals_and_two_at_least(value: str, text: str) -> None:
    assert price(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [("2.0000", "2"), ("5.50", "5,5"), ("1000", f"1{S}000"), ("1000.25", f"1{S}000,25"), ("-0.5", "-0,5"), ("-1500", f"-1{S}500"), ("20", "20")],
)
def test_number_drops_useless_zeros_and_groups_thousands(value: str, text: str) -> None:
    assert number(value) == text
