"""The refusals every endpoint of the central service may answer, documented once for /openapi.json.

Each is a JSON object with a `detail` (English, for logs); 422 lists where and why, never the value."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Refusal(BaseModel):
    detail: str | dict[str, Any]  # the statistics endpoints add a German message for the screen


class FieldError(BaseModel):
    loc: list[str | int]
    type: str
    msg: str


class InvalidRequest(BaseModel):
    detail: list[FieldError]


MAX_BODY_BYTES = 1024 * 1024  # a full push batch (500 operations) is well under half of this

COMMON_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"model": Refusal, "description": "malformed request (e.g. Content-Length)"},
    401: {"model": Refusal, "description": "no credentials, or they do not verify (signature, token)"},
    403: {"model": Refusal, "description": "not allowed for this caller (office, workstation, desk or role)"},
    404: {"model": Refusal, "description": "no such office, desk, appointment or ticket"},
    409: {"model": Refusal, "description": "conflicts with the current state; read again or retry"},
    413: {"model": Refusal, "description": "request body over the limit (1 MiB)"},
    422: {"model": InvalidRequest, "description": "a value outside the documented bounds"},
    503: {"model": Refusal, "description": "database unavailable; retry later"},
}
