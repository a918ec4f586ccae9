"""WTForms forms built from an entity spec: one input per field type, validated with the very
`parse_value` the API uses, so a value refused by one is refused by the other with the same
French message.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from sqladmin.fields import AjaxSelectField
from wtforms import (
    BooleanField,
    Field,
    Form,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import StopValidation, ValidationError

from app.engine.admin.errors import french
from app.engine.admin.formatting import input_value
from app.engine.expressions import evaluate_default
from app.engine.fieldtypes import FieldError, parse_value
from app.engine.models import Record
from app.spec.model import AppSpec, EntitySpec, FieldSpec

REQUIRED = "Ce champ est obligatoire."
VERSION_FIELD = "version"
UPLOAD_TYPES = ("file", "image")
NUMERIC_TYPES = ("integer", "decimal", "money", "percent")
# Names a WTForms form already uses for itself; a field may not take them.
RESERVED_NAMES = frozenset({"data", "errors", "process", "validate", "populate_obj", "meta", "csrf_token", VERSION_FIELD})


class SpecForm(Form):  # type: ignore[misc]
    class Meta:
        locales = ("fr_FR", "fr")


class Required:
    """Marks the label and refuses an empty value, with a French message."""

    field_flags = {"required": True}

    def __call__(self, form: Form, field: Field) -> None:
        data = field.data
        if data is None or data == [] or (isinstance(data, str) and not data.strip()):
            raise StopValidation(REQUIRED)


class ParseWith:
    """Runs fieldtypes.parse_value on the submitted value; its FieldError becomes the field's error."""

    def __init__(self, spec: AppSpec, field: FieldSpec) -> None:
        self.spec = spec
        self.field = field

    def __call__(self, form: Form, wtfield: Field) -> None:
        value = wtfield.data
        if isinstance(value, Record):
            value = value.id
        try:
            parse_value(self.field, value, self.spec)
        except FieldError as exc:
            raise ValidationError(french(exc.message)) from None


class _RawTextMixin:
    """Keeps the raw text typed (so "1 234,50" comes back as typed on errors)."""

    spec_field: FieldSpec
    raw_data: Any
    data: Any

    def __init__(self, label: str | None = None, validators: Any = None, *, spec_field: FieldSpec, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)  # type: ignore[call-arg]
        self.spec_field = spec_field

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return input_value(self.spec_field, self.data)


class TextInputField(_RawTextMixin, StringField):  # type: ignore[misc]
    """A text input holding the raw text typed."""


class TextAreaInputField(_RawTextMixin, TextAreaField):  # type: ignore[misc]
    """A text area holding the raw text typed."""


