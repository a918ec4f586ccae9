"""Document totals as EN 16931 computes them: round the parts, then add the rounded parts.

1. Each line's net amount (BT-131) is quantity × unit price − line discount, rounded to the
   cent. Comment lines count for nothing.
2. Document-level charges (BG-21: shipping, and the taxes other than VAT of each line) and
   allowances (BG-20: global discount) each carry a VAT rate.
3. Per VAT rate (BG-23), the taxable base (BT-116) is the sum of the line nets at that rate +
   the charges − the allowances at that rate; its VAT (BT-117) is base × rate, rounded once.
4. Totals are sums of those rounded parts, so these rules hold exactly (`check_totals`):

   - BR-CO-10  total_net (BT-106) = Σ line nets (BT-131)
   - BR-CO-11  allowances_total (BT-107) = Σ document-level allowances (BT-92)
   - BR-CO-12  charges_total (BT-108) = Σ document-level charges (BT-99)
   - BR-CO-13  tax_basis_total (BT-109) = total_net − allowances_total + charges_total
   - BR-CO-14  total_vat (BT-110) = Σ VAT of the breakdown rows (BT-117), NPR rows apart
   - BR-CO-15  total_gross (BT-112) = tax_basis_total + total_vat
   - BR-CO-16  amount_due (BT-115) = total_gross − prepaid (BT-113); no rounding amount
   - BR-CO-17  VAT of a rate (BT-117) = round(base (BT-116) × rate (BT-119) / 100)
   - and Σ breakdown bases = tax_basis_total

NPR (TVA non perçue récupérable, overseas departments, typically 8.5 %): an NPR line's VAT is
computed per rate and shown in the breakdown (flag `npr`) and in `npr_vat`, so the buyer can
report it, but it is not part of `total_vat`, `total_gross` nor `amount_due`.

Progress (situation) invoices bill a share of each order line: a line with
`progress_from=a, progress_to=b` bills round(amount × b %) − round(amount × a %) of every
amount (gross, net, other taxes), so the steps of a line telescope and always sum to the
order's amounts exactly once the last step reaches 100 %. See `progress_lines`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal, Sequence

from app.domain.money import HUNDRED, ZERO, D, is_cents, percent_of, round_amount, split_amount

LineKind = Literal["item", "comment"]
DiscountBasis = Literal["net", "gross"]
LINE_KINDS: tuple[LineKind, ...] = ("item", "comment")
ZERO_CENTS = Decimal("0.00")


def _canonical_rate(rate: Decimal) -> Decimal:
    """20.00 and 20 are the same rate; shown as 20 (and 5.50 as 5.5)."""
    # kept by how the rate prints: hashing a new Decimal costs more than printing it
    key = str(rate)
    known = _RATES.get(key)
    if known is not None:
        return known
    normal = rate.normalize()
    exponent = normal.as_tuple().exponent
    assert isinstance(exponent, int)
    canonical = normal.quantize(Decimal(1)) if exponent > 0 else normal
    if len(_RATES) >= 1024:
        _RATES.clear()
    _RATES[key] = canonical
    return canonical


_RATES: dict[str, Decimal] = {}  # the rates met, by text ("20" and "20.00": two entries, one rate)


def _percent(value: Decimal, what: str) -> Decimal:
    value = D(value)
    if not ZERO <= value <= HUNDRED:
        raise ValueError(f"{what} doit être entre 0 et 100 % : {value}")
    return value


def _amount(value: Decimal, what: str) -> Decimal:
    value = D(value)
    if not is_cents(value):
        raise ValueError(f"{what} doit être arrondi au centime : {value}")
    return value


def _vat_rate(value: Decimal) -> Decimal:
    value = D(value)
    if value < 0:
        raise ValueError(f"taux de TVA négatif : {value}")
    return value


@dataclass(frozen=True)
class OtherTax:
    """A tax other than VAT on a line (éco-participation, taxe sur les boissons…).

    Exactly one of `percent` (of the line net) or `unit_amount` (per unit of quantity, so it
    follows the quantity and a credit note negates it). Rounded to the cent per line, it
    becomes a document-level charge subject to VAT at its own `vat_rate`: EN 16931 has no
    line-level tax but VAT, and a line has a single VAT rate.
    """

    vat_rate: Decimal
    percent: Decimal | None = None
    unit_amount: Decimal | None = None
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "vat_rate", _vat_rate(self.vat_rate))
        if (self.percent is None) == (self.unit_amount is None):
            raise ValueError(
                f"taxe « {self.label} » : donner un pourcentage ou un montant unitaire, "
                "pas les deux ni aucun"
            )
        if self.percent is not None:
            object.__setattr__(self, "percent", D(self.percent))
        if self.unit_amount is not None:
            object.__setattr__(self, "unit_amount", D(self.unit_amount))


@dataclass(frozen=True)
class Line:
    """A document line. Net = quantity × unit_price × (1 − discount_percent / 100), rounded.

    `vat_rate` and `discount_percent` are percentages. `progress_from`/`progress_to` are the
    cumulative shares already billed and billed once this line is (0 → 100 for a plain line).
    A comment line (`kind="comment"`) has no amount: its numbers are ignored.
    """

    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    discount_percent: Decimal = ZERO
    npr: bool = False
    kind: LineKind = "item"
    other_taxes: tuple[OtherTax, ...] = ()
    progress_from: Decimal = ZERO
    progress_to: Decimal = HUNDRED

    def __post_init__(self) -> None:
        q, p, r, d, a, b = self.quantity, self.unit_price, self.vat_rate, self.discount_percent, self.progress_from, self.progress_to
        if (
            type(q) is type(p) is type(r) is type(d) is type(a) is type(b) is Decimal
            and q.is_finite() and p.is_finite() and r.is_finite() and d.is_finite() and a.is_finite() and b.is_finite()
            and r >= ZERO and ZERO <= d <= HUNDRED and ZERO <= a <= b <= HUNDRED
            and type(self.other_taxes) is tuple and self.kind in LINE_KINDS
        ):
            return  # the usual line, as the checks below would leave it (each of a batch's lines)
        if self.kind not in LINE_KINDS:
            raise ValueError(f"type de ligne inconnu : {self.kind!r} (item, comment)")
        object.__setattr__(self, "quantity", D(self.quantity))
        object.__setattr__(self, "unit_price", D(self.unit_price))
        object.__setattr__(self, "vat_rate", _vat_rate(self.vat_rate))
        object.__setattr__(
            self, "discount_percent", _percent(self.discount_percent, "la remise de ligne")
        )
        start = _percent(self.progress_from, "l'avancement précédent")
        end = _percent(self.progress_to, "l'avancement")
        if end < start:
            raise ValueError(f"l'avancement ne peut pas diminuer : {start} % puis {end} %")
        object.__setattr__(self, "progress_from", start)
        object.__setattr__(self, "progress_to", end)
        object.__setattr__(self, "other_taxes", tuple(self.other_taxes))

    def billed(self, amount: Decimal) -> Decimal:
        """The part of an unrounded full-line `amount` billed by this line, to the cent."""
        if not self.progress_from and self.progress_to == HUNDRED:  # all of it, at once
            return round_amount(amount)
        return round_amount(percent_of(amount, self.progress_to)) - round_amount(
            percent_of(amount, self.progress_from)
        )


@dataclass(frozen=True)
class Charge:
    """A document-level charge excluding VAT (shipping…), at its own VAT rate."""

    amount: Decimal
    vat_rate: Decimal
    reason: str = ""
    npr: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", _amount(self.amount, "le montant d'un frais"))
        object.__setattr__(self, "vat_rate", _vat_rate(self.vat_rate))


@dataclass(frozen=True)
class Allowance:
    """A document-level allowance excluding VAT at a given VAT rate."""

    amount: Decimal
    vat_rate: Decimal
    reason: str = ""
    npr: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", _amount(self.amount, "le montant d'une remise"))
        object.__setattr__(self, "vat_rate", _vat_rate(self.vat_rate))


@dataclass(frozen=True)
class GlobalDiscount:
    """A discount on the whole document: `percent` or `amount`, spread over the VAT rates.

    It becomes one allowance per VAT rate (EN 16931 needs a rate on each allowance), shared
    pro rata of each rate's sum of line nets (charges and other taxes are not discounted),
    by largest remainder so that the parts add up exactly to the discount.

    - percent: the discount is round(Σ line nets × percent / 100). A percentage of prices
      including VAT is the same percentage of prices excluding it, so `basis` changes nothing.
    - amount, basis "net": the amount excludes VAT and is shared as is.
    - amount, basis "gross": the amount includes VAT ("10 € TTC de remise"). It is shared pro
      rata of each rate's lines gross (net × (1 + rate), NPR rates adding nothing), and each
      part is converted to an amount excluding VAT: round(part / (1 + rate)). The gross total
      then drops by the amount give or take a cent per rate (VAT is rounded per rate).
    """

    percent: Decimal | None = None
    amount: Decimal | None = None
    basis: DiscountBasis = "net"
    reason: str = "Remise globale"

    def __post_init__(self) -> None:
        if (self.percent is None) == (self.amount is None):
            raise ValueError("remise globale : donner un pourcentage ou un montant, pas les deux")
        if self.basis not in ("net", "gross"):
            raise ValueError(f"remise globale : base inconnue {self.basis!r} (net, gross)")
        if self.percent is not None:
            object.__setattr__(self, "percent", _percent(self.percent, "la remise globale"))
        if self.amount is not None:
            object.__setattr__(self, "amount", _amount(self.amount, "la remise globale"))


@dataclass(frozen=True)
class LineTotals:
    """A line's amounts as billed: gross − discount = net; other taxes in input order."""

    kind: LineKind
    vat_rate: Decimal
    npr: bool
    quantity: Decimal
    gross: Decimal
    discount: Decimal
    net: Decimal
    other_taxes: tuple[Decimal, ...] = ()
    previous_net: Decimal = ZERO_CENTS  # progress: the net billed before this step, round(net × from %)


