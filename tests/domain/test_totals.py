"""Document totals: worked cases computed by hand, then properties over random documents."""

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.domain.money import ZERO, D, percent_of
from app.domain.totals import (
    Allowance,
    Charge,
    DocumentTotals,
    GlobalDiscount,
    Line,
    OtherTax,
    check_totals,
    compute_totals,
    progress_lines,
)


def line(quantity: str, price: str, rate: str, **options: object) -> Line:
    return Line(D(quantity), D(price), D(rate), **options)  # type: ignore[arg-type]


def breakdown(totals: DocumentTotals) -> list[tuple[str, bool, str, str]]:
    """(rate, npr, base, vat) per breakdown row, as strings so the scale is checked too."""
    return [(str(r.vat_rate), r.npr, str(r.base), str(r.vat)) for r in totals.vat_breakdown]


def summary(totals: DocumentTotals) -> tuple[str, str, str]:
    assert check_totals(totals) == []
    return str(totals.tax_basis_total), str(totals.total_vat), str(totals.total_gross)


# --- The worked cases of the issue -----------------------------------------------------------


def test_vat_is_computed_per_rate_not_per_line() -> None:
    # Two lines 1 × 1.24 at 10 %: nets 1.24 + 1.24 = 2.48; VAT round(0.248) = 0.25, where
    # rounding each line's VAT would give 0.12 + 0.12 = 0.24. Gross 2.48 + 0.25 = 2.73.
    totals = compute_totals([line("1", "1.24", "10"), line("1", "1.24", "10")])
    assert str(totals.total_net) == "2.48"
    assert summary(totals) == ("2.48", "0.25", "2.73")


def test_three_lines_at_five_and_a_half() -> None:
    # 3 × 0.99 = 2.97; 2.97 × 5.5 % = 0.16335 → 0.16. Gross 3.13.
    totals = compute_totals([line("1", "0.99", "5.5")] * 3)
    assert summary(totals) == ("2.97", "0.16", "3.13")


def test_half_a_cent_of_vat_rounds_up() -> None:
    # 12.45 × 10 % = 1.245 → 1.25 (ROUND_HALF_UP; banker's rounding would give 1.24).
    totals = compute_totals([line("1", "12.45", "10")])
    assert summary(totals) == ("12.45", "1.25", "13.70")


# --- Worked cases of our own -----------------------------------------------------------------


def test_mixed_rates() -> None:
    # 20 %:  2 × 49.90 = 99.80          VAT 19.96
    # 10 %:  3 × 8.25  = 24.75          VAT 2.475  → 2.48
    # 5.5 %: 4 × 2.35  = 9.40           VAT 0.517  → 0.52
    # 2.1 %: 1 × 15.00 = 15.00          VAT 0.315  → 0.32
    # 0 %:   1 × 30.00 = 30.00          VAT 0.00
    # net 178.95, VAT 19.96 + 2.48 + 0.52 + 0.32 = 23.28, gross 202.23
    totals = compute_totals(
        [
            line("2", "49.90", "20"),
            line("3", "8.25", "10"),
            line("4", "2.35", "5.5"),
            line("1", "15.00", "2.1"),
            line("1", "30.00", "0"),
        ]
    )
    assert breakdown(totals) == [
        ("20", False, "99.80", "19.96"),
        ("10", False, "24.75", "2.48"),
        ("5.5", False, "9.40", "0.52"),
        ("2.1", False, "15.00", "0.32"),
        ("0", False, "30.00", "0.00"),
    ]
    assert summary(totals) == ("178.95", "23.28", "202.23")


def test_line_discounts() -> None:
    # 3 × 19.99 = 59.97, −15 %: 59.97 × 0.85 = 50.9745 → 50.97 (discount 59.97 − 50.97 = 9.00)
    # 7 × 3.333 = 23.331 → gross 23.33; −10 %: 23.331 × 0.9 = 20.9979 → 21.00 (discount 2.33)
    # net 71.97; VAT 20 %: 14.394 → 14.39; gross 86.36
    totals = compute_totals(
        [
            line("3", "19.99", "20", discount_percent=D("15")),
            line("7", "3.333", "20", discount_percent=D("10")),
        ]
    )
    first, second = totals.lines
    assert (str(first.gross), str(first.discount), str(first.net)) == ("59.97", "9.00", "50.97")
    assert (str(second.gross), str(second.discount), str(second.net)) == ("23.33", "2.33", "21.00")
    assert summary(totals) == ("71.97", "14.39", "86.36")


