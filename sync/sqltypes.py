"""SQLAlchemy column types shared by the workstation's local store and the central store."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; naive UTC on disk (SQLite keeps no zone).

    A naive datetime is refused rather than guessed: its zone is unknown, and storing it as UTC would
    shift local-clock times silently.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002  (TypeDecorator's signature)
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use datetime.now(UTC)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002  (TypeDecorator's signature)
        return None if value is None else value.replace(tzinfo=UTC)
