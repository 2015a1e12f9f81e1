"""The persistence contract for volume types, their access and QoS specs (SQLite, PostgreSQL)."""

from __future__ import annotations

import dataclasses

from basalt.model.volume_type import DEFAULT_TYPE_NAME, QosConsumer, QosSpecs, VolumeType
from basalt.persistence.sql import SqlDatabase
from tests.persistence_fixtures import (  # noqa: F401  (the *_fixture names are fixtures)
    at,
    db_fixture,
    make_volume,
    new_id,
    postgres_database,
)


def make_type(name: str, **overrides: object) -> VolumeType:
    values: dict[str, object] = {
        "id": new_id(),
        "name": name,
        "description": "",
        "is_public": True,
        "created_at": at(1),
        "updated_at": at(1),
        "extra_specs": {"volume_backend_name": "file"},
    }
    values.update(overrides)
    return VolumeType(**values)  # type: ignore[arg-type]


def test_the_schema_makes_the_default_type(db: SqlDatabase) -> None:
    with db.transaction(write=False) as tx:
        default = tx.volume_types.get_by_name(DEFAULT_TYPE_NAME)
        assert default is not None and default.is_public and default.extra_specs == {}
        assert tx.volume_types.get(default.id) == default


def test_types_round_trip_and_names_are_unique(db: SqlDatabase) -> None:
    gold = make_type("gold", extra_specs={"a": "1", "multiattach": "<is> True"})
    with db.transaction() as tx:
        assert tx.volume_types.add(gold)
        assert not tx.volume_types.add(make_type("gold"))
    with db.transaction(write=False) as tx:
        assert tx.volume_types.get(gold.id) == gold
        assert tx.volume_types.get_by_name("gold") == gold
        assert tx.volume_types.get("nope") is None
    silver = make_type("silver")
    with db.transaction() as tx:
        tx.volume_types.add(silver)
        assert not tx.volume_types.save(dataclasses.replace(silver, name="gold"))
        changed = dataclasses.replace(
            gold, description="d", extra_specs={"b": "2"}, is_public=False
        )
        assert tx.volume_types.save(changed)
    with db.transaction(write=False) as tx:
        assert tx.volume_types.get(gold.id) == changed
        assert tx.volume_types.get(silver.id) == silver


def test_private_types_are_found_by_the_projects_granted(db: SqlDatabase) -> None:
    public, private = make_type("public"), make_type("private", is_public=False)
    with db.transaction() as tx:
        tx.volume_types.add(public)
        tx.volume_types.add(private)
        assert tx.volume_types.grant(private.id, "project-a")
        assert not tx.volume_types.grant(private.id, "project-a")
        assert tx.volume_types.grant(private.id, "project-c")
    with db.transaction(write=False) as tx:
        names = lambda project: [t.name for t in tx.volume_types.find(project_id=project)]  # noqa: E731
        assert names("project-a") == [DEFAULT_TYPE_NAME, "private", "public"]
        assert names("project-b") == [DEFAULT_TYPE_NAME, "public"]
        assert names(None) == [DEFAULT_TYPE_NAME, "private", "public"]
        assert tx.volume_types.projects(private.id) == ["project-a", "project-c"]
    with db.transaction() as tx:
        assert tx.volume_types.revoke(private.id, "project-a")
        assert not tx.volume_types.revoke(private.id, "project-a")
        tx.volume_types.delete(private.id)
    with db.transaction(write=False) as tx:
        assert tx.volume_types.get(private.id) is None
        assert tx.volume_types.projects(private.id) == []


def test_volume_count_and_qos_association(db: SqlDatabase) -> None:
    gold = make_type("gold")
    qos = QosSpecs(
        id=new_id(),
        name="fast",
        consumer=QosConsumer.BOTH,
        specs={"total_iops_sec": "500"},
        created_at=at(1),
        updated_at=at(1),
    )
    with db.transaction() as tx:
        tx.volume_types.add(gold)
        assert tx.qos_specs.add(qos)
        assert not tx.qos_specs.add(dataclasses.replace(qos, id=new_id()))
        for _ in range(2):
            tx.volumes.add(make_volume(volume_type_id=gold.id))
        tx.volumes.add(make_volume())
        tx.volume_types.save(dataclasses.replace(gold, qos_specs_id=qos.id))
    with db.transaction(write=False) as tx:
        assert tx.volume_types.volume_count(gold.id) == 2
        assert [t.id for t in tx.volume_types.with_qos(qos.id)] == [gold.id]
        assert tx.qos_specs.get(qos.id) == qos and tx.qos_specs.find() == [qos]
    changed = dataclasses.replace(qos, consumer=QosConsumer.FRONT_END, specs={}, updated_at=at(2))
    with db.transaction() as tx:
        tx.qos_specs.save(changed)
    with db.transaction(write=False) as tx:
        assert tx.qos_specs.get(qos.id) == changed
    with db.transaction() as tx:
        tx.qos_specs.delete(qos.id)
    with db.transaction(write=False) as tx:
        assert tx.qos_specs.find() == []
