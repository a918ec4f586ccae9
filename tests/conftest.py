"""Shared fixtures: a fresh database per test on SQLite, and on PostgreSQL when
COMPTOIR_TEST_DATABASE_URL is set (databases of this run's own, dropped at the end).

Building the schema of the shipped configuration takes longer than most tests, so each
configuration is migrated once into a template (a SQLite file, a PostgreSQL template database)
and a test's fresh database starts as a copy of it."""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("COMPTOIR_TEST_DATABASE_URL", "")

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _pg_admin() -> Any:
    return create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    url = make_url(PG_URL).set(database=name).update_query_dict({"application_name": name[:63]})
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_run_database() -> Iterator[str]:
    """The name prefix of this run's PostgreSQL databases; all of them are dropped at the end."""
    if not PG_URL:
        pytest.fail("COMPTOIR_TEST_DATABASE_URL is not set")
    name = f"comptoir_test_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # unreachable server: fail loudly, never skip
        raise RuntimeError(f"PostgreSQL at {PG_URL} is unreachable: {exc}") from exc
    try:
        yield name
    finally:
        with admin.connect() as conn:
            left = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": f"{name}%"}).scalars()
            for database in list(left):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def _pg_test_database(run: str) -> Iterator[str]:
    name = f"{run}_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            # a connection the test left open (e.g. idle in transaction) must not block the drop
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL database of this test's own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    yield from _pg_test_database(request.getfixturevalue("pg_run_database"))


# --- templates: one migrated database per configuration --------------------------------------

_TEMPLATE_DIR = Path(tempfile.mkdtemp(prefix="comptoir-templates-"))
atexit.register(shutil.rmtree, _TEMPLATE_DIR, ignore_errors=True)
_TEMPLATES: dict[tuple[str, str], str] = {}  # (backend, digest of the YAML files) -> template


def _is_empty(database_url: str) -> bool:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return not Path(url.database or "").exists()
    engine = create_engine(url)
    try:
        return not inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _template(root: Path, spec: Any, backend: str, run: str | None) -> str:
    """The migrated template of this configuration (built on first use): a file or a database."""
    from app.web.app import load_runtime

    key = (backend, _DIGESTS[id(spec)][1])  # copies of one configuration share their template
    if key not in _TEMPLATES:
        if backend == "sqlite":
            target = str(_TEMPLATE_DIR / f"{uuid.uuid4().hex[:8]}.db")
            url = f"sqlite:///{target}"
        else:
            target = f"{run}_tpl_{uuid.uuid4().hex[:6]}"
            admin = _pg_admin()
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{target}"'))
            admin.dispose()
            url = _pg_url(target)
        load_runtime(root, url, spec=spec).engine.dispose()
        _TEMPLATES[key] = target
    return _TEMPLATES[key]


def _start_from_template(database_url: str, root: Path, spec: Any, run: str | None) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        shutil.copyfile(_template(root, spec, "sqlite", None), url.database or "")
        return
    template, name = _template(root, spec, "postgresql", run), url.database
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()


# The subprocesses of the tests (the CLI, servers) compile the application's modules once for
# the run instead of at every start (about 0.3 s each): where the environment forbids
# writing bytecode, they write it to a cache directory outside the source tree.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "comptoir-test-pycache"))


@pytest.fixture(scope="session", autouse=True)
def _one_event_loop_for_test_clients() -> Iterator[None]:
    """Starlette's TestClient, used outside a `with` block, starts a thread and an event loop
    for each request and stops them after it: about 3 of the 10 ms of a small API request
    here. One loop, in one thread for the whole run, serves every such request instead, as a
    server's loop serves all of its requests; a client in a `with` block (lifespan, the
    scheduler) keeps its own."""
    import contextlib

    import anyio.from_thread
    from starlette.testclient import TestClient

    original = TestClient._portal_factory  # fails loudly if Starlette renames it

    with anyio.from_thread.start_blocking_portal(backend="asyncio") as shared:

        @contextlib.contextmanager
        def portal_factory(self: TestClient) -> Iterator[Any]:
            backend = self.async_backend
            if self.portal is not None or backend.get("backend") != "asyncio" or backend.get("backend_options"):
                with original(self) as portal:
                    yield portal
            else:
                yield shared

        TestClient._portal_factory = portal_factory  # type: ignore[method-assign]
        try:
            yield
        finally:
            TestClient._portal_factory = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _files_and_outbox_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stored files (uploads, issued PDFs) and mails written as .eml go to the test's own
    folder, never into the working directory; a test may still set its own."""
    monkeypatch.setenv("COMPTOIR_FILES_DIR", str(tmp_path / "files"))
    monkeypatch.setenv("COMPTOIR_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.delenv("COMPTOIR_SMTP_URL", raising=False)


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A real local SMTP server (tests/smtp.py) that the application sends to."""
    from tests.smtp import smtp_server

    with smtp_server() as catcher:
        monkeypatch.setenv("COMPTOIR_SMTP_URL", catcher.url)
        yield catcher


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """A copy of the shipped configuration that a test may edit."""
    target = tmp_path / "config"
    target.mkdir()
    for name in ("schema", "templates"):
        if (PROJECT_ROOT / name).is_dir():
            shutil.copytree(PROJECT_ROOT / name, target / name)
    for name in ("picklists.yaml", "groups.yaml", "workflows.yaml", "files.yaml"):
        if (PROJECT_ROOT / name).exists():
            shutil.copy(PROJECT_ROOT / name, target / name)
    app_dir = target / "app" / "spec" / "schemas"
    if (PROJECT_ROOT / "app" / "spec" / "schemas").is_dir():
        shutil.copytree(PROJECT_ROOT / "app" / "spec" / "schemas", app_dir)
    return target


