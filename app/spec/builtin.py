"""Entities and picklists the engine provides whatever the configuration: users and their rights.

They are ordinary specs, built here instead of in YAML, so that authentication can rely on
their fields. The loader merges them into every AppSpec.
"""

from __future__ import annotations

from app.spec.model import (
    ChildSpec,
    EntitySpec,
    FieldSpec,
    FormSection,
    FormSpec,
    GroupSpec,
    Label,
    ListSpec,
    Picklist,
    PicklistValue,
)

USER_ENTITY = "user"
USER_RIGHT_ENTITY = "user_right"
GROUP_PICKLIST = "user_group"
BUILTIN_FILE = "<built-in>"

_SETTINGS = Label("Paramètres", "Settings")


def _f(name: str, type_: str, fr: str, en: str, **kw: object) -> FieldSpec:
    return FieldSpec(name=name, type=type_, label=Label(fr, en), **kw)  # type: ignore[arg-type]


def user_kind_picklist() -> Picklist:
    return Picklist(
        name="user_kind",
        label=Label("Type d'utilisateur", "User kind"),
        values=(
            PicklistValue("internal", Label("Interne", "Internal"), order=1),
            PicklistValue("external", Label("Externe (client, fournisseur)", "External (client, supplier)"), order=2),
        ),
    )


def right_effect_picklist() -> Picklist:
    return Picklist(
        name="right_effect",
        label=Label("Effet", "Effect"),
        values=(
            PicklistValue("grant", Label("Accorder", "Grant"), order=1),
            PicklistValue("deny", Label("Retirer", "Deny"), order=2),
        ),
    )


def group_picklist(groups: dict[str, GroupSpec]) -> Picklist:
    return Picklist(
        name=GROUP_PICKLIST,
        label=Label("Groupes", "Groups"),
        values=tuple(
            PicklistValue(g.name, g.label, order=i) for i, g in enumerate(groups.values(), start=1)
        ),
    )


def user_entities() -> dict[str, EntitySpec]:
    user_fields = [
        _f("login", "string", "Identifiant", "Login", required=True, unique=True, length=100),
        _f("full_name", "string", "Nom complet", "Full name", length=200),
        _f("email", "email", "E-mail", "E-mail"),
        _f("kind", "choice", "Type", "Kind", picklist="user_kind", required=True, default="'internal'"),
        _f("active", "boolean", "Actif", "Active", default="true"),
        _f("groups", "multichoice", "Groupes", "Groups", picklist=GROUP_PICKLIST),
        _f("password", "password", "Mot de passe", "Password"),
    ]
    user = EntitySpec(
        name=USER_ENTITY,
        label=Label("Utilisateur", "User"),
        plural=Label("Utilisateurs", "Users"),
        fields={f.name: f for f in user_fields},
        title="login",
        list=ListSpec(
            columns=("login", "full_name", "email", "kind", "groups", "active"),
            filters=("kind", "active"),
            search=("login", "full_name", "email"),
            sort="login",
            columns_given=True,
        ),
        form=FormSpec(
            kind="sections",
            sections=(
                FormSection(Label("Identité", "Identity"), ("login", "full_name", "email", "kind", "active")),
                FormSection(Label("Droits", "Rights"), ("groups", "password")),
            ),
        ),
        children=(
            ChildSpec(
                name="rights",
                entity=USER_RIGHT_ENTITY,
                via="user",
                label=Label("Droits individuels", "Individual rights"),
            ),
        ),
        icon="fa-solid fa-user",
        category=_SETTINGS,
        file=BUILTIN_FILE,
    )
    right_fields = [
        _f("user", "link", "Utilisateur", "User", to=USER_ENTITY, required=True),
        _f("entity", "string", "Entité", "Entity", required=True, length=100),
        _f("action", "string", "Action", "Action", required=True, length=100),
        _f("effect", "choice", "Effet", "Effect", picklist="right_effect", required=True, default="'grant'"),
    ]
    right = EntitySpec(
        name=USER_RIGHT_ENTITY,
        label=Label("Droit individuel", "Individual right"),
        plural=Label("Droits individuels", "Individual rights"),
        fields={f.name: f for f in right_fields},
        title="action",
        list=ListSpec(columns=("user", "entity", "action", "effect"), columns_given=True),
        embedded=True,
        file=BUILTIN_FILE,
    )
    return {USER_ENTITY: user, USER_RIGHT_ENTITY: right}


def builtin_picklists(groups: dict[str, GroupSpec]) -> dict[str, Picklist]:
    lists = [user_kind_picklist(), right_effect_picklist(), group_picklist(groups)]
    return {p.name: p for p in lists}
