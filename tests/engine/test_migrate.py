"""The database follows the YAML: additions applied at start-up, losses refused."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from app.engine.migrate import SCALE_TABLE, MigrationRefused, migrate, plan_migration
from app.engine.migrate_script import apply_script, write_script
from app.engine.models import COUNTER_TABLE, TOKEN_TABLE
from app.engine.permissions import SYSTEM
from app.engine.runtime import Runtime, build_runtime
from app.engine.store import Store
from app.spec.loader import load_spec_or_raise
from tests.engine.configs import write_config

THING = """
    label: {fr: Chose, en: Thing}
    plural: {fr: Choses, en: Things}
    title: name
    fields:
      name: {type: string, label: Nom, length: 100}
      fax: {type: phone, label: Fax}
      price: {type: decimal, label: Prix, scale: 2}
      code: {type: string, label: Code, length: 20}
    list:
      columns: [name]
"""

VEHICLE = """
    label: {fr: Véhicule, en: Vehicle}
    plural: {fr: Véhicules, en: Vehicles}
    title: plate
    fields:
      plate: {type: string, label: Immatriculation, length: 20, required: true}
      thing: {type: link, to: thing, label: Chose}
    list:
      columns: [plate, thing]
"""


class Rig:
    """One database, and configurations written then reloaded on it like restarts."""

    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url
        self.runtimes: list[Runtime] = []

    def config(self, entities: dict[str, str]) -> Path:
        return write_config(self.root, entities)

    def runtime(self, entities: dict[str, str]) -> Runtime:
        """A runtime on the new configuration, not migrated yet."""
        if (self.root / "schema").is_dir():
            for old in (self.root / "schema").glob("*.yaml"):
                old.unlink()
        spec = load_spec_or_raise(self.config(entities))
        rt = build_runtime(spec, self.url)
        self.runtimes.append(rt)
        return rt

    def start(self, entities: dict[str, str]) -> tuple[Runtime, list[str]]:
        rt = self.runtime(entities)
        return rt, migrate(rt)

    def columns(self, table: str) -> dict[str, Any]:
        with self.runtimes[-1].engine.connect() as conn:
            return {c["name"]: c["type"] for c in inspect(conn).get_columns(table)}

    def tables(self) -> set[str]:
        with self.runtimes[-1].engine.connect() as conn:
            return set(inspect(conn).get_table_names())

    def indexes(self, table: str) -> set[str]:
        with self.runtimes[-1].engine.connect() as conn:
            return {str(ix["name"]) for ix in inspect(conn).get_indexes(table)}

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.runtimes[-1].engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql)).all()]


@pytest.fixture
def rig(tmp_path: Path, database_url: str) -> Iterator[Rig]:
    r = Rig(tmp_path / "config", database_url)
    yield r
    for rt in r.runtimes:
        rt.engine.dispose()


def create(rt: Runtime, entity: str, values: dict[str, Any]) -> int:
    with rt.session() as session:
        record = Store(rt, session, SYSTEM).create(entity, values)
        session.commit()
        return int(record.id)


def get(rt: Runtime, entity: str, record_id: int) -> Any:
    with rt.session() as session:
        return Store(rt, session, SYSTEM).get(entity, record_id)


def with_field(yaml: str, line: str) -> str:
    return yaml.replace("    list:", f"      {line}\n    list:")


def test_fresh_database_gets_every_table_and_the_system_tables(rig: Rig) -> None:
    rt, done = rig.start({"thing": THING})
    assert {"thing", "user", "user_right", COUNTER_TABLE, TOKEN_TABLE} <= rig.tables()
    assert any("thing" in d for d in done)


def test_running_twice_is_a_no_op(rig: Rig) -> None:
    rig.start({"thing": THING, "vehicle": VEHICLE})
    rt, done = rig.start({"thing": THING, "vehicle": VEHICLE})
    assert done == []
    with rt.engine.connect() as conn:
        plan = plan_migration(conn, rt)
    assert (plan.creates, plan.changes, plan.rescales, plan.refused) == ([], [], [], [])


def test_added_field_becomes_a_column_and_rows_stay(rig: Rig) -> None:
    rt, _ = rig.start({"thing": THING})
    thing_id = create(rt, "thing", {"name": "Chaudière", "fax": "04 65 71 00 01", "price": "12.34"})
    rt2, done = rig.start({"thing": with_field(THING, "colour: {type: string, label: Couleur, length: 30}")})
    assert "colour" in rig.columns("thing")
    assert any("thing.colour" in d for d in done)
    record = get(rt2, "thing", thing_id)
    assert (record.name, record.fax, record.price, record.colour) == ("Chaudière", "04 65 71 00 01", Decimal("12.34"), None)
    updated_id = create(rt2, "thing", {"name": "Radiateur", "colour": "blanc"})
    assert get(rt2, "thing", updated_id).colour == "blanc"


def test_added_entity_becomes_a_table_linked_to_existing_rows(rig: Rig) -> None:
    rt, _ = rig.start({"thing": THING})
    thing_id = create(rt, "thing", {"name": "Camionnette"})
    rt2, done = rig.start({"thing": THING, "vehicle": VEHICLE})
    assert "vehicle" in rig.tables()
    assert any("vehicle" in d for d in done)
    vehicle_id = create(rt2, "vehicle", {"plate": "AB-123-CD", "thing": thing_id})
    assert get(rt2, "vehicle", vehicle_id).thing_id == thing_id
    assert get(rt2, "thing", thing_id).name == "Camionnette"


def test_added_link_field_gets_a_working_foreign_key(rig: Rig) -> None:
    rt, _ = rig.start({"thing": THING, "vehicle": VEHICLE})
    thing_id = create(rt, "thing", {"name": "Atelier"})
    rt2, _ = rig.start({"thing": with_field(THING, "spare: {type: link, to: vehicle, label: Secours}"), "vehicle": VEHICLE})
    vehicle_id = create(rt2, "vehicle", {"plate": "ZZ-999-ZZ", "thing": thing_id})
    with rt2.engine.connect() as conn:
        conn.execute(text("UPDATE thing SET spare_id = :v WHERE id = :t"), {"v": vehicle_id, "t": thing_id})
        conn.commit()
        with pytest.raises(IntegrityError):
            conn.execute(text("UPDATE thing SET spare_id = 999999 WHERE id = :t"), {"t": thing_id})
            conn.commit()
    assert "ix_thing_spare_id" in rig.indexes("thing")
    assert rig.start({"thing": with_field(THING, "spare: {type: link, to: vehicle, label: Secours}"), "vehicle": VEHICLE})[1] == []


def test_index_true_creates_an_index(rig: Rig) -> None:
    rig.start({"thing": THING})
    assert "ix_thing_code" not in rig.indexes("thing")
    indexed = THING.replace("code: {type: string, label: Code, length: 20}", "code: {type: string, label: Code, length: 20, index: true}")
    _, done = rig.start({"thing": indexed})
    assert "ix_thing_code" in rig.indexes("thing")
    assert any("ix_thing_code" in d for d in done)


def test_removed_field_is_refused_naming_the_column_and_nothing_changes(rig: Rig) -> None:
    rt, _ = rig.start({"thing": THING})
    thing_id = create(rt, "thing", {"name": "Vieux", "fax": "04 65 71 00 02"})
    without_fax = THING.replace("      fax: {type: phone, label: Fax}\n", "")
    # the same restart also adds a field: it must not be applied either
    rt2 = rig.runtime({"thing": with_field(without_fax, "colour: {type: string, label: Couleur}")})
    with pytest.raises(MigrationRefused) as refused:
        migrate(rt2)
    message = str(refused.value)
    assert "thing.fax" in message
    assert "schema/thing.yaml" in message
    assert "comptoir migrate --write-script" in message
    assert {"fax", "name"} <= set(rig.columns("thing"))
    assert "colour" not in rig.columns("thing")
    assert rig.rows(f"SELECT fax FROM thing WHERE id = {thing_id}") == [("04 65 71 00 02",)]


def test_every_problem_is_listed_at_once(rig: Rig) -> None:
    rig.start({"thing": THING})
    broken = THING.replace("      fax: {type: phone, label: Fax}\n", "").replace("length: 100", "length: 10")
    with pytest.raises(MigrationRefused) as refused:
        migrate(rig.runtime({"thing": broken}))
    assert len(refused.value.problems) == 2
    assert "thing.fax" in refused.value.problems[0] + refused.value.problems[1]
    assert "thing.name" in refused.value.problems[0] + refused.value.problems[1]


@pytest.mark.parametrize(
    ("before", "after", "fragment"),
    [
        ("name: {type: string, label: Nom, length: 100}", "name: {type: string, label: Nom, length: 50}", "thing.name"),
        ("name: {type: string, label: Nom, length: 100}", "name: {type: integer, label: Nom}", "thing.name"),
        ("price: {type: decimal, label: Prix, scale: 2}", "price: {type: decimal, label: Prix, scale: 1}", "thing.price"),
        ("price: {type: decimal, label: Prix, scale: 2}", "price: {type: integer, label: Prix}", "thing.price"),
    ],
)
def test_narrowing_a_type_is_refused(rig: Rig, before: str, after: str, fragment: str) -> None:
    rt, _ = rig.start({"thing": THING})
    thing_id = create(rt, "thing", {"name": "Gardé", "price": "1.25"})
    with pytest.raises(MigrationRefused) as refused:
        migrate(rig.runtime({"thing": THING.replace(before, after)}))
    assert fragment in str(refused.value)
    rt_again, done = rig.start({"thing": THING})
    assert done == []
    assert (get(rt_again, "thing", thing_id).name, get(rt_again, "thing", thing_id).price) == ("Gardé", Decimal("1.25"))


@pytest.mark.parametrize(
    ("before", "after", "field", "value"),
    [
        ("name: {type: string, label: Nom, length: 100}", "name: {type: string, label: Nom, length: 300}", "name", "Gardé"),
        ("name: {type: string, label: Nom, length: 100}", "name: {type: text, label: Nom}", "name", "Gardé"),
        ("price: {type: decimal, label: Prix, scale: 2}", "price: {type: decimal, label: Prix, scale: 4}", "price", Decimal("1.2500")),
    ],
)
def test_widening_a_type_keeps_values(rig: Rig, before: str, after: str, field: str, value: Any) -> None:
    rt, _ = rig.start({"thing": THING})
    thing_id = create(rt, "thing", {"name": "Gardé", "price": "1.25"})
    rt2, done = rig.start({"thing": THING.replace(before, after)})
    assert any(f"thing.{field}" in d for d in done)
    assert getattr(get(rt2, "thing", thing_id), field) == value
    assert rig.start({"thing": THING.replace(before, after)})[1] == []


def test_integer_to_decimal_keeps_the_value(rig: Rig) -> None:
    counted = with_field(THING, "count: {type: integer, label: Nombre}")
    rt, _ = rig.start({"thing": counted})
    thing_id = create(rt, "thing", {"name": "Stock", "count": 7})
    rt2, _ = rig.start({"thing": counted.replace("count: {type: integer", "count: {type: money")})
    assert get(rt2, "thing", thing_id).count == Decimal("7.00")


def test_unique_is_added_when_values_are_distinct(rig: Rig) -> None:
    rt, _ = rig.start({"thing": THING})
    create(rt, "thing", {"name": "A", "code": "C1"})
    create(rt, "thing", {"name": "B", "code": "C2"})
    unique = THING.replace("length: 20}", "length: 20, unique: true}")
    rt2, done = rig.start({"thing": unique})
    assert any("uq_thing_code" in d for d in done)
    with rt2.engine.connect() as conn:
        with pytest.raises(IntegrityError):
            conn.execute(text("INSERT INTO thing (created_at, updated_at, version, code) VALUES (CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1, 'C1')"))
    assert rig.start({"thing": unique})[1] == []


def test_unique_is_refused_over_duplicates(rig: Rig) -> None:
    rt, _ = rig.start({"thing": THING})
    create(rt, "thing", {"name": "A", "code": "SAME"})
    create(rt, "thing", {"name": "B", "code": "SAME"})
    with pytest.raises(MigrationRefused) as refused:
        migrate(rig.runtime({"thing": THING.replace("length: 20}", "length: 20, unique: true}")}))
    assert "thing.code" in str(refused.value) and "SAME" in str(refused.value)


def test_table_no_longer_in_the_spec_is_kept_with_a_warning(rig: Rig) -> None:
    rt, _ = rig.start({"thing": THING, "vehicle": VEHICLE})
    create(rt, "vehicle", {"plate": "AA-111-AA"})
    _, done = rig.start({"thing": THING})
    assert "vehicle" in rig.tables()
    assert rig.rows("SELECT plate FROM vehicle") == [("AA-111-AA",)]
    assert any(d.startswith("⚠") and "vehicle" in d for d in done)


def test_reviewed_script_drops_the_refused_column(rig: Rig, tmp_path: Path) -> None:
    rt, _ = rig.start({"thing": THING})
    thing_id = create(rt, "thing", {"name": "Gardé", "fax": "04 65 71 00 03"})
    rt2 = rig.runtime({"thing": THING.replace("      fax: {type: phone, label: Fax}\n", "")})
    script = write_script(rt2, tmp_path / "migrations")
    source = script.read_text(encoding="utf-8")
    assert "drop_column(" in source and "'fax'" in source
    assert "thing.fax" in source
    assert f"--apply-script {script}" in source
    compile(source, str(script), "exec")
    assert "fax" in rig.columns("thing")  # writing the script changes nothing
    done = apply_script(rt2, script)
    assert "fax" not in rig.columns("thing")
    assert any(script.name in d for d in done)
    assert get(rt2, "thing", thing_id).name == "Gardé"
    assert migrate(rt2) == []


def test_scale_is_recorded_only_where_the_database_cannot_tell(rig: Rig) -> None:
    rig.start({"thing": THING})
    assert (SCALE_TABLE in rig.tables()) == rig.url.startswith("sqlite")


def test_new_entities_linking_each_other_are_created_together(rig: Rig) -> None:
    rt, _ = rig.start({"thing": with_field(THING, "spare: {type: link, to: vehicle, label: Secours}"), "vehicle": VEHICLE})
    thing_id = create(rt, "thing", {"name": "Dépôt"})
    vehicle_id = create(rt, "vehicle", {"plate": "BB-222-BB", "thing": thing_id})
    with rt.session() as session:
        Store(rt, session, SYSTEM).update("thing", thing_id, {"spare": vehicle_id})
        session.commit()
    assert get(rt, "thing", thing_id).spare_id == vehicle_id
    with rt.engine.connect() as conn:
        foreign = {fk["referred_table"] for fk in inspect(conn).get_foreign_keys("thing")}
    assert foreign == {"vehicle"}


def test_shipped_configuration_starts_twice_without_changes(make_runtime: Any) -> None:
    first = make_runtime()
    assert "account" in inspect(first.engine).get_table_names()
    second = make_runtime()
    assert migrate(second) == []


def test_reviewed_script_reduces_decimals_without_misreading_values(rig: Rig, tmp_path: Path) -> None:
    rt, _ = rig.start({"thing": THING})
    thing_id = create(rt, "thing", {"name": "Arrondi", "price": "1.25"})
    rt2 = rig.runtime({"thing": THING.replace("label: Prix, scale: 2}", "label: Prix, scale: 1}")})
    with pytest.raises(MigrationRefused):
        migrate(rt2)
    apply_script(rt2, write_script(rt2, tmp_path / "migrations"))
    assert get(rt2, "thing", thing_id).price == Decimal("1.3")
    assert migrate(rt2) == []
