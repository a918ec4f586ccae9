"""Bring the database in line with the spec, without ever losing data.

Alembic compares the database with the tables built from the spec (`rt.models.metadata`).
What only adds (a table, a column, an index, a unique constraint over distinct values, a wider
type) is applied at once; what would drop or narrow data (a column no longer in the spec, a
shorter string, fewer decimals, a change of kind) is refused with every problem listed, and
nothing is changed (app/engine/migrate_script.py then writes the whole migration as an Alembic
revision to review, and runs it once reviewed). Tables the spec no longer
describes are left alone with a warning.

SQLite alters tables through Alembic's batch mode (copy and move), with foreign keys off
while it runs. SQLite stores exact decimals as scaled integers (app/engine/coltypes.py), so
the database cannot tell their scale: it is recorded in `comptoir_column_scale`, and a wider
scale rescales the stored integers.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from alembic.autogenerate import produce_migrations
from alembic.migration import MigrationContext
from alembic.operations import Operations, ops
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.exc import SAWarning, SQLAlchemyError
from sqlalchemy.types import TypeDecorator, TypeEngine

from app.engine.coltypes import ExactDecimal
from app.engine.runtime import Runtime

log = logging.getLogger("comptoir.migrate")

SCALE_TABLE = "comptoir_column_scale"
_PG_LOCK_KEY = 0x636F6D70  # "comp": one migration at a time per PostgreSQL database

_scale_metadata = MetaData()
_scale_table = Table(
    SCALE_TABLE,
    _scale_metadata,
    Column("table_name", String(100), primary_key=True),
    Column("column_name", String(100), primary_key=True),
    Column("scale", Integer, nullable=False),
)


def msg(fr: str, en: str) -> str:
    return f"{fr} / {en}"


class MigrationError(Exception):
    """The database could not be brought in line with the spec; `problems` lists why."""

    def __init__(self, problems: list[str], footer: str = "") -> None:
        self.problems = problems
        self.footer = footer
        lines = [f"- {p}" for p in problems] + ([footer] if footer else [])
        super().__init__("\n".join(lines))


class MigrationRefused(MigrationError):
    """Changes that would drop or narrow data: nothing was changed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            problems,
            msg(
                "Rien n'a été modifié. Remettez le champ tel qu'il était, ou après une sauvegarde "
                "lancez `comptoir migrate --write-script DOSSIER`, relisez le script Alembic "
                "généré puis appliquez-le avec `comptoir migrate --apply-script FICHIER`",
                "Nothing was changed. Put the field back as it was, or after a backup run "
                "`comptoir migrate --write-script DIR`, review the generated Alembic script and "
                "apply it with `comptoir migrate --apply-script FILE`",
            ),
        )


# --- type signatures -----------------------------------------------------------------------


@dataclass(frozen=True)
class Sig:
    """What a column type means for the data it holds."""

    kind: str  # string, text, integer, decimal, float, boolean, date, datetime, json, other
    length: int | None = None  # strings
    scale: int | None = None  # decimals (None: unknown)

    def __str__(self) -> str:
        if self.kind == "string":
            return f"string({self.length})" if self.length else "string"
        if self.kind == "decimal":
            return f"decimal({self.scale if self.scale is not None else '?'} décimales / decimals)"
        return self.kind


def sig_of(type_: TypeEngine[Any]) -> Sig:
    if isinstance(type_, ExactDecimal):
        return Sig("decimal", scale=type_.scale)
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, Text) or (isinstance(type_, String) and not type_.length):
        return Sig("text")
    if isinstance(type_, String):
        return Sig("string", length=type_.length)
    if isinstance(type_, Boolean):
        return Sig("boolean")
    if isinstance(type_, Integer):
        return Sig("integer")
    if isinstance(type_, Float):
        return Sig("float")
    if isinstance(type_, Numeric):
        return Sig("decimal", scale=type_.scale)
    if isinstance(type_, DateTime):
        return Sig("datetime")
    if isinstance(type_, Date):
        return Sig("date")
    if isinstance(type_, JSON):
        return Sig("json")
    return Sig("other", length=None, scale=None)