@dataclass(frozen=True)
class DocumentLevel:
    """A resolved document-level charge or allowance; `line` is set for a line's other tax."""

    amount: Decimal
    vat_rate: Decimal
    npr: bool
    reason: str
    line: int | None = None
    previous: Decimal = ZERO_CENTS  # a line's other tax on a progress step: billed before it


@dataclass(frozen=True)
class VatBreakdown:
    """One VAT rate (BG-23): base = lines_net + charges − allowances; vat = round(base × rate).

    On a progress (situation) invoice `previous_base` is the base of the rate billed by the
    steps before (its lines' nets at their previous percentages); the VAT then telescopes:
    vat = round((previous_base + base) × rate) − round(previous_base × rate), so the VAT of all
    the steps adds up to the order's VAT to the cent (it differs from round(base × rate) by
    one cent at most, within the EN 16931 tolerance of BR-CO-17)."""

    vat_rate: Decimal
    npr: bool
    lines_net: Decimal
    charges: Decimal
    allowances: Decimal
    base: Decimal
    vat: Decimal
    previous_base: Decimal = ZERO_CENTS


@dataclass(frozen=True)
class DocumentTotals:
    """Every amount of a document; the BR-CO rules of the module docstring hold exactly."""

    lines: tuple[LineTotals, ...]
    charges: tuple[DocumentLevel, ...]
    allowances: tuple[DocumentLevel, ...]
    vat_breakdown: tuple[VatBreakdown, ...]
    total_net: Decimal
    charges_total: Decimal
    other_taxes_total: Decimal
    allowances_total: Decimal
    tax_basis_total: Decimal
    total_vat: Decimal
    npr_vat: Decimal
    total_gross: Decimal
    prepaid: Decimal
    amount_due: Decimal

    def vat_for(self, rate: Decimal, *, npr: bool = False) -> VatBreakdown | None:
        """The breakdown row of a rate, if the document has one."""
        for row in self.vat_breakdown:
            if row.vat_rate == D(rate) and row.npr == npr:
                return row
        return None


