"""How this workstation reads cards, known at start-up without loading the card stack.

`[card]` of the configuration (and the demo's simulated card) decide it; the card stack itself
(pyscard, the cryptography of PACE and passive authentication) is imported only when the clerk
first opens "Ausweis lesen", so it costs nothing on the way to the first screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workstation.config import default_trust_dir

if TYPE_CHECKING:
    from pathlib import Path

    from workstation.card_reading import CardPreparer, CardReading, ClerkContext, SessionSource


@dataclass(frozen=True)
class CardReadingSetup:
    """The CSCA folder, the configured reader (None: any), and the demo's card preparer; `for_desk`
    builds the service once a clerk is logged in at a desk."""

    trust_folder: Path = field(default_factory=default_trust_dir)
    reader: str | None = None
    preparer: CardPreparer | None = None

    def for_desk(self, store: SessionSource, ctx: ClerkContext) -> CardReading:
        from workstation.card_reading import CardReading

        return CardReading(
            store, ctx, trust_folder=self.trust_folder, reader=self.reader, preparer=self.preparer
        )