class FixedField(Field):  # type: ignore[misc]
    """A field shown without an input: read-only, or frozen on an edit form (`frozen`, drawn
    disabled with a lock). The template draws its text; nothing is ever read from a submission,
    and store_values leaves it out."""

    comptoir_fixed = True

    def __init__(self, label: str | None = None, validators: Any = None, *, frozen: bool = False, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.frozen = frozen

    def process_formdata(self, valuelist: list[Any]) -> None:
        return None  # a disabled or absent input: the stored value stays

    def _value(self) -> str:
        return ""


class LinkField(AjaxSelectField):
    """sqladmin's searchable select (select2 + ajax), with a French refusal."""

    def pre_validate(self, form: Form) -> None:
        if not self.allow_blank and self.data in (None, "", "__None"):
            raise StopValidation(REQUIRED)


class UploadField(StringField):  # type: ignore[misc]
    """Shows the stored file and offers a file input named `<field>__upload` (see uploads.py).

    The text value is the stored path, rendered read-only; the path a browser sends back is
    never trusted (uploads.py keeps or replaces the stored one).
    """

    widget = widgets.HiddenInput()
    comptoir_upload = True

    def __init__(self, label: str | None = None, validators: Any = None, *, image: bool = False, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.image = image


def _css(extra: str = "") -> dict[str, Any]:
    return {"class": f"form-control {extra}".strip()}


def default_factory(spec: AppSpec, field: FieldSpec, compiled: Any) -> Callable[[], Any]:
    """The field's default expression, evaluated when a blank form is drawn (None if it needs
    the record or the user: the Store applies those on save, as for the API)."""

    def make() -> Any:
        try:
            raw = evaluate_default(compiled, {})
            return parse_value(field, raw, spec)
        except Exception:  # an expression needing context cannot be shown in advance; Store applies it
            return None

    return make


def build_field(
    spec: AppSpec, entity: EntitySpec, field: FieldSpec, loader: Any = None, default: Any = None, *, editing: bool = False
) -> Any:
    """The unbound WTForms field of one spec field (`editing`: of an edit form, where frozen
    fields can no longer change)."""
    label = field.label.fr
    description = field.help.fr if field.help else ""
    numbered = field.name in {n.field for n in entity.numbering}
    required = field.required and not field.readonly and not numbered
    validators: list[Any] = [Required()] if required else []
    common: dict[str, Any] = {"label": label, "description": description}
    if default is not None and not field.readonly:
        common["default"] = default_factory(spec, field, default)
    if field.readonly or (editing and field.frozen):
        return FixedField(frozen=not field.readonly, **common)
    kind = field.type
    if kind == "password":
        return PasswordField(
            validators=[*validators, ParseWith(spec, field)],
            render_kw={**_css(), "autocomplete": "new-password", "placeholder": "Laisser vide pour ne pas changer"},
            **common,
        )
    validators.append(ParseWith(spec, field))
    if kind == "boolean":
        return BooleanField(validators=validators[-1:], render_kw={"class": "form-check-input"}, false_values=(False, "false", "", "0", "non"), **common)
    if kind == "choice":
        return SelectField(
            choices=_choices(spec, field, blank=True), validate_choice=False, validators=validators, render_kw=_css("form-select"), **common
        )
    if kind == "multichoice":
        return SelectMultipleField(
            choices=_choices(spec, field, blank=False),
            validate_choice=False,
            validators=validators,
            render_kw={**_css("form-select"), "data-role": "comptoir-multi"},
            **common,
        )
    if kind == "link":
        return LinkField(
            loader=loader,
            allow_blank=not required,
            validators=validators,
            render_kw={**_css(), "placeholder": "Rechercher…"},
            **common,
        )
    if kind in UPLOAD_TYPES:
        return UploadField(image=kind == "image", **common)
    if kind == "text":
        return TextAreaInputField(spec_field=field, validators=validators, render_kw={**_css(), "rows": 3}, **common)
    render_kw = _css()
    widget: Any = None
    if kind in NUMERIC_TYPES:
        render_kw = {**_css("text-end"), "inputmode": "decimal" if kind != "integer" else "numeric"}
    elif kind == "date":
        widget = widgets.DateInput()
    elif kind == "datetime":
        widget = widgets.DateTimeLocalInput()
    elif kind in ("email", "phone", "url"):
        render_kw = {**_css(), "inputmode": {"email": "email", "phone": "tel", "url": "url"}[kind]}
    if field.length:
        render_kw["maxlength"] = field.length
    extra = {"widget": widget} if widget is not None else {}
    return TextInputField(spec_field=field, validators=validators, render_kw=render_kw, **common, **extra)


def _choices(spec: AppSpec, field: FieldSpec, *, blank: bool) -> list[tuple[str, str]]:
    picklist = spec.picklists[field.picklist or ""]
    values = sorted(picklist.values, key=lambda v: v.order)
    options = [(v.code, v.label.fr if v.active else f"{v.label.fr} (inactif)") for v in values]
    return [("", "—"), *options] if blank else options


def build_form(
    spec: AppSpec,
    entity: EntitySpec,
    order: list[str],
    loaders: dict[str, Any],
    defaults: Mapping[tuple[str, str], Any],
    *,
    editing: bool = False,
) -> type[Form]:
    """The form class of an entity, fields in layout `order`, plus the hidden record version."""
    attrs: dict[str, Any] = {VERSION_FIELD: HiddenField()}
    for name in order:
        field = entity.fields[name]
        attrs[name] = build_field(spec, entity, field, loaders.get(name), defaults.get((entity.name, name)), editing=editing)
    return type(f"{entity.name.title().replace('_', '')}Form", (SpecForm,), attrs)


def initial_data(entity: EntitySpec, obj: Record) -> dict[str, Any]:
    """Form values of a stored record: link ids, stored paths, never a password hash."""
    data: dict[str, Any] = {VERSION_FIELD: obj.version}
    for field in entity.fields.values():
        if field.type == "password":
            data[field.name] = None
        else:
            data[field.name] = getattr(obj, field.column_name, None)
    return data


def store_values(entity: EntitySpec, data: dict[str, Any], *, editing: bool = False) -> dict[str, Any]:
    """What the form sends to Store.create/update: editable fields only (frozen ones only on
    creation), links as ids."""
    values: dict[str, Any] = {}
    for field in entity.fields.values():
        if field.readonly or (editing and field.frozen) or field.type in UPLOAD_TYPES or field.name not in data:
            continue
        value = data[field.name]
        if field.is_link:
            if isinstance(value, Record):
                value = value.id
            elif value in ("", "__None"):
                value = None
        values[field.name] = value
    return values