GroupKey = tuple[Decimal, bool]


@dataclass
class _Group:
    rate: Decimal
    npr: bool
    lines_net: Decimal = ZERO_CENTS
    charges: Decimal = ZERO_CENTS
    allowances: Decimal = ZERO_CENTS
    previous_net: Decimal = ZERO_CENTS


def _line_totals(line: Line, index: int, charges: list[DocumentLevel]) -> LineTotals:
    rate = _canonical_rate(line.vat_rate)
    if line.kind == "comment":
        return LineTotals("comment", rate, line.npr, ZERO, ZERO_CENTS, ZERO_CENTS, ZERO_CENTS)
    full_gross = line.quantity * line.unit_price
    full_net = full_gross * (HUNDRED - line.discount_percent) / HUNDRED
    gross = line.billed(full_gross)
    net = line.billed(full_net)
    taxes: list[Decimal] = []
    for tax in line.other_taxes:
        if tax.percent is not None:
            full_tax = percent_of(round_amount(full_net), tax.percent)
        else:
            assert tax.unit_amount is not None
            full_tax = line.quantity * tax.unit_amount
        amount = line.billed(full_tax)
        taxes.append(amount)
        previous_tax = round_amount(percent_of(full_tax, line.progress_from))
        charges.append(
            DocumentLevel(amount, _canonical_rate(tax.vat_rate), False, tax.label, line=index, previous=previous_tax)
        )
    quantity = line.quantity * (line.progress_to - line.progress_from) / HUNDRED
    previous = round_amount(percent_of(full_net, line.progress_from)) if line.progress_from else ZERO_CENTS
    return LineTotals("item", rate, line.npr, quantity, gross, gross - net, net, tuple(taxes), previous)


