"""Scheduled jobs: the `jobs:` key of workflows.yaml (a reserved name, not an entity).

    jobs:
      quote_expiry:
        label: {fr: Devis sans réponse, en: Quote expiry}
        cron: "0 6 * * *"            # minute hour day month day_of_week (APScheduler crontab)
        verb: run_transition          # a job verb (app/engine/jobs.py registry)
        args: {entity: quote, transition: mark_no_answer, where: "validity_date < today()"}
        enabled: true                 # default true

Each job names a *job verb*: a Python function `(rt, today, args) -> counts` registered with
`app.engine.jobs.register_job` together with its declaration (a `JobVerb` below). The loader
checks the cron expression field by field, the verb, and each argument against the verb's
declaration (an entity, a field of it, a transition of its workflow, an expression on its
records...), every error with file:line:col and a suggestion. docs/jobs.md describes them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from app.spec.errors import SpecError
from app.spec.model import EntitySpec, Label, Location
from app.spec.suggest import did_you_mean
from app.spec.values import flag, label_of, mapping, opt_str
from app.spec.yamlpos import YamlDoc, YamlPath

if TYPE_CHECKING:
    from app.spec.workflow_model import WorkflowSpec

JOBS_KEY = "jobs"  # the top-level key of workflows.yaml holding the jobs (never an entity)
# Modules whose import registers job verbs (app/verbs/__init__.py calls register_job).
JOB_PLUGIN_MODULES: tuple[str, ...] = ("app.verbs",)
CRON_FIELDS: tuple[str, ...] = ("minute", "hour", "day", "month", "day_of_week")
WEEKDAYS = "mon, tue, wed, thu, fri, sat, sun"

JobArgKind = Literal[
    "entity",  # an entity name: the one the other arguments refer to
    "field",  # a field of that entity (optionally of given types)
    "link_field",  # a link field of that entity (e.g. its assigned user)
    "transition",  # a transition of that entity's workflow
    "expression",  # an expression on a record of that entity (today() is the job's day)
    "text",
    "label",
    "integer",
    "flag",
]


@dataclass(frozen=True)
class JobArg:
    name: str
    kind: JobArgKind
    required: bool = True
    types: tuple[str, ...] = ()  # for field: accepted field types (empty: any)
    help: str = ""


@dataclass(frozen=True)
class JobVerb:
    """What YAML may write for a job verb. `args=None`: arguments are not checked (a verb
    registered without a declaration)."""

    name: str
    help: str
    args: tuple[JobArg, ...] | None = ()

    def arg(self, name: str) -> JobArg | None:
        return next((a for a in self.args or () if a.name == name), None)


@dataclass(frozen=True)
class JobSpec:
    name: str
    label: Label
    cron: str
    verb: str
    args: Mapping[str, Any] = field(default_factory=dict)
    enabled: bool = True
    location: Location | None = None


JOB_VERBS: dict[str, JobVerb] = {}


def declare_job(verb: JobVerb) -> JobVerb:
    """Add a job verb declaration (register_job calls it); names are unique."""
    current = JOB_VERBS.get(verb.name)
    if current is not None and current != verb:
        raise ValueError(f"job verb '{verb.name}' is declared twice")
    JOB_VERBS[verb.name] = verb
    return verb


def load_job_verbs() -> dict[str, JobVerb]:
    """Every declared job verb: importing the plugin modules registers theirs."""
    for module in JOB_PLUGIN_MODULES:
        importlib.import_module(module)
    return JOB_VERBS


# --- the two generic verbs shipped with the engine (implemented in app/verbs/jobs_*.py) ------

RUN_TRANSITION = JobVerb(
    "run_transition",
    "On every record of an entity in a source state of the transition whose `where` holds on "
    "the job's day, run the transition (e.g. quotes without answer after their validity).",
    (
        JobArg("entity", "entity", help="The entity, e.g. quote."),
        JobArg("transition", "transition", help="The transition run on each record, e.g. mark_no_answer."),
        JobArg("where", "expression", required=False, help="An expression on the record; today() is the job's day."),
    ),
)
NEXT_STEP_REMINDERS = JobVerb(
    "next_step_reminders",
    "Mails each assigned user the records whose next-step date is the job's day or earlier.",
    (
        JobArg("entity", "entity", help="The entity, e.g. opportunity."),
        JobArg("date_field", "field", types=("date", "datetime"), help="The next-step date."),
        JobArg("user_field", "link_field", help="The link to the user to remind (a user with an e-mail)."),
        JobArg("step_field", "field", required=False, help="The next step itself, shown beside each record."),
        JobArg("where", "expression", required=False, help="Only the records where it holds (e.g. open ones)."),
        JobArg("subject", "label", required=False, help="The mail's subject."),
    ),
)


# --- cron ----------------------------------------------------------------------------------


def cron_problem(expression: str) -> str | None:
    """What is wrong with a 5-field crontab expression, naming the field at fault."""
    from apscheduler.triggers.cron import CronTrigger

    values = expression.split()
    if len(values) != 5:
        return (
            f"invalid cron expression '{expression}': expected 5 fields "
            f"({' '.join(CRON_FIELDS)}), got {len(values)}"
        )
    for name, value in zip(CRON_FIELDS, values):
        if name == "day_of_week" and any(c.isdigit() for c in value):
            return (
                f"invalid cron expression '{expression}': write the days of the week as names "
                f"({WEEKDAYS}), not numbers (cron counts 0 as Sunday, APScheduler as Monday): "
                f"day_of_week '{value}'"
            )
        try:
            CronTrigger(**{name: value}, timezone="UTC")
        except ValueError as exc:
            return f"invalid cron expression '{expression}': {name} '{value}' — {exc}"
    try:
        CronTrigger.from_crontab(expression, timezone="UTC")
    except ValueError as exc:
        return f"invalid cron expression '{expression}': {exc}"
    return None


# --- building ------------------------------------------------------------------------------


class _JobChecker:
    def __init__(
        self,
        doc: YamlDoc,
        entities: Mapping[str, EntitySpec],
        workflows: Mapping[str, WorkflowSpec],
        verbs: Mapping[str, JobVerb],
    ) -> None:
        self.doc = doc
        self.entities = entities
        self.workflows = workflows
        self.verbs = verbs
        self.errors: list[SpecError] = []

    def error(self, loc: Location, message: str) -> None:
        self.errors.append(SpecError(loc, message))

    def job(self, name: str, data: dict[str, Any]) -> JobSpec | None:
        path: YamlPath = (JOBS_KEY, name)
        cron = opt_str(data.get("cron"))
        if cron is not None:
            problem = cron_problem(cron)
            if problem is not None:
                self.error(self.doc.at((*path, "cron")), problem)
        verb_name = opt_str(data.get("verb"))
        args = mapping(data.get("args"))
        verb = self.verbs.get(verb_name) if verb_name is not None else None
        if verb_name is not None and verb is None:
            hint = did_you_mean(verb_name, self.verbs) or f" (job verbs: {', '.join(sorted(self.verbs))})"
            self.error(self.doc.at((*path, "verb")), f"unknown job verb '{verb_name}'{hint}")
        if verb is not None:
            self.check_args(path, verb, args)
        if cron is None or verb_name is None:
            return None
        return JobSpec(
            name=name,
            label=label_of(data.get("label"), name),
            cron=cron,
            verb=verb_name,
            args=args,
            enabled=flag(data.get("enabled"), default=True),
            location=self.doc.key_at(path),
        )

    def check_args(self, path: YamlPath, verb: JobVerb, args: dict[str, Any]) -> None:
        if verb.args is None:
            return
        where = (*path, "args")
        names = [a.name for a in verb.args]
        for key in args:
            if verb.arg(key) is None:
                hint = did_you_mean(key, names) or f" (arguments: {', '.join(names) or 'none'})"
                self.error(self.doc.key_at((*where, key)), f"unknown argument '{key}' of job verb '{verb.name}'{hint}")
        for a in verb.args:
            if a.required and a.name not in args:
                at = self.doc.key_at(where) if where in self.doc.keys else self.doc.key_at(path)
                self.error(at, f"job verb '{verb.name}' needs the argument '{a.name}' ({a.help})")
        entity_arg = next((a for a in verb.args if a.kind == "entity"), None)
        entity: EntitySpec | None = None
        if entity_arg is not None and isinstance(args.get(entity_arg.name), str):
            entity_name = args[entity_arg.name]
            entity = self.entities.get(entity_name)
            if entity is None:
                self.error(self.doc.at((*where, entity_arg.name)), f"unknown entity '{entity_name}'{did_you_mean(entity_name, self.entities)}")
        for a in verb.args:
            if a.name in args and a.kind != "entity":
                self.check_value(a, args[a.name], (*where, a.name), entity)

    def check_value(self, a: JobArg, value: Any, path: YamlPath, entity: EntitySpec | None) -> None:
        from app.spec.verb_calls import expression_problems, record_names

        loc = self.doc.at(path)
        expected = {
            "field": str, "link_field": str, "transition": str, "expression": (str, bool, int, float),
            "text": str, "integer": int, "flag": bool, "label": (str, dict),
        }[a.kind]
        if not isinstance(value, expected) or (a.kind == "integer" and isinstance(value, bool)):
            self.error(loc, f"argument '{a.name}': expected {a.kind.replace('_', ' ')}, got {value!r}")
            return
        if entity is None:
            return
        if a.kind in ("field", "link_field"):
            f = entity.fields.get(value)
            if f is None:
                self.error(loc, f"unknown field '{value}' of '{entity.name}' in '{a.name}'{did_you_mean(value, entity.fields)}")
            elif a.kind == "link_field" and not f.is_link:
                self.error(loc, f"'{entity.name}.{value}' is a {f.type} field: '{a.name}' needs a link")
            elif a.types and f.type not in a.types:
                self.error(loc, f"'{entity.name}.{value}' is a {f.type} field: '{a.name}' needs {' or '.join(a.types)}")
        elif a.kind == "transition":
            workflow = self.workflows.get(entity.name)
            if workflow is None:
                self.error(loc, f"'{entity.name}' has no workflow: '{a.name}' names a transition of it")
            elif value not in workflow.transitions:
                hint = did_you_mean(value, workflow.transitions) or f" (transitions: {', '.join(workflow.transitions)})"
                self.error(loc, f"unknown transition '{value}' of '{entity.name}'{hint}")
        elif a.kind == "expression":
            for problem in expression_problems(str(value), record_names(entity)):
                self.error(loc, problem)


def build_jobs(
    doc: YamlDoc,
    entities: Mapping[str, EntitySpec],
    workflows: Mapping[str, WorkflowSpec],
    verbs: Mapping[str, JobVerb] | None = None,
) -> tuple[dict[str, JobSpec], list[SpecError]]:
    """The jobs of workflows.yaml (`jobs:`) and their errors (the schema check has reported
    malformed values already: those jobs are skipped)."""
    raw = doc.data.get(JOBS_KEY) if isinstance(doc.data, dict) else None
    if not isinstance(raw, dict):
        return {}, []
    checker = _JobChecker(doc, entities, workflows, load_job_verbs() if verbs is None else verbs)
    jobs: dict[str, JobSpec] = {}
    for name, data in raw.items():
        if isinstance(data, dict):
            job = checker.job(name, data)
            if job is not None:
                jobs[name] = job
    return jobs, checker.errors


def is_job_key(name: str) -> bool:
    """True for the reserved `jobs:` key of workflows.yaml (not a workflow)."""
    return name == JOBS_KEY
