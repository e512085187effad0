"""The wire format between workstations and the central service (JSON over HTTP, prefix `/api/v1`).

One schema module for both sides: the central service validates every request with these models and
the client validates every answer with them. Snapshot field names match `workstation/models.py`, so
the replica copies them one to one. All times are aware datetimes in UTC; naive times are refused.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, WithJsonSchema

API_PREFIX = "/api/v1"
PROTOCOL_SCHEMA_VERSION = 1
MAX_PUSH_BATCH = 500
MAX_CHANGES_LIMIT = 5000
MAX_WAIT_SECONDS = 30.0
# The central service closes a connection idle this long; clients let theirs go well before, or a
# request sent on a connection the server is closing at that moment fails as "server disconnected"
# (seen in bench/central_load.py: httpx's default expiry is the same 5 s).
SERVER_KEEP_ALIVE_SECONDS = 5
CLIENT_KEEP_ALIVE_SECONDS = 3.0


# Bounds every request value is checked against, so a hostile value is a 422, never a 500 deeper down:
# integers fit a 64-bit column and a JavaScript number exactly; years are those an office can mean
# (a birth date in 1900, a slot booked years ahead) — year 1 or 9999 overflowed time-zone arithmetic.
MAX_SAFE_INT = 2**53 - 1
FIRST_YEAR, LAST_YEAR = 1900, 2200


def _year_in_range(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"year must be between {FIRST_YEAR} and {LAST_YEAR}")
    return value


def _datetime_in_range(value: datetime) -> datetime:
    _year_in_range(value)
    return value


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _plain_text(value: str) -> str:
    """Refuse what no German name or note contains but what breaks stores and logs: NUL (PostgreSQL
    refuses it) and lone UTF-16 surrogates (not encodable as UTF-8)."""
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    if any("\ud800" <= char <= "\udfff" for char in value):
        raise ValueError("text must not contain lone surrogates")
    return value


# The year bound in the document too, as a pattern beside the format, so clients and generated tests
# know it (JSON Schema has no minimum for dates).
_YEAR_PATTERN = r"^(19\d\d|2[01]\d\d|2200)-"
UtcDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_datetime_in_range),
    AfterValidator(_to_utc),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": _YEAR_PATTERN}),
]
OfficeDate = Annotated[
    date,
    AfterValidator(_year_in_range),
    WithJsonSchema({"type": "string", "format": "date", "pattern": _YEAR_PATTERN}),
]
# The same refusal in the document, as a pattern (written with escapes, so the document itself stays
# valid UTF-8), so generated clients and tests know it.
_PLAIN_TEXT_PATTERN = r"^[^\x00]*$"  # surrogates too, but no pattern both Python and Rust regex read
PlainText = Annotated[
    str, AfterValidator(_plain_text), Field(json_schema_extra={"pattern": _PLAIN_TEXT_PATTERN})
]
Count = Annotated[int, Field(ge=0, le=MAX_SAFE_INT)]
EntityId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
TicketNumber = Annotated[PlainText, Field(min_length=1, max_length=16)]
BookingReference = Annotated[str, Field(min_length=4, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]
Priority = Annotated[int, Field(ge=0, le=9)]  # 1 = urgent (set by reception); 0 = normal


class _Strict(BaseModel):
    """Requests: unknown fields are a client bug worth a 422, not something to ignore."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _Snapshot(BaseModel):
    """Answers: tolerate fields a newer server adds."""

    model_config = ConfigDict(extra="ignore", frozen=True, from_attributes=True)


# --- entity snapshots (GET /sync/changes, call-next, kiosk) -------------------------------------


class OfficeSnapshot(_Snapshot):
    id: str
    name: str
    kind: str
    max_calls: int
    recall_block_minutes: int
    early_window_minutes: int
    service_level_minutes: int
    version: int