def test_half_a_cent_of_line_net_rounds_up_and_mirrors_on_credit() -> None:
    # 3 × 0.335 = 1.005 → 1.01; −3 × 0.335 = −1.005 → −1.01
    assert str(compute_totals([line("3", "0.335", "0")]).total_net) == "1.01"
    assert str(compute_totals([line("-3", "0.335", "0")]).total_net) == "-1.01"


def test_shipping_with_its_own_vat() -> None:
    # Books 2 × 45.00 = 90.00 at 5.5 % → VAT 4.95; shipping 7.90 at 20 % → VAT 1.58.
    # Tax basis 97.90, VAT 6.53, gross 104.43.
    totals = compute_totals(
        [line("2", "45.00", "5.5")],
        charges=[Charge(D("7.90"), D("20"), "Frais de port")],
    )
    assert str(totals.total_net) == "90.00"
    assert str(totals.charges_total) == "7.90"
    assert breakdown(totals) == [("20", False, "7.90", "1.58"), ("5.5", False, "90.00", "4.95")]
    assert summary(totals) == ("97.90", "6.53", "104.43")


def test_global_discount_percent_over_two_rates() -> None:
    # Lines 33.33 at 20 % and 66.67 at 5.5 %: net 100.00; 7 % → 7.00.
    # Pro rata: 7.00 × 33.33 / 100 = 2.3331, 7.00 × 66.67 / 100 = 4.6669 → 2.33 + 4.66 = 6.99,
    # the cent left over goes to the largest remainder (0.69 of a cent): 2.33 / 4.67.
    # Bases 31.00 (VAT 6.20) and 62.00 (VAT 3.41). Basis 93.00, VAT 9.61, gross 102.61.
    totals = compute_totals(
        [line("1", "33.33", "20"), line("1", "66.67", "5.5")],
        discount=GlobalDiscount(percent=D("7")),
    )
    assert [(str(a.vat_rate), str(a.amount)) for a in totals.allowances] == [
        ("20", "2.33"),
        ("5.5", "4.67"),
    ]
    assert str(totals.allowances_total) == "7.00"
    assert breakdown(totals) == [("20", False, "31.00", "6.20"), ("5.5", False, "62.00", "3.41")]
    assert summary(totals) == ("93.00", "9.61", "102.61")


def test_global_discount_amount_over_two_rates() -> None:
    # Lines 80.00 at 20 % and 40.00 at 10 %; 10.00 off: 6.6667 and 3.3333 → 6.66 + 3.33 = 9.99,
    # the left-over cent to the 20 % share: 6.67 / 3.33.
    # Bases 73.33 (VAT 14.666 → 14.67) and 36.67 (3.667 → 3.67). Basis 110.00, VAT 18.34,
    # gross 128.34.
    totals = compute_totals(
        [line("1", "80.00", "20"), line("1", "40.00", "10")],
        discount=GlobalDiscount(amount=D("10.00")),
    )
    assert [str(a.amount) for a in totals.allowances] == ["6.67", "3.33"]
    assert breakdown(totals) == [("20", False, "73.33", "14.67"), ("10", False, "36.67", "3.67")]
    assert summary(totals) == ("110.00", "18.34", "128.34")


def test_global_discount_amount_including_vat() -> None:
    # Same lines, 12.00 off including VAT. Lines gross 96.00 and 44.00 (140.00):
    # 12 × 96/140 = 8.22857, 12 × 44/140 = 3.77143 → 8.23 / 3.77 (largest remainder).
    # Excluding VAT: 8.23 / 1.2 = 6.8583 → 6.86; 3.77 / 1.1 = 3.4273 → 3.43 (allowances 10.29).
    # Bases 73.14 (VAT 14.628 → 14.63) and 36.57 (3.657 → 3.66). Basis 109.71, VAT 18.29,
    # gross 128.00: 12.00 less than the 140.00 without discount.
    totals = compute_totals(
        [line("1", "80.00", "20"), line("1", "40.00", "10")],
        discount=GlobalDiscount(amount=D("12.00"), basis="gross"),
    )
    assert [str(a.amount) for a in totals.allowances] == ["6.86", "3.43"]
    assert breakdown(totals) == [("20", False, "73.14", "14.63"), ("10", False, "36.57", "3.66")]
    assert summary(totals) == ("109.71", "18.29", "128.00")


