"""Helpers shared by the card protocol tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


def scripted(*chunks: bytes) -> Callable[[int], bytes]:
    """A random source that returns the given values in order (checks the requested sizes), so a
    protocol run can replay a published worked example."""
    remaining: Iterator[bytes] = iter(chunks)

    def random_bytes(size: int) -> bytes:
        chunk = next(remaining)
        assert len(chunk) == size
        return chunk

    return random_bytes