class ServiceSnapshot(_Snapshot):
    id: str
    office_id: str
    code: str
    name: str
    duration_minutes: int
    fee_cents: int
    required_documents: list[str]
    needs_card_read: bool
    needs_capture: bool
    ticket_prefix: str
    version: int


class DeskSnapshot(_Snapshot):
    id: str
    office_id: str
    number: int
    name: str
    service_ids: list[str]
    version: int


class ClerkSnapshot(_Snapshot):
    id: str
    office_id: str
    name: str
    role: str
    version: int


class AppointmentSnapshot(_Snapshot):
    id: str
    office_id: str
    booking_reference: str
    slot_start: UtcDatetime
    status: str
    given_name: str
    family_name: str
    birth_date: date | None = None
    email: str | None = None
    phone: str | None = None
    service_ids: list[str]
    version: int


class TicketSnapshot(_Snapshot):
    id: str
    office_id: str
    number: str
    appointment_id: str | None = None
    issued_at: UtcDatetime
    priority: int
    state: str
    called_count: int
    first_called_at: UtcDatetime | None = None
    last_called_at: UtcDatetime | None = None
    desk_id: str | None = None
    clerk_id: str | None = None
    target_desk_id: str | None = None
    transferred_from_id: str | None = None
    origin: str
    service_ids: list[str]
    version: int


class IssuedTicket(TicketSnapshot):
    """The kiosk's answer (issue, check-in): the ticket plus the key of its public status page, which
    only the kiosk learns (for the slip's QR code: `{central}/q/{status_token}`); never in the feed."""

    status_token: str | None = None


STATUS_PAGE_PATH = "/q/{token}"  # relative to the central service's root, not API_PREFIX


class CallSnapshot(_Snapshot):
    id: str
    ticket_id: str
    desk_id: str
    clerk_id: str
    called_at: UtcDatetime
    is_recall: bool
    version: int


# --- operations (POST /sync/push) ----------------------------------------------------------------


class OperationKind(StrEnum):
    TICKET_CALL = "ticket.call"
    TICKET_SERVE = "ticket.serve"
    TICKET_NO_SHOW = "ticket.no_show"
    TICKET_PARK = "ticket.park"
    TICKET_RESUME = "ticket.resume"
    TICKET_TRANSFER = "ticket.transfer"
    CASE_FINISH = "case.finish"
    TICKET_ISSUE = "ticket.issue"
    CAPTURE_ATTACH = "capture.attach"


class TicketCallArgs(_Strict):
    ticket_id: EntityId
    desk_id: EntityId
    clerk_id: EntityId
    call_id: EntityId
    called_at: UtcDatetime
    recall: bool = False
    lease_token: Count | None = None  # the call was made from the desk's lease (fencing token)
    # The desk asked the central service first (this call id) and got no answer, then chose from its
    # local queue: a call the central service made under that id was never seen by the clerk.
    lost_call_id: EntityId | None = None


class TicketServeArgs(_Strict):
    ticket_id: EntityId
    case_id: EntityId
    desk_id: EntityId
    clerk_id: EntityId
    at: UtcDatetime
    service_ids: list[EntityId] = Field(default_factory=list)


class TicketNoShowArgs(_Strict):
    ticket_id: EntityId
    at: UtcDatetime


class TicketParkArgs(_Strict):
    ticket_id: EntityId
    case_id: EntityId
    at: UtcDatetime


class TicketResumeArgs(_Strict):
    ticket_id: EntityId
    case_id: EntityId
    desk_id: EntityId
    clerk_id: EntityId
    at: UtcDatetime


class TicketTransferArgs(_Strict):
    ticket_id: EntityId
    new_ticket_id: EntityId
    service_ids: list[EntityId] = Field(min_length=1)
    target_desk_id: EntityId | None = None
    at: UtcDatetime


class CaseFinishArgs(_Strict):
    ticket_id: EntityId
    case_id: EntityId
    outcomes: dict[EntityId, Literal["completed", "documents_missing", "rejected", "not_done"]]
    notes: Annotated[PlainText, Field(max_length=10_000)] = ""
    at: UtcDatetime


