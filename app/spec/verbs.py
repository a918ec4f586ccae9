"""Declarations of the verbs YAML may name: transition effects (workflows.yaml) and computes
(`compute:` of an entity). Only what the loader checks lives here — names, arguments and what
each argument refers to; the engine registers the implementations under the same names.

Adding a verb is one entry in `_DECLARED` below, e.g.

    Verb("set", EFFECT, "Sets a field.", (Arg("field", FIELD, writes=True), Arg("value", EXPRESSION))),

and `comptoir check` then reports, with file:line:col, an unknown verb, a missing or unknown
argument, a field or entity that does not exist, a bad expression or numbering pattern.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

VerbKind = Literal["effect", "compute"]
EFFECT: tuple[VerbKind, ...] = ("effect",)  # a step of a transition (workflows.yaml `effects`)
COMPUTE: tuple[VerbKind, ...] = ("compute",)  # run on every save of the entity (`compute:`)

# What an argument's value is, hence how the loader checks it:
ArgKind = Literal[
    "field",  # a field of the entity (optionally of given types)
    "child",  # a child collection of the entity (`children:`)
    "entity",  # an entity name: the "target" of the other target_* arguments
    "target_link",  # a link field of the target entity pointing to this entity
    "target_children",  # {child collection of the target: child collection of this entity}
    "target_fields",  # {field of the target: expression on this record}
    "field_map",  # {name of the verb's choosing: field of the entity}
    "linked_fields",  # {field of the entity: field of the record its `via` link argument points to}
    "child_field",  # a field of the rows of the child collection its `via` argument names
    "field_list",  # a list of fields of the entity (optionally of given types)
    "expression",  # an expression on the record (app.spec.expressions)
    "label",  # {fr, en} or one text for both
    "pattern",  # a numbering pattern such as `FA{yy}{mm}-{0000}`
    "reset",  # when a numbering counter restarts: yearly, monthly or never (checked against `pattern`)
    "text",  # any text
    # Line-level arguments: names and expressions on a line entity, the `scope` (see SCOPES)
    "scoped_field",  # a field of the scope's entity (optionally of given types, linking to `to`)
    "scoped_expression",  # an expression on a record of the scope's entity
    "scoped_fields",  # {field of the `key_scope` entity: expression on a record of the scope}
    "scoped_transition",  # a transition of the workflow of the scope's entity
    "flag",  # true or false
    "linked_field",  # a field of the entity its `via` link argument points to
    "linked_expression",  # an expression on a record of the entity its `via` link argument points to
    "linked_transition",  # a transition of the workflow of the entity its `via` link argument points to
    "transition",  # a transition of the entity's own workflow
    "target_field",  # a field of the target entity (its `via`: the ENTITY argument, if several)
    "target_expression",  # an expression on a record of the target entity
    "target_states",  # states (one name or a list) of the target entity's workflow
    "linked_values",  # {field of the entity its `via` link argument points to: expression on this record}
]
FIELD: ArgKind = "field"
CHILD: ArgKind = "child"
ENTITY: ArgKind = "entity"
TARGET_LINK: ArgKind = "target_link"
TARGET_CHILDREN: ArgKind = "target_children"
TARGET_FIELDS: ArgKind = "target_fields"
FIELD_MAP: ArgKind = "field_map"
LINKED_FIELDS: ArgKind = "linked_fields"
CHILD_FIELD: ArgKind = "child_field"
FIELD_LIST: ArgKind = "field_list"
EXPRESSION: ArgKind = "expression"
LABEL: ArgKind = "label"
PATTERN: ArgKind = "pattern"
RESET: ArgKind = "reset"
TEXT: ArgKind = "text"
SCOPED_FIELD: ArgKind = "scoped_field"
SCOPED_EXPRESSION: ArgKind = "scoped_expression"
SCOPED_FIELDS: ArgKind = "scoped_fields"
SCOPED_TRANSITION: ArgKind = "scoped_transition"

# The entities a scoped argument refers to, resolved from the verb's other arguments:
SCOPES: Mapping[str, str] = {
    "line": "the line entity: our child rows of `children` (copy_to) or of the CHILD argument",
    "target_line": "the new record's line entity of each `children` pair (copy_to)",
    "source_line": "the entity the line's `source` link (a scoped link field of `line`) points to",
    "source_document": "the entity whose child collection holds the `source_line` rows",
}
FLAG: ArgKind = "flag"
LINKED_FIELD: ArgKind = "linked_field"
LINKED_EXPRESSION: ArgKind = "linked_expression"
LINKED_TRANSITION: ArgKind = "linked_transition"
TRANSITION: ArgKind = "transition"
TARGET_FIELD: ArgKind = "target_field"
TARGET_EXPRESSION: ArgKind = "target_expression"
TARGET_STATES: ArgKind = "target_states"
LINKED_VALUES: ArgKind = "linked_values"
# kinds naming a transition or a state: checked once every workflow is built (app/spec/workflows.py)
WORKFLOW_KINDS: tuple[ArgKind, ...] = (LINKED_TRANSITION, TRANSITION, TARGET_STATES)

_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
_LABEL = {
    "anyOf": [
        {"type": "string", "minLength": 1},
        {"type": "object", "properties": {"fr": {"type": "string"}, "en": {"type": "string"}}, "minProperties": 1},
    ]
}
_EXPRESSION = {"type": ["string", "number", "boolean"]}
# JSON Schema of each kind of value (for editors and the API documentation).
ARG_SCHEMAS: Mapping[ArgKind, Mapping[str, Any]] = {
    "field": _NAME,
    "child": _NAME,
    "entity": _NAME,
    "target_link": _NAME,
    "target_children": {"type": "object", "propertyNames": _NAME, "additionalProperties": _NAME},
    "target_fields": {"type": "object", "propertyNames": _NAME, "additionalProperties": _EXPRESSION},
    "field_map": {"type": "object", "propertyNames": _NAME, "additionalProperties": _NAME},
    "linked_fields": {"type": "object", "propertyNames": _NAME, "additionalProperties": _NAME},
    "child_field": _NAME,
    "field_list": {"type": "array", "items": _NAME, "minItems": 1},
    "expression": _EXPRESSION,
    "label": _LABEL,
    "pattern": {"type": "string", "minLength": 1},
    "reset": {"type": "string", "enum": ["yearly", "monthly", "never"]},
    "text": {"type": "string"},
    "scoped_field": _NAME,
    "scoped_expression": _EXPRESSION,
    "scoped_fields": {"type": "object", "propertyNames": _NAME, "additionalProperties": _EXPRESSION},
    "scoped_transition": _NAME,
    "flag": {"type": "boolean"},
    "linked_field": _NAME,
    "linked_expression": _EXPRESSION,
    "linked_transition": _NAME,
    "transition": _NAME,
    "target_field": _NAME,
    "target_expression": _EXPRESSION,
    "target_states": {"anyOf": [_NAME, {"type": "array", "items": _NAME, "minItems": 1}]},
    "linked_values": {"type": "object", "propertyNames": _NAME, "additionalProperties": _EXPRESSION},
}


@dataclass(frozen=True)
class Arg:
    name: str
    kind: ArgKind
    required: bool = True
    types: tuple[str, ...] = ()  # for FIELD / FIELD_MAP / FIELD_LIST / CHILD_FIELD: the field types accepted (empty: any)
    writes: bool = False  # for FIELD (and LINKED_FIELDS keys): the verb writes it, so not the status field
    # LINKED_*: the argument naming the link field (a FIELD of types ("link",)); CHILD_FIELD: the
    # CHILD argument; TARGET_*: the ENTITY argument (optional when the verb has only one)
    via: str = ""
    of: str = ""  # the argument (a CHILD) whose rows' entity this FIELD / LINKED_FIELDS argument names
    scope: str = ""  # for SCOPED_* kinds: the entity (a key of SCOPES) named or read
    key_scope: str = ""  # for SCOPED_FIELDS: the entity whose fields are the keys
    to: str = ""  # for SCOPED_FIELD links: the scope the link must point to
    help: str = ""

    def json_schema(self) -> dict[str, Any]:
        schema = dict(ARG_SCHEMAS[self.kind])
        if self.help:
            schema["description"] = self.help
        return schema


@dataclass(frozen=True)
class Verb:
    name: str
    kinds: tuple[VerbKind, ...]  # where YAML may use it
    help: str
    args: tuple[Arg, ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.args if a.required)

    @property
    def optional(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.args if not a.required)

    def arg(self, name: str) -> Arg | None:
        return next((a for a in self.args if a.name == name), None)

    def json_schema(self) -> dict[str, Any]:
        """JSON Schema of the verb's argument mapping."""
        return {
            "type": "object",
            "description": self.help,
            "required": list(self.required),
            "additionalProperties": False,
            "properties": {a.name: a.json_schema() for a in self.args},
        }


