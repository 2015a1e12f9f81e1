"""The persistence contract for volume transfers, on SQLite and PostgreSQL."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from basalt.model import VolumeStatus
from basalt.model.transfer import Transfer, hash_key, key_matches, new_auth_key, new_salt
from basalt.persistence.sql import SqlDatabase, open_database
from basalt.persistence.sql.database import MIGRATIONS_DIR
from tests.contract.test_persistence import race
from tests.persistence_fixtures import (  # noqa: F401  (the *_fixture names are fixtures)
    at,
    db_fixture,
    insert_old_rows,
    make_snapshot,
    make_volume,
    new_id,
    postgres_database,
)


def make_transfer(volume_id: str, seconds: float = 0, **overrides: object) -> Transfer:
    salt = new_salt()
    values: dict[str, object] = {
        "id": new_id(),
        "volume_id": volume_id,
        "name": "to-b",
        "source_project_id": "project-a",
        "created_at": at(seconds),
        "salt": salt,
        "crypt_hash": hash_key(salt, "the-key"),
    }
    values.update(overrides)
    return Transfer(**values)  # type: ignore[arg-type]


def test_transfers_round_trip_and_are_found_newest_first(db: SqlDatabase) -> None:
    volume_a, volume_b = new_id(), new_id()
    old = make_transfer(volume_a, 1, no_snapshots=True)
    new = make_transfer(volume_b, 2)
    other = make_transfer(new_id(), 3, source_project_id="project-b")
    done = make_transfer(volume_a, 4, destination_project_id="project-c", accepted=True)
    with db.transaction() as tx:
        for transfer in (old, new, other, done):
            tx.transfers.add(transfer)
    with db.transaction(write=False) as tx:
        assert tx.transfers.get(old.id) == old
        assert tx.transfers.get("nope") is None
        assert tx.transfers.find(project_id="project-a") == [new, old]
        assert tx.transfers.find(project_id=None) == [other, new, old]
        assert tx.transfers.find(project_id=None, volume_id=volume_a) == [old]
        assert tx.transfers.find(project_id="project-a", accepted=True) == [done]
        stored = tx.transfers.get(new.id)
    assert stored is not None and key_matches(stored, "the-key")
    assert not key_matches(stored, "the-kez") and not key_matches(stored, "")


def test_the_key_is_never_stored(db: SqlDatabase) -> None:
    key = new_auth_key()
    salt = new_salt()
    transfer = make_transfer(new_id(), salt=salt, crypt_hash=hash_key(salt, key))
    with db.transaction() as tx:
        tx.transfers.add(transfer)
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM transfers")).all()
    assert len(rows) == 1 and all(key not in str(value) for value in rows[0])


def test_claim_release_accept_and_withdraw_are_compare_and_set(db: SqlDatabase) -> None:
    transfer = make_transfer(new_id())
    with db.transaction() as tx:
        tx.transfers.add(transfer)
        assert tx.transfers.claim(transfer.id, destination_project_id="project-b")
        assert not tx.transfers.claim(transfer.id, destination_project_id="project-c")
        assert not tx.transfers.withdraw(transfer.id)  # claimed: a cancel loses
        assert not tx.transfers.release(transfer.id, destination_project_id="project-c")
        assert not tx.transfers.mark_accepted(transfer.id, destination_project_id="project-c")
        assert [t.id for t in tx.transfers.claimed()] == [transfer.id]
        assert tx.transfers.release(transfer.id, destination_project_id="project-b")
        assert tx.transfers.claimed() == []
        assert not tx.transfers.mark_accepted(transfer.id, destination_project_id="project-b")
        assert tx.transfers.claim(transfer.id, destination_project_id="project-c")
        assert tx.transfers.mark_accepted(transfer.id, destination_project_id="project-c")
        assert not tx.transfers.release(transfer.id, destination_project_id="project-c")
        assert not tx.transfers.withdraw(transfer.id, claimed_by="project-c")
        assert not tx.transfers.claim(transfer.id, destination_project_id="project-b")
    with db.transaction(write=False) as tx:
        accepted = tx.transfers.get(transfer.id)
    assert accepted is not None and accepted.accepted
    assert accepted.destination_project_id == "project-c" and not accepted.is_open


def test_withdraw_removes_open_or_claimed_transfers_only(db: SqlDatabase) -> None:
    offered, claimed = make_transfer(new_id()), make_transfer(new_id())
    with db.transaction() as tx:
        tx.transfers.add(offered)
        tx.transfers.add(claimed)
        tx.transfers.claim(claimed.id, destination_project_id="project-b")
        assert not tx.transfers.withdraw(claimed.id, claimed_by="project-c")
        assert tx.transfers.withdraw(claimed.id, claimed_by="project-b")
        assert tx.transfers.withdraw(offered.id)
        assert not tx.transfers.withdraw(offered.id)
    with db.transaction(write=False) as tx:
        assert tx.transfers.find(project_id=None) == []


def test_racing_claims_have_one_winner(db: SqlDatabase) -> None:
    transfer = make_transfer(new_id())
    with db.transaction() as tx:
        tx.transfers.add(transfer)
    projects = [f"project-{n}" for n in range(6)]

    def claim() -> bool:
        project = projects.pop()
        with db.transaction() as tx:
            return tx.transfers.claim(transfer.id, destination_project_id=project)

    assert sorted(race(len(projects), claim)) == [False] * 5 + [True]


def test_upgrading_a_database_with_volumes_adds_an_empty_transfers_table(
    db: SqlDatabase, tmp_path: Path
) -> None:
    if db.dialect == "sqlite":
        fresh: AbstractContextManager[str] = nullcontext(f"sqlite:///{tmp_path / 'old.db'}")
    else:
        fresh = postgres_database()
    volume = make_volume(status=VolumeStatus.AWAITING_TRANSFER)
    with fresh as url:
        old = open_database(url)
        try:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            with old.transaction() as tx:
                config.attributes["connection"] = tx.connection
                command.upgrade(config, "0005")
                snap = make_snapshot(volume)
                insert_old_rows(tx, volume, [snap])
            old.migrate()
            transfer = make_transfer(volume.id)
            with old.transaction() as tx:
                assert tx.transfers.find(project_id=None) == []
                tx.transfers.add(transfer)
            with old.transaction(write=False) as tx:
                assert tx.volumes.get(volume.id) == volume
                assert [s.id for s in tx.snapshots.for_volume(volume.id)] == [snap.id]
                assert tx.transfers.find(project_id="project-a", volume_id=volume.id) == [transfer]
        finally:
            old.close()