def classify(old: Sig, new: Sig) -> str:
    """'same', 'widen' (applied) or 'narrow' (refused) for a column going from old to new."""
    if old == new:
        return "same"
    if old.kind == new.kind == "string":
        return "widen" if old.length is not None and (new.length or 0) >= old.length else "narrow"
    if old.kind == "string" and new.kind == "text":
        return "widen"
    if old.kind == "integer" and new.kind == "decimal":
        return "widen"
    if old.kind == new.kind == "decimal":
        # Fewer decimals loses digits; fewer integer digits is caught by PostgreSQL itself
        # (the ALTER fails and the transaction rolls back) and is unbounded on SQLite.
        if old.scale is None or new.scale is None or new.scale < old.scale:
            return "narrow"
        return "widen"
    return "narrow"


# --- the plan ------------------------------------------------------------------------------


@dataclass
class Rescale:
    """SQLite only: multiply stored scaled integers after a scale or kind change."""

    table: str
    column: str
    factor: int


@dataclass
class Plan:
    creates: list[ops.CreateTableOp] = field(default_factory=list)
    changes: list[ops.ModifyTableOps] = field(default_factory=list)
    rescales: list[Rescale] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    script_ops: list[ops.MigrateOperation] = field(default_factory=list)
    scales: dict[tuple[str, str], int] = field(default_factory=dict)  # what to record (SQLite)
    script_sql: list[str] = field(default_factory=list)  # refused SQLite rescales, for the script


class _Where:
    """Names a table or column the way a configurator knows it (its YAML file and field)."""

    def __init__(self, rt: Runtime) -> None:
        self.files: dict[str, str] = {}
        self.fields: dict[tuple[str, str], str] = {}
        for entity in rt.spec.entities.values():
            self.files[entity.name] = entity.file or f"schema/{entity.name}.yaml"
            for f in entity.fields.values():
                self.fields[(entity.name, f.column_name)] = f.name

    def file(self, table: str) -> str:
        return self.files.get(table, f"schema/{table}.yaml")

    def column(self, table: str, column: str) -> str:
        name = self.fields.get((table, column))
        return f"{table}.{column}" if name in (None, column) else f"{table}.{column} ({name})"


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    return not (type_ == "table" and name == SCALE_TABLE)


def migration_context(conn: Connection) -> MigrationContext:
    return MigrationContext.configure(
        conn,
        opts={
            "compare_type": True,
            "include_name": _include_name,
            "render_as_batch": conn.dialect.name == "sqlite",
        },
    )


def _recorded_scales(conn: Connection) -> dict[tuple[str, str], int]:
    if conn.dialect.name != "sqlite" or not conn.dialect.has_table(conn, SCALE_TABLE):
        return {}
    rows = conn.execute(select(_scale_table)).all()
    return {(r.table_name, r.column_name): int(r.scale) for r in rows}


def metadata_scales(rt: Runtime) -> dict[tuple[str, str], int]:
    return {
        (table.name, col.name): col.type.scale
        for table in rt.models.metadata.tables.values()
        for col in table.columns
        if isinstance(col.type, ExactDecimal)
    }


def _db_sig(conn: Connection, type_: Any, table: str, column: str, recorded: dict[tuple[str, str], int]) -> Sig:
    sig = sig_of(type_)
    if conn.dialect.name == "sqlite" and isinstance(type_, BigInteger):
        # Our only BIGINT columns on SQLite are scaled decimals.
        return Sig("decimal", scale=recorded.get((table, column)))
    return sig