class TicketIssueArgs(_Strict):
    ticket_id: EntityId
    number: TicketNumber
    service_ids: list[EntityId] = Field(min_length=1)
    priority: Priority = 0
    appointment_id: EntityId | None = None
    at: UtcDatetime
    origin: Literal["kiosk", "desk", "appointment"] = "desk"


CaptureItem = Literal["photo", "signature", "fingerprints"]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class CaptureAttachArgs(_Strict):
    """A terminal capture (photo, signature, fingerprints) was attached to a case at the desk. The
    images stay on the workstation, encrypted; the central service learns only which capture it was
    (the source's reference) and the hash of what the desk holds, so the waiting room can tell that a
    case no longer needs the photo station and a later audit can match the document application's
    copy."""

    ticket_id: EntityId
    case_id: EntityId
    reference: Annotated[PlainText, Field(min_length=1, max_length=128)]
    sha256: Sha256Hex
    items: list[CaptureItem] = Field(min_length=1, max_length=3)
    source: Literal["terminal", "cloud"]
    at: UtcDatetime


OPERATION_ARGS: dict[OperationKind, type[_Strict]] = {
    OperationKind.TICKET_CALL: TicketCallArgs,
    OperationKind.TICKET_SERVE: TicketServeArgs,
    OperationKind.TICKET_NO_SHOW: TicketNoShowArgs,
    OperationKind.TICKET_PARK: TicketParkArgs,
    OperationKind.TICKET_RESUME: TicketResumeArgs,
    OperationKind.TICKET_TRANSFER: TicketTransferArgs,
    OperationKind.CASE_FINISH: CaseFinishArgs,
    OperationKind.TICKET_ISSUE: TicketIssueArgs,
    OperationKind.CAPTURE_ATTACH: CaptureAttachArgs,
}


class Operation(_Strict):
    """One business command from a workstation's outbox. `args` are checked per kind on apply, so a
    malformed operation becomes a stored rejection instead of wedging the queue."""

    op_id: Annotated[PlainText, Field(min_length=1, max_length=36)]
    seq: Annotated[int, Field(ge=1, le=MAX_SAFE_INT)]
    kind: Annotated[PlainText, Field(min_length=1, max_length=40)]
    args: dict[str, Any]
    base_version: Count | None = None
    # Sent (always null) by workstations before the leases: accepted and ignored, never sent again.
    # A call's fencing token travels in its arguments (`TicketCallArgs.lease_token`).
    lease_token: Annotated[
        PlainText | None,
        Field(max_length=64, exclude=True, deprecated="unused; a call's token is in its arguments"),
    ] = None
    schema_version: Annotated[int, Field(ge=1, le=1000)] = PROTOCOL_SCHEMA_VERSION
    created_at: UtcDatetime


class PushRequest(_Strict):
    workstation_id: EntityId
    office_id: EntityId
    operations: list[Operation] = Field(max_length=MAX_PUSH_BATCH)


OperationStatusLiteral = Literal["applied", "rejected", "duplicate"]


class OperationResult(_Snapshot):
    op_id: str
    seq: int
    status: OperationStatusLiteral
    reason: str | None = None  # English, for logs and the supervisor's review list
    result: dict[str, Any] | None = None
    flagged: bool = False  # applied but needs a supervisor's review (e.g. a finish on a moved ticket)
    # Set on "duplicate" answers: what happened when the operation first arrived. Absent from servers
    # before protocol 1.1, so a client must tolerate None (and then infer it from `reason`/`flagged`).
    original_status: Literal["applied", "rejected"] | None = None


class PushResponse(_Snapshot):
    results: list[OperationResult]
    acked_seq: int


class SequenceGap(_Snapshot):
    """Body of the 409 answer to a push that skips sequence numbers."""

    detail: str
    expected_seq: int


# --- pull (GET /sync/changes) ---------------------------------------------------------------------


