"""An office's call-display settings, stored centrally (`store.DisplayConfig`): which service groups,
how many calls in how many columns, which languages the fixed labels rotate through and how fast.

An administrator sets them (`tresen central display-config`, `PUT /api/v1/offices/{id}/display`);
every screen of the office follows them, and a screen's URL query still overrides them for that
screen alone (`?groups=A,B&calls=6&columns=2&lang=de,en&rotate=8`, `sync.central.display`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sync.central import store
from sync.central.display_texts import DISPLAY_LANGUAGES
from sync.central.errors import NotFound

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

__all__ = [
    "MAX_CALLS",
    "MAX_COLUMNS",
    "DisplayLanguage",
    "DisplaySettings",
    "read_settings",
    "write_settings",
]

MAX_CALLS = 12  # ZMS's 2 × 6; `waiting_room.CALLS_SHOWN` reads no more
MAX_COLUMNS = 3
DisplayLanguage = Literal["de", "en", "tr", "fr", "es", "ru"]


def _german_only() -> list[DisplayLanguage]:
    return ["de"]


GroupPrefix = Annotated[str, Field(min_length=1, max_length=4, pattern=r"^[A-Za-z0-9]+$")]


class DisplaySettings(BaseModel):
    """What an office's call displays show. `languages` always starts with German (it is added in
    front when missing and moved to the front when elsewhere); one language means no rotation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    groups: list[GroupPrefix] = Field(default_factory=list, max_length=20)  # empty: every group
    calls: int = Field(default=MAX_CALLS, ge=1, le=MAX_CALLS)
    columns: int = Field(default=1, ge=1, le=MAX_COLUMNS)
    languages: list[DisplayLanguage] = Field(
        default_factory=_german_only,
        max_length=len(DISPLAY_LANGUAGES),
        json_schema_extra={"uniqueItems": True},  # the document says what the validator refuses
    )
    rotate_seconds: int = Field(default=10, ge=1, le=300)

    @field_validator("languages")
    @classmethod
    def _german_first(cls, languages: list[DisplayLanguage]) -> list[DisplayLanguage]:
        if len(set(languages)) != len(languages):
            raise ValueError("each language once")
        return ["de", *(code for code in languages if code != "de")]

    @field_validator("groups")
    @classmethod
    def _each_group_once(cls, groups: list[str]) -> list[str]:
        return list(dict.fromkeys(groups))


def read_settings(session: Session, office_id: str) -> DisplaySettings:
    """The office's stored settings, or the defaults when none were set."""
    row = session.get(store.DisplayConfig, office_id)
    if row is None:
        return DisplaySettings()
    return DisplaySettings.model_validate(
        {
            "groups": row.groups,
            "calls": row.calls,
            "columns": row.columns,
            "languages": row.languages or ["de"],
            "rotate_seconds": row.rotate_seconds,
        }
    )


def write_settings(
    session: Session, office_id: str, settings: DisplaySettings, now: datetime
) -> DisplaySettings:
    """Store the office's settings (replacing earlier ones); refuses an unknown office."""
    if session.get(store.Office, office_id) is None:
        raise NotFound("unknown office")
    row = session.get(store.DisplayConfig, office_id)
    if row is None:
        row = store.DisplayConfig(office_id=office_id)
        session.add(row)
    row.groups = list(settings.groups)
    row.calls = settings.calls
    row.columns = settings.columns
    row.languages = list(settings.languages)
    row.rotate_seconds = settings.rotate_seconds
    row.updated_at = now
    return settings
