"""`propagate`: a transition acts on the record one of its links points to, in the same
transaction (seed 003: the quote's status moves its opportunity and its account).

    # workflows.yaml, quote `accept`
    - propagate:
        link: opportunity
        transition: win                       # run on the opportunity when its state allows it
        set: {next_step_date: "today() + days(2)"}   # {opportunity field: expression on the quote}
    - propagate: {link: account, set: {type: "'client'"}}

It runs once this record is in its new state (a consequence of the transition), so expressions
on this record see its new status. In order:

1. `when_all` (an expression on this entity): every record of this entity linking to the same
   target must satisfy it (this one included), e.g. all the invoices of a quote paid;
   otherwise nothing happens.
2. `only_if` (an expression on the linked record): false, nothing happens.
3. `transition`: run on the linked record (its effects, log and audit; the user's rights are
   not asked again — the transition they ran decided it). Skipped silently when the linked
   record is already in the transition's target state ("already there"), or when its state or
   the transition's condition does not allow it ("not allowed") — unless `strict: true`,
   which refuses the whole transition in the second case.
4. `set`: the linked record's fields take the expressions' values — when the transition ran or
   the record was already there (or when no transition is given). Its computes then run again.

Any error (a value a field refuses, a refusal of the linked transition's effects, a field the
linked record's locked state does not let change) rolls the whole transition back.
"""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import select

from app.engine.fieldtypes import FieldError, parse_value
from app.engine.store import StoreError
from app.engine.verbs import VerbContext, assign, evaluate, evaluate_on
from app.engine.workflow import condition_holds, lock_record, record_name, run_consequence, workflow_of
from app.spec.expressions import compile_expression
from app.spec.model import EntitySpec
from app.spec.verbs import EFFECT, EXPRESSION, FIELD, FLAG, LINKED_EXPRESSION, LINKED_TRANSITION, LINKED_VALUES, Arg, Verb, declare

PROPAGATE = declare(
    Verb(
        "propagate",
        EFFECT,
        "Acts on the record a link points to, in the same transaction, once this record is in its "
        "new state: runs one of its transitions when its state allows it (skipped when it is "
        "already there or not allowed) and/or sets its fields from expressions on this record.",
        (
            Arg("link", FIELD, types=("link",), help="The link to the record acted on, e.g. `opportunity`."),
            Arg("transition", LINKED_TRANSITION, required=False, via="link",
                help="A transition of the linked record's workflow, e.g. `win`."),
            Arg("set", LINKED_VALUES, required=False, via="link", writes=True,
                help="{field of the linked record: expression on this record}, e.g. {type: \"'client'\"}."),
            Arg("only_if", LINKED_EXPRESSION, required=False, via="link",
                help="An expression on the linked record: false, nothing is done."),
            Arg("when_all", EXPRESSION, required=False,
                help="An expression that every record of this entity linking to the same record must "
                     "satisfy (this one included), e.g. all the invoices of a quote paid."),
            Arg("strict", FLAG, required=False,
                help="true: refuse the whole transition when the linked transition is not allowed "
                     "(default false: skipped silently)."),
        ),
    )
)


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def propagate(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    ctx.then(lambda: _propagate(ctx, args))


def _all_linked_hold(ctx: VerbContext, column: str, target_id: int, source: str) -> bool:
    """Every record of this entity whose link points to `target_id` satisfies `source`."""
    store, entity = ctx.store, ctx.entity
    compiled = compile_expression(source)
    store.flush(entity)
    cls = store.rt.models.cls(entity.name)
    for row in store.session.execute(select(cls).where(getattr(cls, column) == target_id)).scalars():
        if not evaluate_on(store, entity, row, compiled):
            return False
    return True


def _propagate(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    store, entity = ctx.store, ctx.entity
    link = entity.fields[args["link"]]
    target_id = getattr(ctx.record, link.column_name)
    if target_id is None:
        return
    target_id = int(target_id)
    if args.get("when_all") and not _all_linked_hold(ctx, link.column_name, target_id, args["when_all"]):
        return
    linked_spec = store.spec.entities[link.to or ""]
    linked = lock_record(store, linked_spec, target_id, internal=True)
    if args.get("only_if"):
        compiled = compile_expression(args["only_if"])
        if not evaluate_on(store, linked_spec, linked, compiled):
            return
    if args.get("transition") and not _run_linked(ctx, linked_spec, linked, args):
        return
    values = args.get("set") or {}
    if values:
        _set_fields(ctx, linked_spec, target_id, link.label.fr, values)


def _run_linked(ctx: VerbContext, linked_spec: EntitySpec, linked: Any, args: Mapping[str, Any]) -> bool:
    """Run the linked transition if it may run; True when the record is where it leads."""
    store = ctx.store
    machine = workflow_of(store, linked_spec)
    name = str(args["transition"])
    transition = machine.spec.transitions.get(name) if machine is not None else None
    if machine is None or transition is None:  # the loader checks this; a hand-built spec may not
        raise StoreError(500, "unknown_transition", _m(f"action inconnue « {name} » sur {linked_spec.name}", f"unknown action '{name}' on {linked_spec.name}"))
    state = str(getattr(linked, machine.status_column))
    if transition.target and state == transition.target:
        return True  # already there
    allowed = ("*" in transition.sources or state in transition.sources) and condition_holds(store, machine, transition, linked)
    if not allowed:
        if args.get("strict"):
            raise StoreError(
                409,
                "propagation_refused",
                _m(
                    f"« {transition.label.fr} » impossible sur {record_name(linked)} (« {machine.state_label(state)} »),"
                    f" demandé par {record_name(ctx.record)}",
                    f"'{transition.label.en}' is not allowed on {linked_spec.label.en.lower()} {linked.id} (state '{state}'),"
                    f" asked by {ctx.entity.label.en.lower()} {ctx.record.id}",
                ),
            )
        return False
    run_consequence(store, linked_spec.name, linked.id, name)
    return True


def _set_fields(ctx: VerbContext, linked_spec: EntitySpec, target_id: int, link_label: str, values: Mapping[str, Any]) -> None:
    store = ctx.store
    linked = lock_record(store, linked_spec, target_id, internal=True)  # read again: a transition may have moved it
    for name, source in values.items():
        target = linked_spec.fields[name]
        raw = evaluate(ctx, source)
        try:
            value = parse_value(target, raw, store.spec)
        except FieldError as exc:
            raise StoreError(
                422,
                "invalid",
                _m(
                    f"{target.label.fr} ({link_label.lower()} « {linked} ») : {exc.message}",
                    f"{target.label.en} of the linked {linked_spec.label.en.lower()}: {exc.message}",
                ),
                field=name,
            ) from None
        assign(linked, target.column_name, value)
    linked.updated_by = store.principal.login
    store.recompute_record(linked_spec.name, target_id)


VERBS = {"propagate": propagate}
