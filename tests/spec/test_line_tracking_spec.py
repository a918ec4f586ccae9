"""The line-level arguments of copy_to (`line_link`, `line_fields`, `lines_when`), the verbs
`track_lines` and `line_values`, and `collection.field` entries of `mutable`: what they load
into, and every error they report with its file, line and column."""

from __future__ import annotations

import textwrap

import pytest

from app.spec.loader import load_spec, load_spec_or_raise

from .conftest import MakeConfig

W = "workflows.yaml"

FILES: dict[str, str] = {
    "schema/company.yaml": "fields:\n  name: {type: string}\n",
    "schema/quote.yaml": """
        fields:
          number: {type: string}
          status: {type: status}
        children:
          lines: {entity: quote_line, via: quote}
        """,
    "schema/quote_line.yaml": """
        embedded: true
        fields:
          quote: {type: link, to: quote}
          kind: {type: string}
          quantity: {type: decimal, scale: 4}
          progress_invoiced: {type: percent, readonly: true}
        """,
    "schema/order.yaml": """
        fields:
          number: {type: string}
          quote: {type: link, to: quote}
          status: {type: status}
        children:
          lines: {entity: order_line, via: order}
        compute:
          - line_values: {lines: lines, fields: {qty_remaining: "quantity - qty_delivered"}}
        """,
    "schema/order_line.yaml": """
        embedded: true
        fields:
          order: {type: link, to: order}
          quote_line: {type: link, to: quote_line, readonly: true}
          quantity: {type: decimal, scale: 4}
          qty_delivered: {type: decimal, scale: 4, readonly: true}
          qty_remaining: {type: decimal, scale: 4, readonly: true}
          amount: {type: money}
        """,
    "groups.yaml": "admin:\n  rights: {'*': ['*']}\n",
}

QUOTE_WORKFLOW = """
    quote:
      field: status
      initial: draft
      mutable: [lines.progress_invoiced]
      states:
        draft: {}
        done: {editable: false}
      transitions:
        close: {from: [draft], to: done}
        convert_to_order:
          from: [draft]
          effects:
            - copy_to:
                entity: order
                link: quote
                children: {lines: lines}
                line_link: quote_line
                line_fields: {quantity: "quantity * 2"}
                lines_when: "kind != 'comment'"
    """

ORDER_WORKFLOW = """
    order:
      field: status
      initial: draft
      states:
        draft: {}
        validated: {}
      transitions:
        validate:
          from: [draft]
          to: validated
          effects:
            - track_lines:
                lines: lines
                source: quote_line
                raise_to: {progress_invoiced: "100"}
                at_most: {progress_invoiced: "100"}
                complete: "progress_invoiced >= 100"
                then: close
    """


def _workflows(quote: str = QUOTE_WORKFLOW, order: str = ORDER_WORKFLOW) -> str:
    return textwrap.dedent(quote).lstrip("\n") + textwrap.dedent(order).lstrip("\n")


def test_line_arguments_load(make_config: MakeConfig) -> None:
    spec = load_spec_or_raise(make_config({**FILES, W: _workflows()}))
    copy = spec.workflows["quote"].transitions["convert_to_order"].effects[0]
    assert copy.args["line_link"] == "quote_line"
    assert copy.args["line_fields"] == {"quantity": "quantity * 2"}
    assert copy.args["lines_when"] == "kind != 'comment'"
    track = spec.workflows["order"].transitions["validate"].effects[0]
    assert track.verb == "track_lines"
    assert track.args["then"] == "close" and track.args["raise_to"] == {"progress_invoiced": "100"}
    assert spec.workflows["quote"].mutable == ("lines.progress_invoiced",)
    assert spec.entity("order").computes[0].args["fields"] == {"qty_remaining": "quantity - qty_delivered"}


def _errors(make_config: MakeConfig, files: dict[str, str]) -> list[tuple[str, int, int, str]]:
    spec, errors = load_spec(make_config({**FILES, **files}))
    assert spec is None
    return [(e.location.file, e.location.line, e.location.column, e.message) for e in errors]


def test_bad_copy_to_line_arguments_are_reported_with_their_place(make_config: MakeConfig) -> None:
    quote = QUOTE_WORKFLOW.replace("line_link: quote_line", "line_link: quote_lin").replace(
        'line_fields: {quantity: "quantity * 2"}', 'line_fields: {quantiy: "quantity * 2", amount: "xyz"}'
    ).replace("lines_when: \"kind != 'comment'\"", 'lines_when: "qty > 0"')
    assert _errors(make_config, {W: _workflows(quote)}) == [
        (W, 17, 24, "unknown field 'quote_lin' of 'order_line' in 'copy_to.line_link' — did you mean 'quote_line'?"),
        (W, 18, 27, "unknown field 'quantiy' of 'order_line' in 'copy_to.line_fields' — did you mean 'quantity'?"),
        (W, 18, 60, "unknown name 'xyz' in expression"),
        (W, 19, 25, "unknown name 'qty' in expression"),
    ]


