"""The operators' screen's words in English and German (every key has both: a test
checks it), picked by ``?lang=``, then the remembered choice, then the browser's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import common.words
from common.words import WordTable

TEXTS: Mapping[str, tuple[str, str]] = {
    "title": ("Fleet", "Flotte"),
    "language": ("Language", "Sprache"),
    "sign_in": ("Sign in", "Anmelden"),
    "sign_out": ("Sign out", "Abmelden"),
    "name": ("Name", "Name"),
    "password": ("Password", "Passwort"),
    "login_failed": ("The name or the password is wrong.", "Name oder Passwort ist falsch."),
    "wait_s": (
        "Too many wrong passwords: wait {s} s.",
        "Zu viele falsche Passwörter: {s} s warten.",
    ),
    "cannot_extend": (
        "This parcel's deadline cannot be moved any later.",
        "Die Frist dieses Pakets lässt sich nicht weiter verschieben.",
    ),
    "form_again": (
        "This form is too old or came from elsewhere: sign in again here.",
        "Dieses Formular ist zu alt oder kam von anderswo: Melden Sie sich hier erneut an.",
    ),
    "nav_fleet": ("Stations", "Stationen"),
    "nav_grants": ("Central staff", "Zentrales Personal"),
    "nav_audit": ("Audit log", "Protokoll"),
    "stations": ("Every station", "Alle Stationen"),
    "filter": ("Filter", "Filter"),
    "filter_text": ("Name contains", "Name enthält"),
    "show": ("Show", "Zeigen"),
    "show_all": ("all", "alle"),
    "show_offline": ("offline only", "nur offline"),
    "show_alerts": ("with open alerts", "mit offenen Meldungen"),
    "sort": ("Sort by", "Sortieren nach"),
    "sort_name": ("name", "Name"),
    "sort_alerts": ("open alerts", "offene Meldungen"),
    "sort_waiting": ("parcels waiting", "wartende Pakete"),
    "sort_free": ("free compartments", "freie Fächer"),
    "sort_seen": ("last seen", "zuletzt gesehen"),
    "station": ("Station", "Station"),
    "status": ("Status", "Status"),
    "free": ("Free per size", "Frei je Größe"),
    "waiting": ("Waiting", "Wartend"),
    "unpaid": ("Unpaid", "Unbezahlt"),
    "paid_today": ("Paid today", "Heute bezahlt"),
    "expiring_today": ("Expiring today", "Läuft heute ab"),
    "alerts": ("Open alerts", "Offene Meldungen"),
    "bus": ("Bus health", "Bus-Zustand"),
    "bus_ok": ("ok", "in Ordnung"),
    "bus_errors": ("{n} errors", "{n} Fehler"),
    "bus_none": ("not reported", "nicht gemeldet"),
    "online": ("online", "online"),
    "online_for": ("online, seen {age} ago", "online, vor {age} gesehen"),
    "offline_for": ("offline for {age}", "offline seit {age}"),
    "never_seen": ("never seen", "nie gesehen"),
    "behind": ("{n} events not yet applied", "{n} Ereignisse noch nicht übernommen"),
    "no_stations": ("No station matches.", "Keine Station passt."),
    "age_s": ("{n} s", "{n} s"),
    "age_min": ("{n} min", "{n} Min."),
    "age_h": ("{h} h {m} min", "{h} Std. {m} Min."),
    "age_d": ("{d} d {h} h", "{d} T. {h} Std."),
    "front": ("The front of the station", "Die Vorderseite der Station"),
    "no_layout": (
        "This station has not reported its layout yet (it does when it connects).",
        "Diese Station hat ihr Layout noch nicht gemeldet (das tut sie beim Verbinden).",
    ),
    "pick": (
        "Choose a compartment for its state and actions.",
        "Wählen Sie ein Fach für Zustand und Aktionen.",
    ),
    "compartment_n": ("Compartment {n}", "Fach {n}"),
    "size": ("Size", "Größe"),
    "state": ("State", "Zustand"),
    "state_free": ("free", "frei"),
    "state_reserved": ("reserved", "reserviert"),
    "state_occupied": ("occupied", "belegt"),
    "state_out_of_service": ("out of service", "außer Betrieb"),
    "state_fault": ("fault", "Störung"),
    "state_unknown": ("unknown", "unbekannt"),
    "parcel": ("Parcel", "Paket"),
    "parcels": ("Parcels at the station", "Pakete in der Station"),
    "tracking_number": ("Tracking number", "Sendungsnummer"),
    "carrier": ("Carrier", "Paketdienst"),
    "deadline": ("Collect by", "Abholen bis"),
    "parcel_state": ("State", "Zustand"),
    "pstate_announced": ("announced", "angekündigt"),
    "pstate_reserved": ("reserved", "reserviert"),
    "pstate_stored": ("waiting", "wartet"),
    "pstate_expired": ("expired", "abgelaufen"),
    "no_parcels": ("No parcels.", "Keine Pakete."),
    "extend": ("Extend by {d} days", "Um {d} Tage verlängern"),
    "take_out": ("Take out of service", "Außer Betrieb nehmen"),
    "put_back": ("Put back in service", "Wieder in Betrieb nehmen"),
    "reason": ("Reason (for the station's audit log)", "Grund (für das Protokoll der Station)"),
    "note": ("Note", "Notiz"),
    "revoke_courier": ("Revoke a courier", "Kurier sperren"),
    "revoke_courier_intro": (
        "Ends every token and session of the courier's account at this station.",
        "Beendet alle Token und Sitzungen des Kurierkontos an dieser Station.",
    ),
    "courier_name": ("Courier account", "Kurierkonto"),
    "revoke": ("Revoke", "Sperren"),
    "no_open": (
        "There is no remote “open door”: no message from outside ever opens a door. The "
        "station is the source of truth for its doors; a door opens only at the station, for "
        "a code, a courier or staff there.",
        "Es gibt kein „Tür öffnen“ aus der Ferne: Keine Nachricht von außen öffnet je eine "
        "Tür. Die Station ist die Quelle der Wahrheit für ihre Türen; eine Tür öffnet nur an "
        "der Station, für einen Code, einen Kurier oder das Personal vor Ort.",
    ),
    "commands": ("Commands to this station", "Befehle an diese Station"),
    "command": ("Command", "Befehl"),
    "by": ("By", "Von"),
    "issued": ("Given", "Gegeben"),
    "cstate_sent": ("sent, waiting for the station", "gesendet, wartet auf die Station"),
    "cstate_ok": ("done by the station", "von der Station ausgeführt"),
    "cstate_refused": ("refused by the station", "von der Station abgelehnt"),
    "no_commands": ("No commands yet.", "Noch keine Befehle."),
    "sent_command": (
        "Sent: {what}. The station's answer shows below.",
        "Gesendet: {what}. Die Antwort der Station erscheint unten.",
    ),
    "alerts_here": ("Open alerts", "Offene Meldungen"),
    "no_alerts": ("No open alerts.", "Keine offenen Meldungen."),
    # cooled compartments (issue 27)
    "cold_groups": ("Cooled compartments", "Kühlfächer"),
    "cold_chilled": ("chilled", "gekühlt"),
    "cold_frozen": ("frozen", "tiefgekühlt"),
    "cold_band": ("band {band}", "Bereich {band}"),
    "cold_now": ("{c} °C", "{c} °C"),
    "cold_no_answer": ("no answer", "keine Antwort"),
    "cold_compartments": ("compartments {ids}", "Fächer {ids}"),
    "cold_status_ok": ("in band", "im Bereich"),
    "cold_status_out_of_band": (
        "out of band: takes no new cold parcels",
        "außerhalb des Bereichs: nimmt keine neuen Kühlpakete",
    ),
    "cold_status_silent": (
        "thermometer silent: takes no new cold parcels",
        "Thermometer stumm: nimmt keine neuen Kühlpakete",
    ),
    "cold_status_unknown": ("not read yet", "noch nicht gemessen"),
    "cold_chart": (
        "{group}: temperature over the last 24 hours, band {band}",
        "{group}: Temperatur der letzten 24 Stunden, Bereich {band}",
    ),
    "events": ("Recent events", "Letzte Ereignisse"),
    "event": ("Event", "Ereignis"),
    "at": ("At", "Um"),
    "whole_station": ("the station", "die Station"),
    "reason_needed": ("Give a reason.", "Geben Sie einen Grund an."),
    "problem": ("Not done: {detail}", "Nicht ausgeführt: {detail}"),
    "back_to_fleet": ("All stations", "Alle Stationen"),
    "pass_title": ("Sign in at this station", "An dieser Station anmelden"),
    "pass_intro": (
        "You hold a grant for this station's maintenance screen. Get a one-time pass, then "
        "sign in there with the name {name} and the pass as the password.",
        "Sie dürfen den Wartungsbildschirm dieser Station benutzen. Holen Sie einen "
        "Einmal-Pass und melden Sie sich dort mit dem Namen {name} und dem Pass als "
        "Passwort an.",
    ),
    "pass_get": ("Get a sign-in pass", "Anmelde-Pass holen"),
    "pass_shown": (
        "Your pass for {station}, valid once until {until} UTC:",
        "Ihr Pass für {station}, einmal gültig bis {until} UTC:",
    ),
    "grants": ("Central staff", "Zentrales Personal"),
    "grants_intro": (
        "An operator granted a station may sign in at its maintenance screen as staff. The "
        "station checks the hub's signed grant itself, offline; a revoked grant ends there "
        "once the station has the revocation.",
        "Ein Bediener mit Freigabe darf sich am Wartungsbildschirm der Station als Personal "
        "anmelden. Die Station prüft die signierte Freigabe des Hubs selbst, auch offline; "
        "eine widerrufene Freigabe endet dort, sobald die Station den Widerruf hat.",
    ),
    "grant_give": ("Grant", "Freigeben"),
    "operator": ("Operator", "Bediener"),
    "stations_pick": ("Stations", "Stationen"),
    "days": ("Days", "Tage"),
    "until": ("Until", "Bis"),
    "grant_state": ("At the station", "An der Station"),
    "gstate_sent": ("sent, not yet acknowledged", "gesendet, noch nicht bestätigt"),
    "gstate_ok": ("acknowledged", "bestätigt"),
    "gstate_refused": ("refused", "abgelehnt"),
    "grant_revoked": ("revoked by {by}", "widerrufen von {by}"),
    "grant_expired": ("ended", "abgelaufen"),
    "grant_revoke": ("Revoke", "Widerrufen"),
    "no_grants": ("No grants.", "Keine Freigaben."),
    "granted": ("Granted: {n} station(s).", "Freigegeben: {n} Station(en)."),
    "pick_station": ("Choose at least one station.", "Wählen Sie mindestens eine Station."),
    "audit": ("The hub's audit log", "Das Protokoll des Hubs"),
    "actor": ("Who", "Wer"),
    "action": ("What", "Was"),
    "detail": ("Detail", "Einzelheiten"),
    "admin_only": ("This needs an admin account.", "Dafür braucht es ein Admin-Konto."),
    # -- the stations list for thousands (issue 26) --
    "age_under_min": ("under a minute", "unter einer Minute"),
    "show_attention": ("needs attention", "braucht Aufmerksamkeit"),
    "summary": ("Across the fleet", "Über die ganze Flotte"),
    "sum_stations": ("Stations", "Stationen"),
    "sum_online": ("online", "online"),
    "sum_offline": ("offline", "offline"),
    "sum_attention": ("need attention", "brauchen Aufmerksamkeit"),
    "sum_alerts": ("Open alerts", "Offene Meldungen"),
    "sum_waiting": ("Parcels waiting", "Wartende Pakete"),
    "sum_free": ("Free compartments", "Freie Fächer"),
    "page_of": (
        "page {page} of {pages} ({n} stations)",
        "Seite {page} von {pages} ({n} Stationen)",
    ),
    "page_prev": ("Previous", "Zurück"),
    "page_next": ("Next", "Weiter"),
    "map": ("Map of the stations", "Karte der Stationen"),
    "map_none": (
        "No station has coordinates yet (locker hub station place NAME --lat … --lon …).",
        "Noch keine Station hat Koordinaten (locker hub station place NAME --lat … --lon …).",
    ),
    "map_online": ("online", "online"),
    "map_attention": ("online, needs attention", "online, braucht Aufmerksamkeit"),
    "map_offline": ("offline", "offline"),
    "faults": ("{n} fault(s)", "{n} Störung(en)"),
    "full": ("full", "voll"),
    "pending": (
        "Sent: waiting for the station's answer…",
        "Gesendet: die Antwort der Station steht aus …",
    ),
    "close": ("Close", "Schließen"),
}


@dataclass(frozen=True)
class Words(common.words.Words):
    """The fleet screen's texts of one language."""

    TEXTS: ClassVar[WordTable] = TEXTS

    def age(self, seconds: float) -> str:
        s = max(0, int(seconds))
        if s < 60:
            return self("age_s", n=s)
        minutes = s // 60
        if minutes < 60:
            return self("age_min", n=minutes)
        hours, m = divmod(minutes, 60)
        if hours < 24:
            return self("age_h", h=hours, m=m)
        d, h = divmod(hours, 24)
        return self("age_d", d=d, h=h)
