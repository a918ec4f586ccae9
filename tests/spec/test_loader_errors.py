"""Broken configurations: each case is a tiny config folder and the errors it must produce.

A case replaces or adds files of BASE (a valid config) and lists every expected error as
(file, line, column, part of the message); no other error may be reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.spec.loader import load_spec

from .conftest import MakeConfig

BASE: dict[str, str] = {
    "schema/account.yaml": """
        label: {fr: Tiers, en: Account}
        title: name
        fields:
          name: {type: string, required: true}
          type: {type: choice, picklist: account_type}
        """,
    "picklists.yaml": """
        account_type:
          values:
            - {code: prospect}
            - {code: client}
        """,
}

# A second entity for cases about links and children.
ADDRESS = """
    embedded: true
    fields:
      account: {type: link, to: account, required: true}
      position: {type: integer}
      city: {type: string}
    """


def account(fields: str, extra: str = "") -> str:
    """schema/account.yaml with the given field lines (8 spaces of indent) after `name`."""
    return (
        "title: name\n"
        "fields:\n"
        "  name: {type: string, required: true}\n"
        + "".join(f"  {line}\n" for line in fields.strip("\n").split("\n") if line)
        + extra
    )


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str]
    expected: list[tuple[str, int, int, str]]


A = "schema/account.yaml"

CASES: list[Case] = [
    Case(
        "yaml-syntax",
        {A: "fields:\n  name: {type: string\n  other: 1\n"},
        [(A, 3, 8, "YAML syntax error: expected ',' or '}'")],
    ),
    Case(
        "yaml-tab",
        {A: "fields:\n\tname: {type: string}\n"},
        [(A, 2, 1, "YAML syntax error: found a tab character (indent with spaces)")],
    ),
    Case(
        "unknown-key-suggestion",
        {A: account("code: {type: string, lenght: 20}")},
        [(A, 4, 24, "unknown key 'lenght' — did you mean 'length'?")],
    ),
    Case(
        "unknown-top-level-key",
        {A: account("", "lsit: {columns: [name]}\n")},
        [(A, 4, 1, "unknown key 'lsit' — did you mean 'list'?")],
    ),
    Case(
        "boolean-expected",
        {A: account("code:\n    type: string\n    required: yes please")},
        [(A, 6, 17, "expected a boolean for 'required', got 'yes please'")],
    ),
    Case(
        "missing-type",
        {A: account("code: {label: Code}")},
        [(A, 4, 3, "missing required key 'type' in 'code'")],
    ),
    Case(
        "invalid-field-name",
        {A: account("Code: {type: string}")},
        [(A, 4, 3, "invalid name 'Code': expected a snake_case name")],
    ),
    Case(
        "unknown-field-type",
        {A: account("due: {type: datee}")},
        [(A, 4, 15, "unknown field type 'datee' — did you mean 'date'?")],
    ),
    Case(
        "link-unknown-entity",
        {A: account("parent: {type: link, to: acount}")},
        [(A, 4, 28, "unknown entity 'acount' — did you mean 'account'?")],
    ),
    Case(
        "link-without-to",
        {A: account("parent: {type: link}")},
        [(A, 4, 3, "link field 'parent' needs 'to'")],
    ),
    Case(
        "choice-without-picklist",
        {A: account("level: {type: choice}")},
        [(A, 4, 3, "choice field 'level' needs 'picklist'")],
    ),
    Case(
        "unknown-picklist",
        {A: account("level: {type: choice, picklist: acount_type}")},
        [(A, 4, 35, "unknown picklist 'acount_type' — did you mean 'account_type'?")],
    ),
    Case(
        "duplicate-field",
        {A: account("city: {type: string}\nname: {type: text}")},
        [(A, 5, 3, "duplicate key 'name' (first given at line 3)")],
    ),
    Case(
        "duplicate-key-in-picklists",
        {"picklists.yaml": "account_type:\n  label: Niveau\n  label: Level\n  values: [{code: a}]\n"},
        [("picklists.yaml", 3, 3, "duplicate key 'label'")],
    ),
    Case(
        "duplicate-picklist-code",
        {"picklists.yaml": "account_type:\n  values:\n    - {code: prospect}\n    - {code: client}\n    - {code: prospect}\n"},
        [("picklists.yaml", 5, 14, "duplicate code 'prospect' in picklist 'account_type' (first given at line 3)")],
    ),
    Case(
        "picklist-colour",
        {"picklists.yaml": "account_type:\n  values:\n    - {code: prospect, colour: green}\n"},
        [("picklists.yaml", 3, 32, "expected a colour written #rrggbb (e.g. #2fb344) for 'colour', got 'green'")],
    ),
    Case(
        "builtin-picklist-name",
        {"picklists.yaml": "account_type:\n  values: [{code: a}]\nuser_kind:\n  values: [{code: a}]\n"},
        [("picklists.yaml", 3, 1, "picklist 'user_kind' is built in")],
    ),
    Case(
        "system-column",
        {A: account("created_at: {type: datetime}")},
        [(A, 4, 3, "field name 'created_at' is reserved")],
    ),
    Case(
        "link-column-collision",
        {A: account("parent: {type: link, to: account}\nparent_id: {type: integer}")},
        [(A, 5, 3, "field 'parent_id' collides with the column of link 'parent'")],
    ),
    Case(
        "unknown-title",
        {A: "title: nme\nfields:\n  name: {type: string}\n"},
        [(A, 1, 8, "unknown field 'nme' in 'title' — did you mean 'name'?")],
    ),
    Case(
        "unknown-list-column",
        {A: account("city: {type: string}", "list:\n  columns: [name, ctiy]\n")},
        [(A, 6, 19, "unknown field 'ctiy' in 'list.columns' — did you mean 'city'?")],
    ),
    Case(
        "unknown-list-filter-search-sort",
        {A: account("city: {type: string}", "list:\n  filters: [town]\n  search: [id]\n  sort: -nme\n")},
        [
            (A, 6, 13, "unknown field 'town' in 'list.filters'"),
            (A, 7, 12, "unknown field 'id' in 'list.search'"),
            (A, 8, 9, "unknown field 'nme' in 'list.sort' — did you mean 'name'?"),
        ],
    ),
    Case(
        "password-listed",
        {A: account("secret: {type: password}", "list: {columns: [name, secret]}\n")},
        [(A, 5, 24, "password field 'secret' cannot be used in 'list.columns'")],
    ),
    Case(
        "unknown-form-field",
        {A: account("city: {type: string}", "form:\n  tabs:\n    - label: Main\n      fields: [name, cty]\n")},
        [(A, 8, 22, "unknown field 'cty' in form tabs — did you mean 'city'?")],
    ),
    Case(
        "form-sections-and-tabs",
        {A: account("", "form:\n  sections: [{label: A, fields: [name]}]\n  tabs: [{label: B, fields: [name]}]\n")},
        [(A, 4, 1, "a form has either 'sections' or 'tabs', not both")],
    ),
    Case(
        "numbering-unknown-field",
        {A: account("code: {type: string}", "numbering:\n  - {field: cod, pattern: 'C{0000}'}\n")},
        [(A, 6, 13, "unknown field 'cod' in numbering — did you mean 'code'?")],
    ),
    Case(
        "numbering-bad-placeholder",
        {A: account("code: {type: string}", "numbering:\n  - field: code\n    pattern: 'CU{yyy}-{0000}'\n")},
        [(A, 7, 14, "unknown placeholder '{yyy}' in numbering pattern — did you mean '{yyyy}'?")],
    ),
    Case(
        "numbering-no-counter",
        {A: account("code: {type: string}", "numbering:\n  - field: code\n    pattern: 'CU{yy}'\n")},
        [(A, 7, 14, "has no counter such as {0000}")],
    ),
    Case(
        "children-unknown-entity",
        {
            A: account("", "children:\n  addresses: {entity: account_adress, via: account}\n"),
            "schema/account_address.yaml": ADDRESS,
        },
        [(A, 5, 23, "unknown entity 'account_adress' — did you mean 'account_address'?")],
    ),
    Case(
        "children-via-not-a-link",
        {
            A: account("", "children:\n  addresses: {entity: account_address, via: city}\n"),
            "schema/account_address.yaml": ADDRESS,
        },
        [(A, 5, 45, "'account_address.city' is a string field, not a link to 'account'")],
    ),
    Case(
        "children-via-unknown-and-order-by",
        {
            A: account("", "children:\n  addresses:\n    entity: account_address\n    via: acount\n    order_by: postion\n"),
            "schema/account_address.yaml": ADDRESS,
        },
        [
            (A, 7, 10, "'acount' is not a field of 'account_address' — did you mean 'account'?"),
            (A, 8, 15, "unknown field 'postion' of 'account_address' in 'order_by' — did you mean 'position'?"),
        ],
    ),
    Case(
        "children-via-links-elsewhere",
        {
            A: account("", "children:\n  notes: {entity: note, via: author}\n"),
            "schema/note.yaml": "fields:\n  author: {type: link, to: user}\n",
        },
        [(A, 5, 30, "'note.author' links to 'user', not to 'account'")],
    ),
    Case(
        "default-syntax-error",
        {A: account("due: {type: date, default: 'today() +'}")},
        [(A, 4, 30, "invalid expression 'today() +': unexpected 'end of expression'")],
    ),
    Case(
        "default-unknown-name",
        {A: account("due: {type: date, default: 'todya() + days(3)'}")},
        [(A, 4, 30, "unknown name 'todya' in expression — did you mean 'today'?")],
    ),
    Case(
        "default-function-without-parentheses",
        {A: account("due: {type: date, default: today}")},
        [(A, 4, 30, "'today' is a function: write 'today()'")],
    ),
    Case(
        "default-unquoted-code",
        {A: account("level: {type: choice, picklist: account_type, default: client}")},
        [(A, 4, 58, "unknown name 'client' in expression — to give the code, quote it: \"'client'\"")],
    ),
    Case(
        "default-not-a-code",
        {A: account("level: {type: choice, picklist: account_type, default: \"'clent'\"}")},
        [(A, 4, 58, "default 'clent' is not a code of picklist 'account_type' — did you mean 'client'?")],
    ),
    Case(
        "default-list-for-choice",
        {A: account("level: {type: choice, picklist: account_type, default: \"['client']\"}")},
        [(A, 4, 58, "the default of a choice field is one code of picklist 'account_type', got a list")],
    ),
    Case(
        "bounds-length-scale-on-wrong-types",
        {A: account("city: {type: string, min: 1}\ncount: {type: integer, length: 5}\ntotal: {type: money, scale: 3}")},
        [
            (A, 4, 24, "'min' does not apply to a string field"),
            (A, 5, 26, "'length' does not apply to a integer field"),
            (A, 6, 24, "'scale' does not apply to a money field"),
        ],
    ),
    Case(
        "bounds-bad-date-and-order",
        {A: account("due: {type: date, min: 31/12/2024}\nqty: {type: integer, min: 10, max: 5}")},
        [
            (A, 4, 26, "expected an ISO date (2024-01-31) for 'min' of a date field, got '31/12/2024'"),
            (A, 5, 38, "'max' (5) is below 'min' (10)"),
        ],
    ),
    Case(
        "required-self-link-cycle",
        {A: account("parent: {type: link, to: account, required: true}")},
        [(A, 4, 3, "required links form a cycle: account.parent → account;")],
    ),
    Case(
        "required-link-cycle-three-entities",
        {
            "schema/a.yaml": "fields:\n  b: {type: link, to: b, required: true}\n",
            "schema/b.yaml": "fields:\n  c: {type: link, to: c, required: true}\n  a: {type: link, to: a}\n",
            "schema/c.yaml": "fields:\n  x: {type: string}\n  a: {type: link, to: a, required: true}\n",
        },
        [
            ("schema/a.yaml", 2, 3, "cycle: a.b → b.c → c.a → a;"),
            ("schema/b.yaml", 2, 3, "cycle: b.c → c.a → a.b → b;"),
            ("schema/c.yaml", 3, 3, "cycle: c.a → a.b → b.c → c;"),
        ],
    ),
    Case(
        "group-unknown-entity-and-action",
        {"groups.yaml": "sales:\n  rights:\n    acount: [read]\n    account: [read, edti]\n"},
        [
            ("groups.yaml", 3, 5, "unknown entity 'acount' — did you mean 'account'?"),
            ("groups.yaml", 4, 21, "unknown action 'edti' for 'account' — did you mean 'edit'?"),
        ],
    ),
    Case(
        "group-transition-not-declared",
        {
            "groups.yaml": "sales:\n  rights:\n    account: [read, validate, archive]\n",
            A: account("status: {type: status}"),
            "workflows.yaml": (
                "account:\n  field: status\n  initial: draft\n  states: {draft: {}, valid: {}}\n"
                "  transitions:\n    validate: {from: draft, to: valid}\n"
            ),
        },
        [("groups.yaml", 3, 31, "unknown action 'archive' for 'account'")],
    ),
    Case(
        "builtin-user-redefined",
        {"schema/user.yaml": "fields:\n  login: {type: string}\n"},
        [("schema/user.yaml", 1, 1, "entity 'user' is built in and cannot be redefined")],
    ),
    Case(
        "empty-entity-file",
        {"schema/empty.yaml": "# nothing yet\n"},
        [("schema/empty.yaml", 1, 1, "the file is empty: an entity needs at least 'fields'")],
    ),
    Case(
        "label-wrong-shape",
        {A: "label: {fr: Tiers, de: Konto}\nplural: 3\nfields:\n  name: {type: string}\n"},
        [
            (A, 1, 20, "unknown key 'de' (allowed: fr, en)"),
            (A, 2, 9, "expected a label: text, or {fr: ..., en: ...} for 'plural', got 3"),
        ],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_config(case: Case, make_config: MakeConfig) -> None:
    root = make_config({**BASE, **case.files})
    spec, errors = load_spec(root)
    assert spec is None
    found = [(e.location.file, e.location.line, e.location.column, e.message) for e in errors]
    assert len(found) == len(case.expected), "\n".join(str(e) for e in errors)
    for (file, line, column, message), (efile, eline, ecolumn, emessage) in zip(found, case.expected):
        assert (file, line, column) == (efile, eline, ecolumn), f"{file}:{line}:{column}: {message}"
        assert emessage in message


def test_many_errors_in_many_files_are_all_reported(make_config: MakeConfig) -> None:
    root = make_config(
        {
            "schema/account.yaml": "fields:\n  name: {type: strng}\n  owner: {type: link, to: usr}\n",
            "schema/quote.yaml": "fields:\n  date: {type: date, default: 'tody()'}\nlist: {columns: [dat]}\n",
            "picklists.yaml": "kind:\n  values:\n    - {code: a, colour: blue}\n",
            "groups.yaml": "sales:\n  rights: {quotes: [read]}\n",
            "workflows.yaml": "quote: [unclosed\n",
        }
    )
    spec, errors = load_spec(root)
    assert spec is None
    assert [(e.location.file, e.location.line) for e in errors] == [
        ("groups.yaml", 2, ),
        ("picklists.yaml", 3),
        ("schema/account.yaml", 2),
        ("schema/account.yaml", 3),
        ("schema/quote.yaml", 2),
        ("schema/quote.yaml", 3),
        ("workflows.yaml", 2),
    ]
    messages = [e.message for e in errors]
    assert "unknown entity 'quotes' — did you mean 'quote'?" in messages[0]
    assert "did you mean 'string'?" in messages[2]
    assert "did you mean 'user'?" in messages[3]
    assert "did you mean 'today'?" in messages[4]
    assert "did you mean 'date'?" in messages[5]
    assert messages[6].startswith("YAML syntax error")
