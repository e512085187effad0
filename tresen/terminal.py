"""Questions to the terminal that must be asked before Textual takes it over."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def probe_terminal_graphics() -> None:
    """Let textual-image ask the terminal whether it draws pixels (sixel, kitty) while we still own
    it: once Textual runs, the answer would be lost in its input. The card dialog uses the result
    for the citizen's photo (`screens.card_read.prepare_photo_support`)."""
    try:
        import textual_image.renderable  # noqa: F401  (the import is the probe)
    except Exception:  # no usable terminal: the photo is described in text instead
        log.debug("terminal graphics probe failed", exc_info=True)
