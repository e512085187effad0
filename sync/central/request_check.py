"""What a signed request costs the database: one statement, on a connection of its own.

A workstation's request used to take three transactions before its endpoint ran: the key (read and
its PEM parsed), the clerk session, and the nonce's insert (`bench/central_load.py`: about a third
of a central process's CPU). Now:
- the parsed public key is kept per key id in this process (`PublicKeys`): parsing is pure work on
  the PEM text, so the cache holds nothing the database could change behind its back;
- one statement then confirms that the key is still the workstation's current, unrevoked key (by
  its PEM, so a rotation or a revocation by any process or the CLI counts at once), reads the clerk
  session and records the nonce (PostgreSQL: a data-modifying CTE; SQLite: the one process keeps
  the nonces in memory). Nothing is cached that a revocation, a rotation, a logout or an expiry
  could make stale.
- on PostgreSQL that statement runs in autocommit with `synchronous_commit = off`
  (`CentralStore.check_engine`): one round trip instead of BEGIN, statements and COMMIT, and no
  wait for the WAL flush. A crash of PostgreSQL may forget the nonces of its last moments (at most
  three times `wal_writer_delay`, 0.6 s by default); see docs/architecture.md, "Replayed requests".
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from sync.central import credentials
from sync.signatures import MAX_AGE_SECONDS, MAX_CLOCK_SKEW, load_public_key

if TYPE_CHECKING:
    from collections.abc import Callable

    from cryptography.hazmat.primitives.asymmetric import ec
    from sqlalchemy import Engine

    from sync.central.loop_checks import LoopChecks
    from sync.central.store import CentralStore

# A nonce is kept as long as a signature made with it could still be accepted.
NONCE_KEEP = timedelta(seconds=MAX_AGE_SECONDS) + 2 * MAX_CLOCK_SKEW
PURGE_ONE_IN = 500  # requests between deletions of expired nonces, on average


@dataclass(frozen=True)
class KnownKey:
    pem: str
    key: ec.EllipticCurvePublicKey


class PublicKeys:
    """Parsed public keys by key id, as last read from the database (bounded; an entry is replaced
    when the database shows another PEM for the id)."""

    MAX_KEYS = 10_000

    def __init__(self) -> None:
        self._keys: dict[str, KnownKey] = {}
        self._lock = threading.Lock()

    def get(self, key_id: str) -> KnownKey | None:
        return self._keys.get(key_id)

    def put(self, key_id: str, pem: str) -> KnownKey:
        """Parse `pem` (ValueError for what is no P-256 key) and keep it for `key_id`."""
        known = KnownKey(pem, load_public_key(pem))
        with self._lock:
            if len(self._keys) >= self.MAX_KEYS:
                self._keys.clear()  # more keys than desks in a city: start over rather than grow
            self._keys[key_id] = known
        return known

    def drop(self, key_id: str) -> None:
        with self._lock:
            self._keys.pop(key_id, None)


@dataclass(frozen=True)
class Confirmed:
    """The signing workstation as the database has it now, its clerk session, and the nonce's fate."""

    office_id: str
    desk_id: str | None
    fresh_nonce: bool
    clerk_id: str | None  # None: no session of that digest
    role: str | None
    session_workstation_id: str | None
    session_expires_at: datetime | None


_PG_CONFIRM = """
WITH current_key AS (
    SELECT office_id, desk_id FROM workstation_keys
    WHERE workstation_id = %(key_id)s AND revoked_at IS NULL AND public_key_pem = %(pem)s
), fresh AS (
    INSERT INTO request_nonces (digest, expires_at)
    SELECT %(nonce)s, %(expires_at)s FROM current_key
    ON CONFLICT DO NOTHING
    RETURNING digest
)
SELECT k.office_id, k.desk_id, EXISTS (SELECT 1 FROM fresh), s.clerk_id, s.role, s.workstation_id,
       s.expires_at
FROM current_key AS k LEFT JOIN clerk_sessions AS s ON s.digest = %(session)s
"""


_PG_PURGE = "DELETE FROM request_nonces WHERE expires_at < %(now)s"


def _nonce_digest(key_id: str, nonce: str) -> str:
    return hashlib.sha256(f"{key_id}\x00{nonce}".encode()).hexdigest()


def _confirm_parameters(
    key_id: str, pem: str, session_digest: str | None, nonce: str, now: datetime
) -> dict[str, object]:
    naive_now = now.astimezone(UTC).replace(tzinfo=None)  # the store keeps naive UTC (UtcDateTime)
    return {
        "key_id": key_id,
        "pem": pem,
        "nonce": _nonce_digest(key_id, nonce),
        "expires_at": naive_now + NONCE_KEEP,
        "session": session_digest,
        "now": naive_now,
    }