_DECLARED: tuple[Verb, ...] = (
    Verb(
        "set",
        EFFECT,
        "Sets a field of the record to the value of an expression.",
        (
            Arg("field", FIELD, writes=True, help="The field to set (not the status field)."),
            Arg("value", EXPRESSION, help="An expression on the record, e.g. `today()`."),
        ),
    ),
    Verb(
        "assign_number",
        EFFECT,
        "Gives the definitive number from a counter row locked for update: no gap, no duplicate.",
        (
            Arg("field", FIELD, types=("string", "text"), writes=True, help="The string field receiving the number."),
            Arg("pattern", PATTERN, help="e.g. `FA{yy}{mm}-{0000}`: {yyyy} {yy} {mm} {dd} and one counter {0000}."),
            Arg("date_field", FIELD, required=False, types=("date", "datetime"),
                help="The date numbered; a date before the last numbered one of the series is refused."),
            Arg("series", FIELD, required=False, types=("link",),
                help="A link field (e.g. `company`): one counter per linked record."),
            Arg("reset", RESET, required=False,
                help="When the counter restarts: `yearly`, `monthly` or `never`; by default `yearly` when "
                     "the pattern shows the year, else `never` ({mm} alone does not restart monthly)."),
        ),
    ),
    Verb(
        "log",
        EFFECT,
        "Records an entry in the record's log.",
        (Arg("message", LABEL, help="{fr, en}."),),
    ),
    Verb(
        "copy_to",
        EFFECT,
        "Creates a record of another entity copying same-named fields and child rows; links both ways.",
        (
            Arg("entity", ENTITY, help="The entity of the new record."),
            Arg("link", TARGET_LINK, help="The link field of the new record pointing back to this one."),
            Arg("children", TARGET_CHILDREN, required=False, help="{their_collection: our_collection}."),
            Arg("fields", TARGET_FIELDS, required=False, help="{their_field: expression on this record}."),
            Arg("line_link", SCOPED_FIELD, required=False, types=("link",), scope="target_line", to="line",
                help="The field of each new line pointing to the line it was copied from, e.g. `order_line`."),
            Arg("line_fields", SCOPED_FIELDS, required=False, scope="line", key_scope="target_line",
                help="{their line field: expression on the source line}, e.g. {quantity: \"quantity - qty_delivered\"}."),
            Arg("lines_when", SCOPED_EXPRESSION, required=False, scope="line",
                help="An expression on the source line: false skips the line (nothing left to deliver)."),
            Arg("keep_lines", SCOPED_EXPRESSION, required=False, scope="line",
                help="An expression on the source line: true copies the line whatever `lines_when` says "
                     "(comment lines, repeated on each partial copy); such lines alone make no copy."),
        ),
    ),
    Verb(
        "track_lines",
        EFFECT,
        "Carries the record's lines over to the lines they were copied from (quantities delivered "
        "or invoiced, progress billed), refusing to exceed a limit; optionally runs a transition "
        "of the source document once every one of its lines is complete.",
        (
            Arg("lines", CHILD, help="The child collection holding our lines."),
            Arg("source", SCOPED_FIELD, types=("link",), scope="line",
                help="The link field of our line pointing to the source line, e.g. `order_line`."),
            Arg("add", SCOPED_FIELDS, required=False, scope="line", key_scope="source_line",
                help="{source line field: expression on our line} added to it, e.g. {qty_delivered: quantity}."),
            Arg("subtract", SCOPED_FIELDS, required=False, scope="line", key_scope="source_line",
                help="{source line field: expression on our line} subtracted from it (cancellation)."),
            Arg("raise_to", SCOPED_FIELDS, required=False, scope="line", key_scope="source_line",
                help="{source line field: expression on our line} it takes, never lower than it was "
                     "(cumulative progress)."),
            Arg("at_most", SCOPED_FIELDS, required=False, scope="source_line", key_scope="source_line",
                help="{source line field: expression on the source line}: a greater value is refused, "
                     "e.g. {qty_delivered: quantity}."),
            Arg("complete", SCOPED_EXPRESSION, required=False, scope="source_line",
                help="An expression on a source line: true when nothing is left to do on it."),
            Arg("then", SCOPED_TRANSITION, required=False, scope="source_document",
                help="A transition of the source document, run (as a consequence) when `complete` "
                     "holds for all its lines and its state allows it, e.g. `close`."),
            Arg("reopen", SCOPED_TRANSITION, required=False, scope="source_document",
                help="A transition of the source document, run (as a consequence) when `complete` held "
                     "for all its lines before this change and no longer does, e.g. `reopen` after a "
                     "credit note or a cancelled delivery."),
        ),
    ),
    Verb(
        "fill_from",
        COMPUTE,
        "Fills the empty fields of the record from the record a link points to (e.g. the billing "
        "address from the client); a field that has a value is left as it is.",
        (
            Arg("link", FIELD, types=("link",), help="The link field, e.g. `account`."),
            Arg("fields", LINKED_FIELDS, writes=True, via="link",
                help="{our_field: field of the linked record}, e.g. {billing_city: city}: same types "
                     "(links to the same entity; a text field may take a string)."),
        ),
    ),
    Verb(
        "document_totals",
        COMPUTE,
        "Computes a document's totals (EN 16931 rounding) from its lines.",
        (
            Arg("lines", CHILD, help="The child collection holding the lines."),
            Arg("fields", FIELD_MAP, required=False,
                help="{total name: field of the document} when the fields are not named as the totals."),
            Arg("percent", FIELD, required=False, types=("percent",),
                help="A percent field of the document (e.g. `deposit_percent`): when it has a value p, "
                     "each line bills 0 → p % of its amount (a deposit invoice)."),
            Arg("amount", FIELD, required=False, types=("money",),
                help="A money field of the document (e.g. `deposit_amount`): when it has a value, the "
                     "lines bill together exactly that net amount, shared in proportion to their nets "
                     "(a deposit of a fixed amount); refused together with `percent`."),
        ),
    ),
    Verb(
        "line_values",
        COMPUTE,
        "Writes fields of each line from expressions on the line, e.g. the quantity left to deliver.",
        (
            Arg("lines", CHILD, help="The child collection holding the lines."),
            Arg("fields", SCOPED_FIELDS, scope="line", key_scope="line",
                help="{line field: expression on the line}, e.g. {qty_remaining: \"quantity - qty_delivered\"}."),
        ),
    ),
)