_SPECS: dict[Path, tuple[tuple[tuple[str, int], ...], Any]] = {}
_DIGESTS: dict[int, tuple[Any, str]] = {}  # id(spec) -> (spec, digest of the files it was loaded from)


def _cached_spec(root: Path) -> Any:
    """The loaded spec of a config dir, reloaded only when one of its YAML files changed."""
    from app.spec.loader import load_spec_or_raise

    files = sorted([*root.glob("schema/*.yaml"), *root.glob("*.yaml")])
    stamp = tuple((str(p), p.stat().st_mtime_ns) for p in files)
    cached = _SPECS.get(root)
    if cached is None or cached[0] != stamp:
        _SPECS[root] = cached = (stamp, load_spec_or_raise(root))
        digest = hashlib.sha256()
        for path in files:  # what the database schema is built from
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
        _DIGESTS[id(cached[1])] = (cached[1], digest.hexdigest())
    return cached[1]


_MODELS: OrderedDict[str, Any] = OrderedDict()  # digest of the YAML files -> their models, the last few


def _models_of(spec: Any) -> Any:
    """The mapped classes of a configuration, built once for all the tests of identical YAML:
    building and configuring them, then collecting them as garbage, costs more than most
    tests. Only the last few are kept (each holds tens of thousands of objects that every
    full garbage collection would go through)."""
    from app.engine.models import build_models

    digest = _DIGESTS[id(spec)][1]
    models = _MODELS.get(digest)
    if models is None:
        models = _MODELS[digest] = build_models(spec)  # configured by build_models
        while len(_MODELS) > 4:
            _MODELS.popitem(last=False)
    _MODELS.move_to_end(digest)
    return models


@pytest.fixture
def make_runtime(database_url: str, request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """Build (and migrate) a runtime for a config dir on this test's database."""
    from app.engine.migrate import migrate
    from app.engine.runtime import build_runtime

    built: list[Any] = []

    def make(config_dir: Path | None = None) -> Any:
        root = (config_dir or PROJECT_ROOT).resolve()
        spec = _cached_spec(root)
        if not built and _is_empty(database_url):  # a fresh database: a copy of the migrated template
            run = request.getfixturevalue("pg_run_database") if database_url.startswith("postgresql") else None
            _start_from_template(database_url, root, spec, run)
            rt = build_runtime(spec, database_url, models=_models_of(spec))
        else:  # a database a test built already: migrate it to this configuration
            rt = build_runtime(spec, database_url, models=_models_of(spec))
            migrate(rt)
        built.append(rt)
        return rt

    yield make
    for rt in built:
        rt.engine.dispose()


@pytest.fixture
def runtime(make_runtime: Callable[..., Any]) -> Any:
    """The shipped configuration on a fresh database."""
    return make_runtime()


def add_user(rt: Any, login: str, groups: list[str], password: str = "secret-pass-1", **extra: Any) -> int:
    """Create a user directly through the store; returns its id."""
    from app.engine.permissions import SYSTEM
    from app.engine.store import Store

    with rt.session() as session:
        store = Store(rt, session, SYSTEM)
        user = store.create("user", {"login": login, "groups": groups, "password": password, **extra})
        session.commit()
        return int(user.id)


@pytest.fixture
def add_user_fn() -> Callable[..., int]:
    return add_user
