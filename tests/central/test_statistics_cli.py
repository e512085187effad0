"""`tresen stats`: the export through the central service's API, and its messages."""

from __future__ import annotations

import argparse
import csv
import io
import socket
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest

from forms.daily_report import GermanCsv
from sync.central.statistics_client import StatisticsUnavailable
from tests.central.test_statistics_api import api, app, office_clock  # noqa: F401  (fixtures)
from tests.central.test_statistics_sql import OFFICE
from tests.forms.pdftools import pdf_text, write
from tresen.stats import export_day, register

if TYPE_CHECKING:
    from pathlib import Path

    from fastapi import FastAPI
    from fastapi.testclient import TestClient
ISSUED = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def test_the_csv_export_has_the_day_and_last_week(api: TestClient) -> None:  # noqa: F811
    data = export_day(api, OFFICE, date(2026, 3, 2), "csv", clock=lambda: ISSUED)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), dialect=GermanCsv))
    assert (rows[0]["Datum"], rows[0]["Tickets"], rows[0]["Servicelevel (%)"]) == ("02.03.2026", "6", "75,0")
    assert rows[-1]["Bereich"] == "Vorwoche"
    assert rows[-1]["Datum"] == "23.02.2026"


def test_the_only_office_is_taken_without_office(api: TestClient) -> None:  # noqa: F811
    data = export_day(api, None, date(2026, 3, 2), "csv", clock=lambda: ISSUED)
    assert b"02.03.2026;Tag;gesamt" in data


@pytest.mark.poppler
def test_the_pdf_export(api: TestClient, tmp_path: Path) -> None:  # noqa: F811
    data = export_day(api, OFFICE, date(2026, 3, 2), "pdf", clock=lambda: ISSUED)
    text = pdf_text(write(tmp_path, "bericht.pdf", data))
    assert "Tagesbericht 02.03.2026" in text
    assert "Bürgeramt Statistik" in text
    assert "Platz 2" in text


def test_a_date_without_data_gives_the_german_message(api: TestClient) -> None:  # noqa: F811
    with pytest.raises(StatisticsUnavailable, match=r"^Für den 09\.03\.2026 liegen keine Zahlen vor\.$"):
        export_day(api, OFFICE, date(2026, 3, 9), "csv")


def test_an_unknown_office_gives_the_german_message(api: TestClient) -> None:  # noqa: F811
    with pytest.raises(StatisticsUnavailable, match="nicht bekannt"):
        export_day(api, "nirgendwo", date(2026, 3, 2), "pdf")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tresen")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def test_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRESEN_TOKEN", "geheim")
    out = tmp_path / "bericht.csv"
    args = _parser().parse_args(
        [
            "stats",
            "--central",
            "http://127.0.0.1:9",
            "--date",
            "2026-03-02",
            "--format",
            "csv",
            "--out",
            str(out),
        ]
    )
    assert (args.office, args.date, args.format, args.out, args.token) == (
        None,
        date(2026, 3, 2),
        "csv",
        out,
        "geheim",
    )


def test_an_unreachable_central_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:  # a port nobody listens on: bound here, never listening
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        args = _parser().parse_args(
            [
                "stats",
                "--central",
                url,
                "--office",
                OFFICE,
                "--date",
                "2026-03-02",
                "--format",
                "pdf",
                "--out",
                str(tmp_path / "x.pdf"),
            ]
        )
        assert args.handler(args) == 1
    assert "nicht erreichbar" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def test_the_client_reads_the_live_office_of_the_only_office(api: TestClient) -> None:  # noqa: F811
    from sync.central.statistics_client import StatisticsClient

    client = StatisticsClient(api, clock=lambda: ISSUED)
    assert client.today() == date(2026, 3, 2)
    live = client.load_live()
    assert (live.office_id, live.waiting_total) == (OFFICE, 1)


def test_the_client_passes_on_the_refusal_for_a_clerk(app: FastAPI) -> None:  # noqa: F811
    from sync.central.statistics_api import MSG_NOT_SUPERVISOR
    from sync.central.statistics_client import StatisticsClient
    from tests.credentials import clerk_auth, signed_client
    from tests.sync.statistics_days import clerk_of

    clerk = clerk_auth(app.state.store, "ws-stats", OFFICE, clerk_of("d1"))
    with signed_client(app, clerk) as clerk_api, pytest.raises(StatisticsUnavailable) as refused:
        StatisticsClient(clerk_api, OFFICE).load_live()
    assert refused.value.message == MSG_NOT_SUPERVISOR
