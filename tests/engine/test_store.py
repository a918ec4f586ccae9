"""The store: the rules every interface relies on, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import pytest

from app.engine.permissions import SYSTEM, Principal
from app.engine.store import Store, StoreError
from app.spec.expressions import fixed_clock

CONFIG = {
    "picklists.yaml": """
        level:
          label: {fr: Niveau, en: Level}
          values:
            - {code: prospect, label: {fr: Prospect, en: Prospect}}
            - {code: client, label: {fr: Client, en: Client}}
    """,
    "groups.yaml": """
        admin: {label: Admin, rights: {"*": ["*"]}}
        reader: {label: Lecteurs, rights: {"*": [read]}}
    """,
    "schema/party.yaml": """
        label: {fr: Tiers, en: Party}
        title: name
        numbering:
          - {field: code, pattern: "CU{yy}{mm}-{0000}"}
        fields:
          code: {type: string, readonly: true, unique: true, length: 20}
          name: {type: string, required: true, label: {fr: Nom, en: Name}}
          level: {type: choice, picklist: level, default: "'prospect'"}
          limit: {type: money, min: 0}
          since: {type: date, default: "today() + days(2)"}
          siret: {type: siret}
        list: {columns: [code, name], filters: [level], search: [name, code], sort: name}
        children:
          places: {entity: place, via: party, label: {fr: Lieux, en: Places}, order_by: position}
    """,
    "schema/place.yaml": """
        label: {fr: Lieu, en: Place}
        title: city
        embedded: true
        fields:
          party: {type: link, to: party, required: true}
          city: {type: string, required: true}
          position: {type: integer}
    """,
    "schema/visit.yaml": """
        label: {fr: Visite, en: Visit}
        title: subject
        fields:
          subject: {type: string, required: true}
          party: {type: link, to: party, required: true, label: {fr: Tiers, en: Party}}
    """,
}


def write_config(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content).lstrip(), encoding="utf-8")
    return root


@pytest.fixture
def rt(make_runtime: Callable[..., Any], tmp_path: Path) -> Any:
    return make_runtime(write_config(tmp_path / "cfg", CONFIG))


def test_create_applies_defaults_numbering_and_parsing(rt: Any) -> None:
    with fixed_clock(dt.date(2026, 3, 9)), rt.session() as s:
        store = Store(rt, s, SYSTEM)
        a = store.create("party", {"name": "Dupont SARL", "limit": "1 234,50"})
        b = store.create("party", {"name": "Martin"})
        s.commit()
        assert (a.code, b.code) == ("CU2603-0001", "CU2603-0002")
        assert a.level == "prospect"
        assert a.since == dt.date(2026, 3, 11)
        assert a.limit == Decimal("1234.50")
        assert a.created_by == "system" and a.version == 1
    with fixed_clock(dt.date(2026, 4, 1)), rt.session() as s:
        c = Store(rt, s, SYSTEM).create("party", {"name": "Avril"})
        s.commit()
        assert c.code == "CU2604-0001"


@pytest.mark.parametrize(
    ("entity", "data", "status", "field", "message"),
    [
        ("party", {}, 422, "name", "« Nom » est obligatoire"),
        ("party", {"name": "X", "level": "vip"}, 422, "level", "valeur inconnue « vip »"),
        ("party", {"name": "X", "limit": "-5"}, 422, "limit", "au moins 0"),
        ("party", {"name": "X", "siret": "12345678901234"}, 422, "siret", "SIRET invalide"),
        ("party", {"name": "X", "code": "FORCED"}, 422, "code", "lecture seule"),
        ("party", {"name": "X", "colour": "red"}, 422, "colour", "champ inconnu « colour »"),
        ("visit", {"subject": "Rdv", "party": 999}, 422, "party", "aucun(e) tiers n° 999"),
        ("party", {"name": "X", "places": [{"position": 1}]}, 422, "places[0].city", "obligatoire"),
        ("nothing", {}, 404, None, "entité inconnue"),
    ],
)
def test_bad_input_is_refused_with_the_field(
    rt: Any, entity: str, data: dict[str, Any], status: int, field: str | None, message: str
) -> None:
    with rt.session() as s:
        with pytest.raises(StoreError) as err:
            Store(rt, s, SYSTEM).create(entity, data)
    assert (err.value.status, err.value.field) == (status, field)
    assert message in err.value.message


def test_children_are_created_updated_and_removed(rt: Any) -> None:
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        p = store.create("party", {"name": "P", "places": [{"city": "Lyon", "position": 2}, {"city": "Brest", "position": 1}]})
        s.commit()
        out = store.serialize(p)
        assert [x["city"] for x in out["places"]] == ["Brest", "Lyon"]
        brest = out["places"][0]["id"]
        store.update("party", p.id, {"places": [{"id": brest, "city": "Quimper", "position": 1}, {"city": "Nantes", "position": 3}]})
        s.commit()
        assert [x["city"] for x in store.serialize(p)["places"]] == ["Quimper", "Nantes"]


def test_new_rows_without_a_position_take_their_place_in_the_list(rt: Any) -> None:
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        p = store.create("party", {"name": "P", "places": [{"city": "Lyon"}, {"city": "Brest"}, {"city": "Metz", "position": 9}]})
        s.commit()
        assert [(x["city"], x["position"]) for x in store.serialize(p)["places"]] == [("Lyon", 1), ("Brest", 2), ("Metz", 9)]
        kept = [{"id": x["id"]} for x in store.serialize(p)["places"]]
        store.update("party", p.id, {"places": [*kept, {"city": "Nantes"}]})
        s.commit()
        assert [(x["city"], x["position"]) for x in store.serialize(p)["places"]] == [
            ("Lyon", 1), ("Brest", 2), ("Nantes", 4), ("Metz", 9)
        ]


def test_version_conflict_names_who_changed_it(rt: Any) -> None:
    with rt.session() as s:
        p = Store(rt, s, SYSTEM).create("party", {"name": "P"})
        s.commit()
        pid = p.id
    alice = Principal(user_id=None, login="alice", grants=frozenset({("*", "*")}))
    with rt.session() as s:
        Store(rt, s, alice).update("party", pid, {"name": "P2"}, expected_version=1)
        s.commit()
    with rt.session() as s:
        with pytest.raises(StoreError) as err:
            Store(rt, s, SYSTEM).update("party", pid, {"name": "P3"}, expected_version=1)
    assert err.value.status == 409 and err.value.field == "version"
    assert "modifié par alice" in err.value.message
    with rt.session() as s:
        assert Store(rt, s, SYSTEM).get("party", pid).name == "P2"


def test_concurrent_sessions_cannot_overwrite_silently(rt: Any) -> None:
    with rt.session() as s:
        pid = Store(rt, s, SYSTEM).create("party", {"name": "P"}).id
        s.commit()
    first, second = rt.session(), rt.session()
    try:
        Store(rt, first, SYSTEM).update("party", pid, {"name": "A"})
        first.commit()
        store2 = Store(rt, second, SYSTEM)
        obj = second.get(rt.models.cls("party"), pid)
        assert obj is not None
        # the second session read before the first committed: force a stale version
        second.expire_all()
        with pytest.raises(StoreError) as err:
            store2.update("party", pid, {"name": "B"}, expected_version=1)
        assert err.value.status == 409
    finally:
        first.close()
        second.close()


def test_unique_and_in_use(rt: Any) -> None:
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        p = store.create("party", {"name": "P"})
        store.create("visit", {"subject": "Rdv", "party": p.id})
        s.commit()
        with pytest.raises(StoreError) as err:
            store.delete("party", p.id)
        assert err.value.status == 409 and "utilisé" in err.value.message


def test_list_filters_search_sort_and_paging(rt: Any) -> None:
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        for i, name in enumerate(["Durand", "Dupont", "Martin", "Bernard", "Dubois"]):
            store.create("party", {"name": name, "level": "client" if i % 2 else "prospect", "limit": str(i * 100)})
        s.commit()
        page = store.list("party", filters={"level": "client"})
        assert sorted(r.name for r in page.rows) == ["Bernard", "Dupont"] and page.total == 2
        assert [r.name for r in store.list("party", search="du").rows] == ["Dubois", "Dupont", "Durand"]
        assert [r.name for r in store.list("party", sort="-name", page=2, page_size=2).rows] == ["Dupont", "Dubois"]
        assert [r.name for r in store.list("party", filters={"limit__gte": "300"}).rows] == ["Bernard", "Dubois"]
        with pytest.raises(StoreError) as err:
            store.list("party", filters={"limit__between": "1"})
        assert err.value.field == "limit__between"


def test_permissions_are_checked(rt: Any) -> None:
    reader = Principal(user_id=None, login="lea", groups=("reader",))
    with rt.session() as s:
        store = Store(rt, s, reader)
        assert store.list("party").total == 0
        with pytest.raises(StoreError) as err:
            store.create("party", {"name": "X"})
        assert err.value.status == 403
    granted = Principal(user_id=None, login="lea", groups=("reader",), grants=frozenset({("party", "create")}))
    denied = Principal(user_id=None, login="lea", groups=("admin",), denials=frozenset({("party", "read")}))
    with rt.session() as s:
        assert Store(rt, s, granted).create("party", {"name": "X"}).id
        with pytest.raises(StoreError):
            Store(rt, s, denied).list("party")


def test_numbering_has_no_gap_or_duplicate_under_concurrency(rt: Any) -> None:
    import threading

    codes: list[str] = []
    errors: list[Exception] = []

    def worker(n: int) -> None:
        try:
            for i in range(5):
                with fixed_clock(dt.date(2026, 5, 1)), rt.session() as s:
                    obj = Store(rt, s, SYSTEM).create("party", {"name": f"W{n}-{i}"})
                    s.commit()
                    codes.append(obj.code)
        except Exception as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(codes) == [f"CU2605-{i:04d}" for i in range(1, 21)]


def test_child_rows_need_rights_on_the_child_entity(rt: Any) -> None:
    with rt.session() as s:
        pid = Store(rt, s, SYSTEM).create("party", {"name": "P", "places": [{"city": "Lyon"}]}).id
        s.commit()
    # may edit the parent, not create places
    clerk = Principal(user_id=None, login="clerk", grants=frozenset({("party", "read"), ("party", "edit"), ("place", "read")}))
    with rt.session() as s:
        store = Store(rt, s, clerk)
        lyon = store.serialize(store.get("party", pid))["places"][0]
        with pytest.raises(StoreError) as err:
            store.update("party", pid, {"places": [lyon, {"city": "Brest"}]})
        assert err.value.status == 403 and err.value.field == "places[1]"
    with rt.session() as s:
        store = Store(rt, s, clerk)
        with pytest.raises(StoreError) as err:
            store.update("party", pid, {"places": []})
        assert err.value.status == 403
    with rt.session() as s:  # unchanged rows sent back as they are need no right
        store = Store(rt, s, clerk)
        lyon = store.serialize(store.get("party", pid))["places"][0]
        store.update("party", pid, {"name": "P2", "places": [lyon]})
        s.commit()


def test_child_rows_read_again_follow_unflushed_moves_and_reorders(rt: Any) -> None:
    """The rows kept for the transaction are the session's objects: a changed value is seen
    at once; a row moved to another parent, or to another place in the order, is not read from
    the lists kept before (they are read again, which flushes the change)."""
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        first = store.create("party", {"name": "P1", "places": [{"city": "Lyon", "position": 1}, {"city": "Brest", "position": 2}]})
        second = store.create("party", {"name": "P2", "places": [{"city": "Nantes", "position": 1}]})
        s.commit()
        ids = first.id, second.id
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        p1, p2 = store.get("party", ids[0]), store.get("party", ids[1])
        lyon, brest = store.children(p1.__entity__, p1)["places"]
        assert [r.city for r in store.children(p2.__entity__, p2)["places"]] == ["Nantes"]
        brest.city = "Brest centre"  # another column: the same rows, with the new value
        assert [r.city for r in store.children(p1.__entity__, p1)["places"]] == ["Lyon", "Brest centre"]
        brest.position = 0  # the order changes
        assert [r.city for r in store.children(p1.__entity__, p1)["places"]] == ["Brest centre", "Lyon"]
        lyon.party_id = ids[1]  # another parent, by its id
        assert [r.city for r in store.children(p1.__entity__, p1)["places"]] == ["Brest centre"]
        assert [r.city for r in store.children(p2.__entity__, p2)["places"]] == ["Lyon", "Nantes"]  # position, then id
        brest.party = p2  # or by the relationship
        assert store.children(p1.__entity__, p1)["places"] == []
        assert [r.city for r in store.children(p2.__entity__, p2)["places"]] == ["Brest centre", "Lyon", "Nantes"]
