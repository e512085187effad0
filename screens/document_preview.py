"""The preview of documents before they are printed: F3 in the finish dialog (what the finish will
print) and in the Nachdruck dialog (the highlighted kept document). Each document's first page as a
picture where the terminal can draw one (textual-image, as the card photo), else the page's text.

The pages are rendered in a thread worker (`forms.preview`, through the desk's documents); the result
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
from workstation.errors import TresenError
from workstation.i18n import _

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from textual.app import ComposeResult

    from forms.preview import PagePreview


@dataclass
class PreviewRendered(Message):
    pages: Sequence[tuple[str, PagePreview]]


@dataclass
class PreviewRefused(Message):
    reason: str  # German, for the clerk


class DocumentPreview(ModalScreen[None]):
    """The documents' first pages; `render` runs in a thread worker and may raise a TresenError
    (its German message is shown) or PreviewError."""

    DEFAULT_CSS = """
    DocumentPreview #preview-pages { height: 1fr; }
    DocumentPreview #preview-body { width: 90%; height: 90%; }
    DocumentPreview .preview-title { text-style: bold; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", _("Schließen"), id="dialog-cancel"),
    ]

    def __init__(self, title: str, render: Callable[[], Sequence[tuple[str, PagePreview]]]) -> None:
        super().__init__(classes="dialog")
        self._title = title
        self._load_pages = render

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body", id="preview-body"):
            yield Label(_("Vorschau: {title}").format(title=self._title), classes="dialog-title")
            yield Static(_("Die Seite wird aufbereitet …"), id="preview-status")
            yield VerticalScroll(id="preview-pages")
            yield Static(_("Esc: schließen"), classes="dialog-hint")

    def on_mount(self) -> None:
        self._render_pages()

    @work(thread=True, exclusive=True, group="preview", name="preview", exit_on_error=False)
    def _render_pages(self) -> None:
        try:
            pages = self._load_pages()
        except TresenError as error:
            self.post_message(PreviewRefused(error.user_message))
            return
        except PreviewError:
            self.post_message(PreviewRefused(_("Das Dokument kann nicht angezeigt werden.")))
            return
        self.post_message(PreviewRendered(pages))

    @on(PreviewRendered)
    def _rendered(self, message: PreviewRendered) -> None:
        status = self.query_one("#preview-status", Static)
        if not message.pages:
            status.update(_("Bei diesem Abschluss wird kein Dokument gedruckt."))
            return
        status.update(_("Jeweils die erste Seite, so wie sie gedruckt wird."))
        pages = self.query_one("#preview-pages", VerticalScroll)
        for index, (label, preview) in enumerate(message.pages):
            more = _(" (Seite 1 von {pages})").format(pages=preview.pages) if preview.pages > 1 else ""
            pages.mount(Label(f"{label}{more}", classes="preview-title"))
            text = preview.text.strip() or _("(Die Seite enthält keinen Text.)")
            if preview.png is None:
                pages.mount(Static(text, id=f"preview-{index}-text"))
            else:
                pages.mount(photo_widget(preview.png, text, f"preview-{index}"))

    @on(PreviewRefused)
    def _refused(self, message: PreviewRefused) -> None:
        self.query_one("#preview-status", Static).update(message.reason)

    def action_close(self) -> None:
        self.dismiss(None)
