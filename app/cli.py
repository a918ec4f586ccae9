"""The `comptoir` command: serve, check, migrate, demo, user add, token, audit verify, jobs, facturx check.

User errors (an invalid configuration, a refused migration, an unknown group or login, an
unreachable database) print a clear message on standard error and exit with status 1,
never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import logging
import os
import secrets
import sys
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette

from app.engine.migrate import MigrationError, migrate
from app.engine.migrate_script import apply_script, write_script
from app.engine.runtime import Runtime, build_runtime, default_config_dir, default_database_url, settle_memory
from app.spec.errors import SpecError
from app.spec.model import AppSpec, Location

log = logging.getLogger("comptoir")

DEMO_DATABASE = "comptoir-demo.db"
# Demo logins, printed when `serve --demo` starts: login, groups, password.
DEMO_USERS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("admin", ("admin",), "admin-demo"),
    ("commercial", ("sales",), "commercial-demo"),
    ("compta", ("accounting",), "compta-demo"),
)
TEMPLATE_SUFFIXES = (".html", ".j2", ".txt", ".xml")
RELOAD_INCLUDES = ["*.yaml", "*.html", "*.j2"]


def _msg(fr: str, en: str) -> str:
    return f"{fr} / {en}"


class CliError(Exception):
    """A user error: printed without a traceback, exit status `code`."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# --- configuration and database ------------------------------------------------------------


def template_errors(root: Path) -> list[SpecError]:
    """Jinja syntax errors of every template under templates/, as file:line errors."""
    from jinja2 import Environment, TemplateSyntaxError

    env = Environment()
    errors: list[SpecError] = []
    folder = root / "templates"
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if path.suffix not in TEMPLATE_SUFFIXES or not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        try:
            env.parse(path.read_text(encoding="utf-8"), name=rel, filename=rel)
        except TemplateSyntaxError as exc:
            errors.append(SpecError(Location(rel, exc.lineno or 1, 1), f"Jinja : {exc.message}"))
        except UnicodeDecodeError:
            errors.append(SpecError(Location(rel, 1, 1), _msg("fichier non UTF-8", "file is not UTF-8")))
    return errors


def validate(root: Path) -> tuple[AppSpec | None, list[SpecError]]:
    """The spec and every error of the YAML files and templates (what `check` prints)."""
    from app.spec.loader import load_spec

    spec, errors = load_spec(root)
    errors = [*errors, *template_errors(root)]
    return (spec if not errors else None), errors


def _config_errors(root: Path, errors: list[SpecError]) -> CliError:
    from app.spec.loader import format_errors

    header = _msg(
        f"Configuration invalide ({root}) : {len(errors)} erreur(s)",
        f"invalid configuration: {len(errors)} error(s)",
    )
    return CliError(f"{format_errors(errors)}\n{header}")


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as given, it has no password to hide
        return url


def open_runtime(*, migrated: bool = True) -> Runtime:
    """Validate the configuration, connect, and (by default) migrate; CliError otherwise."""
    root = default_config_dir()
    spec, errors = validate(root)
    if spec is None:
        raise _config_errors(root, errors)
    url = default_database_url()
    try:
        rt = build_runtime(spec, url)
    except Exception as exc:  # bad URL or missing driver: the user's setting, not a bug
        raise CliError(_msg(f"COMPTOIR_DATABASE_URL invalide « {_safe_url(url)} » : {exc}", "invalid database URL")) from exc
    if migrated:
        try:
            migrate(rt)  # logs what it did
        except MigrationError as exc:
            rt.engine.dispose()
            raise CliError(_msg("La base de données ne suit pas la configuration :", "The database does not follow the configuration:") + f"\n{exc}") from exc
    return rt


