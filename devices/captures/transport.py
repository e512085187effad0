"""HTTP with a bound: an answer larger than allowed is refused before it is read whole.

A declared Content-Length over the limit is refused at once; without one (chunked), the body is
read chunk by chunk and the connection dropped as soon as the count passes the limit. The count is
of decoded bytes, so a compressed answer cannot inflate past the bound either.
Transport failures become `CaptureError`s; nothing of the request or answer goes to the log.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import httpx

from devices.captures.errors import CaptureError, CaptureErrorReason

if TYPE_CHECKING:
    from collections.abc import Mapping

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_CHUNK = 64 * 1024


def request_bounded(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    max_bytes: int,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, bytes]:
    """Status and body of one request, the body at most `max_bytes` long."""
    try:
        with client.stream(method, url, json=json, headers=headers) as response:
            declared = response.headers.get("content-length")
            if declared is not None:
                if not declared.isdigit():
                    raise CaptureError(CaptureErrorReason.MALFORMED, "content-length")
                if int(declared) > max_bytes:
                    log.warning("capture answer refused: declares %s bytes, limit %d", declared, max_bytes)
                    raise CaptureError(CaptureErrorReason.OVERSIZED, f"declared {declared} > {max_bytes}")
            body = bytearray()
            for chunk in response.iter_bytes(_CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    log.warning("capture answer refused: more than %d bytes", max_bytes)
                    raise CaptureError(CaptureErrorReason.OVERSIZED, f"more than {max_bytes}")
            return response.status_code, bytes(body)
    except httpx.TimeoutException as error:
        log.warning("capture source timed out (%s)", type(error).__name__)
        raise CaptureError(CaptureErrorReason.TIMEOUT, type(error).__name__) from None
    except httpx.RemoteProtocolError as error:
        # The connection closed before the declared body was complete (or the framing was broken).
        log.warning("capture answer incomplete (%s)", type(error).__name__)
        raise CaptureError(CaptureErrorReason.INCOMPLETE, type(error).__name__) from None
    except httpx.DecodingError as error:
        raise CaptureError(CaptureErrorReason.MALFORMED, type(error).__name__) from None
    except httpx.TransportError as error:
        # Connection refused or reset, TLS failure.
        log.warning("capture source unreachable (%s)", type(error).__name__)
        raise CaptureError(CaptureErrorReason.UNREACHABLE, type(error).__name__) from None


def raise_for_status(status: int) -> None:
    """Map a source's error status to a reason; the error body is never shown or logged."""
    if 200 <= status < 300:
        return
    if status == 404:
        raise CaptureError(CaptureErrorReason.UNKNOWN_CODE, "404")
    if status == 410:
        raise CaptureError(CaptureErrorReason.EXPIRED_CODE, "410")
    if status in (400, 422):
        raise CaptureError(CaptureErrorReason.INVALID_CODE, str(status))
    if status == 409:
        raise CaptureError(CaptureErrorReason.WRONG_CAPTURE, "409")
    log.warning("capture source answered HTTP %d", status)
    raise CaptureError(CaptureErrorReason.SOURCE_ERROR, str(status))
