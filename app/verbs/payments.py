"""Payments against invoices: `allocate_payment`, `release_payment`, `settle_invoice` and
`apply_credit_note` (docs/sales-chain.md, « Payments »).

    payment.validate:  - allocate_payment: {account: account, amount: amount, invoice: invoice, ...}
    payment.cancel:    - release_payment: {invoice: invoice, allocations: allocations, ...}
    invoice.settle:    - settle_invoice: {due: amount_due, paid: amount_paid, ...}

What an invoice has received is never added to nor subtracted from: `settle_invoice` sums it
again from the allocation rows of the payments in a counted state, plus the amounts of the
credit notes applied to it, so it cannot drift. The invoice's status then follows through its
own transitions (`mark_partially_paid`, `mark_paid`, `mark_unpaid`) run internally: their
state check, log and audit apply. Payments and credit notes run the invoice's `settle`
transition once they have reached their new state (`VerbContext.then`), so a cancelled payment
no longer counts. Overpayment is refused: an allocation may not exceed the invoice's remaining
due; what a payment does not allocate stays a credit of the client (`unallocated`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Mapping

from sqlalchemy import func, select

from app.domain.money import ZERO, round_amount
from app.engine.models import Record
from app.engine.store import Store, StoreError
from app.engine.verbs import VerbContext, assign, evaluate_on
from app.engine.workflow import lock_record, machine_of, record_name, run_transition
from app.spec.expressions import compile_expression
from app.spec.model import EntitySpec, Label


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def euros(value: Decimal) -> str:
    """`1 234,50 €` for messages (plain spaces: messages are also read in logs and tests)."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",") + " €"


def amount(spec: EntitySpec, obj: Any, name: str) -> Decimal:
    value = getattr(obj, spec.fields[name].column_name)
    return value if isinstance(value, Decimal) else Decimal(value or 0)


def linked_spec(store: Store, entity: EntitySpec, link: str) -> EntitySpec:
    return store.spec.entities[entity.fields[link].to or ""]


def holds(store: Store, entity: EntitySpec, obj: Any, source: str | None) -> bool:
    if not source:
        return False
    compiled = compile_expression(source)
    return bool(evaluate_on(store, entity, obj, compiled))


def starts_from(obj: Any, transition: str) -> bool:
    """Whether the transition starts from the record's state (the check `run_transition` makes)."""
    machine = machine_of(obj)
    spec = machine.spec.transitions.get(transition) if machine is not None else None
    if machine is None or spec is None:
        return False
    return "*" in spec.sources or getattr(obj, machine.status_column) in spec.sources


def moves(obj: Any, transition: str) -> bool:
    """Whether running the transition now would change the record's state."""
    machine = machine_of(obj)
    target = machine.spec.transitions[transition].target if machine is not None and starts_from(obj, transition) else None
    return target is not None and machine is not None and target != getattr(obj, machine.status_column)


def run_later(ctx: VerbContext, entity: str, record_id: int, transition: str) -> None:
    """Run a transition of another record (or of this one) once this transition is done."""

    def consequence() -> None:
        result = run_transition(ctx.store, entity, record_id, transition, internal=True)
        ctx.warnings.extend(result.warnings)

    ctx.then(consequence)


# --- the payment's side -----------------------------------------------------------------------


def _allocations(ctx: VerbContext, args: Mapping[str, Any]) -> tuple[EntitySpec, list[Record], str, str]:
    entity = ctx.entity
    child = next(c for c in entity.children if c.name == args["allocations"])
    child_spec = ctx.store.spec.entities[child.entity]
    rows = ctx.store.children(entity, ctx.record)[child.name]
    link = child_spec.fields[args["allocation_invoice"]].column_name
    value = child_spec.fields[args["allocation_amount"]].column_name if "allocation_amount" in args else ""
    return child_spec, rows, link, value


def _single_allocation(ctx: VerbContext, args: Mapping[str, Any], child_spec: EntitySpec, link: str, value: str) -> Record:
    """A payment of one invoice (`invoice`, no allocations) allocates its whole amount to it."""
    entity, obj, store = ctx.entity, ctx.record, ctx.store
    child = next(c for c in entity.children if c.name == args["allocations"])
    row = store.rt.models.cls(child_spec.name)()
    setattr(row, child_spec.fields[child.via].column_name, obj.id)
    setattr(row, link, getattr(obj, entity.fields[args["invoice"]].column_name))
    setattr(row, value, amount(entity, obj, args["amount"]))
    row.created_by = row.updated_by = store.principal.login  # type: ignore[attr-defined]
    store.session.add(row)
    return row


