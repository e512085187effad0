"""Questions to the terminal that must be asked before Textual takes it over.

textual-image asks the terminal whether it draws pixels (sixel, kitty) when it is imported, and
waits up to 100 ms for a kitty answer that most terminals (xterm, VTE, Windows Terminal) never
send. That wait runs in a thread started first thing at `tresen run`, so it overlaps the store's
and the screens' imports instead of adding to the start: about 110 ms of the cold start
(bench/cold_start.py; docs/benchmarks.md, "Cold start"). The app starts only once it is over —
Textual's input thread would otherwise swallow the answer.
"""

from __future__ import annotations

import logging
import sys
import threading

log = logging.getLogger(__name__)


class _Probe:
    """The one background probe of this process, if it was started."""

    thread: threading.Thread | None = None


_probe = _Probe()


def probe_terminal_graphics() -> None:
    """Let textual-image ask the terminal while we still own it; once Textual runs, the answer
    would be lost in its input. The card dialog uses the result for the citizen's photo
    (`screens.card_read.prepare_photo_support`)."""
    try:
        import textual_image.renderable  # noqa: F401  (the import is the probe)
    except Exception:  # no usable terminal: the photo is described in text instead
        log.debug("terminal graphics probe failed", exc_info=True)


def start_graphics_probe() -> None:
    """Start the probe in the background (once); `finish_graphics_probe` waits for it."""
    if _probe.thread is not None or sys.stdin is None or not sys.stdin.isatty():
        return  # no terminal to ask: textual-image's import falls back without asking
    _probe.thread = threading.Thread(
        target=probe_terminal_graphics, name="terminal-graphics-probe", daemon=True
    )
    _probe.thread.start()


def finish_graphics_probe() -> None:
    """Before the terminal is used otherwise (Textual's driver, an error message): the probe is
    over, run here if it was never started."""
    if _probe.thread is None:
        probe_terminal_graphics()
    else:
        _probe.thread.join()
