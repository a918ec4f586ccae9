"""The `follow_up:` section of a workflow (workflows.yaml): follow-up steps and dunning.

    invoice:
      follow_up:
        follows: "status in ['validated', 'sent', 'partially_paid']"   # which records are followed
        due_date: due_date            # the due-date field (dunning screen, colours, penalties)
        amount: amount_remaining      # the amount still due (dunning screen, penalties)
        recipients: [contact.email, account.email]   # first non-empty address wins
        warn_days: 7                  # orange window before the due date
        send: auto                    # the daily job sends the due steps (mark: only records them)
        steps:
          sent: {label: {fr: Envoi du document, en: Document sent}, manual: true, template: invoice_sent.txt}
          reminder_1: {label: ..., after: due_date, days: 0, template: reminder_1.txt, colour: "#f59f00"}
          reminder_2: {label: ..., days: 15, template: reminder_2.txt}
          formal_notice: {label: ..., days: 15, template: formal_notice.txt, penalties: {rate: "12.15", indemnity: "40"}}

Steps marked `manual: true` are only recorded (by the `record_follow_up` verb or by hand);
the others form the dunning sequence, in order: the next one is the step after the last one
recorded, due `days` after the previous step (`after: previous`, the default) or after a date
field of the record (`after: due_date`; required on the first step of the sequence).
docs/follow-up.md describes the language; the engine runs it (app/engine/followup*.py).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from jinja2 import Environment, TemplateSyntaxError, nodes

from app.spec.errors import SpecError
from app.spec.model import EntitySpec, Label, Location
from app.spec.suggest import did_you_mean
from app.spec.values import flag, label_of, mapping, opt_int, opt_str, str_items
from app.spec.verbs import EFFECT, TEXT, Arg, Verb, declare
from app.spec.yamlpos import YamlDoc, YamlPath

PREVIOUS = "previous"
SEND_MODES = ("auto", "mark")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAIL_DIR = ("templates", "mail")
BANDS = ("not_due", "due_soon", "overdue")
DEFAULT_COLOURS: Mapping[str, str] = {"not_due": "#206bc4", "due_soon": "#f59f00", "overdue": "#d63939"}
VERB = "record_follow_up"

declare(
    Verb(
        VERB,
        EFFECT,
        "Records a step of the record's follow-up log (e.g. `sent` when the document is sent, "
        "`payment_received` when it is paid); the step is one of its `follow_up.steps`.",
        (
            Arg("step", TEXT, help="A step of the entity's `follow_up:` (workflows.yaml)."),
            Arg("note", TEXT, required=False, help="A note written with the entry."),
        ),
    )
)


@dataclass(frozen=True)
class Penalties:
    """Late-payment penalties shown on a step (never written to the document)."""

    rate: Decimal  # yearly rate in percent, e.g. 12.15
    indemnity: Decimal  # fixed recovery indemnity per document (40 € in France)


@dataclass(frozen=True)
class StepSpec:
    code: str
    label: Label
    manual: bool = False  # only recorded (verb or by hand), never computed as a next step
    after: str = PREVIOUS  # "previous" or a date field of the record
    days: int = 0
    template: str | None = None  # a file of templates/mail/
    colour: str | None = None
    penalties: Penalties | None = None
    location: Location | None = None


@dataclass(frozen=True)
class FollowUpSpec:
    entity: str
    follows: str  # an expression on the record, translated to SQL by the scan
    steps: tuple[StepSpec, ...]
    due_date: str | None = None
    amount: str | None = None
    client: str | None = None  # link to the client (dunning screen; `client` in mails)
    contact: str | None = None  # link to the contact (`contact` in mails)
    recipients: tuple[str, ...] = ()  # `field` or `link.field` paths to e-mail addresses
    warn_days: int = 7
    send: str = "auto"
    colours: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_COLOURS))
    location: Location | None = None

    @property
    def sequence(self) -> tuple[StepSpec, ...]:
        """The dunning sequence: the steps that are not manual, in order."""
        return tuple(s for s in self.steps if not s.manual)

    def step(self, code: str) -> StepSpec | None:
        return next((s for s in self.steps if s.code == code), None)


# --- expressions the scan translates to SQL -----------------------------------------------------

_COMPARE = {"eq", "ne", "lt", "gt", "lteq", "gteq", "in", "notin"}
_env = Environment()


def sql_problem(source: str, names: Collection[str]) -> str | None:
    """Why `source` cannot be translated to SQL (None: it can). Allowed: comparisons of a
    field with constants (==, !=, <, >, <=, >=, in, not in a list), and, or, not, a bare field."""
    try:
        expr = _env.parse("{{ " + source + " }}").body[0].nodes[0]  # type: ignore[attr-defined]
    except TemplateSyntaxError as exc:
        return f"invalid expression {source!r}: {exc.message}"
    return _node_problem(expr, names)


def _node_problem(node: nodes.Node, names: Collection[str]) -> str | None:
    if isinstance(node, (nodes.And, nodes.Or)):
        return _node_problem(node.left, names) or _node_problem(node.right, names)
    if isinstance(node, nodes.Not):
        return _node_problem(node.node, names)
    if isinstance(node, nodes.Name):
        return None if node.name in names else _unknown(node.name, names)
    if isinstance(node, nodes.Compare) and len(node.ops) == 1 and node.ops[0].op in _COMPARE:
        left, right = node.expr, node.ops[0].expr
        if not isinstance(left, nodes.Name):
            return "the left side of a comparison must be a field"
        if left.name not in names:
            return _unknown(left.name, names)
        constant = right.as_const() if isinstance(right, (nodes.Const, nodes.List, nodes.Tuple)) else Ellipsis
        if constant is Ellipsis:
            return "the right side of a comparison must be a constant or a list of constants"
        return None
    return "only comparisons of a field with constants, and, or, not are translated to SQL"


def _unknown(name: str, names: Collection[str]) -> str:
    return f"unknown field '{name}'{did_you_mean(name, names)}"


def parse_sql_expression(source: str) -> nodes.Node:
    return _env.parse("{{ " + source + " }}").body[0].nodes[0]  # type: ignore[attr-defined, no-any-return]


# --- the loader ---------------------------------------------------------------------------------


class FollowUpBuilder:
    def __init__(self, doc: YamlDoc, entities: Mapping[str, EntitySpec], root: Path | None) -> None:
        self.doc = doc
        self.entities = entities
        self.root = root
        self.errors: list[SpecError] = []

    def error(self, path: YamlPath, message: str, key: bool = False) -> None:
        self.errors.append(SpecError(self.doc.key_at(path) if key else self.doc.at(path), message))

    def build(self, name: str, raw: Any, entity: EntitySpec | None, transitions: Mapping[str, Any]) -> FollowUpSpec | None:
        if not isinstance(raw, dict):
            return None
        path: YamlPath = (name, "follow_up")
        fields = entity.fields if entity is not None else {}
        follows = opt_str(raw.get("follows")) or "true"
        if entity is not None and raw.get("follows") is not None:
            problem = sql_problem(follows, fields)
            if problem is not None:
                self.error((*path, "follows"), f"'follows': {problem}")
        due_date = self.field_ref(path, "due_date", raw, fields, ("date",), entity)
        amount = self.field_ref(path, "amount", raw, fields, ("money",), entity)
        client = self.field_ref(path, "client", raw, fields, ("link",), entity)
        contact = self.field_ref(path, "contact", raw, fields, ("link",), entity)
        recipients = tuple(ref for i, ref in str_items(raw.get("recipients")) if self.recipient(path, i, ref, entity))
        warn_days = opt_int(raw.get("warn_days"))
        send = opt_str(raw.get("send")) or "auto"
        # a bad `send`, `warn_days`, colour or `days` is reported by the schema check
        colours = dict(DEFAULT_COLOURS)
        for band, value in mapping(raw.get("colours")).items():
            if band not in BANDS:
                self.error((*path, "colours", band), f"unknown band '{band}'{did_you_mean(band, BANDS) or ' (' + ', '.join(BANDS) + ')'}", key=True)
            elif self.colour((*path, "colours", band), value):
                colours[band] = str(value)
        steps = self.steps(path, mapping(raw.get("steps")), fields)
        spec = FollowUpSpec(
            entity=name,
            follows=follows,
            steps=steps,
            due_date=due_date,
            amount=amount,
            client=client,
            contact=contact,
            recipients=recipients,
            warn_days=warn_days if warn_days is not None and warn_days >= 0 else 7,
            send=send if send in SEND_MODES else "auto",
            colours=colours,
            location=self.doc.key_at(path),
        )
        self.check_verb_steps(name, spec, transitions)
        return spec

    def field_ref(self, path: YamlPath, key: str, raw: Mapping[str, Any], fields: Mapping[str, Any], types: tuple[str, ...], entity: EntitySpec | None) -> str | None:
        value = opt_str(raw.get(key))
        if value is None or entity is None:
            return value
        f = fields.get(value)
        if f is None:
            self.error((*path, key), f"unknown field '{value}' of '{entity.name}' in '{key}'{did_you_mean(value, fields)}")
            return None
        if f.type not in types:
            self.error((*path, key), f"'{entity.name}.{value}' is a {f.type} field: '{key}' needs a {' or '.join(types)} field")
            return None
        return value

    def recipient(self, path: YamlPath, i: int, ref: str, entity: EntitySpec | None) -> bool:
        if entity is None:
            return False
        where = (*path, "recipients", i)
        link_name, dot, target_field = ref.partition(".")
        if not dot:
            f = entity.fields.get(ref)
            if f is None or f.type not in ("email", "string"):
                self.error(where, f"'{ref}' is not an e-mail field of '{entity.name}'{did_you_mean(ref, entity.fields)}")
                return False
            return True
        link = entity.fields.get(link_name)
        if link is None or not link.is_link:
            links = [n for n, f in entity.fields.items() if f.is_link]
            self.error(where, f"unknown link '{link_name}' of '{entity.name}' in 'recipients'{did_you_mean(link_name, links)}")
            return False
        target = self.entities.get(link.to or "")
        if target is None:
            return False
        f = target.fields.get(target_field)
        if f is None or f.type not in ("email", "string"):
            self.error(where, f"'{target_field}' is not an e-mail field of '{target.name}'{did_you_mean(target_field, target.fields)}")
            return False
        return True

    def colour(self, path: YamlPath, value: Any) -> bool:
        """A #rrggbb colour (anything else: reported by the schema check, then ignored)."""
        return isinstance(value, str) and COLOUR.match(value) is not None

    def steps(self, path: YamlPath, raw_steps: Mapping[str, Any], fields: Mapping[str, Any]) -> tuple[StepSpec, ...]:
        result: list[StepSpec] = []
        first = True
        for code, raw in raw_steps.items():
            where: YamlPath = (*path, "steps", code)
            data = mapping(raw)
            manual = flag(data.get("manual"))
            after = opt_str(data.get("after")) or PREVIOUS
            if after != PREVIOUS:
                f = fields.get(after)
                if fields and (f is None or f.type != "date"):
                    dates = [n for n, x in fields.items() if x.type == "date"]
                    self.error((*where, "after"), f"'after' names a date field or 'previous', not '{after}'{did_you_mean(after, [PREVIOUS, *dates])}")
            elif first and not manual:
                self.error(where, f"step '{code}' is the first of the sequence: say after which date field, e.g. `after: due_date`", key=True)
            days = data.get("days", 0)
            if not isinstance(days, int) or isinstance(days, bool) or days < 0:
                days = 0  # reported by the schema check
            template = opt_str(data.get("template"))
            if template is not None:
                self.template((*where, "template"), template)
            colour = data.get("colour")
            if colour is not None and not self.colour((*where, "colour"), colour):
                colour = None
            result.append(StepSpec(
                code=code,
                label=label_of(data.get("label"), code),
                manual=manual,
                after=after,
                days=days,
                template=template,
                colour=opt_str(colour),
                penalties=self.penalties((*where, "penalties"), data.get("penalties")),
                location=self.doc.key_at(where),
            ))
            if not manual:
                first = False
        return tuple(result)

    def template(self, path: YamlPath, name: str) -> None:
        if self.root is None:
            return
        folder = self.root.joinpath(*MAIL_DIR)
        file = folder / name
        if "/" in name or "\\" in name or name.startswith(".") or not file.is_file():
            known = sorted(p.name for p in folder.glob("*")) if folder.is_dir() else []
            self.error(path, f"unknown mail template '{name}' (templates/mail/){did_you_mean(name, known)}")
            return
        text = file.read_text(encoding="utf-8")
        try:
            _env.parse(text)
        except TemplateSyntaxError as exc:
            self.error(path, f"mail template '{name}' line {exc.lineno}: {exc.message}")
            return
        if not text.lstrip().lower().startswith("subject:"):
            self.error(path, f"mail template '{name}' must start with a 'Subject: ...' line")

    def penalties(self, path: YamlPath, raw: Any) -> Penalties | None:
        if raw is None:
            return None
        data = mapping(raw)
        values: dict[str, Decimal] = {}
        for key, default in (("rate", None), ("indemnity", "40")):
            value = data.get(key, default)
            try:
                number = Decimal(str(value)) if value is not None and not isinstance(value, bool) else None
            except InvalidOperation:
                number = None
            if number is None or number < 0 or not number.is_finite():
                self.error((*path, key) if key in data else path, f"'penalties.{key}' must be a number of 0 or more (e.g. \"12.15\"), not {value!r}")
                return None
            values[key] = number
        return Penalties(rate=values["rate"], indemnity=values["indemnity"])

    def check_verb_steps(self, name: str, spec: FollowUpSpec, transitions: Mapping[str, Any]) -> None:
        codes = [s.code for s in spec.steps]
        for tname, raw in transitions.items():
            effects = mapping(raw).get("effects")
            for i, effect in enumerate(effects if isinstance(effects, list) else []):
                if not isinstance(effect, dict) or VERB not in effect:
                    continue
                step = mapping(effect[VERB]).get("step")
                if isinstance(step, str) and step not in codes:
                    where = (name, "transitions", tname, "effects", i, VERB, "step")
                    self.error(where, f"unknown follow-up step '{step}' of '{name}'{did_you_mean(step, codes) or ' (steps: ' + ', '.join(codes) + ')'}")


def build_follow_up(
    doc: YamlDoc, name: str, data: Mapping[str, Any], entity: EntitySpec | None,
    entities: Mapping[str, EntitySpec], root: Path | None, errors: list[SpecError],
) -> FollowUpSpec | None:
    """The follow-up of one workflow (None without `follow_up:`); errors are appended. `root`:
    the configuration folder (its templates/mail/ is checked), None to skip that check. A
    `record_follow_up` effect in a workflow without `follow_up:` is reported too."""
    builder = FollowUpBuilder(doc, entities, root)
    transitions = mapping(data.get("transitions"))
    spec = builder.build(name, data.get("follow_up"), entity, transitions)
    if spec is None:
        for tname, raw in transitions.items():
            effects = mapping(raw).get("effects")
            for i, effect in enumerate(effects if isinstance(effects, list) else []):
                if isinstance(effect, dict) and VERB in effect:
                    where = (name, "transitions", tname, "effects", i)
                    builder.error(where, f"'{VERB}' needs a `follow_up:` section in the workflow of '{name}'", key=True)
    errors.extend(builder.errors)
    return spec