def plan_migration(conn: Connection, rt: Runtime) -> Plan:
    mc = migration_context(conn)
    with warnings.catch_warnings():
        # Links may form cycles (A links to B, B links back to A); the sort only orders
        # creations, and _apply adds foreign keys once every new table exists.
        warnings.filterwarnings("ignore", "Cannot correctly sort tables", SAWarning)
        script = produce_migrations(mc, rt.models.metadata)
    where = _Where(rt)
    plan = Plan()
    sqlite = conn.dialect.name == "sqlite"
    recorded = _recorded_scales(conn)
    wanted = metadata_scales(rt)
    known_tables = set(rt.models.metadata.tables)
    created: set[str] = set()
    for op in script.upgrade_ops.ops if script.upgrade_ops else []:
        if isinstance(op, ops.CreateTableOp):
            plan.creates.append(op)
            plan.script_ops.append(op)
            created.add(op.table_name)
            plan.done.append(msg(f"table {op.table_name} créée", f"table {op.table_name} created"))
        elif isinstance(op, ops.DropTableOp):
            plan.warnings.append(
                msg(
                    f"la table {op.table_name} est dans la base mais plus dans la configuration : "
                    "laissée telle quelle",
                    f"table {op.table_name} is in the database but no longer in the configuration: left as is",
                )
            )
        elif isinstance(op, ops.ModifyTableOps) and op.table_name in known_tables:
            _plan_table(conn, op, plan, where, recorded, created)
    if sqlite:
        _plan_sqlite_scales(conn, plan, where, recorded, wanted, created)
        plan.scales = wanted
    return plan


def _plan_table(
    conn: Connection,
    table_ops: ops.ModifyTableOps,
    plan: Plan,
    where: _Where,
    recorded: dict[tuple[str, str], int],
    created: set[str],
) -> None:
    table = table_ops.table_name
    safe: list[ops.MigrateOperation] = []
    script: list[ops.MigrateOperation] = []
    added_columns = {o.column.name for o in table_ops.ops if isinstance(o, ops.AddColumnOp)}
    for op in table_ops.ops:
        if isinstance(op, ops.AddColumnOp):
            # The spec's column carries index and foreign key flags; Alembic lists those as
            # operations of their own, so add the bare column (as a rendered script would).
            col = op.column
            op = ops.AddColumnOp(table, Column(col.name, col.type, nullable=col.nullable), schema=op.schema)
            safe.append(op)
            plan.done.append(msg(f"colonne {table}.{op.column.name} ajoutée", f"column {table}.{op.column.name} added"))
        elif isinstance(op, ops.DropColumnOp):
            name = where.column(table, op.column_name)
            plan.refused.append(
                msg(
                    f"la colonne {name} existe dans la base mais n'est plus dans {where.file(table)} "
                    "(la supprimer effacerait ses données)",
                    f"column {name} exists in the database but is no longer in {where.file(table)} "
                    "(dropping it would erase its data)",
                )
            )
        elif isinstance(op, ops.AlterColumnOp):
            _plan_alter(conn, op, plan, where, recorded, safe)
        elif isinstance(op, ops.CreateIndexOp):
            safe.append(op)
            if table not in created:  # a new table's indexes go without saying
                plan.done.append(msg(f"index {op.index_name} créé", f"index {op.index_name} created"))
        elif isinstance(op, ops.DropIndexOp):
            if (op.index_name or "").startswith(f"ix_{table}_"):
                safe.append(op)
                plan.done.append(msg(f"index {op.index_name} supprimé", f"index {op.index_name} dropped"))
            else:
                plan.warnings.append(
                    msg(f"index {op.index_name} inconnu laissé tel quel", f"unknown index {op.index_name} left as is")
                )
                continue
        elif isinstance(op, ops.CreateUniqueConstraintOp):
            problem = None if table in created else _duplicates(conn, table, op.columns, where)
            if problem:
                plan.refused.append(problem)
            else:
                safe.append(op)
                plan.done.append(msg(f"unicité {op.constraint_name} ajoutée", f"unique constraint {op.constraint_name} added"))
        elif isinstance(op, ops.CreateForeignKeyOp):
            new_column = set(op.local_cols) <= added_columns
            problem = None if new_column else _orphans(conn, op, where)
            if problem:
                plan.refused.append(problem)
            else:
                safe.append(op)
                plan.done.append(msg(f"clé étrangère {op.constraint_name} ajoutée", f"foreign key {op.constraint_name} added"))
        elif isinstance(op, ops.DropConstraintOp):
            name = op.constraint_name if isinstance(op.constraint_name, str) else ""
            if name.startswith(("uq_", "fk_")):
                safe.append(op)
                plan.done.append(msg(f"contrainte {op.constraint_name} supprimée", f"constraint {op.constraint_name} dropped"))
            else:
                plan.warnings.append(
                    msg(
                        f"contrainte {op.constraint_name} de {table} inconnue laissée telle quelle",
                        f"unknown constraint {op.constraint_name} of {table} left as is",
                    )
                )
                continue
        else:
            plan.refused.append(
                msg(f"changement non géré sur {table} : {op!r}", f"unsupported change on {table}: {op!r}")
            )
        script.append(op)
    if safe:
        plan.changes.append(ops.ModifyTableOps(table, safe, schema=table_ops.schema))
    if script:
        plan.script_ops.append(ops.ModifyTableOps(table, script, schema=table_ops.schema))


