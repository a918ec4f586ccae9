"""Field rules of the YAML language: `frozen`, a link's `match`, and the compute `fill_from`.

Each broken case replaces or adds lines of a small valid config and lists every expected error
as (file, line, column, part of the message); no other error may be reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.spec.loader import load_spec, load_spec_or_raise
from app.spec.model import Location
from app.spec.workflow_model import ComputeSpec

from .conftest import MakeConfig

D = "schema/doc.yaml"

BASE: dict[str, str] = {
    "schema/account.yaml": """
        title: name
        fields:
          name: {type: string, required: true, length: 200}
          address: {type: text}
          city: {type: string, length: 100}
          vat_number: {type: vat_number}
          payment_mode: {type: choice, picklist: payment_mode}
          terms_code: {type: choice, picklist: terms_code}
          manager: {type: link, to: user}
        """,
    "schema/contact.yaml": """
        title: last_name
        fields:
          account: {type: link, to: account, required: true}
          last_name: {type: string}
          currency: {type: choice, picklist: currency}
        """,
    "picklists.yaml": """
        currency:
          values: [{code: eur}, {code: usd}]
        payment_mode:
          values: [{code: transfer}, {code: cheque}]
        terms_code:
          values: [{code: net30}]
        """,
}


def doc(fields: str = "", compute: str = "") -> str:
    """schema/doc.yaml: lines 1-9 are fixed, `fields` lines start at line 10 (indent 2), then
    `compute:` items (indent 2) when given."""
    text = (
        "title: ref\n"
        "fields:\n"
        "  ref: {type: string}\n"
        "  account: {type: link, to: account}\n"
        "  currency: {type: choice, picklist: currency}\n"
        "  billing_address: {type: text}\n"
        "  billing_city: {type: string}\n"
        "  payment_mode: {type: choice, picklist: payment_mode}\n"
        "  sales_rep: {type: link, to: user}\n"
        + "".join(f"  {line}\n" for line in fields.strip("\n").split("\n") if line)
    )
    if compute:
        text += "compute:\n" + "".join(f"  {line}\n" for line in compute.strip("\n").split("\n"))
    return text


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str]
    expected: list[tuple[str, int, int, str]]


CASES: list[Case] = [
    Case(
        "frozen-not-a-boolean",
        {D: doc("code: {type: string, frozen: 'true'}")},
        [(D, 10, 32, "expected a boolean for 'frozen', got 'true'")],
    ),
    Case(
        "frozen-password",
        {D: doc("secret: {type: password, frozen: true}")},
        [(D, 10, 28, "'frozen' does not apply to a password field")],
    ),
    Case(
        "match-on-a-string-field",
        {D: doc("code: {type: string, match: {account: account}}")},
        [(D, 10, 24, "'match' only applies to link fields, not to a string field")],
    ),
    Case(
        "match-not-a-mapping",
        {D: doc("contact: {type: link, to: contact, match: [account]}")},
        [(D, 10, 45, "expected a mapping")],
    ),
    Case(
        "match-unknown-own-field",
        {D: doc("contact: {type: link, to: contact, match: {account: acount}}")},
        [(D, 10, 55, "unknown field 'acount' of 'doc' in 'match' of 'contact' — did you mean 'account'?")],
    ),
    Case(
        "match-unknown-field-of-the-linked-entity",
        {D: doc("contact: {type: link, to: contact, match: {acount: account}}")},
        [(D, 10, 46, "unknown field 'acount' of 'contact' in 'match' of 'contact' — did you mean 'account'?")],
    ),
    Case(
        "match-links-to-other-entities",
        {D: doc("contact: {type: link, to: contact, match: {account: sales_rep}}")},
        [
            (
                D,
                10,
                55,
                "'doc.sales_rep' is a link to 'user' but 'contact.account' is a link to 'account': "
                "'match' compares fields of the same type",
            )
        ],
    ),
    Case(
        "match-choices-of-other-picklists",
        {D: doc("contact: {type: link, to: contact, match: {currency: payment_mode}}")},
        [
            (
                D,
                10,
                56,
                "'doc.payment_mode' is a choice field of picklist 'payment_mode' but 'contact.currency' "
                "is a choice field of picklist 'currency'",
            )
        ],
    ),
    Case(
        "match-several-errors-in-one-mapping",
        {
            D: doc(
                "contact:\n    type: link\n    to: contact\n    match:\n      acount: account\n      currency: curency"
            )
        },
        [
            (D, 14, 9, "unknown field 'acount' of 'contact' in 'match' of 'contact'"),
            (D, 15, 19, "unknown field 'curency' of 'doc' in 'match' of 'contact' — did you mean 'currency'?"),
        ],
    ),
    Case(
        "fill-from-unknown-link",
        {D: doc(compute="- fill_from: {link: acount, fields: {billing_city: cty}}")},
        [(D, 11, 23, "unknown field 'acount' of 'doc' in 'fill_from.link' — did you mean 'account'?")],
    ),
    Case(
        "fill-from-link-is-not-a-link",
        {D: doc(compute="- fill_from: {link: ref, fields: {billing_city: city}}")},
        [(D, 11, 23, "'ref' is a string field; 'fill_from.link' needs a link field")],
    ),
    Case(
        "fill-from-missing-fields",
        {D: doc(compute="- fill_from: {link: account}")},
        [(D, 11, 5, "'fill_from' needs the argument 'fields'")],
    ),
    Case(
        "fill-from-unknown-own-field",
        {D: doc(compute="- fill_from: {link: account, fields: {biling_city: city}}")},
        [(D, 11, 41, "unknown field 'biling_city' of 'doc' in 'fill_from.fields' — did you mean 'billing_city'?")],
    ),
    Case(
        "fill-from-unknown-field-of-the-linked-entity",
        {D: doc(compute="- fill_from: {link: account, fields: {billing_city: cty}}")},
        [(D, 11, 55, "unknown field 'cty' of 'account' in 'fill_from.fields' — did you mean 'city'?")],
    ),
    Case(
        "fill-from-string-from-text",
        {D: doc(compute="- fill_from: {link: account, fields: {billing_city: address}}")},
        [
            (
                D,
                11,
                55,
                "'doc.billing_city' is a string field but 'account.address' is a text field: "
                "'fill_from.fields' copies between fields of the same type",
            )
        ],
    ),
    Case(
        "fill-from-choice-of-another-picklist-and-link-from-choice",
        {
            D: doc(
                "terms: {type: link, to: account}",
                "- fill_from:\n      link: account\n      fields:\n        payment_mode: terms_code\n        terms: terms_code",
            )
        },
        [
            (D, 15, 25, "'doc.payment_mode' is a choice field of picklist 'payment_mode' but 'account.terms_code'"),
            (D, 16, 18, "'doc.terms' is a link to 'account' but 'account.terms_code' is a choice field"),
        ],
    ),
    Case(
        "fill-from-not-a-mapping-and-not-a-name",
        {D: doc(compute="- fill_from: {link: account, fields: {billing_city: [city]}}\n- fill_from: {link: account, fields: city}")},
        [
            (D, 11, 55, "expected a field name for 'billing_city' in 'fill_from.fields', got a list"),
            (D, 12, 40, "expected a mapping for 'fill_from.fields', got 'city'"),
        ],
    ),
    Case(
        "fill-from-is-a-compute-not-an-effect",
        {
            D: doc("status: {type: status}"),
            "workflows.yaml": """
                doc:
                  field: status
                  initial: draft
                  states: {draft: {}, done: {}}
                  transitions:
                    close: {from: draft, to: done, effects: [{fill_from: {link: account, fields: {billing_city: city}}}]}
                """,
        },
        [("workflows.yaml", 6, 47, "verb 'fill_from' is a compute (entity `compute:`), not a transition effect")],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_field_rule(case: Case, make_config: MakeConfig) -> None:
    root = make_config({**BASE, D: doc(), **case.files})
    spec, errors = load_spec(root)
    assert spec is None
    found = [(e.location.file, e.location.line, e.location.column, e.message) for e in errors]
    assert len(found) == len(case.expected), "\n".join(str(e) for e in errors)
    for (file, line, column, message), (efile, eline, ecolumn, emessage) in zip(found, case.expected):
        assert (file, line, column) == (efile, eline, ecolumn), f"{file}:{line}:{column}: {message}"
        assert emessage in message, message


VALID = doc(
    "contact: {type: link, to: contact, match: {account: account, currency: currency}}\n"
    "their_vat: {type: vat_number, frozen: true}\n"
    "rep: {type: link, to: user}",
    "- fill_from:\n"
    "      link: account\n"
    "      fields: {billing_address: address, billing_city: city, their_vat: vat_number, payment_mode: payment_mode, rep: manager}\n"
    "- fill_from: {link: contact, fields: {currency: currency}}",
)


def test_valid_rules_build_the_typed_objects(make_config: MakeConfig) -> None:
    spec = load_spec_or_raise(make_config({**BASE, D: VALID}))
    entity = spec.entity("doc")
    assert dict(entity.field("contact").match) == {"account": "account", "currency": "currency"}
    assert entity.field("their_vat").frozen and not entity.field("currency").frozen
    assert dict(entity.field("account").match) == {}
    assert entity.computes == (
        ComputeSpec(
            "fill_from",
            {
                "link": "account",
                "fields": {
                    "billing_address": "address",  # a text field may take a string
                    "billing_city": "city",
                    "their_vat": "vat_number",
                    "payment_mode": "payment_mode",
                    "rep": "manager",
                },
            },
            Location(D, 14, 5),
        ),
        ComputeSpec("fill_from", {"link": "contact", "fields": {"currency": "currency"}}, Location(D, 17, 5)),
    )
    hash(entity.field("contact"))  # field specs stay hashable with their `match` mapping


def test_shipped_documents_use_the_rules() -> None:
    """The sales documents freeze their currency, company and client, check that the contact
    belongs to the client, and fill the client's details."""
    from pathlib import Path

    spec = load_spec_or_raise(Path(__file__).resolve().parents[2])
    for name in ("quote", "order", "delivery", "invoice"):
        entity = spec.entity(name)
        assert [f for f in ("currency", "company", "account") if entity.field(f).frozen] == [
            "currency",
            "company",
            "account",
        ], name
        assert dict(entity.field("contact").match) == {"account": "account"}, name
        fills = {c.args["link"]: dict(c.args["fields"]) for c in entity.computes if c.verb == "fill_from"}
        assert fills["account"]["billing_city"] == "city", name


def test_linked_fields_argument_needs_its_link_argument() -> None:
    from app.spec.verbs import COMPUTE, FIELD, LINKED_FIELDS, VERBS, Arg, Verb, declare

    for args in [
        (Arg("fields", LINKED_FIELDS),),
        (Arg("link", FIELD), Arg("fields", LINKED_FIELDS, via="link")),  # any field, not a link
    ]:
        with pytest.raises(ValueError, match="needs `via`: an argument naming a link field"):
            declare(Verb("fill_wrongly", COMPUTE, "A broken declaration.", args))
    assert "fill_wrongly" not in VERBS
    assert VERBS["fill_from"].arg("fields") == Arg(
        "fields", LINKED_FIELDS, writes=True, via="link", help=VERBS["fill_from"].args[1].help
    )
