"""`tresen sync status [--json]` and `tresen sync now`: the administrator's view of a desk's sync."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from datetime import datetime

    from workstation.sync_overview import SyncOverview


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sync = subparsers.add_parser("sync", help="Abgleich mit der Zentrale prüfen oder anstoßen")
    commands = sync.add_subparsers(dest="sync_command", required=True, metavar="BEFEHL")
    status = commands.add_parser("status", help="Stand des Abgleichs aus dem lokalen Bestand")
    status.add_argument("--json", action="store_true", help="als JSON ausgeben (für Skripte)")
    status.set_defaults(handler=status_command)
    now = commands.add_parser("now", help="jetzt abgleichen: Ausstehendes senden, Neues holen")
    now.add_argument("--central", help="Adresse der Zentrale (sonst aus der Konfiguration)")
    now.set_defaults(handler=now_command)


def status_command(args: argparse.Namespace) -> int:
    from tresen.desk import fail, load_config, open_store
    from workstation.errors import TresenError
    from workstation.identity import load_identity
    from workstation.sync_overview import sync_overview

    try:
        config = load_config(args.config)
        store = open_store(config.store.path)
        try:
            identity = load_identity(config.store.path)
            overview = sync_overview(store, identity.workstation_id if identity else config.workstation.id)
        finally:
            store.dispose()
    except TresenError as error:
        return fail(error.user_message)
    if args.json:
        print(json.dumps(overview.as_json(), ensure_ascii=False, indent=2))
    else:
        print(describe(overview))
    return 0


def now_command(args: argparse.Namespace) -> int:
    from tresen.central_access import central_access
    from tresen.desk import engine_factory, fail, load_config, open_store
    from workstation.commands import DeskContext
    from workstation.errors import TresenError
    from workstation.i18n import _

    try:
        config = load_config(args.config)
        access = central_access(config.store.path, central_url=args.central)
        if access is None:
            return fail(_("Dieser Arbeitsplatz ist noch nicht eingerichtet (tresen enroll)."))
        store = open_store(config.store.path)
        try:
            identity = access.identity
            make_engine = engine_factory(
                store, identity.central_url, config.central.timeout_seconds, auth=access.auth
            )
            engine = make_engine(DeskContext(identity.workstation_id, identity.office_id, "", ""))
            try:
                report = engine.sync_once()
            finally:
                engine.close()
        finally:
            store.dispose()
    except TresenError as error:
        return fail(error.user_message)
    if not report.online:
        return fail(report.error_de or _("Der Abgleich ist fehlgeschlagen."))
    print(
        _("Abgeglichen: {pushed} gesendet ({rejected} abgelehnt), {pulled} Änderungen geholt.").format(
            pushed=report.pushed, rejected=report.rejected, pulled=report.pulled
        )
    )
    return 0


def describe(overview: SyncOverview) -> str:
    from workstation.i18n import _, format_number

    never = _("nie")

    def when(moment: datetime | None) -> str:
        return never if moment is None else moment.astimezone().strftime("%d.%m.%Y %H:%M:%S")

    lines = [
        _("Arbeitsplatz: {workstation} · Dienststelle: {office}").format(
            workstation=overview.workstation_id, office=overview.office_id or "?"
        ),
        _("Stand (Cursor): {cursor} · bestätigt bis Nr. {acked}").format(
            cursor=format_number(overview.cursor), acked=format_number(overview.acked_seq)
        ),
        _("Ausstehend: {pending} (älteste von {oldest})").format(
            pending=format_number(overview.pending), oldest=when(overview.oldest_pending_at)
        ),
        _("Zuletzt gesendet: {push} · zuletzt geholt: {pull}").format(
            push=when(overview.last_push_at), pull=when(overview.last_pull_at)
        ),
    ]
    if overview.leases:
        held = ", ".join(
            _("{ticket} (bis {time})").format(ticket=lease.ticket_id, time=when(lease.valid_until))
            for lease in overview.leases
        )
        lines.append(_("Vorbehaltene Wartenummern (Leases): {leases}").format(leases=held))
    else:
        lines.append(_("Vorbehaltene Wartenummern (Leases): keine"))
    if overview.copy is not None:
        copy = overview.copy
        lines.append(
            _("Kopie der lokalen Datenbank {original} (erkannt {time}); Wartenummern mit {mark}").format(
                original=copy.copied_from, time=when(copy.copied_at), mark=copy.number_mark or "-"
            )
        )
        if copy.identity_retired:
            lines.append(
                _(
                    "Diese Kopie gleicht nicht als {workstation} ab (die Kennung des Originals): "
                    "bitte mit tresen enroll neu einrichten."
                ).format(workstation=overview.workstation_id)
            )
    if overview.last_error:
        lines.append(_("Letzter Fehler: {error}").format(error=overview.last_error))
    if overview.rejected:
        lines.append(_("Abgelehnt ({count}):").format(count=format_number(len(overview.rejected))))
        lines += [
            f"  #{row.seq} {row.kind} {when(row.created_at)}: {row.reason or '?'}"
            for row in overview.rejected
        ]
    else:
        lines.append(_("Abgelehnt: keine"))
    return "\n".join(lines)
