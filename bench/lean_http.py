"""A lean HTTP/1.1 client for the load benches: keep-alive connections on asyncio streams, and the
workstation's request signature written straight into the request head.

The load generator shares the 2 cores with the service it measures: with httpx (its request and
URL objects, its pool, the auth flow, the signature library's structured-field serialising) it took
2.4 ms of CPU per answered request, 30 % of the machine. This client sends the same requests with the
same signature (`sync.signatures.sign_request`'s signature base, byte for byte, checked by
tests/sync/test_lean_http.py): only what stays the same per desk is built once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from sync.signatures import ALGORITHM, REQUIRED_COMPONENTS, SIGNATURE_LABEL

if TYPE_CHECKING:
    from sync.signatures import RequestKey

EMPTY_DIGEST = "sha-256=:" + base64.b64encode(hashlib.sha256(b"").digest()).decode("ascii") + ":"


class HttpError(Exception):
    """The connection failed or the server's answer was not HTTP/1.1 as expected."""


@dataclass(frozen=True)
class Response:
    status_code: int
    content: bytes

    def json(self) -> object:
        return json.loads(self.content)


def json_body(value: object) -> bytes:
    """The body as httpx's `json=` encodes it (compact, UTF-8), so the digest is over the same bytes."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


class Signer:
    """One workstation's signature: RFC 9421 over method, path, query and Content-Digest, with a
    fresh creation time and nonce per request, as `sync.signatures.sign_request` signs (no clerk
    session: the simulated desks sign as the workstation alone)."""

    def __init__(self, key: RequestKey, key_id: str) -> None:
        self._key = key
        covered = " ".join(f'"{c}"' for c in (*REQUIRED_COMPONENTS, "content-digest"))
        self._params_head = f"({covered});created="
        self._params_tail = f';keyid="{key_id}";alg="{ALGORITHM.algorithm_id}";nonce="'

    def headers(self, method: str, path: str, query: str, body: bytes) -> str:
        """The three signature header lines (CRLF-terminated) for this request."""
        digest = (
            EMPTY_DIGEST
            if not body
            else "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"
        )
        return self.headers_at(method, path, query, digest, int(time.time()), secrets.token_urlsafe(16))

    def headers_at(self, method: str, path: str, query: str, digest: str, created: int, nonce: str) -> str:
        params = f'{self._params_head}{created}{self._params_tail}{nonce}"'
        base = (
            f'"@method": {method}\n"@path": {path}\n"@query": ?{query}\n'
            f'"content-digest": {digest}\n"@signature-params": {params}'
        )
        signature = base64.b64encode(self._key.sign(base.encode("ascii"))).decode("ascii")
        return (
            f"content-digest: {digest}\r\n"
            f"signature-input: {SIGNATURE_LABEL}={params}\r\n"
            f"signature: {SIGNATURE_LABEL}=:{signature}:\r\n"
        )


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0


@dataclass
class Client:
    """Keep-alive connections to one server from one local address, as many as requests run at once
    (httpx's pool did the same); a connection idle for `keep_alive` seconds is dropped before the
    server would drop it, as `sync.protocol.CLIENT_KEEP_ALIVE_SECONDS` has the workstations do."""

    base_url: str
    local_address: str | None = None
    keep_alive: float = 3.0
    signer: Signer | None = None
    _idle: list[_Connection] = field(default_factory=list)
    _host: str = ""
    _port: int = 0

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._host_line = f"host: {parts.netloc}\r\n"

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, object] | None = None,
        body: bytes = b"",
        headers: str = "",
        timeout: float = 30.0,
    ) -> Response:
        """`headers`: extra header lines, each CRLF-terminated (a kiosk's bearer token)."""
        query = urlencode(params) if params else ""
        head = f"{method} {path}?{query} HTTP/1.1\r\n" if query else f"{method} {path} HTTP/1.1\r\n"
        head += self._host_line + headers
        if body:
            head += f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
        if self.signer is not None:
            head += self.signer.headers(method, path, query, body)
        message = (head + "\r\n").encode("ascii") + body
        connection = await self._connection()
        try:
            async with asyncio.timeout(timeout):
                connection.writer.write(message)
                response, keep = await _read_response(connection.reader)
        except (OSError, EOFError, TimeoutError, ValueError, asyncio.IncompleteReadError) as error:
            connection.writer.close()
            raise HttpError(type(error).__name__) from error
        if keep:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        else:
            connection.writer.close()
        return response

    async def _connection(self) -> _Connection:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if now - connection.idle_since < self.keep_alive and not connection.reader.at_eof():
                return connection
            connection.writer.close()
        local = (self.local_address, 0) if self.local_address else None
        try:
            reader, writer = await asyncio.open_connection(self._host, self._port, local_addr=local)
        except OSError as error:
            raise HttpError(f"ConnectError ({type(error).__name__})") from error
        return _Connection(reader, writer)

    async def aclose(self) -> None:
        for connection in self._idle:
            connection.writer.close()
        self._idle.clear()


async def _read_response(reader: asyncio.StreamReader) -> tuple[Response, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length: int | None = None
    chunked = False
    keep = True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding":
            chunked = "chunked" in value.lower()
        elif name == "connection":
            keep = value.strip().lower() != "close"
    if chunked:
        content = b""
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            content += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")  # no trailers from this server
    elif length is not None:
        content = await reader.readexactly(length)
    else:
        raise ValueError("an answer without a length")
    return Response(status, content), keep