def app_factory() -> Starlette:
    """The ASGI app for `uvicorn --factory` (used by `serve --reload`): reads the environment."""
    from app.web.app import create_app

    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("comptoir").setLevel(logging.INFO)  # what each reload migrated
    try:
        rt = open_runtime()
    except CliError as exc:
        print(exc.message, file=sys.stderr)
        raise SystemExit(1) from None
    except OperationalError as exc:
        print(_database_unreachable(exc), file=sys.stderr)
        raise SystemExit(1) from None
    application = create_app(runtime=rt)
    settle_memory()
    return application


def _database_unreachable(exc: OperationalError) -> str:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    url = _safe_url(default_database_url())
    return _msg(f"Base de données inaccessible ({url}) : {reason}", f"database unreachable ({url})")


# --- demo ----------------------------------------------------------------------------------


def _has_business_rows(rt: Runtime) -> bool:
    from app.spec.builtin import USER_ENTITY, USER_RIGHT_ENTITY

    with rt.engine.connect() as conn:
        for name, table in rt.models.tables.items():
            if name in (USER_ENTITY, USER_RIGHT_ENTITY):
                continue
            if conn.execute(select(func.count()).select_from(table)).scalar():
                return True
    return False


def load_demo_data(rt: Runtime, *, today: dt.date) -> dict[str, int]:
    """The demo company through the Store (SYSTEM), plus the demo users; one transaction."""
    from app.demo import load_demo
    from app.engine.auth import find_user
    from app.engine.permissions import SYSTEM
    from app.engine.store import Store, StoreError
    from app.spec.builtin import USER_ENTITY

    with rt.session() as session:
        store = Store(rt, session, SYSTEM)

        def create(entity: str, values: dict[str, Any]) -> int:
            return int(store.create(entity, values).id)

        try:
            counts = load_demo(create, today=today)
            for login, groups, password in DEMO_USERS:
                if find_user(rt, session, login) is None:
                    known = [g for g in groups if g in rt.spec.groups]
                    store.create(USER_ENTITY, {"login": login, "groups": known, "password": password, "full_name": login.capitalize()})
        except StoreError as exc:
            session.rollback()
            raise CliError(
                _msg(
                    f"les données de démonstration ne suivent pas la configuration : {exc.message}",
                    "the demo data does not fit the configuration",
                )
            ) from exc
        session.commit()
    return counts


def _print_demo_logins() -> None:
    print(_msg("Comptes de démonstration", "Demo logins") + " :")
    for login, groups, password in DEMO_USERS:
        print(f"  {login:<12} {password:<18} ({', '.join(groups)})")


def _fresh_demo_database() -> None:
    """Unless COMPTOIR_DATABASE_URL is set, a new SQLite file in the working directory."""
    if os.environ.get("COMPTOIR_DATABASE_URL"):
        return
    path = Path.cwd() / DEMO_DATABASE
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.environ["COMPTOIR_DATABASE_URL"] = f"sqlite:///{path}"


