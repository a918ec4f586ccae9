"""workflows.yaml and entity computes: the typed objects they load into, and every error they
report with its file, line and column."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from app.spec.loader import load_spec, load_spec_or_raise
from app.spec.model import Label, Location, Picklist, PicklistValue
from app.spec.verbs import VERBS, Arg, Verb, declare, verbs_for
from app.spec.workflow_model import ComputeSpec, EffectSpec, StateSpec, TransitionSpec, WorkflowSpec

from .conftest import MakeConfig

Q, O, W, P = "schema/quote.yaml", "schema/order.yaml", "workflows.yaml", "picklists.yaml"

QUOTE = """
    fields:
      number: {type: string}
      date: {type: date}
      company: {type: link, to: company}
      total_gross: {type: money}
      note: {type: text}
      kind: {type: choice, picklist: quote_kind}
      status: {type: status, label: {fr: Statut, en: Status}}
    children:
      lines: {entity: quote_line, via: quote}
    compute:
      - document_totals: {lines: lines}
    """

BASE: dict[str, str] = {
    "schema/company.yaml": "fields:\n  name: {type: string}\n",
    Q: QUOTE,
    "schema/quote_line.yaml": "embedded: true\nfields:\n  quote: {type: link, to: quote}\n  amount: {type: money}\n",
    O: """
        fields:
          number: {type: string}
          quote: {type: link, to: quote}
          company: {type: link, to: company}
        children:
          lines: {entity: order_line, via: order}
        """,
    "schema/order_line.yaml": "embedded: true\nfields:\n  order: {type: link, to: order}\n  amount: {type: money}\n",
    P: "quote_kind:\n  values: [{code: standard}, {code: proforma}]\n",
    "groups.yaml": "admin:\n  rights: {'*': ['*']}\nsales:\n  rights: {quote: [read, send]}\n",
}

VALID_WORKFLOWS = """
    quote:
      field: status
      initial: draft
      mutable: [note]
      states:
        draft: {label: {fr: Brouillon, en: Draft}, colour: "#6c757d"}
        sent: {label: {fr: Envoyé, en: Sent}, colour: "#206bc4", editable: false}
        accepted: {label: {fr: Accepté, en: Accepted}, editable: false, order: 4}
        refused: {label: Refusé, colour: "#d63939", final: true, order: 3}
      transitions:
        send:
          from: draft
          to: sent
          label: {fr: Envoyer, en: Send}
          groups: [sales]
          condition: "total_gross > 0 and lines"
          condition_message: {fr: Le devis est vide., en: The quote is empty.}
          confirm: {fr: "Envoyer ?", en: "Send?"}
          audit: true
          effects:
            - assign_number: {field: number, pattern: "DE{yy}{mm}-{0000}", date_field: date, series: company}
            - set: {field: date, value: "today()"}
            - set: {field: kind, value: 0}
            - log: {message: {fr: Devis envoyé, en: Quote sent}}
        accept: {from: [sent], to: accepted}
        cancel: {from: "*", to: refused}
        remind: {from: "*", effects: [{log: {message: Relance}}]}
        convert:
          from: accepted
          effects:
            - copy_to: {entity: order, link: quote, children: {lines: lines}, fields: {number: "number ~ '-C'"}}
    """


def wf(transitions: str = "", tail: str = "", *, head: str | None = None) -> str:
    """A small quote workflow; `transitions` start at line 9, `tail` right after them."""
    head = head if head is not None else "quote:\n  field: status\n  initial: draft\n"
    body = "  states:\n    draft: {}\n    sent: {final: true}\n  transitions:\n    send: {from: draft, to: sent}\n"
    return head + body + textwrap.indent(textwrap.dedent(transitions).lstrip("\n"), "    ") + tail


def effects(*items: str) -> str:
    """A transition `act` (line 9) whose effects are the given items (from line 12)."""
    return wf("act:\n  from: draft\n  effects:\n" + "".join(f"    - {item}\n" for item in items))


def quote(fields: str = "", extra: str = "") -> str:
    """schema/quote.yaml with extra field lines (from line 9) and extra top-level lines."""
    text = textwrap.dedent(QUOTE).lstrip("\n")
    lines = text.split("\n")
    at = lines.index("children:")
    added = [f"  {line}" for line in fields.strip("\n").split("\n") if line]
    return "\n".join([*lines[:at], *added, *lines[at:]]) + extra


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str]
    expected: list[tuple[str, int, int, str]]


CASES: list[Case] = [
    Case(
        "unknown-entity",
        {W: wf(tail="qoute:\n  field: status\n  initial: a\n  states: {a: {}}\n")},
        [(W, 9, 1, "unknown entity 'qoute' — did you mean 'quote'?")],
    ),
    Case(
        "field-unknown",
        {W: wf(head="quote:\n  field: stats\n  initial: draft\n")},
        [(W, 2, 10, "unknown field 'stats' of 'quote' — did you mean 'status'?")],
    ),
    Case(
        "field-not-a-status",
        {W: wf(head="quote:\n  field: number\n  initial: draft\n")},
        [(W, 2, 10, "'quote.number' is a string field: a workflow moves a field of type status")],
    ),
    Case(
        "initial-unknown",
        {W: wf(head="quote:\n  field: status\n  initial: drft\n")},
        [(W, 3, 12, "unknown state 'drft' as 'initial' — did you mean 'draft'?")],
    ),
    Case(
        "initial-missing",
        {W: wf(head="quote:\n  field: status\n  mutable: [nte]\n")},
        [
            (W, 1, 1, "missing required key 'initial' in 'quote'"),
            (W, 3, 13, "unknown field 'nte' of 'quote' in 'mutable' — did you mean 'note'?"),
        ],
    ),
    Case(
        "to-unknown-state",
        {W: wf("back: {from: draft, to: snt}")},
        [(W, 9, 29, "unknown state 'snt' in 'to' — did you mean 'sent'?")],
    ),
    Case(
        "from-unknown-state",
        {W: wf("back: {from: [draft, sen], to: draft}\nskip: {from: lost}")},
        [
            (W, 9, 26, "unknown state 'sen' in 'from' — did you mean 'sent'?"),
            (W, 10, 18, "unknown state 'lost' in 'from' (states: draft, sent)"),
        ],
    ),
    Case(
        "transition-leaves-final-state",
        {W: wf("reopen: {from: [draft, sent], to: draft}\nprint: {from: sent}")},
        [(W, 9, 28, "state 'sent' is final: no transition may leave it")],
    ),
    Case(
        "transition-named-like-a-base-right",
        {W: wf("edit: {from: draft}")},
        [(W, 9, 5, "transition name 'edit' is taken by the right of the same name")],
    ),
    Case(
        "unknown-group",
        {W: wf("approve: {from: draft, groups: [admin, sals]}")},
        [(W, 9, 44, "unknown group 'sals' — did you mean 'sales'?")],
    ),
    Case(
        "condition-syntax",
        {W: wf("approve: {from: draft, condition: 'total_gross >'}")},
        [(W, 9, 39, "invalid expression 'total_gross >': unexpected 'end of expression'")],
    ),
    Case(
        "condition-unknown-name-and-function",
        {W: wf("approve: {from: draft, condition: 'total_gros > 0 and date < today'}")},
        [
            (W, 9, 39, "'today' is a function: write 'today()'"),
            (W, 9, 39, "unknown name 'total_gros' in expression — did you mean 'total_gross'?"),
        ],
    ),
    Case(
        "state-colour",
        {W: "quote:\n  field: status\n  initial: draft\n  states:\n    draft: {colour: blue}\n  transitions: {send: {from: draft}}\n"},
        [(W, 5, 21, "expected a colour written #rrggbb (e.g. #2fb344) for 'colour', got 'blue'")],
    ),
    Case(
        "unknown-verb",
        {W: effects("asign_number: {field: number, pattern: 'DE{0000}'}")},
        [(W, 12, 11, "unknown verb 'asign_number' — did you mean 'assign_number'?")],
    ),
    Case(
        "compute-verb-as-effect",
        {W: effects("document_totals: {lines: lines}")},
        [(W, 12, 11, "verb 'document_totals' is a compute (entity `compute:`), not a transition effect")],
    ),
    Case(
        "missing-and-unknown-arguments",
        {W: effects("set: {field: note}", "log: {message: Vu, level: info}")},
        [
            (W, 12, 11, "'set' needs the argument 'value'"),
            (W, 13, 30, "unknown argument 'level' of 'log' (arguments: message)"),
        ],
    ),
    Case(
        "set-unknown-field-and-status-field",
        {W: effects("set: {field: nte, value: \"'x'\"}", "set: {field: status, value: \"'sent'\"}")},
        [
            (W, 12, 24, "unknown field 'nte' of 'quote' in 'set.field' — did you mean 'note'?"),
            (W, 13, 24, "the status field 'status' changes only by transitions (their 'to'), not by 'set.field'"),
        ],
    ),
    Case(
        "set-value-unquoted-code-and-bad-label",
        {W: effects("set: {field: kind, value: proforma}", "log: {message: 3}")},
        [
            (W, 12, 37, "unknown name 'proforma' in expression — to give the code, quote it: \"'proforma'\""),
            (W, 13, 26, "expected a label (text, or {fr: ..., en: ...}) for 'log.message', got 3"),
        ],
    ),
    Case(
        "two-verbs-in-one-item",
        {W: effects("{log: {message: a}, set: {field: note, value: 1}}")},
        [(W, 12, 11, "one verb per item: start each verb with its own '- '")],
    ),
    Case(
        "assign-number-pattern-and-argument-types",
        {W: effects("assign_number: {field: date, pattern: 'DE{yyy}', series: number, date_field: note}")},
        [
            (W, 12, 34, "'date' is a date field; 'assign_number.field' needs a string or text field"),
            (W, 12, 49, "number pattern 'DE{yyy}' needs exactly one counter such as {0000}, found 0"),
            (W, 12, 49, "unknown placeholder '{yyy}' in number pattern — did you mean '{yyyy}'?"),
            (W, 12, 68, "'number' is a string field; 'assign_number.series' needs a link field"),
            (W, 12, 88, "'note' is a text field; 'assign_number.date_field' needs a date or datetime field"),
        ],
    ),
    Case(
        "effect-when-checked-like-an-expression",
        {W: effects("set: {field: note, value: \"'x'\", when: 'kind == standrd'}", "log: {message: a, when: 'total_gross >'}", "log: {message: a, when: [1]}")},
        [
            (W, 12, 50, "unknown name 'standrd' in expression"),
            (W, 13, 35, "invalid expression 'total_gross >': unexpected 'end of expression'"),
            (W, 14, 35, "expected an expression for 'when', got a list"),
        ],
    ),
    Case(
        "assign-number-reset",
        {W: effects(
            "assign_number: {field: number, pattern: 'DE{yy}{mm}-{0000}', reset: weekly}",
            "assign_number: {field: number, pattern: 'DE-{0000}', reset: yearly}",
            "assign_number: {field: number, pattern: 'DE{yy}-{0000}', reset: monthly}",
        )},
        [
            (W, 12, 79, "unknown reset 'weekly' (use yearly, monthly, never)"),
            (W, 13, 71, "reset 'yearly' needs the year in the number pattern ({yy} or {yyyy}), or the numbers repeat"),
            (W, 14, 75, "reset 'monthly' needs the month in the number pattern ({mm}), or the numbers repeat"),
        ],
    ),
    Case(
        "effect-shapes",
        {W: effects("3", "log: hello", "Log: {message: a}", "lock")},
        [
            (W, 12, 11, "expected a verb: `{verb: {argument: value}}` or the verb's name for item 1 of 'effects', got 3"),
            (W, 13, 16, "expected the verb's arguments: a mapping (argument: value) for 'log', got 'hello'"),
            (W, 14, 11, "invalid name 'Log': expected a snake_case name"),
            (W, 15, 11, "unknown verb 'lock' (verbs: set, assign_number, log, copy_to"),  # then the business verbs
        ],
    ),
    Case(
        "from-shapes",
        {W: wf("x: {from: 3}\ny: {from: ['*']}\nz: {from: [], to: 4}")},
        [
            (W, 9, 15, "expected a state, a list of states, or \"*\" for 'from', got 3"),
            (W, 10, 16, "expected a snake_case name (lowercase letters, digits and _, starting with a letter) for item 1 of 'from', got '*'"),
            (W, 11, 9, "'from' must not be empty"),
            (W, 11, 23, "for 'to', got 4 (put it in quotes to make it text)"),
        ],
    ),
    Case(
        "copy-to-unknown-entity",
        {W: effects("copy_to: {entity: ordr, link: quote}")},
        [(W, 12, 29, "unknown entity 'ordr' — did you mean 'order'?")],
    ),
    Case(
        "copy-to-link-not-back-to-the-source",
        {W: effects("copy_to: {entity: order, link: number}", "copy_to: {entity: order, link: company}", "copy_to: {entity: order, link: quot}")},
        [
            (W, 12, 42, "'order.number' is a string field, not a link to 'quote'"),
            (W, 13, 42, "'order.company' links to 'company', not to 'quote'"),
            (W, 14, 42, "'quot' is not a field of 'order' — did you mean 'quote'?"),
        ],
    ),
    Case(
        "copy-to-children-and-fields",
        {W: effects("copy_to: {entity: order, link: quote, children: {lnes: lines, lines: items}, fields: {numbr: nmber}}")},
        [
            (W, 12, 60, "unknown child collection 'lnes' of 'order' in 'copy_to.children' — did you mean 'lines'?"),
            (W, 12, 80, "unknown child collection 'items' of 'quote' in 'copy_to.children'"),
            (W, 12, 97, "unknown field 'numbr' of 'order' in 'copy_to.fields' — did you mean 'number'?"),
            (W, 12, 104, "unknown name 'nmber' in expression — did you mean 'number'?"),
        ],
    ),
    Case(
        "status-field-without-workflow",
        {O: "fields:\n  quote: {type: link, to: quote}\n  state: {type: status}\n"},
        [(O, 3, 3, "status field 'state' needs a workflow: add 'order:' to workflows.yaml with `field: state`")],
    ),
    Case(
        "status-field-required-default-and-twice",
        {Q: quote("phase: {type: status, required: true, default: \"'a'\"}")},
        [
            (Q, 9, 3, "'quote' has one status field, 'status' (named by its workflow): make 'phase' a choice field"),
            (Q, 9, 25, "a status field takes no 'required'"),
            (Q, 9, 41, "a status field takes no 'default'"),
        ],
    ),
    Case(
        "generated-picklist-name-taken",
        {P: "quote_kind:\n  values: [{code: a}]\nquote_status:\n  values: [{code: b}]\n"},
        [(P, 3, 1, "picklist 'quote_status' is generated from the workflow of 'quote' (workflows.yaml)")],
    ),
    Case(
        "compute-unknown-verb-effect-verb-and-child",
        {Q: quote(extra="  - document_total: {lines: lines}\n  - log: {message: x}\n  - document_totals: {lines: lnes, fields: {total_net: nte}}\n")},
        [
            (Q, 13, 5, "unknown verb 'document_total' — did you mean 'document_totals'?"),
            (Q, 14, 5, "verb 'log' is a transition effect, not a compute (entity `compute:`)"),
            (Q, 15, 30, "unknown child collection 'lnes' of 'quote' in 'document_totals.lines' — did you mean 'lines'?"),
            (Q, 15, 56, "unknown field 'nte' of 'quote' in 'document_totals.fields' — did you mean 'note'?"),
        ],
    ),
    Case(
        "group-right-names-a-transition-of-another-entity",
        {"groups.yaml": "sales:\n  rights: {quote: [read, send, archive], order: [send]}\n"},
        [
            ("groups.yaml", 2, 32, "unknown action 'archive' for 'quote'"),
            ("groups.yaml", 2, 50, "unknown action 'send' for 'order'"),
        ],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_workflow(case: Case, make_config: MakeConfig) -> None:
    root = make_config({**BASE, W: wf(), **case.files})
    spec, errors = load_spec(root)
    assert spec is None
    found = [(e.location.file, e.location.line, e.location.column, e.message) for e in errors]
    assert len(found) == len(case.expected), "\n".join(str(e) for e in errors)
    for (file, line, column, message), (efile, eline, ecolumn, emessage) in zip(found, case.expected):
        assert (file, line, column) == (efile, eline, ecolumn), f"{file}:{line}:{column}: {message}"
        assert emessage in message, message


def test_base_configs_are_valid(make_config: MakeConfig) -> None:
    spec, errors = load_spec(make_config({**BASE, W: wf()}))
    assert errors == [] and spec is not None


def test_valid_workflow_builds_the_typed_objects(make_config: MakeConfig) -> None:
    spec = load_spec_or_raise(make_config({**BASE, W: VALID_WORKFLOWS}))
    workflow = spec.workflows["quote"]

    def at(line: int, column: int) -> Location:
        return Location(W, line, column)

    states = {
        "draft": StateSpec("draft", Label("Brouillon", "Draft"), "#6c757d", True, False, 1, at(6, 5)),
        "sent": StateSpec("sent", Label("Envoyé", "Sent"), "#206bc4", False, False, 2, at(7, 5)),
        "accepted": StateSpec("accepted", Label("Accepté", "Accepted"), None, False, False, 4, at(8, 5)),
        "refused": StateSpec("refused", Label("Refusé", "Refusé"), "#d63939", True, True, 3, at(9, 5)),
    }
    send = TransitionSpec(
        name="send",
        label=Label("Envoyer", "Send"),
        sources=("draft",),
        target="sent",
        groups=("sales",),
        condition="total_gross > 0 and lines",
        condition_message=Label("Le devis est vide.", "The quote is empty."),
        confirm=Label("Envoyer ?", "Send?"),
        effects=(
            EffectSpec(
                "assign_number",
                {"field": "number", "pattern": "DE{yy}{mm}-{0000}", "date_field": "date", "series": "company"},
                at(21, 11),
            ),
            EffectSpec("set", {"field": "date", "value": "today()"}, at(22, 11)),
            EffectSpec("set", {"field": "kind", "value": "0"}, at(23, 11)),
            EffectSpec("log", {"message": Label("Devis envoyé", "Quote sent")}, at(24, 11)),
        ),
        audit=True,
        location=at(11, 5),
    )
    convert = TransitionSpec(
        name="convert",
        label=Label("convert", "convert"),
        sources=("accepted",),
        target=None,
        effects=(
            EffectSpec(
                "copy_to",
                {"entity": "order", "link": "quote", "children": {"lines": "lines"}, "fields": {"number": "number ~ '-C'"}},
                at(31, 11),
            ),
        ),
        location=at(28, 5),
    )
    assert workflow == WorkflowSpec(
        entity="quote",
        field="status",
        initial="draft",
        states=states,
        transitions={
            "send": send,
            "accept": TransitionSpec("accept", Label("accept", "accept"), ("sent",), "accepted", location=at(25, 5)),
            # "*" is every non-final state; without `to`, every state
            "cancel": TransitionSpec(
                "cancel", Label("cancel", "cancel"), ("draft", "sent", "accepted"), "refused", location=at(26, 5)
            ),
            "remind": TransitionSpec(
                "remind",
                Label("remind", "remind"),
                ("draft", "sent", "accepted", "refused"),
                None,
                effects=(EffectSpec("log", {"message": Label("Relance", "Relance")}, at(27, 35)),),
                location=at(27, 5),
            ),
            "convert": convert,
        },
        mutable=("note",),
        location=at(1, 1),
    )
    assert [t.name for t in workflow.allowed_from("sent")] == ["accept", "cancel", "remind"]
    assert [t.name for t in workflow.allowed_from("refused")] == ["remind"]


def test_status_field_is_bound_to_a_generated_picklist(make_config: MakeConfig) -> None:
    spec = load_spec_or_raise(make_config({**BASE, W: VALID_WORKFLOWS}))
    status = spec.entity("quote").field("status")
    assert (status.type, status.readonly, status.picklist, status.default, status.required) == (
        "status",
        True,
        "quote_status",
        "'draft'",
        False,
    )
    assert spec.picklists["quote_status"] == Picklist(
        name="quote_status",
        label=Label("Statut", "Status"),
        values=(
            PicklistValue("draft", Label("Brouillon", "Draft"), "#6c757d", 1),
            PicklistValue("sent", Label("Envoyé", "Sent"), "#206bc4", 2),
            PicklistValue("refused", Label("Refusé", "Refusé"), "#d63939", 3),
            PicklistValue("accepted", Label("Accepté", "Accepted"), None, 4),
        ),
        location=Location(W, 1, 1),
    )
    assert "order_status" not in spec.picklists  # order has no workflow
    assert spec.groups["sales"].allows("quote", "send")


def test_computes_are_loaded(make_config: MakeConfig) -> None:
    spec = load_spec_or_raise(make_config({**BASE, W: wf()}))
    assert spec.entity("quote").computes == (
        ComputeSpec("document_totals", {"lines": "lines"}, Location(Q, 12, 5)),
    )
    assert spec.entity("order").computes == ()


def test_verb_declarations() -> None:
    # the generic verbs and the shipped business ones (a business module may declare more)
    assert set(verbs_for("effect")) >= {"set", "assign_number", "log", "copy_to", "track_lines", "refresh_lines",
                                        "due_date_from_terms", "deduct_prepaid", "check_within_credited"}
    assert set(verbs_for("compute")) >= {"document_totals", "fill_from", "line_values", "check_payment_terms", "deduct_prepaid"}
    assert "check_within_credited" not in verbs_for("compute") and "fill_from" not in verbs_for("effect")
    assert {"allocate_payment", "release_payment", "settle_invoice", "apply_credit_note", "refresh", "check_credit_limit"} <= set(verbs_for("effect"))
    assert {"outstanding"} <= set(verbs_for("compute"))
    assign = VERBS["assign_number"]
    assert (assign.required, assign.optional) == (("field", "pattern"), ("date_field", "series", "reset"))
    for verb in VERBS.values():
        schema = verb.json_schema()
        Draft202012Validator.check_schema(schema)
        assert set(schema["properties"]) == {a.name for a in verb.args}
    assert Draft202012Validator(VERBS["copy_to"].json_schema()).is_valid(
        {"entity": "order", "link": "quote", "children": {"lines": "lines"}}
    )
    with pytest.raises(ValueError, match="declared twice"):
        declare(Verb("set", ("effect",), "another set", (Arg("field", "field"),)))


def test_documented_example_loads(make_config: MakeConfig) -> None:
    """The example of docs/workflows.md, on entities that have its fields, loads."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "workflows.md").read_text(encoding="utf-8")
    example = re.findall(r"```yaml\n(.*?)```", doc, flags=re.S)[0]
    files = {
        **BASE,
        Q: quote("validated_on: {type: date}\nfollow_up_note: {type: text}"),
        W: example,
        "groups.yaml": "admin:\n  rights: {'*': ['*']}\nsales:\n  rights: {quote: [read, validate]}\n",
    }
    spec, errors = load_spec(make_config(files))
    assert errors == [] and spec is not None
    assert list(spec.workflows["quote"].transitions) == ["validate", "convert_to_order"]