class ChangesPage(_Snapshot):
    """Everything of one office changed after `cursor`, in commit order. Applying the page and storing
    the new cursor and `acked_seq` in one local transaction keeps the replica consistent."""

    epoch: str
    cursor: int
    has_more: bool
    acked_seq: int
    # The cursor asked for lay past the office's head: the central database was put back from an
    # older backup (which brings its epoch back too), and it will number new rows with versions the
    # desk believes it has seen. `cursor` is then the head; the desk pulls everything again.
    # Servers that predate the field never say so.
    cursor_ahead: bool = False
    offices: list[OfficeSnapshot] = Field(default_factory=list)
    services: list[ServiceSnapshot] = Field(default_factory=list)
    desks: list[DeskSnapshot] = Field(default_factory=list)
    clerks: list[ClerkSnapshot] = Field(default_factory=list)
    appointments: list[AppointmentSnapshot] = Field(default_factory=list)
    tickets: list[TicketSnapshot] = Field(default_factory=list)
    calls: list[CallSnapshot] = Field(default_factory=list)


# --- call-next arbitration (POST /desks/{desk_id}/call-next) --------------------------------------


class CallNextRequest(_Strict):
    workstation_id: EntityId
    clerk_id: EntityId
    call_id: EntityId  # idempotency key: the same call_id returns the same ticket


class CallNextResponse(_Snapshot):
    ticket: TicketSnapshot | None
    call_id: str
    call: CallSnapshot | None = None
    explanation: str | None = None  # German, e.g. "Termin 10:20, fällig seit 3 min"


# --- reference data, booking system, kiosk --------------------------------------------------------


class Health(_Snapshot):
    status: Literal["ok"]
    epoch: str


class OfficeDetail(_Snapshot):
    office: OfficeSnapshot
    services: list[ServiceSnapshot]
    desks: list[DeskSnapshot]
    clerks: list[ClerkSnapshot]


class AppointmentCreate(_Strict):
    """From a booking system. `id` and `booking_reference` are generated when absent."""

    id: EntityId | None = None
    office_id: EntityId
    booking_reference: BookingReference | None = None
    slot_start: UtcDatetime
    given_name: Annotated[PlainText, Field(min_length=1, max_length=200)]
    family_name: Annotated[PlainText, Field(min_length=1, max_length=200)]
    birth_date: OfficeDate | None = None
    email: Annotated[PlainText, Field(max_length=200)] | None = None
    phone: Annotated[PlainText, Field(max_length=50)] | None = None
    service_ids: list[EntityId] = Field(min_length=1, max_length=10)


class TicketCreate(_Strict):
    """From the kiosk: a walk-in takes a number."""

    office_id: EntityId
    service_ids: list[EntityId] = Field(min_length=1, max_length=10)
    priority: Priority = 0


class CheckInRequest(_Strict):
    """From the kiosk: a citizen with an appointment arrives. The booking reference travels in the
    body, not the URL, so it never lands in an access log."""

    office_id: EntityId
    booking_reference: BookingReference


# --- enrollment and clerk login (sync.central.auth) -----------------------------------------------