_DECLARED += (
    Verb(
        "refresh_lines",
        EFFECT,
        "Synchronises a draft's lines with the catalogue: each line linked to a record (e.g. a "
        "product) takes again that record's current fields (price, VAT rate, description…); "
        "free and comment lines are left as they are. The document's computes then run again.",
        (
            Arg("lines", CHILD, help="The child collection holding the lines, e.g. `lines`."),
            Arg("link", FIELD, types=("link",), of="lines", help="The link of a line to the catalogue, e.g. `product`."),
            Arg("fields", LINKED_FIELDS, writes=True, via="link", of="lines",
                help="{line field: field of the linked record}, e.g. {unit_price: sale_price}."),
        ),
    ),
    Verb(
        "check_payment_terms",
        COMPUTE,
        "Refuses a payment terms template whose rows do not total 100 % (or have a negative "
        "percentage or number of days), naming the faulty row.",
        (Arg("rows", CHILD, help="The child collection of the instalments, e.g. `rows`."),),
    ),
    Verb(
        "due_date_from_terms",
        EFFECT,
        "Sets an empty due date from the document's payment terms: the date of the last "
        "instalment (the balance), computed from the document date (and delivery date).",
        (
            Arg("field", FIELD, types=("date",), writes=True, help="The due date field, e.g. `due_date`."),
            Arg("terms", FIELD, types=("link",), help="The link to the payment terms, e.g. `payment_terms`."),
            Arg("date", FIELD, types=("date",), help="The document date, e.g. `date`."),
            Arg("delivery_date", FIELD, required=False, types=("date",),
                help="The delivery date, for instalments counted from the delivery."),
        ),
    ),
)

