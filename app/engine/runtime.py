"""Everything built once at start-up from the configuration: spec, models, database, defaults."""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.engine.models import Models, build_models
from app.spec.model import AppSpec

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def default_config_dir() -> Path:
    """COMPTOIR_CONFIG_DIR, else the project's own configuration (whatever the cwd)."""
    configured = os.environ.get("COMPTOIR_CONFIG_DIR")
    if configured:
        return Path(configured).resolve()
    packaged = PROJECT_ROOT / "config"
    if (PROJECT_ROOT / "schema").is_dir():
        return PROJECT_ROOT
    return packaged


def default_database_url() -> str:
    return os.environ.get("COMPTOIR_DATABASE_URL", "sqlite:///comptoir.db")


@dataclass
class Runtime:
    spec: AppSpec
    models: Models
    engine: Engine
    sessions: sessionmaker[Session]
    defaults: dict[tuple[str, str], Any] = field(default_factory=dict)
    # (entity, field) -> the parsed value of a default that reads nothing (`0`, `'draft'`)
    constant_defaults: dict[tuple[str, str], Any] = field(default_factory=dict)
    # what the engine derives from the spec on first use and keeps (e.g. a child's order fields)
    memo: dict[Any, Any] = field(default_factory=dict)

    def session(self) -> Session:
        return self.sessions()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def build_runtime(
    spec: AppSpec, database_url: str, *, engine: Engine | None = None, models: Models | None = None
) -> Runtime:
    """`models`: the mapped classes of this very spec, built already (they depend on nothing
    else, so several runtimes of one spec may share them, as the tests' databases do)."""
    from app.engine.expressions import compile_defaults

    models = models or build_models(spec)
    db = engine or make_engine(database_url)
    sessions = sessionmaker(bind=db, expire_on_commit=False)
    return Runtime(
        spec=spec,
        models=models,
        engine=db,
        sessions=sessions,
        defaults=compile_defaults(spec),
    )


def settle_memory() -> None:
    """Called once the server's runtime and app are built (and by bench/): the objects made at
    start-up — the spec, the mapped classes and tables, compiled expressions — live as long as
    the process; moved out of the garbage collector's generations (gc.freeze), the full
    collections that a large request triggers (a batch of thousands of records) no longer walk
    them all each time. Not done by `build_runtime`: tests build many runtimes in one process,
    whose garbage must stay collectable."""
    gc.collect()
    gc.freeze()