def _plan_alter(
    conn: Connection,
    op: ops.AlterColumnOp,
    plan: Plan,
    where: _Where,
    recorded: dict[tuple[str, str], int],
    safe: list[ops.MigrateOperation],
) -> None:
    if op.modify_type is None:
        return  # nullability and defaults are the store's business, not the database's
    table, column = op.table_name, op.column_name
    old = _db_sig(conn, op.existing_type, table, column, recorded)
    new = sig_of(op.modify_type)
    verdict = classify(old, new)
    if verdict == "same":
        return
    name = where.column(table, column)
    if verdict == "narrow":
        if conn.dialect.name == "sqlite" and old.kind == "decimal" and new.kind == "integer":
            plan.script_sql.append(_sqlite_divide(table, column, old.scale or 0))
        plan.refused.append(
            msg(
                f"la colonne {name} passerait de {old} à {new} ({where.file(table)}) : des données seraient perdues",
                f"column {name} would change from {old} to {new} ({where.file(table)}): data would be lost",
            )
        )
        return
    safe.append(
        ops.AlterColumnOp(
            table,
            column,
            schema=op.schema,
            existing_type=op.existing_type,
            existing_nullable=op.existing_nullable,
            modify_type=op.modify_type,
        )
    )
    if conn.dialect.name == "sqlite" and new.kind == "decimal" and old.kind == "integer":
        plan.rescales.append(Rescale(table, column, 10 ** (new.scale or 0)))
    plan.done.append(msg(f"colonne {name} : {old} → {new}", f"column {name}: {old} → {new}"))


def _plan_sqlite_scales(
    conn: Connection,
    plan: Plan,
    where: _Where,
    recorded: dict[tuple[str, str], int],
    wanted: dict[tuple[str, str], int],
    created: set[str],
) -> None:
    """Scale changes of decimals that stay decimals: invisible to Alembic on SQLite."""
    for (table, column), scale in wanted.items():
        before = recorded.get((table, column))
        if table in created or before is None or before == scale:
            continue
        name = where.column(table, column)
        if scale < before:
            plan.script_sql.append(_sqlite_divide(table, column, before - scale))
            plan.refused.append(
                msg(
                    f"la colonne {name} passerait de {before} à {scale} décimales ({where.file(table)}) : "
                    "des chiffres seraient perdus",
                    f"column {name} would go from {before} to {scale} decimals ({where.file(table)}): digits would be lost",
                )
            )
        else:
            plan.rescales.append(Rescale(table, column, 10 ** (scale - before)))
            plan.done.append(
                msg(f"colonne {name} : {before} → {scale} décimales", f"column {name}: {before} → {scale} decimals")
            )


def _sqlite_divide(table: str, column: str, digits: int) -> str:
    """Fewer decimals on SQLite: divide the scaled integers, rounding half away from zero."""
    return (
        f'UPDATE "{table}" SET "{column}" = CAST(ROUND("{column}" / {10 ** digits}.0) AS INTEGER) '
        f'WHERE "{column}" IS NOT NULL'
    )


