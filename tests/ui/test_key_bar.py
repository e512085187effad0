"""The narrow terminal's key bar breaks its lines between two keys, never inside one."""

from __future__ import annotations

from textual.app import App, ComposeResult

from screens.widgets.key_bar import KeyBar

KEYS = [
    ("F2", "Aufrufen"),
    ("F3", "Erneut aufrufen"),
    ("F4", "Nicht erschienen"),
    ("F5", "Vorgang öffnen"),
    ("F6", "Parken"),
    ("F7", "Weiterleiten"),
]


class BarApp(App[None]):
    CSS = "KeyBar { padding: 0 1; }"

    def compose(self) -> ComposeResult:
        yield KeyBar()


async def test_a_line_breaks_between_keys() -> None:
    app = BarApp()
    async with app.run_test(size=(40, 10)) as pilot:
        bar = app.query_one(KeyBar)
        bar.show_keys(KEYS, 40)
        await pilot.pause()
        lines = [line.rstrip() for line in str(bar.render()).splitlines()]
        assert lines == [
            "F2 Aufrufen  F3 Erneut aufrufen",
            "F4 Nicht erschienen  F5 Vorgang öffnen",
            "F6 Parken  F7 Weiterleiten",
        ]
        assert all(len(line) <= 40 - 2 for line in lines)  # within the bar's padding