def test_bulk_is_an_optional_boolean(make_config: MakeConfig) -> None:
    spec = load_spec_or_raise(make_config({**BASE, W: wf("archive: {from: draft, bulk: true}\nprint: {from: draft, bulk: false}")}))
    transitions = spec.workflows["quote"].transitions
    assert [(name, t.bulk) for name, t in transitions.items()] == [("send", False), ("archive", True), ("print", False)]
    _, errors = load_spec(make_config({**BASE, W: wf("archive: {from: draft, bulk: 1}\nprint: {from: draft, bulk: oui}")}))
    found = [(e.location.file, e.location.line, e.location.column, e.message) for e in errors]
    assert found == [
        (W, 9, 34, "expected a boolean for 'bulk', got 1"),
        (W, 10, 32, "expected a boolean for 'bulk', got 'oui' (write true or false)"),
    ]


def test_the_shipped_configuration_offers_validating_and_sending_documents_in_bulk() -> None:
    spec = load_spec_or_raise(Path(__file__).resolve().parents[2])
    bulk = sorted((name, t.name) for name, w in spec.workflows.items() for t in w.transitions.values() if t.bulk)
    assert bulk == [("invoice", "send"), ("invoice", "validate"), ("quote", "send"), ("quote", "validate")]


def test_effect_when_is_kept_beside_the_arguments(make_config: MakeConfig) -> None:
    files = {**BASE, W: effects("log: {message: a, when: \"kind == 'proforma'\"}", "assign_number: {field: number, pattern: 'DE{yy}{mm}-{0000}', reset: monthly}")}
    spec = load_spec_or_raise(make_config(files))
    logged, numbered = spec.workflows["quote"].transitions["act"].effects
    assert (logged.when, dict(logged.args)) == ("kind == 'proforma'", {"message": Label("a", "a")})
    assert (numbered.when, numbered.args["reset"]) == (None, "monthly")


def test_when_is_for_effects_and_percent_names_a_percent_field(make_config: MakeConfig) -> None:
    files = {**BASE, W: wf(), Q: quote(extra="  - document_totals: {lines: lines, percent: note, when: 'true'}\n")}
    spec, errors = load_spec(make_config(files))
    messages = [e.message for e in errors]
    assert spec is None
    assert any("unknown argument 'when' of 'document_totals'" in m for m in messages), messages
    assert any("'note' is a text field; 'document_totals.percent' needs a percent field" in m for m in messages), messages
