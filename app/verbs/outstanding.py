"""The client's outstanding (« encours ») and its credit limit: `outstanding` (a compute of the
account), `refresh` (runs a linked record's computes again) and `check_credit_limit`.

    schema/account.yaml:  compute: [{outstanding: {field: outstanding, invoices: invoice, ...}}]
    workflows.yaml:       - refresh: {link: account}
                          - check_credit_limit: {account: account, amount: total_gross, limit: ..., block: false}

The outstanding is summed from scratch each time: the remaining due of the client's open
invoices (credit notes not yet applied count negative), minus what its recorded payments left
unallocated. Invoice and payment transitions `refresh` it once they have moved their record.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Mapping

from sqlalchemy import func, select

from app.domain.money import ZERO, round_amount
from app.engine.store import StoreError
from app.engine.verbs import VerbContext, assign
from app.spec.model import Label
from app.spec.expressions import compile_expression
from app.verbs.payments import amount, euros, linked_spec


def _sum(ctx: VerbContext, entity_name: str, link: str, value: str, counted: str | None, negative: str | None = None) -> Decimal:
    """Σ `value` of the records linked to this one for which `counted` holds (`negative`: taken
    off). The database sums `value` per distinct combination of the fields the two expressions
    read (status, kind…), and the expressions run once per combination, not once per record:
    a client may have thousands of invoices, and this runs after each of their validations."""
    store = ctx.store
    spec = store.spec.entities[entity_name]
    table = store.rt.models.tables[entity_name]
    counts, minus = (compile_expression(source) if source else None for source in (counted, negative))
    names = set().union(*(test.names for test in (counts, minus) if test is not None))
    keys = [spec.fields[name] for name in sorted(names) if name in spec.fields]
    column = table.c[spec.fields[value].column_name]
    store.session.flush()  # what this transaction changed counts
    query = (
        select(*(table.c[f.column_name] for f in keys), func.sum(column).label("total"))
        .where(table.c[spec.fields[link].column_name] == ctx.record.id)
        .group_by(*(table.c[f.column_name] for f in keys))
    )
    total = ZERO
    for row in store.session.execute(query).mappings():
        values = {f.name: row[f.column_name] for f in keys}
        if counts is not None and not counts.evaluate(values):
            continue
        raw = row["total"]
        share = raw if isinstance(raw, Decimal) else Decimal(raw or 0)
        total += -share if minus is not None and minus.evaluate(values) else share
    return total


def outstanding(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    total = _sum(ctx, args["invoices"], args["invoice_link"], args["remaining"], args["open"], args.get("negative"))
    if args.get("payments"):
        total -= _sum(ctx, args["payments"], args["payment_link"], args["unallocated"], args.get("counted"))
    assign(ctx.record, ctx.entity.fields[args["field"]].column_name, round_amount(total))  # cents: 0.00


def refresh(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    target_id = getattr(ctx.record, ctx.entity.fields[args["link"]].column_name)
    if target_id is None:
        return
    target = linked_spec(ctx.store, ctx.entity, args["link"])
    ctx.then_once(("recompute", target.name, target_id), lambda: ctx.store.recompute_record(target.name, target_id))


def check_credit_limit(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    store, entity, obj = ctx.store, ctx.entity, ctx.record
    account_id = getattr(obj, entity.fields[args["account"]].column_name)
    if account_id is None:
        return
    spec = linked_spec(store, entity, args["account"])
    # The stored outstanding, kept right by `refresh` after every transition that moves it. Not
    # recomputed here: writing the account before this transition's audit entry would take the
    # two locks in the opposite order of a payment's (audit counter, then account) — a deadlock.
    account = store.linked(store.rt.models.cls(spec.name), account_id)
    limit = getattr(account, spec.fields[args["limit"]].column_name) if account is not None else None
    if limit is None:
        return
    store.recompute_pending(spec.name, account_id)  # in a batch: the invoices before this one count
    owed = amount(spec, account, args["outstanding"])
    total = amount(entity, obj, args["amount"])
    if owed + total <= limit:
        return
    fr = (
        f"Encours autorisé de {account} dépassé : encours {euros(owed)} + ce document {euros(total)} "
        f"= {euros(owed + total)}, pour un encours autorisé de {euros(limit)}"
    )
    en = f"credit limit of {account} exceeded: outstanding {owed} + this document {total} = {owed + total}, limit {limit}"
    if args.get("block"):
        raise StoreError(422, "credit_limit", f"{fr} / {en}", field=args["account"])
    ctx.warnings.append(Label(fr, en))


VERBS: dict[str, Callable[[VerbContext, Mapping[str, Any]], None]] = {
    "outstanding": outstanding,
    "refresh": refresh,
    "check_credit_limit": check_credit_limit,
}
