"""The load bench's lean signer (bench/lean_http.py) signs exactly as the workstation does."""

from __future__ import annotations

import re

import httpx
import pytest

from bench.lean_http import EMPTY_DIGEST, Signer, json_body
from sync.signatures import FileRequestKey, sign_request, verify_request

KEY = FileRequestKey.generate()
PUBLIC = KEY._key.public_key()


def _header_lines(text: str) -> list[tuple[str, str]]:
    pairs = [line.split(": ", 1) for line in text.split("\r\n") if line]
    return [(name, value) for name, value in pairs]


@pytest.mark.parametrize(
    ("method", "path", "params", "payload"),
    [
        ("GET", "/api/v1/sync/changes", {"office_id": "city-001", "cursor": 5, "wait": 20.0}, None),
        ("POST", "/api/v1/sync/push", None, {"workstation_id": "ws-1", "names": ["Müller"]}),
    ],
)
def test_same_signature_input_and_it_verifies(
    method: str, path: str, params: dict[str, str | int | float] | None, payload: object
) -> None:
    request = httpx.Request(method, f"http://central{path}", params=params, json=payload)
    sign_request(request, KEY, "ws-1")
    found = re.search(r";created=(\d+);.*nonce=\"([^\"]+)\"", request.headers["signature-input"])
    assert found is not None
    created, nonce = int(found[1]), found[2]
    body = json_body(payload) if payload is not None else b""
    assert body == request.content
    query = request.url.query.decode()
    digest = request.headers["content-digest"]
    assert (digest == EMPTY_DIGEST) == (not body)

    lines = dict(_header_lines(Signer(KEY, "ws-1").headers_at(method, path, query, digest, created, nonce)))

    assert lines["content-digest"] == digest
    assert lines["signature-input"] == request.headers["signature-input"]
    url = f"http://central{path}" + (f"?{query}" if query else "")
    verified = verify_request(method, url, list(lines.items()), body, lambda _: PUBLIC)
    assert (verified.key_id, verified.nonce, verified.created) == ("ws-1", nonce, created)


def test_fresh_nonce_per_request() -> None:
    signer = Signer(KEY, "ws-1")
    first, second = (dict(_header_lines(signer.headers("GET", "/x", "", b""))) for _ in range(2))
    assert first["signature-input"] != second["signature-input"]
