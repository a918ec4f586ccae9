"""`list.colours` and `list.saved_filters`: broken configurations and their file:line:col
errors, and the condition trees a `where` translates to."""

from __future__ import annotations

import pytest

from app.spec.list_rules import And, Compare, ConditionError, Const, InList, IsNone, Me, Not, Or, Today, Truth, parse_condition
from app.spec.loader import load_spec

from .conftest import MakeConfig

A = "schema/account.yaml"
FILES = {
    "picklists.yaml": """
        account_type:
          values:
            - {code: prospect}
            - {code: client}
        """,
}


def account(list_section: str) -> str:
    return (
        "title: name\n"
        "fields:\n"
        "  name: {type: string, required: true}\n"
        "  type: {type: choice, picklist: account_type}\n"
        "  since: {type: date}\n"
        "  owner: {type: link, to: user}\n"
        "  secret: {type: password}\n"
        "list:\n" + list_section
    )


CASES = [
    (
        "colour-bad-hex",
        "  colours:\n    - {when: \"type == 'client'\", colour: grey}\n",
        [(A, 10, 42, "a colour written #rrggbb")],
    ),
    (
        "colour-unknown-field",
        "  colours:\n    - {when: \"typ == 'client'\", colour: \"#adb5bd\"}\n",
        [(A, 10, 14, "unknown field 'typ' in expression — did you mean 'type'?")],
    ),
    (
        "colour-syntax",
        "  colours:\n    - {when: \"type == \", colour: \"#adb5bd\"}\n",
        [(A, 10, 14, "invalid expression 'type == '")],
    ),
    (
        "colour-missing-when",
        "  colours:\n    - {colour: \"#adb5bd\"}\n",
        [(A, 10, 7, "'when'")],
    ),
    (
        "colour-unknown-code",
        "  colours:\n    - {when: \"type == 'clent'\", colour: \"#adb5bd\"}\n",
        [(A, 10, 14, "'clent' is not a code of 'type' — did you mean 'client'?")],
    ),
    (
        "where-unknown-field",
        "  saved_filters:\n    mine:\n      label: Mes comptes\n      where: \"ownr == me()\"\n",
        [(A, 12, 14, "unknown field 'ownr' in expression — did you mean 'owner'?")],
    ),
    (
        "where-outside-subset",
        "  saved_filters:\n    mine:\n      label: Mes comptes\n      where: \"name | length > 3\"\n",
        [(A, 12, 14, "'name | length > 3' (a field alone is needed on one side) cannot run in SQL in a 'where'")],
    ),
    (
        "where-arithmetic-on-field",
        "  saved_filters:\n    old:\n      label: Anciens\n      where: \"since + days(30) < today()\"\n",
        [(A, 12, 14, "cannot run in SQL")],
    ),
    (
        "where-unknown-code",
        "  saved_filters:\n    clients:\n      label: Clients\n      where: \"type in ['client', 'prospet']\"\n",
        [(A, 12, 14, "'prospet' is not a code of 'type' — did you mean 'prospect'?")],
    ),
    (
        "where-bad-date",
        "  saved_filters:\n    old:\n      label: Anciens\n      where: \"since < '2024-13-01' or since > 3\"\n",
        [(A, 12, 14, "'since' is a date: compare it with today() ± days(n) or an ISO date such as '2024-01-31', not '2024-13-01'"),
         (A, 12, 14, "not 3")],
    ),
    (
        "where-uncalled-today",
        "  saved_filters:\n    old:\n      label: Anciens\n      where: \"since < today\"\n",
        [(A, 12, 14, "'today' is a function: write 'today()'")],
    ),
    (
        "saved-filter-columns-and-sort",
        "  saved_filters:\n    all:\n      label: Tous\n      columns: [name, nmae]\n      sort: -sinse\n",
        [(A, 12, 23, "unknown field 'nmae' in 'list.saved_filters.all.columns' — did you mean 'name'?"),
         (A, 13, 13, "unknown field 'sinse' in 'list.saved_filters.all.sort' — did you mean 'since'?")],
    ),
    (
        "saved-filter-password-column",
        "  saved_filters:\n    all:\n      label: Tous\n      columns: [name, secret]\n",
        [(A, 12, 23, "password field 'secret' cannot be used")],
    ),
    (
        "saved-filter-without-label",
        "  saved_filters:\n    all:\n      where: \"type == 'client'\"\n",
        [(A, 10, 5, "'label'")],
    ),
    (
        "saved-filter-bad-name",
        "  saved_filters:\n    Mes-Comptes:\n      label: Mes comptes\n",
        [(A, 10, 5, "snake_case")],
    ),
]


