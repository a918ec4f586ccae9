"""Automation rules run on every save (`compute:` of an entity): `compute_field`.

    compute:
      # a computed date: the quote is valid 30 days from its date, unless typed
      - compute_field: {field: validity_date, value: "date + days(30)", when: "date", only_if_empty: true}
      # a default by condition
      - compute_field: {field: next_step_date, value: "today() + days(7)", when: "next_step != 'none'", only_if_empty: true}

The field takes the expression's value on every save — when `when` (an expression on the
record) is true, and, with `only_if_empty: true`, only while the field is empty (a value typed
by the user stays). A locked record (workflow state not editable) is left as it is, but for its
`mutable` fields. Copying a field from a linked record (the account's sales rep) is `fill_from`
(app/verbs/fill.py).
"""

from __future__ import annotations

from typing import Any, Mapping

from app.engine.fieldtypes import FieldError, parse_value
from app.engine.store import StoreError
from app.engine.verbs import VerbContext, assign, evaluate
from app.engine.workflow import machine_of
from app.spec.expressions import ExpressionError
from app.spec.verbs import COMPUTE, EXPRESSION, FIELD, FLAG, Arg, Verb, declare

COMPUTE_FIELD = declare(
    Verb(
        "compute_field",
        COMPUTE,
        "Sets a field from an expression on every save: a computed field or date, a default by "
        "condition (`when`), or a value proposed while the field is empty (`only_if_empty`).",
        (
            Arg("field", FIELD, writes=True, help="The field written (not the status field)."),
            Arg("value", EXPRESSION, help="An expression on the record, e.g. \"date + days(30)\"."),
            Arg("when", EXPRESSION, required=False, help="An expression on the record: false leaves the field as it is."),
            Arg("only_if_empty", FLAG, required=False,
                help="true: only while the field is empty, so that a value typed by the user stays (default false)."),
        ),
    )
)


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def compute_field(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    entity, obj = ctx.entity, ctx.record
    target = entity.fields[args["field"]]
    if args.get("only_if_empty") and not _empty(getattr(obj, target.column_name)):
        return
    machine = machine_of(obj)
    if machine is not None and machine.locked(getattr(obj, machine.status_column)) and target.column_name not in machine.mutable_columns:
        return
    try:
        if args.get("when") and not evaluate(ctx, args["when"]):
            return
        raw = evaluate(ctx, args["value"])
    except (ExpressionError, TypeError, ValueError, ArithmeticError) as exc:
        raise StoreError(
            422,
            "invalid",
            _m(f"{target.label.fr} : calcul impossible ({exc})", f"{target.label.en}: cannot be computed ({exc})"),
            field=target.name,
        ) from None
    try:
        value = parse_value(target, raw, ctx.store.spec)
    except FieldError as exc:
        raise StoreError(422, "invalid", _m(f"{target.label.fr} : {exc.message}", f"{target.label.en}: {exc.message}"), field=target.name) from None
    assign(obj, target.column_name, value)


VERBS = {"compute_field": compute_field}