def allocate_payment(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    entity, obj, store = ctx.entity, ctx.record, ctx.store
    child_spec, rows, link, value = _allocations(ctx, args)
    if not rows and getattr(obj, entity.fields[args["invoice"]].column_name) is not None:
        rows = [_single_allocation(ctx, args, child_spec, link, value)]
    paid = amount(entity, obj, args["amount"])
    per_invoice: dict[int, Decimal] = {}
    for row in rows:
        share = getattr(row, value) or ZERO
        if getattr(row, link) is not None and share > 0:
            per_invoice[getattr(row, link)] = per_invoice.get(getattr(row, link), ZERO) + share
    total = sum(per_invoice.values(), ZERO)
    if total > paid:
        raise StoreError(
            422,
            "over_allocated",
            _m(
                f"Les imputations ({euros(total)}) dépassent le montant du règlement ({euros(paid)})",
                f"the allocations ({total}) exceed the payment's amount ({paid})",
            ),
            field=args["allocations"],
        )
    invoice_spec = linked_spec(store, entity, args["invoice"])
    client = getattr(obj, entity.fields[args["account"]].column_name)
    for invoice_id, share in sorted(per_invoice.items()):
        invoice = lock_record(store, invoice_spec, invoice_id, internal=True)  # concurrent payments queue
        _check_allocation(store, invoice_spec, invoice, share, client, args)
    if args.get("unallocated"):
        assign(obj, entity.fields[args["unallocated"]].column_name, round_amount(paid - total))
    for invoice_id in sorted(per_invoice):
        run_later(ctx, invoice_spec.name, invoice_id, args["settle"])


def _check_allocation(
    store: Store, spec: EntitySpec, invoice: Record, share: Decimal, client: Any, args: Mapping[str, Any]
) -> None:
    name = record_name(invoice)
    if not holds(store, spec, invoice, args["payable"]):
        machine = machine_of(invoice)
        state = machine.state_label(getattr(invoice, machine.status_column)) if machine is not None else "?"
        raise StoreError(
            422,
            "not_payable",
            _m(
                f"La {name} (« {state} ») ne peut pas recevoir de règlement : imputation de {euros(share)} refusée",
                f"{name} ('{state}') cannot receive a payment: allocation of {share} refused",
            ),
            field=args["allocations"],
        )
    theirs = getattr(invoice, spec.fields[args["invoice_account"]].column_name)
    if theirs != client:
        raise StoreError(
            422,
            "other_client",
            _m(
                f"La {name} est celle d'un autre client : imputation de {euros(share)} refusée",
                f"{name} belongs to another client: allocation of {share} refused",
            ),
            field=args["allocations"],
        )
    remaining = amount(spec, invoice, args["due"]) - amount(spec, invoice, args["paid"])
    if share > remaining:
        raise StoreError(
            422,
            "overpayment",
            _m(
                f"Imputation de {euros(share)} sur la {name} supérieure à son reste dû ({euros(remaining)}) : "
                "le trop-perçu est refusé",
                f"allocation of {share} to {name} exceeds its remaining due ({remaining}): overpayment is refused",
            ),
            field=args["allocations"],
        )


def release_payment(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    entity, obj, store = ctx.entity, ctx.record, ctx.store
    _, rows, link, _ = _allocations(ctx, args)
    ids = {getattr(row, link) for row in rows} - {None}
    single = getattr(obj, entity.fields[args["invoice"]].column_name)
    if not rows and single is not None:
        ids.add(single)
    invoice_spec = linked_spec(store, entity, args["invoice"])
    cls = store.rt.models.cls(invoice_spec.name)
    for invoice_id in sorted(ids):
        invoice = store.session.get(cls, invoice_id)
        if invoice is not None and starts_from(invoice, args["settle"]):
            run_later(ctx, invoice_spec.name, invoice_id, args["settle"])


# --- the invoice's side -----------------------------------------------------------------------


def received(ctx: VerbContext, args: Mapping[str, Any]) -> Decimal:
    """What the invoice has received, from scratch: allocations of counted payments, plus the
    amounts applied by the credit notes that credit it."""
    return _received(ctx, args)[0]


def _received(ctx: VerbContext, args: Mapping[str, Any]) -> tuple[Decimal, Any]:
    """(what the invoice has received, the date of its last counted payment or None)."""
    store, entity, obj = ctx.store, ctx.entity, ctx.record
    store.flush(entity)  # the sums below read the database
    spec, models = store.spec, store.rt.models
    allocation, payment = spec.entities[args["allocations"]], spec.entities[args["payments"]]
    child = next(c for c in payment.children if c.entity == allocation.name)
    rows, parents = models.tables[allocation.name], models.tables[payment.name]
    machine = machine_of(models.cls(payment.name))
    status = parents.c[machine.status_column] if machine is not None else None
    counted = args["counted"] if isinstance(args["counted"], list) else [args["counted"]]
    date_field = payment.fields.get(args.get("payment_date") or "")
    last = func.max(parents.c[date_field.column_name]) if date_field is not None else func.max(None)
    query = (
        select(func.sum(rows.c[allocation.fields[args["allocation_amount"]].column_name]), last)
        .select_from(rows.join(parents, rows.c[allocation.fields[child.via].column_name] == parents.c.id))
        .where(rows.c[allocation.fields[args["allocation_link"]].column_name] == obj.id)
    )
    if status is not None:
        query = query.where(status.in_(counted))
    summed, last_date = store.session.execute(query).one()
    total = Decimal(str(summed or 0))
    if args.get("credits"):
        cls = models.cls(entity.name)
        credits_column = getattr(cls, entity.fields[args["credits"]].column_name)
        for note in store.session.scalars(select(cls).where(credits_column == obj.id)):
            if holds(store, entity, note, args.get("credit_note")):
                total += amount(entity, note, args["paid"])
    return total, last_date


def settle_invoice(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    entity, obj = ctx.entity, ctx.record
    last_date = None
    if holds(ctx.store, entity, obj, args.get("credit_note")):
        paid = amount(entity, obj, args["paid"])  # a credit note's `paid` is what was applied
    else:
        paid, last_date = _received(ctx, args)
    due = amount(entity, obj, args["due"])
    # sums of cents, written as cents (the API shows 0.00, not 0)
    assign(obj, entity.fields[args["paid"]].column_name, round_amount(paid))
    if args.get("remaining"):
        assign(obj, entity.fields[args["remaining"]].column_name, round_amount(due - paid))
    if args.get("paid_on"):  # the day of the payment that paid it in full, not the day it was entered
        assign(obj, entity.fields[args["paid_on"]].column_name, last_date if 0 < due <= paid else None)
    if paid <= 0:
        follow = args["mark_unpaid"]
    elif paid >= due:
        follow = args["mark_paid"]
    else:
        follow = args["mark_partially_paid"]
    if moves(obj, follow):
        run_later(ctx, entity.name, obj.id, follow)


def apply_credit_note(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    entity, note, store = ctx.entity, ctx.record, ctx.store
    credited = entity.fields[args["credited"]]
    invoice_id = getattr(note, credited.column_name)
    if invoice_id is None:
        raise StoreError(
            422, "required",
            _m(f"« {credited.label.fr} » est vide : l'avoir ne s'impute sur aucune facture",
               f"'{credited.label.en}' is empty: the credit note applies to no invoice"),
            field=credited.name,
        )
    spec = linked_spec(store, entity, args["credited"])
    invoice = lock_record(store, spec, invoice_id, internal=True)
    name, note_name = record_name(invoice), f"avoir {note}"
    if not starts_from(invoice, args["settle"]):
        machine = machine_of(invoice)
        state = machine.state_label(getattr(invoice, machine.status_column)) if machine is not None else "?"
        raise StoreError(
            422, "not_payable",
            _m(f"La {name} est « {state} » : l'avoir ne s'y impute pas", f"{name} is '{state}': the credit note cannot apply"),
            field=credited.name,
        )
    note_rest = amount(entity, note, args["due"]) - amount(entity, note, args["paid"])
    invoice_rest = amount(spec, invoice, args["due"]) - amount(spec, invoice, args["paid"])
    if note_rest <= 0 or invoice_rest <= 0:
        fr = f"l'{note_name} est déjà entièrement imputé" if note_rest <= 0 else f"la {name} n'a plus rien à régler"
        en = f"{note_name} is already fully applied" if note_rest <= 0 else f"{name} has nothing left to pay"
        raise StoreError(422, "nothing_to_apply", _m(fr[0].upper() + fr[1:], en), field=credited.name)
    applied = min(note_rest, invoice_rest)
    assign(note, entity.fields[args["paid"]].column_name, round_amount(amount(entity, note, args["paid"]) + applied))
    ctx.messages.append(Label(f"Avoir imputé sur la {name} : {euros(applied)}", f"Credit note applied to {name}: {applied}"))
    if applied < note_rest:
        rest = note_rest - applied
        ctx.warnings.append(
            Label(
                f"La {name} ne restait due que de {euros(invoice_rest)} : {euros(rest)} de l'avoir restent au crédit du client",
                f"{name} only had {invoice_rest} left to pay: {rest} of the credit note stays a credit of the client",
            )
        )
    run_later(ctx, spec.name, invoice.id, args["settle"])
    run_later(ctx, entity.name, note.id, args["settle"])


VERBS: dict[str, Callable[[VerbContext, Mapping[str, Any]], None]] = {
    "allocate_payment": allocate_payment,
    "release_payment": release_payment,
    "settle_invoice": settle_invoice,
    "apply_credit_note": apply_credit_note,
}