def test_line_link_must_point_to_the_source_line(make_config: MakeConfig) -> None:
    wrong_type = QUOTE_WORKFLOW.replace("line_link: quote_line", "line_link: amount")
    wrong_target = QUOTE_WORKFLOW.replace("line_link: quote_line", "line_link: order")
    assert _errors(make_config, {W: _workflows(wrong_type)}) == [
        (W, 17, 24, "'order_line.amount' is a money field; 'copy_to.line_link' needs a link field"),
    ]
    assert _errors(make_config, {W: _workflows(wrong_target)}) == [
        (W, 17, 24, "'order_line.order' links to 'order', not to 'quote_line' ('copy_to.line_link')"),
    ]


def test_line_arguments_need_the_lines(make_config: MakeConfig) -> None:
    quote = QUOTE_WORKFLOW.replace("                children: {lines: lines}\n", "")
    assert _errors(make_config, {W: _workflows(quote)}) == [
        (W, 16, 13, "'copy_to.line_link' works on lines: give 'children' too"),
        (W, 17, 13, "'copy_to.line_fields' works on lines: give 'children' too"),
        (W, 18, 13, "'copy_to.lines_when' works on lines: give 'children' too"),
    ]


def test_bad_track_lines_arguments_are_reported_with_their_place(make_config: MakeConfig) -> None:
    order = (
        ORDER_WORKFLOW.replace("source: quote_line", "source: quantity")
    )
    assert _errors(make_config, {W: _workflows(order=order)}) == [
        (W, 33, 21, "'order_line.quantity' is a decimal field; 'track_lines.source' needs a link field"),
    ]
    order = (
        ORDER_WORKFLOW.replace("raise_to: {progress_invoiced:", "raise_to: {progres_invoiced:")
        .replace('complete: "progress_invoiced >= 100"', 'complete: "progress >= 100"')
        .replace("then: close", "then: clos")
    )
    assert _errors(make_config, {W: _workflows(order=order)}) == [
        (W, 34, 24, "unknown field 'progres_invoiced' of 'quote_line' in 'track_lines.raise_to' — did you mean 'progress_invoiced'?"),
        (W, 36, 23, "unknown name 'progress' in expression — did you mean 'progress_invoiced'?"),
        (W, 37, 19, "unknown transition 'clos' of 'quote' in 'track_lines.then' — did you mean 'close'?"),
    ]
    order = ORDER_WORKFLOW.replace('                complete: "progress_invoiced >= 100"\n', "")
    assert _errors(make_config, {W: _workflows(order=order)}) == [
        (W, 36, 13, "'track_lines.then' needs 'complete' (when is a line complete?)"),
    ]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("lines.progres_invoiced", "unknown field 'progres_invoiced' of 'quote_line' in 'mutable' — did you mean 'progress_invoiced'?"),
        ("lnes.progress_invoiced", "unknown child collection 'lnes' of 'quote' in 'mutable' — did you mean 'lines'?"),
        ("lines.", "expected a field name, or collection.field of a child collection"),
    ],
)
def test_mutable_child_fields_are_checked(make_config: MakeConfig, entry: str, message: str) -> None:
    quote = QUOTE_WORKFLOW.replace("mutable: [lines.progress_invoiced]", f"mutable: ['{entry}']")
    found = _errors(make_config, {W: _workflows(quote)})
    assert [(f[1], f[2]) for f in found] == [(4, 13)]
    assert message in found[0][3]


def test_line_values_fields_are_checked(make_config: MakeConfig) -> None:
    order = FILES["schema/order.yaml"].replace("qty_remaining: \"quantity - qty_delivered\"", "qty_remainig: \"quantity - qty_delivred\"")
    assert _errors(make_config, {"schema/order.yaml": order, W: _workflows()}) == [
        ("schema/order.yaml", 8, 42, "unknown field 'qty_remainig' of 'order_line' in 'line_values.fields' — did you mean 'qty_remaining'?"),
        ("schema/order.yaml", 8, 56, "unknown name 'qty_delivred' in expression — did you mean 'qty_delivered'?"),
    ]