def test_global_discount_percent_on_gross_is_the_same_as_on_net() -> None:
    lines = [line("1", "33.33", "20"), line("1", "66.67", "5.5")]
    on_net = compute_totals(lines, discount=GlobalDiscount(percent=D("7")))
    on_gross = compute_totals(lines, discount=GlobalDiscount(percent=D("7"), basis="gross"))
    assert on_net == on_gross


def test_explicit_allowance_at_a_rate() -> None:
    # 1 × 200.00 at 20 %, allowance 15.00 at 20 %: base 185.00, VAT 37.00, gross 222.00.
    totals = compute_totals(
        [line("1", "200.00", "20")], allowances=[Allowance(D("15.00"), D("20"), "Geste")]
    )
    assert summary(totals) == ("185.00", "37.00", "222.00")


def test_npr_vat_is_shown_but_not_charged() -> None:
    # Réunion: 2 × 150.00 at 8.5 % NPR = 300.00, NPR VAT 25.50 (reported, not charged);
    # 1 × 40.00 at 8.5 % charged: VAT 3.40. Net 340.00, VAT 3.40, gross and due 343.40.
    totals = compute_totals(
        [line("2", "150.00", "8.5", npr=True), line("1", "40.00", "8.5")],
    )
    assert breakdown(totals) == [("8.5", False, "40.00", "3.40"), ("8.5", True, "300.00", "25.50")]
    assert str(totals.npr_vat) == "25.50"
    assert summary(totals) == ("340.00", "3.40", "343.40")
    assert str(totals.amount_due) == "343.40"
    row = totals.vat_for(D("8.5"), npr=True)
    assert row is not None and str(row.vat) == "25.50"


def test_credit_note_with_negative_quantities() -> None:
    # −2 × 49.90 = −99.80 at 20 % → VAT −19.96; −1 × 12.45 at 10 % → VAT −1.245 → −1.25
    # (half away from zero). Net −112.25, VAT −21.21, gross −133.46.
    totals = compute_totals([line("-2", "49.90", "20"), line("-1", "12.45", "10")])
    assert breakdown(totals) == [
        ("20", False, "-99.80", "-19.96"),
        ("10", False, "-12.45", "-1.25"),
    ]
    assert summary(totals) == ("-112.25", "-21.21", "-133.46")


def test_monthly_item_sold_yearly() -> None:
    # 3 seats × 12 months = quantity 36 × 29.99 = 1,079.64; VAT 215.928 → 215.93;
    # gross 1,295.57.
    totals = compute_totals([line("36", "29.99", "20")])
    assert summary(totals) == ("1079.64", "215.93", "1295.57")


def test_other_taxes_become_charges_at_their_own_rate() -> None:
    # 2 × 499.00 at 20 % with éco-participation 6.00 per unit (VAT 20 %): net 998.00, tax 12.00.
    # 4 × 12.50 at 10 % with a 3 % tax at 0 %: net 50.00, tax 1.50.
    # Net 1048.00; charges 13.50 (all other taxes); basis 1061.50.
    # Bases: 20 %: 998.00 + 12.00 = 1010.00 → 202.00; 10 %: 50.00 → 5.00; 0 %: 1.50 → 0.00.
    # VAT 207.00, gross 1268.50.
    eco = OtherTax(D("20"), unit_amount=D("6.00"), label="Éco-participation")
    stay = OtherTax(D("0"), percent=D("3"), label="Taxe")
    totals = compute_totals(
        [
            line("2", "499.00", "20", other_taxes=(eco,)),
            line("4", "12.50", "10", other_taxes=(stay,)),
        ]
    )
    assert [str(t) for lt in totals.lines for t in lt.other_taxes] == ["12.00", "1.50"]
    assert [(c.reason, c.line) for c in totals.charges] == [("Éco-participation", 0), ("Taxe", 1)]
    assert str(totals.other_taxes_total) == "13.50" == str(totals.charges_total)
    assert breakdown(totals) == [
        ("20", False, "1010.00", "202.00"),
        ("10", False, "50.00", "5.00"),
        ("0", False, "1.50", "0.00"),
    ]
    assert summary(totals) == ("1061.50", "207.00", "1268.50")


