"""Reviewable migrations: what `comptoir migrate` refused, written as an Alembic revision.

`write_script` renders every pending change (the refused ones included) with Alembic's
autogenerate renderer; after review, `apply_script` runs the revision's upgrade() and then the
usual migration. Tables left alone (no longer in the spec) are listed, never dropped.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import uuid
from pathlib import Path
from typing import Any

from alembic.autogenerate import render_python_code
from alembic.autogenerate.api import AutogenContext
from alembic.operations import Operations, ops

from app.engine.coltypes import ExactDecimal
from app.engine.migrate import (
    MigrationError,
    metadata_scales,
    migrate,
    migration_connection,
    migration_context,
    msg,
    plan_migration,
    record_scales,
)
from app.engine.runtime import Runtime

def _render_item(dialect: str) -> Any:
    def render(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
        if type_ == "type" and isinstance(obj, ExactDecimal):
            if dialect == "sqlite":
                return "sa.BigInteger()"
            return f"sa.Numeric(precision={obj.precision}, scale={obj.scale})"
        return False

    return render


def write_script(rt: Runtime, directory: Path) -> Path:
    """Write every change (refused ones included) as an Alembic revision to review."""
    with rt.engine.connect() as conn:
        plan = plan_migration(conn, rt)
        dialect = conn.dialect.name
        mc = migration_context(conn)
        body = render_python_code(
            ops.UpgradeOps(ops=plan.script_ops),
            render_as_batch=dialect == "sqlite",
            render_item=_render_item(dialect),
            migration_context=mc,
        )
        conn.rollback()
    statements = [
        f'UPDATE "{r.table}" SET "{r.column}" = "{r.column}" * {r.factor} WHERE "{r.column}" IS NOT NULL'
        for r in plan.rescales
    ] + plan.script_sql
    extra = [f"    op.execute({sql!r})" for sql in statements]
    revision = uuid.uuid4().hex[:12]
    now = dt.datetime.now().replace(microsecond=0)
    path = directory / f"{now:%Y%m%d_%H%M%S}_{revision}_comptoir.py"
    notes = "\n".join(f"  - {p}" for p in plan.refused) or "  (aucun / none)"
    kept = "\n".join(f"  - {w}" for w in plan.warnings) or "  (aucun / none)"
    content = f'''"""Comptoir — migration à relire / migration to review ({now.isoformat()}).

Refusé automatiquement / refused automatically:
{notes}

Laissé tel quel / left as is:
{kept}

Relisez chaque ligne (une colonne supprimée perd ses données : sauvegardez d'abord), puis :
Review every line (a dropped column loses its data: back up first), then:
    comptoir migrate --apply-script {path}
"""
from alembic import op
import sqlalchemy as sa

revision = "{revision}"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    {body.strip()}
{chr(10).join(extra)}


def downgrade() -> None:
    raise NotImplementedError("restaurez la sauvegarde / restore the backup")
'''
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


def apply_script(rt: Runtime, path: Path) -> list[str]:
    """Run a reviewed revision's upgrade(), then the usual migration."""
    try:
        spec = importlib.util.spec_from_file_location(f"comptoir_revision_{uuid.uuid4().hex}", path)
        if spec is None or spec.loader is None:
            raise ImportError(str(path))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except (OSError, ImportError, SyntaxError) as exc:
        raise MigrationError([msg(f"script illisible : {path} ({exc})", f"unreadable script: {path}")]) from exc
    upgrade = getattr(module, "upgrade", None)
    if not callable(upgrade):
        raise MigrationError([msg(f"{path} n'a pas de fonction upgrade()", f"{path} has no upgrade() function")])
    with migration_connection(rt) as conn:
        try:
            with Operations.context(migration_context(conn)):
                upgrade()
        except Exception as exc:  # the reviewed script is the user's: report, do not crash
            raise MigrationError(
                [msg(f"le script a échoué, rien n'a été validé : {type(exc).__name__}: {exc}", "the script failed")]
            ) from exc
        if conn.dialect.name == "sqlite":
            record_scales(conn, metadata_scales(rt))  # the reviewed script rescaled what it changed
    return [msg(f"script {path.name} appliqué", f"script {path.name} applied"), *migrate(rt)]
