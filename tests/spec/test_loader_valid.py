"""Valid configurations load into the expected spec objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.spec.errors import SpecError, SpecInvalid
from app.spec.loader import format_errors, load_spec, load_spec_or_raise
from app.spec.model import (
    AppSpec,
    ChildSpec,
    FormSection,
    FormSpec,
    Label,
    ListSpec,
    Location,
    NumberingSpec,
    PicklistValue,
)

from .conftest import MakeConfig

VALID = Path(__file__).parent / "fixtures" / "valid"


@pytest.fixture(scope="module")
def spec() -> AppSpec:
    return load_spec_or_raise(VALID)


def test_entities_are_config_then_builtin(spec: AppSpec) -> None:
    assert list(spec.entities) == ["account", "account_address", "note", "user", "user_right"]
    assert spec.root == VALID


def test_entity_header(spec: AppSpec) -> None:
    account = spec.entity("account")
    assert account.label == Label("Tiers", "Account")
    assert account.plural == Label("Tiers", "Accounts")
    assert account.title == "name"
    assert account.icon == "fa-solid fa-building"
    assert account.category == Label("Tiers", "Parties")
    assert account.embedded is False
    assert account.file == "schema/account.yaml"


def test_fields_in_declaration_order_with_options(spec: AppSpec) -> None:
    account = spec.entity("account")
    assert list(account.fields) == ["code", "name", "type", "credit_limit", "assigned_user", "parent", "status"]
    code = account.field("code")
    assert (code.type, code.readonly, code.unique, code.length) == ("string", True, True, 20)
    assert code.label == Label("Code client", "Customer code")
    assert code.location == Location("schema/account.yaml", 11, 3)
    assert account.field("type").default == "'prospect'"
    assert account.field("type").picklist == "account_type"
    assert account.field("credit_limit").min == 0
    user_link = account.field("assigned_user")
    assert (user_link.to, user_link.column_name, user_link.label) == ("user", "assigned_user_id", Label("Commercial", "Commercial"))
    assert account.field("parent").label == Label("parent", "parent")  # no label: the name


def test_list_form_children_numbering(spec: AppSpec) -> None:
    account = spec.entity("account")
    assert account.list == ListSpec(
        columns=("code", "name", "type"), filters=("type",), search=("name", "code"), sort="-created_at", page_size=50,
        columns_given=True,
    )
    assert account.form == FormSpec(
        kind="tabs",
        sections=(
            FormSection(Label("Identité", "Identity"), ("code", "name", "type")),
            FormSection(Label("Finance", "Finance"), ("credit_limit", "assigned_user")),
        ),
    )
    addresses, notes = account.children
    assert addresses == ChildSpec(
        name="addresses",
        entity="account_address",
        via="account",
        label=Label("Adresses", "Addresses"),  # the child entity's plural
        order_by="position",
        location=Location("schema/account.yaml", 44, 3),
    )
    assert (notes.entity, notes.label, notes.order_by) == ("note", Label("Notes", "Notes"), None)
    assert account.numbering == (NumberingSpec("code", "CU{yy}{mm}-{0000}", Location("schema/account.yaml", 8, 5)),)


def test_defaults_when_keys_are_missing(spec: AppSpec) -> None:
    note = spec.entity("note")
    assert note.label == Label("note", "note")
    assert note.plural == note.label
    assert note.title == "account"  # the first field
    assert note.list == ListSpec(columns=("account",))
    assert note.form is None
    assert note.field("due").min == "2020-01-01"
    assert note.embedded is True


def test_picklists_sorted_by_order_with_builtins(spec: AppSpec) -> None:
    assert list(spec.picklists) == ["account_type", "user_kind", "right_effect", "user_group", "account_status"]
    account_type = spec.picklists["account_type"]
    assert account_type.label == Label("Niveau de tiers", "Account level")
    assert account_type.codes() == ["prospect", "client", "other"]
    assert account_type.codes(active_only=True) == ["prospect", "client"]
    assert account_type.value("client") == PicklistValue("client", Label("Client", "Client"), "#2fb344", 2, True)
    assert account_type.value("other") == PicklistValue("other", Label("Autre", "Autre"), None, 3, False)
    assert spec.picklists["user_group"].codes() == ["admin", "sales"]


def test_groups_and_workflows(spec: AppSpec) -> None:
    assert list(spec.groups) == ["admin", "sales"]
    sales = spec.groups["sales"]
    assert sales.label == Label("Commerciaux", "Commerciaux")
    assert sales.rights == {"account": ("read", "create", "edit", "validate"), "note": ("*",)}
    assert sales.allows("account", "validate") and not sales.allows("account", "delete")
    assert spec.groups["admin"].allows("user", "delete")
    assert list(spec.workflows) == ["account"]
    assert list(spec.workflows["account"].transitions) == ["validate"]


def test_builtin_entities_are_merged(spec: AppSpec) -> None:
    assert spec.entity("user").field("groups").picklist == "user_group"
    assert spec.entity("user_right").embedded is True


def test_minimal_config_without_optional_files(make_config: MakeConfig) -> None:
    root = make_config({"schema/task.yaml": "label: Tâche\nfields:\n  subject: {type: string}\n"})
    spec, errors = load_spec(root)
    assert errors == []
    assert spec is not None
    task = spec.entity("task")
    assert (task.label, task.plural) == (Label("Tâche", "Tâche"), Label("Tâche", "Tâche"))
    assert task.list.columns == ("subject",)
    assert spec.groups == {} and spec.workflows == {}
    assert list(spec.picklists) == ["user_kind", "right_effect", "user_group"]


def test_empty_optional_files_and_transitions_as_rights(make_config: MakeConfig) -> None:
    root = make_config(
        {
            "schema/task.yaml": "fields:\n  subject: {type: string}\n  state: {type: status}\n",
            "picklists.yaml": "# none yet\n",
            "groups.yaml": "staff:\n  rights: {task: [read, close]}\n",
            "workflows.yaml": "task:\n  field: state\n  initial: open\n  states: {open: {}, closed: {}}\n"
            "  transitions:\n    close: {from: open, to: closed}\n",
        }
    )
    spec, errors = load_spec(root)
    assert errors == [] and spec is not None
    assert spec.groups["staff"].rights == {"task": ("read", "close")}


def test_yaml_anchors_and_merge_keys(make_config: MakeConfig) -> None:
    root = make_config(
        {
            "schema/task.yaml": (
                "fields:\n"
                "  subject: &text {type: string, length: 80}\n"
                "  summary: {<<: *text, length: 200}\n"
            )
        }
    )
    spec = load_spec_or_raise(root)
    assert spec.entity("task").field("summary").length == 200
    assert spec.entity("task").field("subject").length == 80


def test_load_spec_or_raise_and_format_errors(make_config: MakeConfig) -> None:
    root = make_config({"schema/task.yaml": "fields:\n  subject: {type: strin}\n  due: {type: dat}\n"})
    with pytest.raises(SpecInvalid) as caught:
        load_spec_or_raise(root)
    errors = caught.value.errors
    assert len(errors) == 2
    assert format_errors(errors) == (
        "schema/task.yaml:2:19: unknown field type 'strin' — did you mean 'string'?\n"
        "schema/task.yaml:3:15: unknown field type 'dat' — did you mean 'date'?"
    )
    assert str(caught.value) == format_errors(errors)


def test_missing_folder(tmp_path: Path) -> None:
    spec, errors = load_spec(tmp_path / "nowhere")
    assert spec is None
    assert errors == [SpecError(Location((tmp_path / "nowhere").as_posix(), 1, 1), "configuration folder not found")]
