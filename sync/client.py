"""HTTP client of the central service, as the workstation sees it.

Every way a call can go wrong — no route, timeout, a proxy's HTML error page, a 5xx, JSON that does not
match `sync.protocol` — becomes one `CentralError` with an English log line and a German message for
the clerk, so callers handle exactly one exception type. Answers are validated with the protocol
models before anyone sees them.

This is a library (`sync/` never imports `workstation`), so the German messages are plain source
strings marked with `N_`; the workstation translates them with `_()` when it shows them.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from sync.protocol import (
    API_PREFIX,
    CLIENT_KEEP_ALIVE_SECONDS,
    MAX_WAIT_SECONDS,
    CallNextRequest,
    CallNextResponse,
    ChangesPage,
    ClerkSession,
    Enrollment,
    EnrollmentRequest,
    Health,
    KassenzeichenRangeGrant,
    KassenzeichenRangeRequest,
    KeyRotationRequest,
    LeaseRequest,
    LeaseSet,
    OfflineSessionRequest,
    PushRequest,
    PushResponse,
    SequenceGap,
    SessionRequest,
)
from sync.transport_security import InsecureAddress, require_secure_url

if TYPE_CHECKING:
    import ssl
    from types import TracebackType

log = logging.getLogger(__name__)

Answer = TypeVar("Answer", bound=BaseModel)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    return message


MSG_UNREACHABLE = N_(
    "Die Zentrale ist nicht erreichbar. Die Arbeit wird lokal gespeichert und später übertragen."
)
MSG_TIMEOUT = N_("Die Zentrale antwortet nicht rechtzeitig. Die Arbeit wird lokal gespeichert.")
MSG_SERVER_ERROR = N_("Die Zentrale meldet einen Fehler. Es wird später erneut versucht.")
MSG_MALFORMED = N_("Die Zentrale hat eine unverständliche Antwort geschickt. Es wird später erneut versucht.")
MSG_REFUSED = N_("Die Zentrale hat die Anfrage abgelehnt. Bitte wenden Sie sich an die IT.")
MSG_UNAUTHENTICATED = N_(
    "Die Zentrale erkennt diesen Arbeitsplatz nicht an. Bitte Einrichtung und Uhrzeit prüfen lassen (IT)."
)
MSG_FORBIDDEN = N_("Das ist diesem Arbeitsplatz oder dieser Anmeldung nicht erlaubt.")
MSG_TOO_MANY_REJECTIONS = N_(
    "Die Zentrale nimmt von diesem Arbeitsplatz vorerst nichts an: zu viele abgelehnte Vorgänge sind "
    "ungeprüft. Die Arbeit bleibt hier gespeichert; bitte die Teamleitung (Konflikte) informieren."
)
MSG_INSECURE = N_(
    "Die Zentrale muss über https erreicht werden (http nur auf diesem Rechner). Bitte die Adresse prüfen."
)
MSG_SEQUENCE_GAP = N_("Die Übertragung ist aus dem Takt geraten und wird neu abgestimmt.")


class CentralError(Exception):
    """The central service could not give a usable answer.

    `retryable` is False for answers that will not change by asking again (a 4xx other than a
    sequence gap): the caller should stop retrying that request and report it.
    """

    def __init__(
        self, log_message: str, user_message: str, *, status_code: int | None = None, retryable: bool = True
    ) -> None:
        super().__init__(log_message)
        self.log_message = log_message
        self.user_message = user_message
        self.status_code = status_code
        self.retryable = retryable


class SequenceGapError(CentralError):
    """The central service expects a different next sequence number (409)."""

    def __init__(self, expected_seq: int, detail: str) -> None:
        super().__init__(
            f"push refused as out of order: {detail}; central expects seq {expected_seq}",
            MSG_SEQUENCE_GAP,
            status_code=409,
        )
        self.expected_seq = expected_seq


class SwitchableTransport(httpx.BaseTransport):
    """The network to the central service, with a switch to cut it (the demo's "Verbindung trennen").

    While cut, every request fails with `httpx.ConnectError`, and an answer still on its way when
    the link is cut is lost (`httpx.ReadError`), so the client and the sync engine see exactly what
    a real outage looks like: the central service itself keeps running and keeps serving others.
    Thread-safe: the UI cuts and restores while workers send."""

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        self._inner = inner if inner is not None else httpx.HTTPTransport()
        self._lock = threading.Lock()
        self._cut = False
        self._cuts = 0  # how often the link was cut, to spot a cut during a request

    @property
    def is_cut(self) -> bool:
        with self._lock:
            return self._cut

    def cut(self) -> None:
        with self._lock:
            if not self._cut:
                self._cut = True
                self._cuts += 1
        log.info("link to the central service cut (demo)")

    def restore(self) -> None:
        with self._lock:
            self._cut = False
        log.info("link to the central service restored (demo)")

    def toggle(self) -> bool:
        """Cut a working link or restore a cut one; returns True when the link works afterwards."""
        with self._lock:
            cut = self._cut
        if cut:
            self.restore()
        else:
            self.cut()
        return cut

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            if self._cut:
                raise httpx.ConnectError("link to the central service is cut", request=request)
            cuts_before = self._cuts
        response = self._inner.handle_request(request)
        try:
            response.read()  # a long poll's answer arrives here: the cut may have come meanwhile
        except BaseException:
            response.close()
            raise
        with self._lock:
            lost = self._cuts != cuts_before
        if lost:
            response.close()
            raise httpx.ReadError("link to the central service was cut during the request", request=request)
        return response

    def close(self) -> None:
        self._inner.close()


class CentralClient:
    """Synchronous httpx client; one instance may be shared by threads (httpx.Client is thread-safe).

    `transport` lets tests and the demo plug in any httpx transport; the default is the network.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 5.0,
        *,
        transport: httpx.BaseTransport | None = None,
        auth: httpx.Auth | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        try:
            require_secure_url(base_url)
        except InsecureAddress as refusal:
            raise CentralError(str(refusal), MSG_INSECURE, retryable=False) from None
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = httpx.Client(
            base_url=self.base_url + API_PREFIX,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"Accept": "application/json"},
            auth=auth,
            verify=verify,
            limits=httpx.Limits(keepalive_expiry=CLIENT_KEEP_ALIVE_SECONDS),
        )

    def enroll(self, request: EnrollmentRequest) -> Enrollment:
        """Present a one-time enrollment code with this workstation's public key (no other credential)."""
        return self._request(
            "POST", "/enrollments", Enrollment, json=request.model_dump(mode="json"), expect=201
        )

    def rotate_key(self, public_key_pem: str, proof: str) -> Enrollment:
        """Bind `public_key_pem` (with its `proof`, `sync.signatures.key_possession_proof`) as this
        workstation's key; the request is signed with the key the client's auth holds (the current
        one, or the new one to confirm a rotation already done)."""
        body = KeyRotationRequest(public_key_pem=public_key_pem, proof=proof).model_dump(mode="json")
        return self._request("PUT", "/workstations/current/key", Enrollment, json=body)

    def open_session(
        self, clerk_id: str, pin: str, desk_id: str | None = None, *, offline_key_pem: str | None = None
    ) -> ClerkSession:
        """Log a clerk in at `desk_id` (the request is signed by the workstation; the central service
        records the login for the desk's idle time); 401 wrong PIN, 423 locked. `offline_key_pem`:
        the key that will resume a later offline login of this clerk here."""
        body = SessionRequest(clerk_id=clerk_id, pin=pin, offline_key_pem=offline_key_pem).model_dump(
            mode="json", exclude_none=True
        )
        params = {"desk": desk_id} if desk_id else None
        return self._request("POST", "/sessions", ClerkSession, json=body, params=params, expect=201)

    def resume_offline_session(
        self, clerk_id: str, signed_at: int, proof: str, desk_id: str | None = None
    ) -> ClerkSession:
        """A session for the clerk logged in here offline (`sync.signatures.offline_login_proof`)."""
        body = OfflineSessionRequest(clerk_id=clerk_id, signed_at=signed_at, proof=proof).model_dump(
            mode="json"
        )
        params = {"desk": desk_id} if desk_id else None
        return self._request("POST", "/sessions/offline", ClerkSession, json=body, params=params, expect=201)

    def health(self) -> Health:
        return self._request("GET", "/health", Health)

    def push(self, request: PushRequest, *, timeout: float | None = None) -> PushResponse:
        """`timeout`: this request's own, shorter than the client's (a clerk's key press waits)."""
        return self._request(
            "POST",
            "/sync/push",
            PushResponse,
            json=request.model_dump(mode="json"),
            timeout=_shorter(timeout),
        )

    def changes(
        self, office_id: str, workstation_id: str, cursor: int, *, limit: int = 500, wait: float = 0.0
    ) -> ChangesPage:
        """One page of changes after `cursor`; `wait` > 0 long-polls for that many seconds."""
        wait = max(0.0, min(wait, MAX_WAIT_SECONDS))
        params: dict[str, Any] = {
            "office_id": office_id,
            "workstation_id": workstation_id,
            "cursor": cursor,
            "limit": limit,
        }
        if wait:
            params["wait"] = wait
        # A long poll legitimately holds the answer back: allow for it on top of the normal timeout.
        timeout = httpx.Timeout(self.timeout, read=self.timeout + wait)
        return self._request("GET", "/sync/changes", ChangesPage, params=params, timeout=timeout)

    def call_next(
        self, desk_id: str, request: CallNextRequest, *, timeout: float | None = None
    ) -> CallNextResponse:
        return self._request(
            "POST",
            f"/desks/{desk_id}/call-next",
            CallNextResponse,
            json=request.model_dump(mode="json"),
            timeout=_shorter(timeout),
        )

    def leases(self, desk_id: str, request: LeaseRequest) -> LeaseSet:
        return self._request(
            "POST", f"/desks/{desk_id}/leases", LeaseSet, json=request.model_dump(mode="json")
        )

    def kassenzeichen_range(
        self, desk_id: str, request: KassenzeichenRangeRequest
    ) -> KassenzeichenRangeGrant:
        return self._request(
            "POST",
            f"/desks/{desk_id}/kassenzeichen-ranges",
            KassenzeichenRangeGrant,
            json=request.model_dump(mode="json"),
        )

    def close_session(self) -> None:
        """Log the clerk out at the central service (the session travels in the signed request)."""
        where = "DELETE /sessions/current"
        try:
            response = self._http.request("DELETE", "/sessions/current")
        except httpx.HTTPError as error:
            raise self._fail(f"{where}: {type(error).__name__}", MSG_UNREACHABLE) from error
        if response.status_code != 204:
            raise self._fail(
                f"{where}: status {response.status_code}", MSG_REFUSED, status=response.status_code
            )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CentralClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _request(
        self,
        method: str,
        path: str,
        answer_type: type[Answer],
        *,
        timeout: httpx.Timeout | None = None,
        expect: int = 200,
        **kwargs: Any,
    ) -> Answer:
        where = f"{method} {path}"
        try:
            if timeout is None:
                response = self._http.request(method, path, **kwargs)
            else:
                response = self._http.request(method, path, timeout=timeout, **kwargs)
        except httpx.TimeoutException as error:
            raise self._fail(f"{where}: timed out ({type(error).__name__})", MSG_TIMEOUT) from error
        except httpx.TransportError as error:
            raise self._fail(f"{where}: transport error ({type(error).__name__})", MSG_UNREACHABLE) from error
        except httpx.InvalidURL as error:
            raise self._fail(f"{where}: invalid URL", MSG_REFUSED, retryable=False) from error
        return self._parse(where, response, answer_type, expect)

    def _parse(
        self, where: str, response: httpx.Response, answer_type: type[Answer], expect: int = 200
    ) -> Answer:
        status = response.status_code
        # Bodies are never logged: a 422 echoes the request, which may carry personal data.
        if status >= 500:
            raise self._fail(f"{where}: server error {status}", MSG_SERVER_ERROR, status=status)
        if status == 409:
            gap = self._try_parse(response, SequenceGap)
            if gap is not None:
                error = SequenceGapError(gap.expected_seq, gap.detail)
                log.warning("central %s: %s", where, error.log_message)
                raise error
        if status >= 400:
            message = {401: MSG_UNAUTHENTICATED, 403: MSG_FORBIDDEN, 429: MSG_TOO_MANY_REJECTIONS}.get(
                status, MSG_REFUSED
            )
            raise self._fail(f"{where}: refused with {status}", message, status=status, retryable=False)
        if status != expect:
            raise self._fail(f"{where}: unexpected status {status}", MSG_MALFORMED, status=status)
        answer = self._try_parse(response, answer_type)
        if answer is None:
            content_type = response.headers.get("content-type", "?")
            raise self._fail(
                f"{where}: answer is not a valid {answer_type.__name__} "
                f"(content-type {content_type}, {len(response.content)} bytes)",
                MSG_MALFORMED,
                status=status,
            )
        return answer

    @staticmethod
    def _try_parse(response: httpx.Response, answer_type: type[Answer]) -> Answer | None:
        try:
            return answer_type.model_validate_json(response.content)
        except ValidationError:
            return None

    @staticmethod
    def _fail(
        log_message: str, user_message: str, *, status: int | None = None, retryable: bool = True
    ) -> CentralError:
        log.warning("central %s", log_message)
        return CentralError(log_message, user_message, status_code=status, retryable=retryable)


def _shorter(seconds: float | None) -> httpx.Timeout | None:
    return None if seconds is None else httpx.Timeout(seconds)
