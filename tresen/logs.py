"""Where log lines go while the TUI owns the terminal."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from workstation.private_files import private_dir, private_file

if TYPE_CHECKING:
    from collections.abc import Iterator

LOG_FILE_NAME = "tresen.log"


def log_file_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_log_dir("tresen")) / LOG_FILE_NAME


@contextmanager
def logging_to_file(path: Path) -> Iterator[None]:
    """While the TUI owns the terminal, log lines on stderr would tear its frames: send them to a
    file instead (also those of uvicorn's own loggers), and give the terminal back afterwards."""
    try:
        # Logs hold no personal data, but ids and times are nobody else's business: the file is
        # created 0600 before the handler opens it, in a 0700 directory.
        private_dir(path.parent)
        private_file(path)
        file_handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        file_handler = logging.NullHandler()  # an unwritable log dir must not stop the clerk
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    loggers = [root] + [
        logger for logger in root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    moved: list[tuple[logging.Logger, logging.Handler]] = []
    given: list[logging.Logger] = []
    for logger in loggers:
        terminal = [h for h in logger.handlers if _writes_to_terminal(h)]
        for handler in terminal:
            logger.removeHandler(handler)
            moved.append((logger, handler))
        if terminal and (logger is root or not logger.propagate):
            logger.addHandler(file_handler)
            given.append(logger)
    if root not in given:
        root.addHandler(file_handler)
        given.append(root)
    try:
        yield
    finally:
        for logger in given:
            logger.removeHandler(file_handler)
        file_handler.close()
        for logger, handler in moved:
            logger.addHandler(handler)


def _writes_to_terminal(handler: logging.Handler) -> bool:
    return (
        isinstance(handler, logging.StreamHandler)
        and not isinstance(handler, logging.FileHandler)
        and getattr(handler, "stream", None) in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)
    )