_DECLARED += (
    Verb(
        "deduct_prepaid",
        COMPUTE + EFFECT,
        "Deducts the records already billed in advance (deposit invoices) sharing one of the `match` "
        "links: one child row per deducted record, their sum in `total`. As a compute it fills the "
        "rows of an editable record; as an effect it refuses when the rows are no longer right.",
        (
            Arg("rows", CHILD, help="The child collection receiving one row per deducted record."),
            Arg("link", CHILD_FIELD, via="rows", types=("link",),
                help="The field of a row pointing to the deducted record (a record of this entity)."),
            Arg("amount", CHILD_FIELD, via="rows", types=("money", "decimal"),
                help="The field of a row receiving the amount deducted."),
            Arg("label", CHILD_FIELD, via="rows", required=False, types=("string", "text"),
                help="The field of a row receiving its text, e.g. « Acompte AC2611-0001 »."),
            Arg("text", LABEL, required=False,
                help="The first words of a row's text, before the deducted record's title "
                     "(default: the entity's label), e.g. {fr: Acompte, en: Deposit}."),
            Arg("value", FIELD, types=("money", "decimal"),
                help="The field of the deducted record giving the amount, e.g. `total_gross`."),
            Arg("total", FIELD, types=("money", "decimal"), writes=True,
                help="The field of this record receiving the sum, e.g. `deposits_deducted`."),
            Arg("match", FIELD_LIST, types=("link",),
                help="Link fields, e.g. [order, quote]: a candidate shares one of them with this record."),
            Arg("deduct", EXPRESSION,
                help="Which records are deducted (on each candidate, also in a locked state), e.g. "
                     "\"kind == 'deposit' and status != 'cancelled'\"."),
            Arg("applies", EXPRESSION, required=False,
                help="Which records deduct (on this record; a locked record holding a row still counts "
                     "while it is true), e.g. \"kind == 'standard' and status != 'cancelled'\"."),
        ),
    ),
    Verb(
        "check_within_credited",
        EFFECT,
        "Refuses a correcting record (credit note) that would take more than its corrected record: "
        "the locked ones already made plus this one, in amount and, per line, in quantity.",
        (
            Arg("link", FIELD, types=("link",), help="The link to the corrected record, e.g. `credited_invoice`."),
            Arg("amount", FIELD, types=("money", "decimal"),
                help="The amount compared, on both records, e.g. `total_gross`."),
            Arg("counts", EXPRESSION, required=False,
                help="Which other locked correcting records count, e.g. \"status != 'cancelled'\"."),
            Arg("lines", CHILD, required=False, help="The lines, e.g. `lines`."),
            Arg("line_link", CHILD_FIELD, via="lines", required=False, types=("link",),
                help="The field of a line pointing to the corrected line, e.g. `credited_line`."),
            Arg("quantity", CHILD_FIELD, via="lines", required=False, types=("decimal", "integer", "money"),
                help="The quantity compared per line, e.g. `quantity`."),
        ),
    ),
)

