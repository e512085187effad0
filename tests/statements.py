"""Count the SQL statements a piece of code sends: a cost measure that does not depend on how busy
the machine is (the wall-clock figures belong in bench/)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import event

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Engine


@contextmanager
def recorded_statements(*engines: Engine) -> Iterator[list[str]]:
    """The statements sent through `engines` inside the block, in order (an executemany counts once)."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