@pytest.mark.parametrize(("list_section", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_list_rules(list_section: str, expected: list[tuple[str, int, int, str]], make_config: MakeConfig) -> None:
    root = make_config({**FILES, A: account(list_section)})
    spec, errors = load_spec(root)
    assert spec is None
    found = [(e.location.file, e.location.line, e.location.column, e.message) for e in errors]
    assert len(found) == len(expected), "\n".join(str(e) for e in errors)
    for (file, line, column, message), (efile, eline, ecolumn, emessage) in zip(found, expected):
        assert (file, line, column) == (efile, eline, ecolumn), f"{file}:{line}:{column}: {message}"
        assert emessage in message, message


def test_valid_rules_are_read_in_order(make_config: MakeConfig) -> None:
    section = (
        "  colours:\n"
        "    - {when: \"type == 'prospect'\", colour: \"#ADB5BD\", label: {fr: Prospect, en: Prospect}}\n"
        "    - {when: \"owner == me()\", colour: \"#206bc4\"}\n"
        "  saved_filters:\n"
        "    mine:\n"
        "      label: {fr: Mes clients, en: My clients}\n"
        "      where: \"owner == me() and type == 'client'\"\n"
        "      columns: [name, since]\n"
        "      sort: -since\n"
    )
    spec, errors = load_spec(make_config({**FILES, A: account(section)}))
    assert errors == [] and spec is not None
    rules = spec.entities["account"].list
    assert [(r.when, r.colour, r.label.fr if r.label else None) for r in rules.colours] == [
        ("type == 'prospect'", "#adb5bd", "Prospect"),
        ("owner == me()", "#206bc4", None),
    ]
    (mine,) = rules.saved_filters
    assert (mine.name, mine.label.fr, mine.columns, mine.sort) == ("mine", "Mes clients", ("name", "since"), "-since")
    assert mine.condition == And((Compare("owner", "eq", Me()), Compare("type", "eq", Const("client"))))


FIELDS = {"name", "type", "since", "owner", "active", "amount"}


@pytest.mark.parametrize(
    ("source", "tree"),
    [
        ("type == 'client'", Compare("type", "eq", Const("client"))),
        ("'client' != type", Compare("type", "ne", Const("client"))),
        ("since < today()", Compare("since", "lt", Today())),
        ("today() - days(7) <= since", Compare("since", "gteq", Today(days=-7))),
        ("since > today() + months(2)", Compare("since", "gt", Today(months=2))),
        ("amount >= -1.5", Compare("amount", "gteq", Const(-1.5))),
        ("type not in ['a', 'b']", InList("type", ("a", "b"), negated=True)),
        ("type in ('a',)", InList("type", ("a",))),
        ("since is none", IsNone("since")),
        ("since is not none", IsNone("since", negated=True)),
        ("since == none", IsNone("since")),
        ("active", Truth("active")),
        ("not active or owner == me()", Or((Not(Truth("active")), Compare("owner", "eq", Me())))),
        ("0 < amount < 10", And((Compare("amount", "gt", Const(0)), Compare("amount", "lt", Const(10))))),
        ("type == 'a' and since < today() and active", And((Compare("type", "eq", Const("a")), Compare("since", "lt", Today()), Truth("active")))),
    ],
)
def test_where_translates_to_a_condition_tree(source: str, tree: object) -> None:
    assert parse_condition(source, FIELDS.__contains__) == tree


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("name | upper == 'A'", "cannot run in SQL"),
        ("since + days(1) < today()", "cannot run in SQL"),
        ("since < today() + days(n)", "whole number"),
        ("type in other", "list of constants"),
        ("1 == 1", "a field alone is needed"),
        ("since < none", "use 'is none'"),
        ("since is defined", "'is defined'"),
        ("user.id == owner", "cannot run in SQL"),
        ("nope == 1", "unknown field 'nope'"),
        ("type ==", "invalid expression"),
    ],
)
def test_where_outside_the_subset_is_refused(source: str, message: str) -> None:
    with pytest.raises(ConditionError, match=None) as caught:
        parse_condition(source, FIELDS.__contains__)
    assert message in str(caught.value)