_DECLARED += (
    # --- payments (app/verbs/payments.py, app/verbs/outstanding.py) ---------------------------
    Verb(
        "allocate_payment",
        EFFECT,
        "Records a payment against invoices: checks each allocation (invoice payable, same "
        "client, not above its remaining due, total not above the payment), then settles them.",
        (
            Arg("account", FIELD, types=("link",), help="The payment's client."),
            Arg("amount", FIELD, types=("money",), help="The payment's amount."),
            Arg("invoice", FIELD, types=("link",), help="The one invoice paid, when there are no allocations."),
            Arg("allocations", CHILD, help="The child collection of {invoice, amount} rows."),
            Arg("allocation_invoice", CHILD_FIELD, types=("link",), via="allocations", help="Their link to the invoice."),
            Arg("allocation_amount", CHILD_FIELD, types=("money",), via="allocations", help="Their amount."),
            Arg("unallocated", FIELD, required=False, types=("money",), writes=True,
                help="Receives what is left unallocated: a credit of the client."),
            Arg("invoice_account", LINKED_FIELD, types=("link",), via="invoice", help="The invoice's client."),
            Arg("due", LINKED_FIELD, types=("money",), via="invoice", help="The invoice's amount due."),
            Arg("paid", LINKED_FIELD, types=("money",), via="invoice", help="The invoice's amount paid."),
            Arg("payable", LINKED_EXPRESSION, via="invoice",
                help="An expression on the invoice: false refuses the allocation (draft, cancelled, credit note)."),
            Arg("settle", LINKED_TRANSITION, via="invoice",
                help="The invoice transition run afterwards (internally) to recompute what is paid."),
        ),
    ),
    Verb(
        "release_payment",
        EFFECT,
        "Settles again, once the payment has left its state, the invoices it was allocated to.",
        (
            Arg("invoice", FIELD, types=("link",), help="The one invoice paid, when there are no allocations."),
            Arg("allocations", CHILD, help="The child collection of {invoice, amount} rows."),
            Arg("allocation_invoice", CHILD_FIELD, types=("link",), via="allocations", help="Their link to the invoice."),
            Arg("settle", LINKED_TRANSITION, via="invoice", help="The invoice transition run for each invoice."),
        ),
    ),
    Verb(
        "settle_invoice",
        EFFECT,
        "Recomputes from scratch what is paid on the record (allocations of counted payments, "
        "credit notes applied) and its remaining due; its status follows by its own transitions.",
        (
            Arg("due", FIELD, types=("money",), help="The amount due."),
            Arg("paid", FIELD, types=("money",), writes=True, help="The amount paid (a `mutable` field)."),
            Arg("remaining", FIELD, required=False, types=("money",), writes=True, help="due - paid (`mutable`)."),
            Arg("allocations", ENTITY, help="The entity of the allocation rows, e.g. payment_allocation."),
            Arg("allocation_link", TARGET_LINK, via="allocations", help="Their link to this entity."),
            Arg("allocation_amount", TARGET_FIELD, types=("money",), via="allocations", help="Their amount."),
            Arg("payments", ENTITY, help="The entity the allocation rows are children of, e.g. payment."),
            Arg("counted", TARGET_STATES, via="payments", help="The payment states whose allocations count."),
            Arg("payment_date", TARGET_FIELD, required=False, types=("date",), via="payments",
                help="The payments' date, e.g. `date`: with `paid_on`, the day the invoice was paid in full."),
            Arg("paid_on", FIELD, required=False, types=("date",), writes=True,
                help="Receives the date of the last counted payment once paid in full, else empty (`mutable`)."),
            Arg("credits", FIELD, required=False, types=("link",),
                help="The link of a credit note to the invoice it credits: their applied amounts count."),
            Arg("credit_note", EXPRESSION, required=False,
                help="True on a credit note: its `paid` is what was applied; payments never pay it."),
            Arg("mark_partially_paid", TRANSITION, help="Run when 0 < paid < due."),
            Arg("mark_paid", TRANSITION, help="Run when paid >= due."),
            Arg("mark_unpaid", TRANSITION, help="Run when nothing is paid."),
        ),
    ),
    Verb(
        "apply_credit_note",
        EFFECT,
        "Applies a credit note to the invoice it credits: at most both remaining amounts; the rest "
        "of the credit note stays a credit of the client. Both are settled afterwards.",
        (
            Arg("credited", FIELD, types=("link",), help="The link to the credited invoice."),
            Arg("due", FIELD, types=("money",), help="The amount due (of both)."),
            Arg("paid", FIELD, types=("money",), writes=True, help="The amount paid / applied (of both)."),
            Arg("settle", LINKED_TRANSITION, via="credited", help="The transition run on both afterwards."),
        ),
    ),
    Verb(
        "refresh",
        EFFECT,
        "Runs again the computes of the record a link points to (e.g. the client's outstanding), "
        "once the transition has moved this record to its new state.",
        (Arg("link", FIELD, types=("link",), help="The link field, e.g. `account`."),),
    ),
    Verb(
        "outstanding",
        COMPUTE,
        "The amount a client owes, from scratch: the signed remaining due of its open invoices, "
        "minus the unallocated part of its counted payments.",
        (
            Arg("field", FIELD, types=("money",), writes=True, help="The field receiving it."),
            Arg("invoices", ENTITY, help="The invoice entity."),
            Arg("invoice_link", TARGET_LINK, via="invoices", help="The invoices' link to this record."),
            Arg("remaining", TARGET_FIELD, types=("money",), via="invoices", help="Their remaining due."),
            Arg("open", TARGET_EXPRESSION, via="invoices", help="True on the invoices that count (not draft, cancelled, written off)."),
            Arg("negative", TARGET_EXPRESSION, required=False, via="invoices", help="True on credit notes: counted negative."),
            Arg("payments", ENTITY, required=False, help="The payment entity."),
            Arg("payment_link", TARGET_LINK, required=False, via="payments", help="The payments' link to this record."),
            Arg("unallocated", TARGET_FIELD, required=False, types=("money",), via="payments", help="Their unallocated amount."),
            Arg("counted", TARGET_EXPRESSION, required=False, via="payments", help="True on the payments that count (recorded)."),
        ),
    ),
    Verb(
        "check_credit_limit",
        EFFECT,
        "Compares the client's outstanding plus this document's amount with its credit limit: a "
        "warning to the user, or a refusal with `block: true`.",
        (
            Arg("account", FIELD, types=("link",), help="The client."),
            Arg("amount", FIELD, types=("money",), help="The document's amount, e.g. total_gross."),
            Arg("limit", LINKED_FIELD, types=("money",), via="account", help="The client's credit limit (empty: none)."),
            Arg("outstanding", LINKED_FIELD, types=("money",), via="account", help="The client's outstanding."),
            Arg("block", FLAG, required=False, help="true: refuse instead of warning (default false)."),
        ),
    ),
)