def _discount_allowances(
    discount: GlobalDiscount, groups: dict[GroupKey, _Group]
) -> list[DocumentLevel]:
    keys = [key for key, group in groups.items() if group.lines_net != 0]
    nets = [groups[key].lines_net for key in keys]
    if discount.percent is not None:
        total = round_amount(percent_of(sum(nets, ZERO), discount.percent))
        if total == 0:
            return []
        parts = split_amount(total, nets)
    else:
        assert discount.amount is not None
        if discount.amount == 0:
            return []
        if not keys:
            raise ValueError("remise globale sans ligne chiffrée à laquelle l'appliquer")
        if discount.basis == "net":
            parts = split_amount(discount.amount, nets)
        else:
            grosses = [
                net if npr else net + percent_of(net, rate) for (rate, npr), net in zip(keys, nets)
            ]
            parts = [
                part if npr else round_amount(part * HUNDRED / (HUNDRED + rate))
                for (rate, npr), part in zip(keys, split_amount(discount.amount, grosses))
            ]
    return [
        DocumentLevel(part, rate, npr, discount.reason)
        for (rate, npr), part in zip(keys, parts)
        if part != 0
    ]


def _telescoped_vat(base: Decimal, previous: Decimal, rate: Decimal) -> Decimal:
    """round(base × rate), or on a progress step the difference of the cumulative VATs."""
    if not previous:
        return round_amount(percent_of(base, rate))
    return round_amount(percent_of(previous + base, rate)) - round_amount(percent_of(previous, rate))


def compute_totals(
    lines: Sequence[Line],
    *,
    charges: Sequence[Charge] = (),
    allowances: Sequence[Allowance] = (),
    discount: GlobalDiscount | None = None,
    prepaid: Decimal = ZERO,
) -> DocumentTotals:
    """Totals of a document. `prepaid`: deposits already invoiced or paid (BT-113)."""
    prepaid = _amount(prepaid, "l'acompte déjà versé")
    groups: dict[GroupKey, _Group] = {}

    def group(rate: Decimal, npr: bool) -> _Group:
        key = (_canonical_rate(rate), npr)
        if key not in groups:
            groups[key] = _Group(key[0], npr)
        return groups[key]

    resolved_charges: list[DocumentLevel] = []
    line_totals: list[LineTotals] = []
    for index, line in enumerate(lines):
        totals = _line_totals(line, index, resolved_charges)
        line_totals.append(totals)
        if totals.kind == "item":
            line_group = group(totals.vat_rate, totals.npr)
            line_group.lines_net += totals.net
            line_group.previous_net += totals.previous_net
    other_taxes_total = sum((c.amount for c in resolved_charges), ZERO_CENTS)
    resolved_charges += [
        DocumentLevel(c.amount, _canonical_rate(c.vat_rate), c.npr, c.reason) for c in charges
    ]
    resolved_allowances = [
        DocumentLevel(a.amount, _canonical_rate(a.vat_rate), a.npr, a.reason) for a in allowances
    ]
    if discount is not None:
        resolved_allowances += _discount_allowances(discount, groups)
    for charge in resolved_charges:
        charge_group = group(charge.vat_rate, charge.npr)
        charge_group.charges += charge.amount
        charge_group.previous_net += charge.previous
    for allowance in resolved_allowances:
        group(allowance.vat_rate, allowance.npr).allowances += allowance.amount

    breakdown = []
    for g in sorted(groups.values(), key=lambda g: (-g.rate, g.npr)):
        base = g.lines_net + g.charges - g.allowances
        vat = _telescoped_vat(base, g.previous_net, g.rate)
        breakdown.append(
            VatBreakdown(g.rate, g.npr, g.lines_net, g.charges, g.allowances, base, vat, g.previous_net)
        )

    total_net = sum((t.net for t in line_totals), ZERO_CENTS)
    charges_total = sum((c.amount for c in resolved_charges), ZERO_CENTS)
    allowances_total = sum((a.amount for a in resolved_allowances), ZERO_CENTS)
    tax_basis_total = total_net - allowances_total + charges_total
    total_vat = sum((row.vat for row in breakdown if not row.npr), ZERO_CENTS)
    npr_vat = sum((row.vat for row in breakdown if row.npr), ZERO_CENTS)
    total_gross = tax_basis_total + total_vat
    return DocumentTotals(
        lines=tuple(line_totals),
        charges=tuple(resolved_charges),
        allowances=tuple(resolved_allowances),
        vat_breakdown=tuple(breakdown),
        total_net=total_net,
        charges_total=charges_total,
        other_taxes_total=other_taxes_total,
        allowances_total=allowances_total,
        tax_basis_total=tax_basis_total,
        total_vat=total_vat,
        npr_vat=npr_vat,
        total_gross=total_gross,
        prepaid=prepaid,
        amount_due=total_gross - prepaid,
    )