# --- commands ------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from app.spec.loader import format_errors

    root = default_config_dir()
    spec, errors = validate(root)
    if spec is None:
        print(format_errors(errors))
        print(_msg(f"Configuration invalide : {len(errors)} erreur(s)", f"invalid configuration: {len(errors)} error(s)"))
        return 1
    print(
        f"Configuration valide : {len(spec.entities)} entités, {len(spec.picklists)} listes de choix, "
        f"{len(spec.groups)} groupes ({root}) / valid configuration: {len(spec.entities)} entities, "
        f"{len(spec.picklists)} picklists, {len(spec.groups)} groups"
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    rt = open_runtime(migrated=False)
    try:
        if args.write_script:
            path = write_script(rt, Path(args.write_script))
            print(_msg(f"Script écrit : {path} (relisez-le avant de l'appliquer)", f"script written: {path} (review it before applying)"))
            return 0
        if args.apply_script:
            lines = apply_script(rt, Path(args.apply_script))
        else:
            lines = migrate(rt)
    except MigrationError as exc:
        raise CliError(_msg("Migration refusée :", "Migration refused:") + f"\n{exc}") from exc
    finally:
        rt.engine.dispose()
    for line in lines:
        print(line)
    if not lines:
        print(_msg("La base suit déjà la configuration.", "The database already follows the configuration."))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    rt = open_runtime()
    try:
        if _has_business_rows(rt):
            raise CliError(
                _msg(
                    "la base contient déjà des données : la démonstration se charge dans une base vide "
                    "(ou lancez `comptoir serve --demo`)",
                    "the database already holds data: load the demo into an empty one (or run `comptoir serve --demo`)",
                )
            )
        counts = load_demo_data(rt, today=args.today)
    finally:
        rt.engine.dispose()
    total = sum(counts.values())
    print(_msg(f"Données de démonstration chargées : {total} enregistrements", f"demo data loaded: {total} records"))
    _print_demo_logins()
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Mot de passe / Password: ")
        if getpass.getpass("Confirmez / Confirm: ") != password:
            raise CliError(_msg("les deux mots de passe diffèrent", "the passwords differ"))
    if not password:
        raise CliError(_msg("mot de passe vide", "empty password"))
    return password


def cmd_user_add(args: argparse.Namespace) -> int:
    from app.engine.permissions import SYSTEM
    from app.engine.store import Store, StoreError
    from app.spec.builtin import USER_ENTITY

    rt = open_runtime()
    try:
        groups = list(dict.fromkeys(args.group))
        unknown = [g for g in groups if g not in rt.spec.groups]
        if unknown:
            valid = ", ".join(rt.spec.groups)
            raise CliError(
                _msg(
                    f"groupe inconnu « {', '.join(unknown)} » (groupes : {valid})",
                    f"unknown group '{', '.join(unknown)}' (groups: {valid})",
                )
            )
        password = _read_password(args.password_stdin)
        values: dict[str, Any] = {"login": args.login, "groups": groups, "password": password}
        if args.full_name:
            values["full_name"] = args.full_name
        if args.email:
            values["email"] = args.email
        with rt.session() as session:
            try:
                Store(rt, session, SYSTEM).create(USER_ENTITY, values)
            except StoreError as exc:
                where = f"{exc.field} : " if exc.field else ""
                raise CliError(_msg(f"utilisateur refusé : {where}{exc.message}", "user refused")) from exc
            session.commit()
    finally:
        rt.engine.dispose()
    print(_msg(f"Utilisateur {args.login} créé (groupes : {', '.join(groups)})", f"user {args.login} created"))
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from app.engine.auth import find_user, issue_token

    rt = open_runtime()
    try:
        with rt.session() as session:
            user = find_user(rt, session, args.login)
            if user is None:
                raise CliError(_msg(f"utilisateur inconnu « {args.login} »", f"unknown user '{args.login}'"))
            token = issue_token(rt, session, user)
            session.commit()
    finally:
        rt.engine.dispose()
    print(token)
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Recompute the audit log's hash chain and compare the audited records with their
    snapshots; exit 1 naming each broken entry and each record changed behind the app's back."""
    from app.engine.audit import verify

    rt = open_runtime()
    try:
        report = verify(rt)
    finally:
        rt.engine.dispose()
    for problem in report.problems:
        print(problem)
    if not report.ok:
        print(
            _msg(
                f"Journal d'audit : {len(report.problems)} anomalie(s) sur {report.entries} entrée(s)",
                f"audit log: {len(report.problems)} problem(s) in {report.entries} entries",
            ),
            file=sys.stderr,
        )
        return 1
    print(
        _msg(
            f"Journal d'audit intègre : {report.entries} entrée(s), {report.records} document(s) vérifié(s)",
            f"audit log intact: {report.entries} entries, {report.records} records checked",
        )
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.web.app import create_app

    if args.demo:
        _fresh_demo_database()
    rt = open_runtime()
    if args.demo:
        if _has_business_rows(rt):
            print(_msg("Base existante conservée : données de démonstration non rechargées", "existing database kept: demo data not loaded again"))
        else:
            counts = load_demo_data(rt, today=dt.date.today())
            print(_msg(f"Démonstration : {sum(counts.values())} enregistrements chargés", "demo data loaded"))
    if not os.environ.get("COMPTOIR_SECRET_KEY"):
        # One key for this process and its reloads; sessions end when the server stops.
        os.environ["COMPTOIR_SECRET_KEY"] = secrets.token_urlsafe(32)
        print(_msg("COMPTOIR_SECRET_KEY non défini : clé temporaire", "COMPTOIR_SECRET_KEY not set: temporary key"), file=sys.stderr)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    print(f"Comptoir : http://{shown}:{args.port}/admin/  (base : {_safe_url(str(rt.engine.url))})")
    if args.demo:
        _print_demo_logins()
    sys.stdout.flush()
    if args.reload:
        rt.engine.dispose()
        root = default_config_dir()
        excludes = [str(p) for p in (root / ".venv", root / ".git") if p.is_dir()]
        uvicorn.run(
            "app.cli:app_factory",
            factory=True,
            host=args.host,
            port=args.port,
            reload=True,
            reload_dirs=[str(root)],
            reload_includes=RELOAD_INCLUDES,
            reload_excludes=excludes or None,
        )
        return 0
    application = create_app(runtime=rt)
    settle_memory()
    uvicorn.run(application, host=args.host, port=args.port)
    return 0


# --- jobs ----------------------------------------------------------------------------------


def _local(moment: dt.datetime | None) -> str:
    from app.engine.scheduler import job_timezone

    if moment is None:
        return "—"
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(job_timezone()).strftime("%Y-%m-%d %H:%M")


def cmd_jobs_list(args: argparse.Namespace) -> int:
    """Each job: name, cron, verb, last run (and its result), next run."""
    from app.engine.jobs import last_runs, utcnow
    from app.engine.scheduler import next_fire, read_states

    rt = open_runtime()
    try:
        states, runs = read_states(rt), last_runs(rt)
    finally:
        rt.engine.dispose()
    if not rt.spec.jobs:
        print(_msg("Aucune tâche planifiée (clé `jobs:` de workflows.yaml)", "no scheduled job"))
        return 0
    print(f"{'TÂCHE/JOB':<24} {'CRON':<18} {'VERBE/VERB':<22} {'DERNIÈRE/LAST RUN':<34} PROCHAINE/NEXT RUN")
    for job in rt.spec.jobs.values():
        run = runs.get(job.name)
        last = f"{_local(run.started_at)} {run.result} ({run.day})" if run is not None else "—"
        state = states.get(job.name)
        if not job.enabled:
            following = _msg("désactivée", "disabled")
        elif state is not None and state.cron == job.cron:
            following = _local(state.next_run_at)
        else:
            following = _local(next_fire(job, utcnow()))
        print(f"{job.name:<24} {job.cron:<18} {job.verb:<22} {last:<34} {following}")
    return 0


def cmd_jobs_run(args: argparse.Namespace) -> int:
    """Run one job now for a day (default today), log the run, print its counts."""
    from app.engine.jobs import MANUAL, run_job

    rt = open_runtime()
    try:
        job = rt.spec.jobs.get(args.name)
        if job is None:
            from app.spec.suggest import closest

            known = ", ".join(rt.spec.jobs) or _msg("aucune", "none")
            near = closest(args.name, rt.spec.jobs)
            hint = _msg(f" — vouliez-vous dire « {near} » ?", f" — did you mean '{near}'?") if near else ""
            raise CliError(_msg(f"tâche inconnue « {args.name} » (tâches : {known})", f"unknown job '{args.name}' (jobs: {known})") + hint, code=2)
        result = run_job(rt, job, args.today, trigger=MANUAL)
    finally:
        rt.engine.dispose()
    counts = " ".join(f"{k}={v}" for k, v in result.counts.items()) or "—"
    print(f"{job.name} ({result.day}) : {result.result} — {counts}")
    if result.message:
        print(result.message, file=sys.stderr if not result.ok else sys.stdout)
    return 0 if result.ok else 1


# --- parser --------------------------------------------------------------------------------


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_msg(f"date invalide « {text} » (AAAA-MM-JJ)", "invalid date (YYYY-MM-DD)")) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="comptoir",
        description="Comptoir : gestion commerciale et facturation générée depuis YAML / CRM and invoicing from YAML.",
        epilog="Environnement / environment: COMPTOIR_DATABASE_URL, COMPTOIR_CONFIG_DIR, COMPTOIR_SECRET_KEY, "
        "COMPTOIR_SMTP_URL, COMPTOIR_OUTBOX_DIR, COMPTOIR_FILES_DIR",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMANDE", required=True)

    serve = sub.add_parser("serve", help="lancer l'application / run the app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--reload", action="store_true", help="redémarrer quand un YAML ou un modèle change / restart on YAML or template changes")
    serve.add_argument("--demo", action="store_true", help=f"base neuve ({DEMO_DATABASE}) avec des données de démonstration / fresh demo database")
    serve.set_defaults(func=cmd_serve)

    check = sub.add_parser("check", help="valider la configuration / validate the configuration")
    check.set_defaults(func=cmd_check)

    mig = sub.add_parser("migrate", help="mettre la base à jour / bring the database up to date")
    group = mig.add_mutually_exclusive_group()
    group.add_argument("--write-script", metavar="DOSSIER", help="écrire un script Alembic à relire / write an Alembic script to review")
    group.add_argument("--apply-script", metavar="FICHIER", help="appliquer un script relu / apply a reviewed script")
    mig.set_defaults(func=cmd_migrate)

    demo = sub.add_parser("demo", help="charger les données de démonstration / load demo data")
    demo.add_argument("--today", type=_date, default=dt.date.today(), help="date de référence / reference date (YYYY-MM-DD)")
    demo.set_defaults(func=cmd_demo)

    user = sub.add_parser("user", help="utilisateurs / users")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = user_sub.add_parser("add", help="créer un utilisateur / create a user")
    add.add_argument("login")
    add.add_argument("--group", action="append", required=True, metavar="GROUPE", help="répétable / repeatable")
    add.add_argument("--password-stdin", action="store_true", help="lire le mot de passe sur l'entrée standard / read the password from stdin")
    add.add_argument("--full-name")
    add.add_argument("--email")
    add.set_defaults(func=cmd_user_add)

    token = sub.add_parser("token", help="créer un jeton d'API (seul le jeton est affiché) / new API token (prints only the token)")
    token.add_argument("login")
    token.set_defaults(func=cmd_token)

    audit = sub.add_parser("audit", help="journal d'audit / audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_sub.add_parser("verify", help="vérifier la chaîne et les documents / verify the chain and the records")
    verify.set_defaults(func=cmd_audit_verify)

    jobs = sub.add_parser("jobs", help="tâches planifiées / scheduled jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    jobs_list = jobs_sub.add_parser("list", help="lister les tâches / list the jobs")
    jobs_list.set_defaults(func=cmd_jobs_list)
    jobs_run = jobs_sub.add_parser("run", help="exécuter une tâche maintenant / run a job now")
    jobs_run.add_argument("name", metavar="TÂCHE")
    jobs_run.add_argument("--today", type=_date, default=dt.date.today(), help="jour traité / the day to run it for (YYYY-MM-DD)")
    jobs_run.set_defaults(func=cmd_jobs_run)
    from app.documents.facturx_check import add_facturx_parser  # `comptoir facturx check FILE.pdf`

    add_facturx_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    if args.command == "serve":
        logging.getLogger("comptoir").setLevel(logging.INFO)
    if args.command == "migrate":  # printed on standard output instead
        logging.getLogger("comptoir.migrate").setLevel(logging.ERROR)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(exc.message, file=sys.stderr)
        return exc.code
    except OperationalError as exc:
        print(_database_unreachable(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