VERBS: dict[str, Verb] = {}


def declare(verb: Verb) -> Verb:
    """Add a declaration (business modules may call it at import time); names are unique."""
    if verb.name in VERBS and VERBS[verb.name] != verb:
        raise ValueError(f"verb '{verb.name}' is declared twice")
    if len({a.name for a in verb.args}) != len(verb.args):
        raise ValueError(f"verb '{verb.name}' declares an argument twice")
    for a in verb.args:
        link = verb.arg(a.via) if a.via else None
        if a.kind in ("linked_fields", "linked_field", "linked_expression", "linked_transition", "linked_values") and (link is None or link.kind != "field" or link.types != ("link",)):
            raise ValueError(f"argument '{a.name}' of verb '{verb.name}' needs `via`: an argument naming a link field")
        rows = verb.arg(a.of) if a.of else None
        if a.of and (rows is None or rows.kind != "child"):
            raise ValueError(f"argument '{a.name}' of verb '{verb.name}': `of` must name a child argument")
        for scope in (a.scope, a.key_scope, a.to):
            if scope and scope not in SCOPES:
                raise ValueError(f"argument '{a.name}' of verb '{verb.name}': unknown scope '{scope}'")
        if a.kind.startswith("scoped_") and not a.scope:
            raise ValueError(f"argument '{a.name}' of verb '{verb.name}' needs a `scope`")
        if a.kind == "child_field" and (link is None or link.kind != "child"):
            raise ValueError(f"argument '{a.name}' of verb '{verb.name}' needs `via`: an argument naming a child collection")
    VERBS[verb.name] = verb
    return verb


def verbs_for(kind: VerbKind) -> dict[str, Verb]:
    return {name: v for name, v in VERBS.items() if kind in v.kinds}


for _verb in _DECLARED:
    declare(_verb)
