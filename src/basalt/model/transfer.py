"""Volume transfers: a volume offered by one project, accepted by another with a key.

The auth key is shown once, to the creator, and never stored: a transfer keeps a
random salt and the SHA-256 of salt and key, and :func:`key_matches` compares in
constant time. A transfer is *open* until it is accepted; while an accept works
on it, ``destination_project_id`` names the accepting project (the claim), and
``accepted`` turns true in the transaction that hands the volume over.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime

AUTH_KEY_BYTES = 16
"""128 random bits: 32 hexadecimal characters."""
SALT_BYTES = 16
MAX_AUTH_KEY_LENGTH = 255


@dataclass(slots=True)
class Transfer:
    """One offer of a volume (and its snapshots) to another project."""

    id: str
    volume_id: str
    name: str
    source_project_id: str
    created_at: datetime
    salt: str = field(repr=False)
    crypt_hash: str = field(repr=False)
    """SHA-256 (hex) of salt and auth key; the key itself is never stored."""
    no_snapshots: bool = False
    """Offered as a volume without snapshots (Block Storage 3.55); Basalt then requires
    that it has none."""
    destination_project_id: str | None = None
    """The project accepting it: set when an accept claims it, kept once accepted."""
    accepted: bool = False

    @property
    def is_open(self) -> bool:
        """Neither accepted nor claimed by an accept under way."""
        return not self.accepted and self.destination_project_id is None


@dataclass(frozen=True, slots=True)
class NewTransfer:
    """What creating a transfer returns: the transfer and its auth key, this once."""

    transfer: Transfer
    auth_key: str = field(repr=False)


def new_auth_key() -> str:
    """A fresh random auth key (hexadecimal)."""
    return secrets.token_hex(AUTH_KEY_BYTES)


def new_salt() -> str:
    """A fresh random salt (hexadecimal)."""
    return secrets.token_hex(SALT_BYTES)


def hash_key(salt: str, auth_key: str) -> str:
    """The stored form of a key: SHA-256 of salt and key, hexadecimal.

    Args:
        salt: the transfer's salt.
        auth_key: the key a caller gave.

    Returns:
        64 hexadecimal characters.
    """
    return hashlib.sha256(f"{salt}:{auth_key}".encode()).hexdigest()


def key_matches(transfer: Transfer, auth_key: str) -> bool:
    """Whether ``auth_key`` is the transfer's key, compared in constant time.

    Args:
        transfer: the stored transfer.
        auth_key: what the caller gave.

    Returns:
        True when the hashes agree.
    """
    return hmac.compare_digest(hash_key(transfer.salt, auth_key), transfer.crypt_hash)