Secret = Annotated[str, Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
Pin = Annotated[PlainText, Field(min_length=4, max_length=128)]


class EnrollmentRequest(_Strict):
    """A new workstation presents the administrator's one-time code and its public key (PEM, P-256)."""

    code: Secret
    public_key_pem: Annotated[
        str, Field(min_length=100, max_length=1000, pattern=r"^-----BEGIN PUBLIC KEY-----")
    ]
    label: Annotated[PlainText, Field(max_length=200)] = ""


class Enrollment(_Snapshot):
    """The identity the central service gave: every later request is signed with `workstation_id`."""

    workstation_id: EntityId
    office_id: EntityId
    desk_id: EntityId | None = None


PublicKeyPem = Annotated[str, Field(min_length=100, max_length=1000, pattern=r"^-----BEGIN PUBLIC KEY-----")]
Proof = Annotated[str, Field(min_length=86, max_length=86, pattern=r"^[A-Za-z0-9_-]+$")]  # r‖s, base64url


class KeyRotationRequest(_Strict):
    """An enrolled workstation's new public key, in a request signed with its current key, with the new
    key's signature over it (`sync.signatures.key_possession_proof`): from the answer on only the new
    key signs for the workstation."""

    public_key_pem: PublicKeyPem
    proof: Proof


class SessionRequest(_Strict):
    clerk_id: EntityId
    pin: Pin
    # The key the workstation keeps sealed under this PIN, to resume a later offline login there.
    offline_key_pem: PublicKeyPem | None = None


class OfflineSessionRequest(_Strict):
    """A clerk who logged in at this workstation while the central service was away (against the
    cached verifier) gets a session: `proof` is the offline key's signature over the workstation,
    the clerk and `signed_at` (`sync.signatures.offline_login_proof`)."""

    clerk_id: EntityId
    signed_at: Count  # Unix seconds; the central service takes a proof only minutes old
    proof: Proof


class ClerkSession(_Snapshot):
    """A clerk's login: `session` goes in the `Tresen-Clerk-Session` header of signed requests."""

    session: str
    clerk_id: EntityId
    role: str
    expires_at: UtcDatetime


# --- leases (POST /desks/{desk_id}/leases) ---------------------------------------------------------

MAX_LEASES = 5


class LeaseRequest(_Strict):
    workstation_id: EntityId
    want: Annotated[int, Field(ge=0, le=MAX_LEASES)]


class Lease(_Snapshot):
    """A waiting ticket held for one desk: F2 there calls it without asking the central service."""

    ticket_id: EntityId
    token: Count  # the fencing token: a call carrying an older one is refused
    expires_at: UtcDatetime


class LeaseSet(_Snapshot):
    """The desk's leases after this request; each valid `valid_seconds` from the answer (the
    workstation counts on its own clock from when it got the answer, so clock skew does not matter)."""

    leases: list[Lease]
    valid_seconds: float


# --- Kassenzeichen ranges (POST /desks/{desk_id}/kassenzeichen-ranges) ----------------------------

KassenzeichenPrefix = Annotated[str, Field(min_length=2, max_length=8, pattern=r"^[0-9]+$")]
RunningNumber = Annotated[int, Field(ge=0, lt=10**7)]  # sync.kassenzeichen.RUNNING_NUMBER_DIGITS


class KassenzeichenRangeRequest(_Strict):
    """A desk asks for its next range; `newest_prefix`/`newest_first` name the newest range it holds
    (none: it holds none), so an answer lost on the way is given again instead of a fresh range."""

    workstation_id: EntityId
    newest_prefix: KassenzeichenPrefix | None = None
    newest_first: RunningNumber | None = None


class KassenzeichenRangeGrant(_Snapshot):
    """Running numbers first..last (inclusive) under `prefix`, reserved for this desk's workstation
    alone: it issues Kassenzeichen from them offline too (`sync.kassenzeichen.KassenzeichenRange`)."""

    prefix: KassenzeichenPrefix
    first: RunningNumber
    last: RunningNumber


# --- conflicts for the supervisor (GET /offices/{office_id}/conflicts) ------------------------------


class ConflictEntry(_Snapshot):
    """An operation the central service refused or kept for review: who (desk, clerk) did what, why
    it was refused, and whether a supervisor has dealt with it."""

    workstation_id: EntityId
    seq: Count
    kind: str
    status: Literal["rejected", "flagged"]
    reason: str
    desk_id: str | None = None
    clerk_id: str | None = None
    ticket_id: str | None = None
    created_at: UtcDatetime
    received_at: UtcDatetime
    resolved_at: UtcDatetime | None = None
    resolved_by: str | None = None
    note: str | None = None


class ConflictResolutionRequest(_Strict):
    note: Annotated[PlainText, Field(max_length=500)] = ""