def _duplicates(conn: Connection, table: str, columns: Sequence[str], where: _Where) -> str | None:
    t = Table(table, MetaData(), *(Column(c) for c in columns))
    cols = [t.c[c] for c in columns]
    query = (
        select(*cols, func.count().label("n"))
        .where(*(c.isnot(None) for c in cols))
        .group_by(*cols)
        .having(func.count() > 1)
        .limit(5)
    )
    rows = conn.execute(query).all()
    if not rows:
        return None
    values = ", ".join(repr(r[0]) if len(columns) == 1 else repr(tuple(r[:-1])) for r in rows)
    name = where.column(table, columns[0])
    return msg(
        f"la colonne {name} ne peut pas devenir unique : valeurs en double {values} ({where.file(table)})",
        f"column {name} cannot become unique: duplicate values {values} ({where.file(table)})",
    )


def _orphans(conn: Connection, op: ops.CreateForeignKeyOp, where: _Where) -> str | None:
    if len(op.local_cols) != 1:
        return None
    local = Table(op.source_table, MetaData(), Column(op.local_cols[0]))
    remote = Table(op.referent_table, MetaData(), Column(op.remote_cols[0]))
    col = local.c[op.local_cols[0]]
    query = select(func.count()).select_from(local).where(
        col.isnot(None), col.not_in(select(remote.c[op.remote_cols[0]]))
    )
    count = conn.execute(query).scalar() or 0
    if not count:
        return None
    name = where.column(op.source_table, op.local_cols[0])
    return msg(
        f"la colonne {name} désigne {count} enregistrement(s) absent(s) de {op.referent_table}",
        f"column {name} refers to {count} record(s) missing from {op.referent_table}",
    )


# --- applying ------------------------------------------------------------------------------


@contextmanager
def migration_connection(rt: Runtime) -> Iterator[Connection]:
    """One connection, in a transaction; SQLite with foreign keys off (batch copies tables)."""
    with rt.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                yield conn
            if sqlite:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                conn.rollback()
                for row in broken[:10]:
                    log.warning("foreign key check: %s", tuple(row))
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def _apply(conn: Connection, plan: Plan) -> None:
    operations = Operations(migration_context(conn))
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:  # SQLite checks references only when rows are written: create in any order
        for create in plan.creates:
            operations.invoke(create)
    else:  # new tables may refer to each other: their foreign keys come once all exist
        mc = operations.migration_context
        tables = [create.to_table(mc) for create in plan.creates]
        for table in tables:
            mc.impl.create_table(table, include_foreign_key_constraints=[])
        for table in tables:
            for fk in table.foreign_key_constraints:
                mc.impl.add_constraint(fk)
    for change in plan.changes:
        if sqlite:
            with operations.batch_alter_table(change.table_name, schema=change.schema) as batch:
                for op in change.ops:
                    batch.invoke(op)
        else:
            for op in change.ops:
                operations.invoke(op)
    for r in plan.rescales:
        conn.exec_driver_sql(
            f'UPDATE "{r.table}" SET "{r.column}" = "{r.column}" * {int(r.factor)} WHERE "{r.column}" IS NOT NULL'
        )
    if sqlite:
        record_scales(conn, plan.scales)


def record_scales(conn: Connection, scales: dict[tuple[str, str], int]) -> None:
    _scale_metadata.create_all(conn, checkfirst=True)
    recorded = _recorded_scales(conn)
    if recorded == scales:
        return
    conn.execute(_scale_table.delete())
    if scales:
        conn.execute(
            _scale_table.insert(),
            [{"table_name": t, "column_name": c, "scale": s} for (t, c), s in sorted(scales.items())],
        )


def migrate(rt: Runtime) -> list[str]:
    """Apply the safe changes; return what was done and warnings. Raise MigrationRefused."""
    with migration_connection(rt) as conn:
        plan = plan_migration(conn, rt)
        if plan.refused:
            raise MigrationRefused(plan.refused)
        try:
            _apply(conn, plan)
        except SQLAlchemyError as exc:
            raise MigrationError(
                [msg(f"la base a refusé la migration : {exc.__class__.__name__}: {exc.args[0] if exc.args else exc}",
                      "the database refused the migration")],
            ) from exc
    for warning in plan.warnings:
        log.warning(warning)
    for done in plan.done:
        log.info(done)
    return plan.done + [f"⚠ {w}" for w in plan.warnings]