def test_deposit_already_paid_is_deducted_from_the_amount_due() -> None:
    # 1 × 1000.00 at 20 %: gross 1200.00; deposit 360.00 already invoiced → due 840.00.
    totals = compute_totals([line("1", "1000.00", "20")], prepaid=D("360.00"))
    assert summary(totals) == ("1000.00", "200.00", "1200.00")
    assert (str(totals.prepaid), str(totals.amount_due)) == ("360.00", "840.00")


def test_comment_lines_count_for_nothing() -> None:
    totals = compute_totals(
        [line("5", "99.00", "5.5", kind="comment"), line("1", "10.00", "20")],
    )
    assert breakdown(totals) == [("20", False, "10.00", "2.00")]
    assert str(totals.lines[0].net) == "0.00"
    assert summary(totals) == ("10.00", "2.00", "12.00")


def test_rates_written_differently_are_one_rate() -> None:
    totals = compute_totals([line("1", "1.24", "10"), line("1", "1.24", "10.00")])
    assert breakdown(totals) == [("10", False, "2.48", "0.25")]


def test_progress_invoices_worked_case() -> None:
    # Order line 3 × 333.33 = 999.99 at 20 %, billed at 30 %, then 65 %, then 100 %:
    # 30 %: round(299.997) = 300.00
    # 65 %: round(649.9935) = 649.99, minus 300.00 = 349.99
    # 100 %: 999.99 − 649.99 = 350.00            300.00 + 349.99 + 350.00 = 999.99
    order = [line("3", "333.33", "20")]
    steps = [("0", "30"), ("30", "65"), ("65", "100")]
    invoices = [compute_totals(progress_lines(order, D(a), D(b))) for a, b in steps]
    assert [str(i.total_net) for i in invoices] == ["300.00", "349.99", "350.00"]
    assert [str(i.lines[0].quantity) for i in invoices] == ["0.9", "1.05", "1.05"]
    assert [str(i.total_vat) for i in invoices] == ["60.00", "70.00", "70.00"]


