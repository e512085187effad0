"""The preview of a document before it is printed (F3 in the Nachdruck dialog): its first page as a
picture where the terminal can draw one (textual-image, as the card photo), else the page's text.

The page is rendered in a thread worker (`forms.preview` through the desk's documents); the result
comes back as a message. Esc closes the preview and never acts on the dialog below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from forms.preview import PreviewError
from screens.card_read import photo_widget
from workstation.i18n import _

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import ComposeResult

    from forms.preview import PagePreview


@dataclass
class PreviewRendered(Message):
    preview: PagePreview


@dataclass
class PreviewRefused(Message):
    reason: str  # German, for the clerk


class DocumentPreview(ModalScreen[None]):
    """One document's first page; `render` runs in a thread worker and may raise PreviewError."""

    DEFAULT_CSS = """
    DocumentPreview #preview-page { height: 1fr; }
    DocumentPreview #preview-body { width: 90%; height: 90%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", _("Schließen"), id="dialog-cancel"),
    ]

    def __init__(self, title: str, render: Callable[[], PagePreview]) -> None:
        super().__init__(classes="dialog")
        self._title = title
        self._load_page = render

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body", id="preview-body"):
            yield Label(_("Vorschau: {title}").format(title=self._title), classes="dialog-title")
            yield Static(_("Die Seite wird aufbereitet …"), id="preview-status")
            yield VerticalScroll(id="preview-page")
            yield Static(_("Esc: schließen"), classes="dialog-hint")

    def on_mount(self) -> None:
        self._render_page()

    @work(thread=True, exclusive=True, group="preview", name="preview", exit_on_error=False)
    def _render_page(self) -> None:
        try:
            preview = self._load_page()
        except (PreviewError, OSError):
            self.post_message(
                PreviewRefused(_("Das Dokument kann nicht angezeigt werden (nicht mehr aufbewahrt)."))
            )
            return
        self.post_message(PreviewRendered(preview))

    @on(PreviewRendered)
    def _rendered(self, message: PreviewRendered) -> None:
        preview = message.preview
        more = _(" (Seite 1 von {pages})").format(pages=preview.pages) if preview.pages > 1 else ""
        self.query_one("#preview-status", Static).update(_("Erste Seite{more}").format(more=more))
        text = preview.text.strip() or _("(Die Seite enthält keinen Text.)")
        page = self.query_one("#preview-page", VerticalScroll)
        if preview.png is None:
            page.mount(Static(text, id="preview-text"))
        else:
            page.mount(photo_widget(preview.png, text, "preview"))

    @on(PreviewRefused)
    def _refused(self, message: PreviewRefused) -> None:
        self.query_one("#preview-status", Static).update(message.reason)

    def action_close(self) -> None:
        self.dismiss(None)
