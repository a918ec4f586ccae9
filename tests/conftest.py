"""Shared fixtures: a fresh database per test on SQLite, and on PostgreSQL when
COMPTOIR_TEST_DATABASE_URL is set (one database per run, one schema per test)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("COMPTOIR_TEST_DATABASE_URL", "")

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(scope="session")
def pg_run_database() -> Iterator[str]:
    """A PostgreSQL database of this run's own, dropped at the end."""
    if not PG_URL:
        pytest.fail("COMPTOIR_TEST_DATABASE_URL is not set")
    name = f"comptoir_test_{uuid.uuid4().hex[:10]}"
    server = make_url(PG_URL)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable server: fail loudly, never skip
        raise RuntimeError(f"PostgreSQL at {PG_URL} is unreachable: {exc}") from exc
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pg_schema_url(run_url: str) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(run_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(run_url).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    )
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            # a connection the test left open (e.g. idle in transaction) must not block the drop
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": schema},
            )
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: SQLite file, or a PostgreSQL schema of this test's own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    run_url = request.getfixturevalue("pg_run_database")
    yield from _pg_schema_url(run_url)


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """A copy of the shipped configuration that a test may edit."""
    target = tmp_path / "config"
    target.mkdir()
    for name in ("schema", "templates"):
        if (PROJECT_ROOT / name).is_dir():
            shutil.copytree(PROJECT_ROOT / name, target / name)
    for name in ("picklists.yaml", "groups.yaml", "workflows.yaml"):
        if (PROJECT_ROOT / name).exists():
            shutil.copy(PROJECT_ROOT / name, target / name)
    app_dir = target / "app" / "spec" / "schemas"
    if (PROJECT_ROOT / "app" / "spec" / "schemas").is_dir():
        shutil.copytree(PROJECT_ROOT / "app" / "spec" / "schemas", app_dir)
    return target


_SPECS: dict[Path, tuple[tuple[tuple[str, int], ...], Any]] = {}


def _cached_spec(root: Path) -> Any:
    """The loaded spec of a config dir, reloaded only when one of its YAML files changed."""
    from app.spec.loader import load_spec_or_raise

    files = [*root.glob("schema/*.yaml"), *root.glob("*.yaml")]
    stamp = tuple(sorted((str(p), p.stat().st_mtime_ns) for p in files))
    cached = _SPECS.get(root)
    if cached is None or cached[0] != stamp:
        _SPECS[root] = cached = (stamp, load_spec_or_raise(root))
    return cached[1]


@pytest.fixture
def make_runtime(database_url: str) -> Iterator[Callable[..., Any]]:
    """Build (and migrate) a runtime for a config dir on this test's database."""
    from app.web.app import load_runtime

    built: list[Any] = []

    def make(config_dir: Path | None = None) -> Any:
        root = (config_dir or PROJECT_ROOT).resolve()
        rt = load_runtime(root, database_url, spec=_cached_spec(root))
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