def test_progress_lines_refuse_going_back() -> None:
    with pytest.raises(ValueError, match="diminuer"):
        progress_lines([line("1", "10", "20")], D("50"), D("40"))
    with pytest.raises(ValueError, match="entre 0 et 100"):
        progress_lines([line("1", "10", "20")], D("50"), D("120"))
    with pytest.raises(ValueError, match="2 pourcentages"):
        progress_lines([line("1", "10", "20")], D("0"), [D("10"), D("20")])


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: line("1", "10", "-20"), "taux de TVA négatif"),
        (lambda: line("1", "10", "20", discount_percent=D("101")), "entre 0 et 100"),
        (lambda: line("1", "10", "20", kind="free"), "type de ligne inconnu"),
        (lambda: Charge(D("1.005"), D("20")), "centime"),
        (lambda: GlobalDiscount(), "pourcentage ou un montant"),
        (lambda: GlobalDiscount(amount=D("1"), basis="ttc"), "base inconnue"),  # type: ignore
        (lambda: OtherTax(D("20")), "pourcentage ou un montant unitaire"),
    ],
)
def test_invalid_inputs_are_refused(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        Line(1, 1.24, 10)  # type: ignore[arg-type]


def test_amount_discount_without_priced_lines_is_an_error() -> None:
    with pytest.raises(ValueError, match="remise globale"):
        compute_totals([line("1", "0", "20")], discount=GlobalDiscount(amount=D("5.00")))


# --- Properties ------------------------------------------------------------------------------

RATES = [D(r) for r in ("0", "2.1", "5.5", "8.5", "10", "20")]
quantities = st.integers(1, 10**5).map(lambda n: Decimal(n).scaleb(-2))
prices = st.integers(0, 10**8).map(lambda n: Decimal(n).scaleb(-4))
amounts = st.integers(0, 10**6).map(lambda n: Decimal(n).scaleb(-2))
percents = st.integers(0, 10**4).map(lambda n: Decimal(n).scaleb(-2))
other_taxes = st.one_of(
    st.builds(OtherTax, st.sampled_from(RATES), percent=percents),
    st.builds(OtherTax, st.sampled_from(RATES), unit_amount=amounts),
)
items = st.builds(
    Line,
    quantities,
    prices,
    st.sampled_from(RATES),
    discount_percent=st.one_of(st.just(ZERO), percents),
    npr=st.booleans(),
    kind=st.sampled_from(["item", "item", "item", "comment"]),
    other_taxes=st.lists(other_taxes, max_size=2).map(tuple),
)
documents = st.fixed_dictionaries(
    {
        "lines": st.lists(items, min_size=1, max_size=8),
        "charges": st.lists(st.builds(Charge, amounts, st.sampled_from(RATES)), max_size=2),
        "allowances": st.lists(st.builds(Allowance, amounts, st.sampled_from(RATES)), max_size=2),
        "discount": st.one_of(
            st.none(),
            st.builds(GlobalDiscount, percent=percents),
            st.builds(GlobalDiscount, amount=amounts, basis=st.sampled_from(["net", "gross"])),
        ),
        "prepaid": amounts,
    }
)


def totals_of(document: dict[str, object]) -> DocumentTotals:
    try:
        return compute_totals(**document)  # type: ignore[arg-type]
    except ValueError as error:  # an amount discount on a document whose lines are all zero
        assume("remise globale" not in str(error) and "poids" not in str(error))
        raise


@settings(deadline=None)
@given(documents)
def test_totals_follow_en16931(document: dict[str, object]) -> None:
    totals = totals_of(document)
    assert check_totals(totals) == []
    assert totals.total_gross == totals.tax_basis_total + totals.total_vat
    assert totals.tax_basis_total == (
        totals.total_net + totals.charges_total - totals.allowances_total
    )
    assert sum((r.base for r in totals.vat_breakdown), ZERO) == totals.tax_basis_total
    for row in totals.vat_breakdown:
        assert abs(row.vat - percent_of(row.base, row.vat_rate)) <= D("0.005")
        assert row.base == row.lines_net + row.charges - row.allowances
    for lt in totals.lines:
        assert lt.gross - lt.discount == lt.net


def credit_note(document: dict[str, object]) -> dict[str, object]:
    """The same document with every quantity and every amount negated."""
    lines = [replace(li, quantity=-li.quantity) for li in document["lines"]]  # type: ignore
    charges = [replace(c, amount=-c.amount) for c in document["charges"]]  # type: ignore
    allowances = [replace(a, amount=-a.amount) for a in document["allowances"]]  # type: ignore
    discount = document["discount"]
    if isinstance(discount, GlobalDiscount) and discount.amount is not None:
        discount = replace(discount, amount=-discount.amount)
    return {
        "lines": lines,
        "charges": charges,
        "allowances": allowances,
        "discount": discount,
        "prepaid": -document["prepaid"],  # type: ignore[operator]
    }


def negated(totals: DocumentTotals) -> DocumentTotals:
    def neg(x: Decimal) -> Decimal:
        return -x

    return replace(
        totals,
        lines=tuple(
            replace(
                lt,
                quantity=neg(lt.quantity),
                gross=neg(lt.gross),
                discount=neg(lt.discount),
                net=neg(lt.net),
                other_taxes=tuple(map(neg, lt.other_taxes)),
            )
            for lt in totals.lines
        ),
        charges=tuple(replace(c, amount=neg(c.amount)) for c in totals.charges),
        allowances=tuple(replace(a, amount=neg(a.amount)) for a in totals.allowances),
        vat_breakdown=tuple(
            replace(
                r,
                lines_net=neg(r.lines_net),
                charges=neg(r.charges),
                allowances=neg(r.allowances),
                base=neg(r.base),
                vat=neg(r.vat),
            )
            for r in totals.vat_breakdown
        ),
        total_net=neg(totals.total_net),
        charges_total=neg(totals.charges_total),
        other_taxes_total=neg(totals.other_taxes_total),
        allowances_total=neg(totals.allowances_total),
        tax_basis_total=neg(totals.tax_basis_total),
        total_vat=neg(totals.total_vat),
        npr_vat=neg(totals.npr_vat),
        total_gross=neg(totals.total_gross),
        prepaid=neg(totals.prepaid),
        amount_due=neg(totals.amount_due),
    )


@settings(deadline=None)
@given(documents)
def test_a_full_credit_note_negates_every_total(document: dict[str, object]) -> None:
    invoice = totals_of(document)
    credit = totals_of(credit_note(document))
    assert credit == negated(invoice)


@st.composite
def progress_plans(draw: st.DrawFn) -> tuple[list[Line], list[list[Decimal]]]:
    """Order lines and, per step, the cumulative percentage of each line, the last 100 %."""
    order = draw(st.lists(items, min_size=1, max_size=6))
    steps = draw(st.integers(1, 5))
    per_line = [
        sorted(draw(st.lists(percents, min_size=steps - 1, max_size=steps - 1))) + [D(100)]
        for _ in order
    ]
    return order, [list(step) for step in zip(*per_line)]


@settings(deadline=None)
@given(progress_plans())
def test_progress_invoices_sum_to_the_order(plan: tuple[list[Line], list[list[Decimal]]]) -> None:
    order, steps = plan
    previous = [ZERO] * len(order)
    invoices = []
    for cumulative in steps:
        invoices.append(compute_totals(progress_lines(order, previous, cumulative)))
        previous = cumulative
    whole = compute_totals(order)
    for index, order_line in enumerate(whole.lines):
        billed = [invoice.lines[index] for invoice in invoices]
        assert sum((b.net for b in billed), ZERO) == order_line.net
        assert sum((b.gross for b in billed), ZERO) == order_line.gross
        assert sum((b.quantity for b in billed), ZERO) == order_line.quantity
        for k, tax in enumerate(order_line.other_taxes):
            assert sum((b.other_taxes[k] for b in billed), ZERO) == tax
    assert sum((i.total_net for i in invoices), ZERO) == whole.total_net
    assert sum((i.charges_total for i in invoices), ZERO) == whole.charges_total
    # the VAT telescopes too (each step: cumulative VAT minus the previous one), so the steps
    # add up to the order's VAT and gross to the cent
    assert sum((i.total_vat for i in invoices), ZERO) == whole.total_vat
    assert sum((i.total_gross for i in invoices), ZERO) == whole.total_gross
    assert all(check_totals(i) == [] for i in invoices)


# --- deposits of a fixed amount ---------------------------------------------------------------

from app.domain.totals import fixed_share_lines  # noqa: E402


def test_fixed_deposit_bills_exactly_its_amount_spread_over_the_rates() -> None:
    lines = [
        Line(quantity=D("1"), unit_price=D("1000.00"), vat_rate=D("20")),
        Line(quantity=D("3"), unit_price=D("33.33"), vat_rate=D("10")),
        Line(kind="comment", quantity=D("0"), unit_price=D("0"), vat_rate=D("0")),
        Line(quantity=D("2"), unit_price=D("0.99"), vat_rate=D("5.5")),
    ]
    totals = compute_totals(fixed_share_lines(lines, D("300.00")))
    assert totals.total_net == D("300.00")
    # shares of 1000 / 99.99 / 1.98 in 1101.97: 272.24 (20 %), 27.22 (10 %), 0.54 (5.5 %)
    assert {v.vat_rate: (v.base, v.vat) for v in totals.vat_breakdown} == {
        D("5.5"): (D("0.54"), D("0.03")),
        D("10"): (D("27.22"), D("2.72")),
        D("20"): (D("272.24"), D("54.45")),
    }
    assert totals.total_gross == totals.total_net + totals.total_vat


@pytest.mark.parametrize(("amount", "message"), [("0", "positif"), ("1102.00", "dépasse le total HT des lignes \\(1101.97\\)"), ("10.001", "centime")])
def test_fixed_deposit_refused(amount: str, message: str) -> None:
    lines = [Line(quantity=D("1"), unit_price=D("1000.00"), vat_rate=D("20")), Line(quantity=D("3"), unit_price=D("33.33"), vat_rate=D("10")), Line(quantity=D("2"), unit_price=D("0.99"), vat_rate=D("5.5"))]
    with pytest.raises(ValueError, match=message):
        fixed_share_lines(lines, D(amount))


@given(
    amounts=st.lists(st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2), min_size=1, max_size=6),
    rates=st.lists(st.sampled_from([D("0"), D("2.1"), D("5.5"), D("10"), D("20")]), min_size=6, max_size=6),
    fraction=st.decimals(min_value=D("0.01"), max_value=D("1"), places=2),
)
def test_fixed_deposit_net_is_the_amount_to_the_cent(amounts: list[Decimal], rates: list[Decimal], fraction: Decimal) -> None:
    lines = [Line(quantity=D("1"), unit_price=a, vat_rate=r) for a, r in zip(amounts, rates)]
    amount = max(D("0.01"), (sum(amounts) * fraction).quantize(D("0.01"), rounding="ROUND_DOWN"))
    totals = compute_totals(fixed_share_lines(lines, amount))
    assert totals.total_net == amount
    assert totals.total_gross == totals.total_net + totals.total_vat
