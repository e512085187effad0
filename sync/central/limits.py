"""Request limits of the central service, below FastAPI: a body larger than the limit is refused with
413 before it is read into memory — by its Content-Length when it declares one, else by counting the
chunks as they arrive — so a 50 MB "operation" is never parsed, let alone stored."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import HTTPException, status

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1024 * 1024  # a full push batch (500 operations) is well under half of this
TOO_LARGE = "request body too large"


class BodySizeLimit:
    """Pure ASGI middleware (it must see the body before anything buffers it)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == -1:
            await _refuse(send, status.HTTP_400_BAD_REQUEST, "malformed Content-Length")
            return
        if declared is not None and declared > self.max_bytes:
            await _refuse(send, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, TOO_LARGE)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI passes an HTTPException from reading the body on as it is: a 413.
                    raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, TOO_LARGE)
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    """The declared length; None when there is none, -1 when it is not a number."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isdigit() and len(value) <= 18 else -1
    return None


async def _refuse(send: Send, status_code: int, detail: str) -> None:
    body = b'{"detail":"' + detail.encode() + b'"}'
    await send(
        {
            "type": "http.response.start",
            "status": status_code,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