def check_totals(totals: DocumentTotals) -> list[str]:
    """The EN 16931 rules (BR-CO-10..17) the totals break; empty when all hold."""
    t = totals
    rules = [
        ("BR-CO-10", t.total_net == sum((line.net for line in t.lines), ZERO_CENTS)),
        ("BR-CO-11", t.allowances_total == sum((a.amount for a in t.allowances), ZERO_CENTS)),
        ("BR-CO-12", t.charges_total == sum((c.amount for c in t.charges), ZERO_CENTS)),
        ("BR-CO-13", t.tax_basis_total == t.total_net - t.allowances_total + t.charges_total),
        (
            "BR-CO-14",
            t.total_vat == sum((r.vat for r in t.vat_breakdown if not r.npr), ZERO_CENTS),
        ),
        ("BR-CO-15", t.total_gross == t.tax_basis_total + t.total_vat),
        ("BR-CO-16", t.amount_due == t.total_gross - t.prepaid),
        (
            "BR-CO-17",
            all(r.vat == _telescoped_vat(r.base, r.previous_base, r.vat_rate) for r in t.vat_breakdown),
        ),
        ("bases", t.tax_basis_total == sum((r.base for r in t.vat_breakdown), ZERO_CENTS)),
        ("NPR", t.npr_vat == sum((r.vat for r in t.vat_breakdown if r.npr), ZERO_CENTS)),
    ]
    return [rule for rule, holds in rules if not holds]


def progress_lines(
    order_lines: Sequence[Line],
    previous_percent: Decimal | Sequence[Decimal],
    new_percent: Decimal | Sequence[Decimal],
) -> list[Line]:
    """The lines of a progress (situation) invoice taking an order from one cumulative
    percentage to the next, one percentage for all lines or one per line.

    Each line bills round(amount × new %) − round(amount × previous %), so the progress
    invoices of an order add up to the order line by line, to the cent, once 100 % is reached.
    Percentages never decrease. Comment lines are copied as they are.
    """

    def per_line(value: Decimal | Sequence[Decimal]) -> list[Decimal]:
        if isinstance(value, Decimal):
            return [value] * len(order_lines)
        values = list(value)
        if len(values) != len(order_lines):
            raise ValueError(
                f"{len(values)} pourcentages d'avancement pour {len(order_lines)} lignes"
            )
        return values

    result = []
    for line, start, end in zip(order_lines, per_line(previous_percent), per_line(new_percent)):
        if line.kind == "comment":
            result.append(line)
            continue
        if (line.progress_from, line.progress_to) != (ZERO, HUNDRED):
            raise ValueError("ligne de commande déjà en situation : donner la ligne d'origine")
        result.append(replace(line, progress_from=D(start), progress_to=D(end)))
    return result


def fixed_share_lines(lines: Sequence[Line], amount: Decimal) -> list[Line]:
    """The lines billing together exactly `amount` (net, in cents) of what they amount to: a
    deposit of a fixed amount. Each line bills a share of `amount` proportional to its net
    (largest remainder, so the shares add up to the cent), expressed as the progress 0 → p %
    of the line; its VAT then follows at its own rate, as for a deposit given in percent.
    Refused when `amount` is not positive or exceeds the lines' total net."""
    amount = _amount(amount, "l'acompte")
    if amount <= 0:
        raise ValueError(f"l'acompte doit être positif : {amount}")
    full_nets = [
        ZERO if line.kind == "comment" else line.quantity * line.unit_price * (HUNDRED - line.discount_percent) / HUNDRED
        for line in lines
    ]
    billable = [i for i, net in enumerate(full_nets) if net != 0]
    total = sum((round_amount(full_nets[i]) for i in billable), ZERO)
    if not billable or amount > total:
        raise ValueError(f"l'acompte ({amount}) dépasse le total HT des lignes ({total})")
    shares = dict(zip(billable, split_amount(amount, [full_nets[i] for i in billable])))
    out: list[Line] = []
    for i, line in enumerate(lines):
        if line.kind == "comment":
            out.append(line)
            continue
        share = shares.get(i, ZERO)
        percent = min(HUNDRED, max(ZERO, share * HUNDRED / full_nets[i])) if share else ZERO
        out.append(replace(line, progress_from=ZERO, progress_to=percent))
    return out