def _confirmed(row: tuple[Any, ...] | None) -> Confirmed | None:
    """`_PG_CONFIRM`'s row; None (no row) when the key is no longer current."""
    if row is None:
        return None
    office_id, desk_id, fresh, clerk_id, role, session_workstation, expires_at = row
    return Confirmed(
        office_id=office_id,
        desk_id=desk_id,
        fresh_nonce=bool(fresh),
        clerk_id=clerk_id,
        role=role,
        session_workstation_id=session_workstation,
        session_expires_at=None if expires_at is None else expires_at.replace(tzinfo=UTC),
    )


class RequestCheck:
    """The database's part of checking a signed request or a bearer token (see the module's
    docstring); SQLite keeps its nonces in `nonces`, PostgreSQL in `request_nonces`."""

    def __init__(self, central: CentralStore, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._engine: Engine = central.check_engine
        self._postgres = not central.is_sqlite
        self.nonces = NonceLedger(monotonic)  # SQLite only: one process

    def current_pem(self, key_id: str) -> str | None:
        """The workstation's unrevoked public key, to parse and keep."""
        key = credentials.WorkstationKey
        query = select(key.public_key_pem).where(key.workstation_id == key_id, key.revoked_at.is_(None))
        with self._engine.connect() as connection:
            return connection.scalar(query)

    def confirm(
        self, key_id: str, pem: str, session_digest: str | None, nonce: str, now: datetime
    ) -> Confirmed | None:
        """None when `pem` is no longer the workstation's unrevoked key; else the workstation, its
        session of `session_digest` and whether `nonce` is new (it is recorded as seen)."""
        if self._postgres:
            return self._confirm_postgres(key_id, pem, session_digest, nonce, now)
        return self._confirm_sqlite(key_id, pem, session_digest, _nonce_digest(key_id, nonce))

    async def confirm_in_loop(
        self, checks: LoopChecks, key_id: str, pem: str, session_digest: str | None, nonce: str, now: datetime
    ) -> Confirmed | None:
        """`confirm` on PostgreSQL with the event loop's connections (`loop_checks`): the same statement."""
        params = _confirm_parameters(key_id, pem, session_digest, nonce, now)
        row = await checks.first(_PG_CONFIRM, params)
        if secrets.randbelow(PURGE_ONE_IN) == 0:
            await checks.execute(_PG_PURGE, {"now": params["now"]})
        return _confirmed(row)

    def _confirm_postgres(
        self, key_id: str, pem: str, session_digest: str | None, nonce: str, now: datetime
    ) -> Confirmed | None:
        params = _confirm_parameters(key_id, pem, session_digest, nonce, now)
        with self._engine.connect() as connection:
            row = connection.exec_driver_sql(_PG_CONFIRM, params).first()
            if secrets.randbelow(PURGE_ONE_IN) == 0:
                connection.exec_driver_sql(_PG_PURGE, {"now": params["now"]})
        return None if row is None else _confirmed(tuple(row))

    def _confirm_sqlite(
        self, key_id: str, pem: str, session_digest: str | None, digest: str
    ) -> Confirmed | None:
        key, clerk_session = credentials.WorkstationKey, credentials.ClerkSession
        query = (
            select(
                key.office_id,
                key.desk_id,
                clerk_session.clerk_id,
                clerk_session.role,
                clerk_session.workstation_id,
                clerk_session.expires_at,
            )
            .outerjoin(clerk_session, clerk_session.digest == session_digest)
            .where(key.workstation_id == key_id, key.revoked_at.is_(None), key.public_key_pem == pem)
        )
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        return Confirmed(
            office_id=row.office_id,
            desk_id=row.desk_id,
            fresh_nonce=self.nonces.first_use(digest),
            clerk_id=row.clerk_id,
            role=row.role,
            session_workstation_id=row.workstation_id,
            session_expires_at=row.expires_at,
        )

    def token(self, digest: str) -> tuple[str, str | None, datetime | None] | None:
        """A bearer token's kind, office and expiry, by its digest."""
        token = credentials.AccessToken
        query = select(token.kind, token.office_id, token.expires_at).where(token.digest == digest)
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else (row.kind, row.office_id, row.expires_at)


class NonceLedger:
    """Nonces seen within the signature lifetime, in memory: for the one process a SQLite central
    service runs in (PostgreSQL's are in `request_nonces`, for several processes)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._keep = NONCE_KEEP.total_seconds()

    def first_use(self, digest: str) -> bool:
        now = self._monotonic()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
            expires = self._seen.get(digest)
            if expires is not None and expires > now:
                return False
            self._seen[digest] = now + self._keep
            return True
