"""The screens' words in English and German.

Every text a screen shows has a key here with both languages, so a missing translation
is a test failure (tests/api/screens/test_i18n.py), not a half-English kiosk. Texts may
hold ``{name}`` fields filled by :meth:`Words.__call__`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import common.words
from common.words import WordTable
from locker.errors import DomainError
from locker.front import Location
from locker.sentences.problems import refusal

# key -> (English, German)
TEXTS: Mapping[str, tuple[str, str]] = {
    # shared
    "station": ("Pickup station", "Abholstation"),
    "language": ("Language", "Sprache"),
    "sign_in": ("Sign in", "Anmelden"),
    "sign_out": ("Sign out", "Abmelden"),
    "name": ("Name", "Name"),
    "password": ("Password", "Passwort"),
    "new_password": ("New password (at least 12 characters)", "Neues Passwort (mind. 12 Zeichen)"),
    "password_change_required": (
        "This password was for the first sign-in only: choose a new one.",
        "Dieses Passwort galt nur für die erste Anmeldung: Wählen Sie ein neues.",
    ),
    "signed_out": (
        "You are signed out. Please sign in again.",
        "Sie sind abgemeldet. Bitte melden Sie sich erneut an.",
    ),
    "wrong_role": (
        "This account may not use this screen.",
        "Dieses Konto darf diesen Bildschirm nicht benutzen.",
    ),
    "compartment": ("Compartment", "Fach"),
    "compartment_n": ("Compartment {n}", "Fach {n}"),
    "size": ("Size", "Größe"),
    "state": ("State", "Zustand"),
    "parcel": ("Parcel", "Paket"),
    "tracking_number": ("Tracking number", "Sendungsnummer"),
    "recipient": ("Recipient", "Empfänger"),
    "deadline": ("Collect by", "Abholen bis"),
    "carrier": ("Carrier", "Paketdienst"),
    "wait_s": ("Please wait {s} seconds before trying again.", "Bitte warten Sie {s} Sekunden."),
    "error_other": ("Something went wrong: {detail}", "Etwas ist schiefgegangen: {detail}"),
    "front_of_station": ("The front of the station", "Die Vorderseite der Station"),
    "problem_door_busy": (
        "This door is being used right now. Try again in a moment.",
        "Diese Tür wird gerade benutzt. Versuchen Sie es gleich noch einmal.",
    ),
    "problem_door_not_closed": (
        "The door is still open: push it shut until it clicks.",
        "Die Tür ist noch offen: Drücken Sie sie zu, bis sie einrastet.",
    ),
    "problem_parcel_not_detected": (
        "The compartment looks empty: put the parcel in and close the door again.",
        "Das Fach scheint leer: Legen Sie das Paket hinein und schließen Sie die Tür erneut.",
    ),
    "problem_invalid_transition": (
        "This cannot be done in the parcel's present state.",
        "Das geht im jetzigen Zustand des Pakets nicht.",
    ),
    "problem_not_found": ("Not found.", "Nicht gefunden."),
    "problem_second_staff_required": (
        "Many doors were opened by staff just now: a second staff member must confirm "
        "this opening with their own name and password (or an admin opens it).",
        "Gerade wurden viele Türen vom Personal geöffnet: Eine zweite Person vom Personal "
        "muss diese Öffnung mit eigenem Namen und Passwort bestätigen (oder ein Admin öffnet).",
    ),
    "problem_second_staff_invalid": (
        "The second staff member's name or password is wrong.",
        "Name oder Passwort der zweiten Person ist falsch.",
    ),
    "problem_second_staff_same_person": (
        "The second staff member must be someone else.",
        "Die zweite Person muss jemand anderes sein.",
    ),
    "problem_extension_refused": (
        "This parcel was given more time already; the shop's staff can help.",
        "Dieses Paket wurde schon verlängert; das Personal hilft Ihnen gern.",
    ),
    "problem_wrong_password": ("Wrong name or password.", "Falscher Name oder falsches Passwort."),
    # where a compartment is
    "where_top": ("top", "oben"),
    "where_bottom": ("bottom", "unten"),
    "where_middle": ("{row} from the top", "{row} von oben"),
    "where_column": (
        "{column} column from the left, {place}",
        "{column} Spalte von links, {place}",
    ),
    # compartment states
    "state_free": ("free", "frei"),
    "state_reserved": ("reserved", "reserviert"),
    "state_occupied": ("occupied", "belegt"),
    "state_out_of_service": ("out of service", "außer Betrieb"),
    "state_fault": ("fault", "Störung"),
    # parcel states
    "parcel_announced": ("announced", "angekündigt"),
    "parcel_reserved": ("on its way in", "wird eingelegt"),
    "parcel_stored": ("stored", "eingelagert"),
    "parcel_collected": ("collected", "abgeholt"),
    "parcel_expired": ("expired", "abgelaufen"),
    "parcel_returned": ("returned", "zurückgegeben"),
    "parcel_lapsed": ("announced, never brought in", "angekündigt, nie eingeliefert"),
    # kiosk
    "kiosk_title": ("Collect your parcel", "Paket abholen"),
    "kiosk_prompt": (
        "Type your PIN or hold your QR code to the scanner.",
        "Geben Sie Ihre PIN ein oder halten Sie Ihren QR-Code an den Scanner.",
    ),
    "kiosk_code_label": ("PIN or QR code", "PIN oder QR-Code"),
    "kiosk_open": ("Open", "Öffnen"),
    "kiosk_clear": ("Clear", "Löschen"),
    "kiosk_delete": ("Delete last digit", "Letzte Ziffer löschen"),
    "kiosk_opened": ("Compartment {n} is open: {where}.", "Fach {n} ist offen: {where}."),
    "kiosk_take_and_close": (
        "Take your parcel and close the door.",
        "Nehmen Sie Ihr Paket heraus und schließen Sie die Tür.",
    ),
    "kiosk_not_opened": ("Compartment {n} did not open.", "Fach {n} hat sich nicht geöffnet."),
    "kiosk_code_still_valid": (
        "Your code stays valid for what did not open.",
        "Ihr Code bleibt für das, was sich nicht geöffnet hat, gültig.",
    ),
    "kiosk_try_again": ("Try again", "Noch einmal versuchen"),
    "kiosk_other_way": ("Another way", "Anders weiter"),
    "kiosk_staff_told": (
        "The shop's staff have been told and will open it for you.",
        "Das Personal wurde benachrichtigt und öffnet es für Sie.",
    ),
    "kiosk_call_staff": ("Call the staff: {contact}", "Rufen Sie das Personal: {contact}"),
    "kiosk_invalid": (
        "This code does not open any compartment. Check it and try again.",
        "Dieser Code öffnet kein Fach. Bitte prüfen Sie ihn und versuchen Sie es erneut.",
    ),
    "kiosk_too_many": ("Too many wrong codes.", "Zu viele falsche Codes."),
    "kiosk_empty": ("Please enter your PIN first.", "Bitte geben Sie zuerst Ihre PIN ein."),
    "kiosk_done": ("Done", "Fertig"),
    "kiosk_more_time": ("More time", "Mehr Zeit"),
    "kiosk_return": ("Return a parcel", "Paket zurücksenden"),
    "kiosk_extended": (
        "Done: your parcel waits until {until}. Your code stays the same.",
        "Erledigt: Ihr Paket wartet bis {until}. Ihr Code bleibt derselbe.",
    ),
    "kiosk_put_and_close": (
        "Put your parcel in and close the door. The courier takes it from here.",
        "Legen Sie Ihr Paket hinein und schließen Sie die Tür. Der Zusteller holt es ab.",
    ),
    "kiosk_no_door_for_return": (
        "No compartment could be opened for your return. The staff have been told and will "
        "take the parcel from you.",
        "Für Ihre Rücksendung ließ sich kein Fach öffnen. Das Personal wurde benachrichtigt "
        "und nimmt das Paket entgegen.",
    ),
    "kiosk_ask_in_shop": ("ask in the shop.", "fragen Sie im Geschäft."),
    "kiosk_device": (
        "This screen is the kiosk “{name}”.",
        "Dieser Bildschirm ist das Terminal „{name}“.",
    ),
    "kiosk_unpaired": (
        "This screen is not paired as the station's kiosk.",
        "Dieser Bildschirm ist nicht als Terminal der Station eingerichtet.",
    ),
    "kiosk_pair_title": (
        "Pair this screen as the kiosk",
        "Diesen Bildschirm als Terminal einrichten",
    ),
    "kiosk_pair_help": (
        "Staff: paste the device token that `locker kiosk pair NAME` or the maintenance API "
        "printed. Codes typed here are then limited per screen, not per network address.",
        "Personal: Fügen Sie das Geräte-Token ein, das `locker kiosk pair NAME` oder die "
        "Wartungs-API ausgegeben hat. Eingegebene Codes werden dann je Bildschirm begrenzt, "
        "nicht je Netzwerkadresse.",
    ),
    "kiosk_pair_token": ("Device token", "Geräte-Token"),
    "kiosk_pair_button": ("Pair", "Einrichten"),
    "kiosk_pair_wrong": (
        "This is not a live device token. Pair the kiosk again and paste the new token.",
        "Das ist kein gültiges Geräte-Token. Richten Sie das Terminal neu ein und fügen Sie "
        "das neue Token ein.",
    ),
    "kiosk_ask_staff": ("Ask in the shop.", "Fragen Sie im Geschäft."),
    "kiosk_help": (
        "Lost your code? The shop's staff can help: {contact}",
        "Code verloren? Das Personal hilft Ihnen: {contact}",
    ),
    # more time, by the link in a message
    "extend_title": ("More time for your parcel", "Mehr Zeit für Ihr Paket"),
    "extend_button": ("{days} more days", "{days} Tage mehr"),
    "extend_done": (
        "Done: your parcel waits until {until}.",
        "Erledigt: Ihr Paket wartet bis {until}.",
    ),
    "extend_no_more": (
        "This parcel cannot be given more time here; the shop's staff can help.",
        "Hier ist keine weitere Verlängerung möglich; das Personal hilft Ihnen gern.",
    ),
    "extend_unknown": (
        "This link does not belong to a parcel of this station.",
        "Dieser Link gehört zu keinem Paket dieser Station.",
    ),
    # courier
    "courier_title": ("Courier", "Zusteller"),
    "courier_new_parcel": ("Deposit a parcel", "Paket einlegen"),
    "courier_recipient_email": ("Recipient's email (optional)", "E-Mail des Empfängers (optional)"),
    "courier_recipient_phone": (
        "Recipient's phone (optional)",
        "Telefon des Empfängers (optional)",
    ),
    "courier_size_or_dims": (
        "Size, or the parcel's dimensions in mm",
        "Größe, oder die Maße des Pakets in mm",
    ),
    "courier_width": ("Width", "Breite"),
    "courier_height": ("Height", "Höhe"),
    "courier_depth": ("Depth", "Tiefe"),
    "courier_open": ("Open a compartment", "Fach öffnen"),
    "courier_door_open": (
        "Compartment {n} is open: {where}. Put the parcel in and close the door.",
        "Fach {n} ist offen: {where}. Legen Sie das Paket hinein und schließen Sie die Tür.",
    ),
    "courier_waiting_close": (
        "Waiting for the door to be closed…",
        "Warte darauf, dass die Tür geschlossen wird …",
    ),
    "courier_closed_it": ("I closed the door", "Tür ist zu"),
    "courier_door_stuck": ("The door did not open", "Die Tür ging nicht auf"),
    "courier_stored": ("Stored in compartment {n}.", "In Fach {n} eingelagert."),
    "courier_code_once": (
        "The recipient's code (shown once):",
        "Der Code für den Empfänger (nur einmal angezeigt):",
    ),
    "courier_code_gone": (
        "Its code was handed over already.",
        "Der Code wurde bereits übergeben.",
    ),
    "courier_next": ("Next parcel", "Nächstes Paket"),
    "courier_uncertain": (
        "The station could not tell whether compartment {n} opened.",
        "Die Station konnte nicht feststellen, ob Fach {n} aufging.",
    ),
    "courier_not_opened": (
        "Compartment {n} did not open; it is marked faulty.",
        "Fach {n} ging nicht auf; es ist als gestört markiert.",
    ),
    "courier_another": ("Open another compartment", "Anderes Fach öffnen"),
    "courier_hold_lapsed": (
        "The compartment held for this parcel was given up: the door was not used in time.",
        "Das reservierte Fach wurde freigegeben: Die Tür wurde nicht rechtzeitig benutzt.",
    ),
    "courier_no_free": (
        "No free compartment fits this parcel.",
        "Kein freies Fach passt für dieses Paket.",
    ),
    "courier_returns": ("Expired parcels to take back", "Abgelaufene Pakete zum Mitnehmen"),
    "courier_no_returns": ("Nothing to take back.", "Nichts mitzunehmen."),
    "courier_take_back": ("Take back", "Mitnehmen"),
    "courier_taken_open": (
        "Compartment {n} is open: {where}. Take the parcel and close the door.",
        "Fach {n} ist offen: {where}. Nehmen Sie das Paket und schließen Sie die Tür.",
    ),
    # staff
    "staff_title": ("Maintenance", "Wartung"),
    "staff_station": ("Station", "Station"),
    "staff_parcels": ("Parcels", "Pakete"),
    "staff_expired": ("Expired", "Abgelaufen"),
    "staff_orders": ("Click & collect", "Click & Collect"),
    "staff_order_title": ("Put a shop order into a compartment", "Bestellung in ein Fach legen"),
    "staff_order_number": ("Order number", "Bestellnummer"),
    "staff_customer": ("Customer", "Kunde"),
    "staff_language": ("Customer's language", "Sprache des Kunden"),
    "staff_order_open": ("Open a compartment", "Fach öffnen"),
    "staff_order_door": (
        "Compartment {n} is open: {where}. Put the order in and close the door.",
        "Fach {n} ist offen: {where}. Legen Sie die Bestellung hinein und schließen Sie die Tür.",
    ),
    "staff_order_stored": (
        "Stored in compartment {n}. The customer is sent the code.",
        "In Fach {n} eingelagert. Der Kunde bekommt den Code zugeschickt.",
    ),
    "staff_order_stored_untold": (
        "Stored in compartment {n}. Give the customer this code.",
        "In Fach {n} eingelagert. Geben Sie dem Kunden diesen Code.",
    ),
    "staff_order_code": (
        "The customer's code (shown once, for a customer without mail or phone):",
        "Der Code für den Kunden (nur einmal angezeigt, für Kunden ohne E-Mail oder Telefon):",
    ),
    "staff_flagged": ("Needs a look", "Bitte prüfen"),
    "staff_notifications": ("Notifications", "Benachrichtigungen"),
    "staff_no_notifications": ("Nothing sent yet.", "Noch nichts verschickt."),
    "staff_audit": ("Audit log", "Protokoll"),
    "staff_health": ("Health", "Technik"),
    "staff_pick": (
        "Choose a compartment for its parcel, history and actions.",
        "Wählen Sie ein Fach für Paket, Verlauf und Aktionen.",
    ),
    "staff_empty": ("empty", "leer"),
    "staff_history": ("History", "Verlauf"),
    "staff_alerts": ("Alerts", "Meldungen"),
    # cooled compartments (issue 27)
    "courier_cold": ("Cooling", "Kühlung"),
    "cold_none": ("None", "Keine"),
    "cold_chilled": ("Chilled", "Gekühlt"),
    "cold_frozen": ("Frozen", "Tiefgekühlt"),
    "problem_no_chilled": (
        "No chilled compartment takes this parcel now (all taken, or out of their temperature "
        "band). A chilled parcel never goes into an ordinary compartment: take it back.",
        "Kein Kühlfach nimmt dieses Paket gerade (alle belegt oder außerhalb ihres "
        "Temperaturbereichs). Kühlware kommt nie in ein normales Fach: Bitte nehmen Sie es "
        "wieder mit.",
    ),
    "problem_no_frozen": (
        "No frozen compartment takes this parcel now (all taken, or out of their temperature "
        "band). A frozen parcel never goes into an ordinary compartment: take it back.",
        "Kein Tiefkühlfach nimmt dieses Paket gerade (alle belegt oder außerhalb ihres "
        "Temperaturbereichs). Tiefkühlware kommt nie in ein normales Fach: Bitte nehmen Sie "
        "es wieder mit.",
    ),
    "staff_cold": ("Cooled compartments", "Kühlfächer"),
    "staff_cold_band": ("band {band}", "Bereich {band}"),
    "staff_cold_now": ("now {c} °C", "jetzt {c} °C"),
    "staff_cold_no_answer": ("no answer", "keine Antwort"),
    "staff_cold_since": ("since {at}", "seit {at}"),
    "staff_cold_compartments": ("compartments {ids}", "Fächer {ids}"),
    "cold_status_ok": ("in band", "im Bereich"),
    "cold_status_out_of_band": (
        "OUT OF BAND: takes no new parcels",
        "AUSSERHALB DES BEREICHS: nimmt keine neuen Pakete",
    ),
    "cold_status_silent": (
        "THERMOMETER SILENT: takes no new parcels",
        "THERMOMETER STUMM: nimmt keine neuen Pakete",
    ),
    "cold_status_unknown": ("not read yet", "noch nicht gemessen"),
    "staff_cold_chart": (
        "{group}: temperature over the last 24 hours, band {band}",
        "{group}: Temperatur der letzten 24 Stunden, Bereich {band}",
    ),
    "staff_no_alerts": ("No open alerts.", "Keine offenen Meldungen."),
    "staff_reason": ("Reason", "Grund"),
    "staff_reason_needed": (
        "Give a reason: it goes to the audit log.",
        "Bitte einen Grund angeben: Er kommt ins Protokoll.",
    ),
    "staff_note": ("Note", "Notiz"),
    "staff_second": (
        "A second staff member confirms",
        "Eine zweite Person vom Personal bestätigt",
    ),
    "staff_second_name": ("Their name", "Deren Name"),
    "staff_second_password": ("Their password", "Deren Passwort"),
    "staff_open_all": ("Open every door", "Alle Türen öffnen"),
    "staff_open_all_intro": (
        "For cleaning: every door in service opens, one after another (admins only; "
        "it goes to the audit log).",
        "Zum Reinigen: Alle Türen in Betrieb öffnen nacheinander (nur Admins; "
        "es kommt ins Protokoll).",
    ),
    "staff_open_all_confirm": (
        "Really open every door of the station?",
        "Wirklich alle Türen der Station öffnen?",
    ),
    "staff_open_all_done": (
        "Opened: {opened}. Did not open: {failed}. Skipped: {skipped}.",
        "Geöffnet: {opened}. Nicht geöffnet: {failed}. Übersprungen: {skipped}.",
    ),
    "staff_open": ("Open the door", "Tür öffnen"),
    "staff_out_of_service": ("Take out of service", "Außer Betrieb nehmen"),
    "staff_clear_fault": ("Back into service", "Wieder in Betrieb"),
    "staff_opened": ("Compartment {n} opened.", "Fach {n} wurde geöffnet."),
    "staff_not_opened": (
        "Compartment {n} did not open; it is marked faulty.",
        "Fach {n} ging nicht auf; es ist als gestört markiert.",
    ),
    "staff_taken_out": ("Compartment {n} is out of service.", "Fach {n} ist außer Betrieb."),
    "staff_back": ("Compartment {n} is back in service.", "Fach {n} ist wieder in Betrieb."),
    "staff_search": ("Tracking number or name", "Sendungsnummer oder Name"),
    "staff_any_state": ("any state", "jeder Zustand"),
    "staff_no_parcels": ("No parcels.", "Keine Pakete."),
    "staff_extend": ("Extend by {days} days", "Um {days} Tage verlängern"),
    "staff_extended": (
        "Parcel {id} may be collected until {until}.",
        "Paket {id} kann bis {until} abgeholt werden.",
    ),
    "staff_when": ("When", "Wann"),
    "staff_who": ("Who", "Wer"),
    "staff_what": ("What", "Was"),
    "staff_detail": ("Detail", "Details"),
    "staff_action_prefix": ("Action (prefix, e.g. door.)", "Aktion (Anfang, z. B. door.)"),
    "staff_filter": ("Filter", "Filtern"),
    "staff_older": ("Older entries", "Ältere Einträge"),
    "staff_buses": ("Lock-board buses", "Bus der Schlosssteuerungen"),
    "staff_bus": ("Bus", "Bus"),
    "staff_no_buses": ("No traffic yet.", "Noch kein Verkehr."),
    "staff_boards": ("Lock boards", "Schlosssteuerungen"),
    "staff_board": ("Board", "Steuerung"),
    "staff_last_failure": ("Last read without an answer", "Letzte Abfrage ohne Antwort"),
    "staff_answered_since": ("Answered since", "Seitdem geantwortet"),
    "staff_failed_reads": ("Reads without an answer", "Abfragen ohne Antwort"),
    "staff_no_failure": ("none", "keine"),
    "fail_bad_checksum": ("bad checksum", "Prüfsumme falsch"),
    "fail_torn_frame": ("torn frame", "Antwort abgerissen"),
    "fail_silence": ("silence", "Stille"),
    "yes": ("yes", "ja"),
    "no": ("no", "nein"),
    "staff_healthy": ("Every board answers.", "Alle Steuerungen antworten."),
    "staff_silent": ("Not answering: {buses}", "Antworten nicht: {buses}"),
    "staff_backups": ("Backups", "Datensicherung"),
    "staff_backup_last": (
        "Last good backup: {at}, {age} ago.",
        "Letzte gute Sicherung: {at}, vor {age}.",
    ),
    "staff_backup_never": ("Last good backup: never.", "Letzte gute Sicherung: noch keine."),
    "staff_backup_failing": (
        "The last backup failed (see the alerts).",
        "Die letzte Sicherung ist fehlgeschlagen (siehe Meldungen).",
    ),
    "age_days": ("{d} d {h} h", "{d} Tg. {h} Std."),
    "age_hours": ("{h} h {m} min", "{h} Std. {m} Min."),
    "age_minutes": ("{m} min", "{m} Min."),
    # simulator
    "sim_title": ("Simulated doors", "Simulierte Türen"),
    "sim_intro": (
        "This station runs on simulated lock boards. Use the doors as a person in front of "
        "the station would.",
        "Diese Station läuft auf simulierten Schlosssteuerungen. Bedienen Sie die Türen wie "
        "jemand vor der Station.",
    ),
    "sim_rule": (
        "Only staff may use the simulated doors: sign in on the maintenance screen first. "
        "Scripts call /api/v1/sim with a staff token or the simulator's token (printed when "
        "the station starts, or LOCKER_SIM_TOKEN) as 'Authorization: Bearer <token>'.",
        "Nur das Personal darf die simulierten Türen bedienen: Melden Sie sich zuerst in der "
        "Wartung an. Skripte rufen /api/v1/sim mit einem Token des Personals oder dem Token "
        "des Simulators (beim Start der Station ausgegeben, oder LOCKER_SIM_TOKEN) als "
        "'Authorization: Bearer <token>' auf.",
    ),
    "sim_sign_in": ("Sign in on the maintenance screen", "In der Wartung anmelden"),
    "sim_not_staff": (
        "Signed in as {name}, who is not staff.",
        "Angemeldet als {name}, nicht als Personal.",
    ),
    "sim_latched": ("latched", "verriegelt"),
    "sim_unlatched": ("unlatched", "entriegelt"),
    "sim_open": ("open", "offen"),
    "sim_closed": ("closed", "zu"),
    "sim_item": ("parcel inside", "Paket im Fach"),
    "sim_no_item": ("empty", "leer"),
    "sim_pulses": ("Unlock pulses: {n}", "Entriegelungen: {n}"),
    "sim_hand_open": ("Open the door", "Tür aufziehen"),
    "sim_hand_close": ("Close the door", "Tür schließen"),
    "sim_hand_put": ("Put a parcel in", "Paket hineinlegen"),
    "sim_hand_take": ("Take the parcel out", "Paket herausnehmen"),
    "sim_fault": ("Fault", "Fehler"),
    "sim_inject": ("Inject", "Auslösen"),
    "sim_repair": ("Repair the board", "Steuerung reparieren"),
    "sim_latched_cannot_open": (
        "The door is latched: it opens only when the station unlocks it.",
        "Die Tür ist verriegelt: Sie geht nur auf, wenn die Station sie entriegelt.",
    ),
    # People the station knows, second half (issue 17): a shared compartment, holds,
    # a person's data (export and erasure on the staff screen).
    "courier_beside_offer": (
        "A parcel for this recipient is waiting in compartment {n}. Does this one fit beside it?",
        "Für diesen Empfänger liegt schon ein Paket in Fach {n}. Passt dieses daneben?",
    ),
    "courier_beside_yes": (
        "Yes, it fits beside the parcel already waiting in compartment {n}: open {n} again",
        "Ja, es passt neben das Paket in Fach {n}: Fach {n} noch einmal öffnen",
    ),
    "courier_beside_no": (
        "No, it needs a compartment of its own",
        "Nein, es braucht ein eigenes Fach",
    ),
    "hold_title": ("Away? Keep your parcels longer", "Verreist? Pakete länger aufbewahren"),
    "hold_prompt": (
        "Keep my parcels longer while I am away, for",
        "Meine Pakete aufbewahren, während ich verreist bin, für",
    ),
    "hold_days": ("{days} days", "{days} Tage"),
    "hold_button": ("Keep them", "Aufbewahren"),
    "hold_done": (
        "Kept for you: no reminders until {back}; your parcels now wait until {until}.",
        "Wir bewahren sie auf: keine Erinnerungen bis {back}; "
        "Ihre Pakete warten jetzt bis {until}.",
    ),
    "hold_used_up": (
        "Your parcels are held as long as the shop allows.",
        "Ihre Pakete werden so lange aufbewahrt, wie der Laden es erlaubt.",
    ),
    "kiosk_hold": ("Away? Keep longer", "Verreist? Länger aufbewahren"),
    "problem_hold_refused": (
        "The parcels cannot be held longer: the shop's limit is reached.",
        "Die Pakete können nicht länger aufbewahrt werden: Die Grenze des Ladens ist erreicht.",
    ),
    "problem_person_waiting": (
        "This person still has a parcel in the station: erase them once it has left.",
        "Diese Person hat noch ein Paket in der Station: Löschen geht erst, wenn es abgeholt ist.",
    ),
    "staff_person_title": ("A person's data", "Daten einer Person"),
    "staff_person_intro": (
        "Everything the station holds about one person: export it, or erase it once none "
        "of their parcels is waiting.",
        "Alles, was die Station über eine Person speichert: exportieren, oder löschen, "
        "sobald keines ihrer Pakete mehr wartet.",
    ),
    "staff_person_directory_id": ("Directory number", "Nummer im Verzeichnis"),
    "staff_person_email": ("E-mail address", "E-Mail-Adresse"),
    "staff_person_phone": ("Phone number", "Telefonnummer"),
    "staff_person_find": ("Show what is held", "Gespeichertes zeigen"),
    "staff_person_found": (
        "{parcels} parcel(s), {waiting} still waiting; {rows} audit row(s); {messages} message(s).",
        "{parcels} Paket(e), davon {waiting} wartend; {rows} Protokollzeile(n); "
        "{messages} Nachricht(en).",
    ),
    "staff_person_export": ("Export (JSON)", "Exportieren (JSON)"),
    "staff_person_erase": ("Erase this person", "Diese Person löschen"),
    "staff_person_erased": (
        "Erased: the station now calls this person {pseudonym}.",
        "Gelöscht: Die Station nennt diese Person jetzt {pseudonym}.",
    ),
    "staff_person_link": (
        "A person's data: export or erase",
        "Daten einer Person: exportieren oder löschen",
    ),
    # issue 19: a new user's first steps (first sign-in, kiosk, the day, sensors, simulator)
    "password_or_one_time": (
        "Password (the first time: the one-time password)",
        "Passwort (beim ersten Mal: das Einmalpasswort)",
    ),
    "first_password_title": ("Choose your own password", "Eigenes Passwort wählen"),
    "first_password_intro": (
        "Welcome, {name}: the one-time password is right. Now choose the password you will "
        "sign in with from now on.",
        "Willkommen, {name}: Das Einmalpasswort stimmt. Wählen Sie jetzt das Passwort, mit "
        "dem Sie sich künftig anmelden.",
    ),
    "first_password_rules": (
        "At least {n} characters. A few words you will remember are a good password.",
        "Mindestens {n} Zeichen. Ein paar Wörter, die Sie sich merken, sind ein gutes Passwort.",
    ),
    "first_password_new": ("New password", "Neues Passwort"),
    "first_password_again": ("The new password again", "Das neue Passwort noch einmal"),
    "first_password_save": ("Save and sign in", "Speichern und anmelden"),
    "first_password_differ": (
        "The two new passwords are not the same. Please type them again.",
        "Die beiden neuen Passwörter sind nicht gleich. Bitte geben Sie sie erneut ein.",
    ),
    "first_password_expired": (
        "This step took too long. Please sign in again with the one-time password.",
        "Dieser Schritt hat zu lange gedauert. Bitte melden Sie sich erneut mit dem "
        "Einmalpasswort an.",
    ),
    "courier_code_for": (
        "Parcel {tracking} for {name}.",
        "Paket {tracking} für {name}.",
    ),
    "kiosk_how_collect": (
        "To collect: type your PIN or hold your QR code to the scanner, then press Open.",
        "Abholen: PIN eingeben oder QR-Code an den Scanner halten, dann Öffnen drücken.",
    ),
    "kiosk_how_return_more": (
        "To return a parcel or get more time: type your code, then press "
        "\u201cReturn a parcel\u201d or \u201cMore time\u201d.",
        "Paket zurücksenden oder mehr Zeit: Code eingeben, dann "
        "\u201ePaket zurücksenden\u201c oder \u201eMehr Zeit\u201c drücken.",
    ),
    "kiosk_close_again": (
        "Compartment {n} is still open. Please close its door again.",
        "Fach {n} ist noch offen. Bitte schließen Sie die Tür wieder.",
    ),
    "staff_today": ("Today", "Heute"),
    "staff_today_none": (
        "No deposits or collections yet today.",
        "Heute noch keine Einlagerungen oder Abholungen.",
    ),
    "staff_today_stored": (
        "stored: {tracking} in compartment {n}",
        "eingelagert: {tracking} in Fach {n}",
    ),
    "staff_today_collected": (
        "collected: {tracking} from compartment {n}",
        "abgeholt: {tracking} aus Fach {n}",
    ),
    "sensed_door_open": ("door open", "Tür offen"),
    "sensed_inside": ("something inside", "etwas im Fach"),
    "sim_fault_no_answer": ("The board does not answer", "Steuerung antwortet nicht"),
    "sim_fault_late_answer": ("The board answers late", "Steuerung antwortet zu spät"),
    "sim_fault_corrupt_byte": ("A corrupted byte in the answer", "Ein verfälschtes Byte"),
    "sim_fault_truncated": ("The answer is cut short", "Die Antwort bricht ab"),
    "sim_fault_stuck_latch": ("The latch is stuck", "Der Riegel klemmt"),
    "sim_fault_lying_sensor": ("The sensor reports wrongly", "Der Sensor meldet falsch"),
    "sim_fault_gone": ("The board is gone", "Die Steuerung ist weg"),
    "sim_fault_exception": (
        "The board answers with a Modbus exception",
        "Die Steuerung antwortet mit einer Modbus-Ausnahme",
    ),
    # the simulated thermometers (issue 27)
    "sim_sensors": ("Thermometers", "Thermometer"),
    "sim_sensors_intro": (
        "Warm a fridge up as if its door had stayed open: after {m} min out of its band the "
        "staff get an alert, couriers can put no chilled parcel in, and the recipients inside "
        "are asked to come soon. Cool it back and it takes parcels again.",
        "Wärmen Sie einen Kühlschrank auf, als wäre seine Tür offen geblieben: nach {m} Min. "
        "außerhalb seines Bereichs bekommt das Personal einen Alarm, Zusteller können keine "
        "Kühlware einlegen, und die Empfänger der Pakete darin werden gebeten, bald zu kommen. "
        "Kühlen Sie ihn wieder, und er nimmt wieder Pakete.",
    ),
    "sim_sensor_title": (
        "Thermometer {id} (bus {bus}, address {address})",
        "Thermometer {id} (Bus {bus}, Adresse {address})",
    ),
    "sim_sensor_reads": ("It reads {c} °C.", "Es misst {c} °C."),
    "sim_sensor_silent": ("It does not answer.", "Es antwortet nicht."),
    "sim_sensor_group": (
        "Cold group {group} ({kind}, {band}, compartments {ids})",
        "Kühlgruppe {group} ({kind}, {band}, Fächer {ids})",
    ),
    "sim_sensor_see_staff": ("see the maintenance screen", "siehe Wartung"),
    "sim_sensor_warm": ("Warm up to {c} °C", "Auf {c} °C erwärmen"),
    "sim_sensor_cool": ("Cool back to {c} °C", "Auf {c} °C kühlen"),
    "sim_sensor_silence": ("Make it fall silent", "Verstummen lassen"),
    "sim_sensor_answer": ("Let it answer again", "Wieder antworten lassen"),
    "sim_sensor_set_label": ("Temperature (°C)", "Temperatur (°C)"),
    "sim_sensor_set": ("Set", "Setzen"),
    "sim_why_open": ("The door is open already.", "Die Tür ist schon offen."),
    "sim_why_latched": (
        "The door is latched: it opens only when the station unlocks it.",
        "Die Tür ist verriegelt: Sie geht nur auf, wenn die Station sie entriegelt.",
    ),
    "sim_why_closed": ("The door is closed.", "Die Tür ist zu."),
    "sim_why_full": ("A parcel is inside already.", "Es liegt schon ein Paket im Fach."),
    "sim_why_empty": ("The compartment is empty.", "Das Fach ist leer."),
    "sim_why_shut": ("The door is closed already.", "Die Tür ist schon zu."),
    # central staff: hub operators signing in with the hub's pass (api/screens/central.py)
    "central_refused": (
        "The hub's pass was not accepted here ({code}). Ask the hub for a new one.",
        "Der Pass des Hubs wurde hier nicht angenommen ({code}). Holen Sie einen neuen.",
    ),
    "central_no_hub": (
        "This station is not joined to a hub: sign in with a local account.",
        "Diese Station ist mit keinem Hub verbunden: Melden Sie sich mit einem lokalen Konto an.",
    ),
    # the directory: people the station knows (issue 17)
    "courier_search_hint": (
        "Type part of the name or the flat number, or scan the label, then choose the person.",
        "Tippen Sie einen Teil des Namens oder die Wohnungsnummer, oder scannen Sie das "
        "Etikett, dann wählen Sie die Person.",
    ),
    "courier_matches": ("Who is it for?", "Für wen ist es?"),
    "courier_no_match": ("Nobody in the directory matches.", "Niemand im Verzeichnis passt."),
    "courier_none_of_these": (
        "None of these: recipient unknown (staff will assign it)",
        "Niemand davon: Empfänger unbekannt (das Personal ordnet es zu)",
    ),
    "courier_stored_unknown": (
        "The recipient is not in the directory: the parcel has no code yet. Staff will assign "
        "it to the right person, who is told then.",
        "Der Empfänger ist nicht im Verzeichnis: Das Paket hat noch keinen Code. Das Personal "
        "ordnet es der richtigen Person zu, die dann benachrichtigt wird.",
    ),
    "staff_directory": ("Directory", "Verzeichnis"),
    "dir_unknown_title": ("Parcels for nobody found", "Pakete ohne gefundenen Empfänger"),
    "dir_unknown_hint": (
        "Nobody has been told of these parcels. Assign each to its person (they are told "
        "then) or send it back to its carrier.",
        "Zu diesen Paketen wurde niemand benachrichtigt. Ordnen Sie jedes seiner Person zu "
        "(sie wird dann benachrichtigt) oder schicken Sie es an den Zusteller zurück.",
    ),
    "dir_label_said": ("the label says “{name}”", "auf dem Etikett steht „{name}“"),
    "dir_find_person": ("Find the person", "Person suchen"),
    "dir_choose": ("Choose the person", "Person wählen"),
    "dir_choose_first": (
        "Find and choose the person first.",
        "Suchen und wählen Sie zuerst die Person.",
    ),
    "dir_assign": ("Assign and tell them", "Zuordnen und benachrichtigen"),
    "dir_send_back": ("Send back", "Zurückschicken"),
    "dir_assigned": (
        "Parcel {id} is now for {name}, who is being told.",
        "Paket {id} ist jetzt für {name}; die Person wird benachrichtigt.",
    ),
    "dir_sent_back": (
        "Parcel {id} goes back: it waits for its carrier's courier.",
        "Paket {id} geht zurück: Es wartet auf den Zusteller.",
    ),
    "dir_people": ("People", "Personen"),
    "dir_search": ("Name or flat number", "Name oder Wohnungsnummer"),
    "dir_count": ("{shown} of {total} people", "{shown} von {total} Personen"),
    "dir_empty": ("Nobody is in the directory yet.", "Noch niemand im Verzeichnis."),
    "dir_nobody": ("Nobody matches.", "Niemand passt."),
    "dir_low": ("Low compartment", "Tiefes Fach"),
    "dir_yes": ("yes", "ja"),
    "dir_edit": ("Change", "Ändern"),
    "dir_add_title": ("Add a person", "Person hinzufügen"),
    "dir_edit_title": ("Change a person", "Person ändern"),
    "dir_add": ("Add", "Hinzufügen"),
    "dir_save": ("Save", "Speichern"),
    "dir_cancel": ("Cancel", "Abbrechen"),
    "dir_added": ("{name} was added.", "{name} wurde hinzugefügt."),
    "dir_saved": ("{name} was saved.", "{name} wurde gespeichert."),
    "dir_by_mail": ("Mail", "E-Mail"),
    "dir_by_sms": ("SMS", "SMS"),
    "dir_by_both": ("Mail and SMS", "E-Mail und SMS"),
    "dir_field_id": ("Number", "Nummer"),
    "dir_field_row": ("Row", "Zeile"),
    "dir_field_name": ("Name", "Name"),
    "dir_field_unit": ("Flat or customer number", "Wohnungs- oder Kundennummer"),
    "dir_field_email": ("Email", "E-Mail"),
    "dir_field_phone": ("Phone", "Telefon"),
    "dir_field_language": ("Language", "Sprache"),
    "dir_field_needs_accessible": (
        "Needs a low (accessible) compartment",
        "Braucht ein tiefes (barrierefreies) Fach",
    ),
    "dir_field_notify_by": ("Tell them by", "Benachrichtigen per"),
    "dir_field_staff_note": ("Note for staff", "Notiz für das Personal"),
    "dir_problem_required": ("needed", "fehlt"),
    "dir_problem_too_long": ("at most {n} characters", "höchstens {n} Zeichen"),
    "dir_problem_control": ("no control characters", "keine Steuerzeichen"),
    "dir_problem_not_email": ("not an email address", "keine E-Mail-Adresse"),
    "dir_problem_not_phone": (
        "digits, spaces, + ( ) / - only",
        "nur Ziffern, Leerzeichen, + ( ) / -",
    ),
    "dir_problem_language": ("en or de", "en oder de"),
    "dir_problem_notify_by": ("mail, sms or both", "mail, sms oder both"),
    "dir_problem_needed_for": (
        "needed to tell them by {n}",
        "nötig für die Benachrichtigung per {n}",
    ),
    "dir_problem_bad_id": (
        "a person's number from an export, or empty",
        "eine Personennummer aus einem Export, oder leer",
    ),
    "dir_problem_yes_no": ("yes or no", "ja oder nein"),
    "dir_problem_cells": ("the header has {n} cells", "die Kopfzeile hat {n} Zellen"),
    "dir_problem_unreadable": ("not readable as CSV", "als CSV nicht lesbar"),
    "dir_problem_twice": (
        "the same name and unit as line {n}",
        "derselbe Name und dieselbe Nummer wie Zeile {n}",
    ),
    "dir_problem_exists": (
        "already in the directory (person {n}): give its number to change it",
        "schon im Verzeichnis (Person {n}): Geben Sie die Nummer an, um sie zu ändern",
    ),
    "dir_problem_no_such_id": ("there is no person {n}", "es gibt keine Person {n}"),
    "dir_import_title": ("Import and export (CSV)", "Import und Export (CSV)"),
    "dir_import_hint": (
        "The first line names the columns: {columns}. With a number (from an export) a "
        "person is changed, without one added. A file with any rejected line imports nothing.",
        "Die erste Zeile nennt die Spalten: {columns}. Mit einer Nummer (aus einem Export) "
        "wird eine Person geändert, ohne hinzugefügt. Eine Datei mit einer abgelehnten Zeile "
        "importiert nichts.",
    ),
    "dir_file": ("CSV file", "CSV-Datei"),
    "dir_import": ("Import", "Importieren"),
    "dir_export": ("Export everybody as CSV", "Alle als CSV exportieren"),
    "dir_imported": (
        "Imported: {created} added, {updated} changed.",
        "Importiert: {created} hinzugefügt, {updated} geändert.",
    ),
    "dir_rejected": (
        "{n} line(s) rejected; nothing was imported.",
        "{n} Zeile(n) abgelehnt; nichts wurde importiert.",
    ),
    "dir_not_utf8": (
        "The file is not UTF-8 text; nothing was imported.",
        "Die Datei ist kein UTF-8-Text; nichts wurde importiert.",
    ),
    "dir_line": ("Line", "Zeile"),
    "dir_why": ("Why", "Warum"),
    # pay at pick-up (issue 28)
    "pay_title": ("Pay for your parcel", "Paket bezahlen"),
    "pay_due": ("To pay: {amount}", "Zu zahlen: {amount}"),
    "pay_kiosk_due": (
        "This parcel is not paid yet: {amount}. The door opens once it is paid.",
        "Dieses Paket ist noch nicht bezahlt: {amount}. Die Tür öffnet sich nach der Zahlung.",
    ),
    "pay_scan": (
        "Scan the QR code with your phone and pay there (or use the link in your message).",
        "Scannen Sie den QR-Code mit dem Handy und zahlen Sie dort (oder über den Link in Ihrer "
        "Nachricht).",
    ),
    "pay_qr_alt": ("QR code of the link to pay", "QR-Code des Zahlungslinks"),
    "pay_paid_open": ("I have paid: open the door", "Ich habe bezahlt: Tür öffnen"),
    "pay_by_card": ("Pay by card here", "Hier mit Karte zahlen"),
    "pay_card_wait": ("Follow the card terminal…", "Bitte folgen Sie dem Kartenterminal…"),
    "pay_card_declined": (
        "The card payment did not go through ({why}). Nothing was charged.",
        "Die Kartenzahlung hat nicht geklappt ({why}). Es wurde nichts abgebucht.",
    ),
    "pay_card_back": ("Back", "Zurück"),
    "pay_card_reversed": (
        "Your card payment was cancelled at the terminal: nothing is charged.",
        "Ihre Kartenzahlung wurde am Terminal storniert: es wird nichts abgebucht.",
    ),
    "pay_card_refund_staff": (
        "Your card payment could not be cancelled at the terminal. Staff have been told and "
        "will refund it.",
        "Ihre Kartenzahlung konnte am Terminal nicht storniert werden. Das Personal ist "
        "informiert und erstattet sie.",
    ),
    "pay_card_again": ("Try the card again", "Karte erneut versuchen"),
    "pay_card_unknown": (
        "The terminal's answer was lost. Staff have been told and will check it.",
        "Die Antwort des Terminals ging verloren. Das Personal ist informiert und prüft es.",
    ),
    "pay_still_open": (
        "The payment has not arrived yet. Pay on your phone, then press the button again.",
        "Die Zahlung ist noch nicht angekommen. Zahlen Sie am Handy und drücken Sie dann erneut.",
    ),
    "pay_go": ("Pay {amount} now", "Jetzt {amount} zahlen"),
    "pay_done": (
        "Paid, thank you. Enter your code at the station to open the door.",
        "Bezahlt, danke. Geben Sie Ihren Code an der Station ein, um die Tür zu öffnen.",
    ),
    "pay_not_yet": (
        "The payment is not confirmed yet. Reload this page in a moment.",
        "Die Zahlung ist noch nicht bestätigt. Laden Sie die Seite gleich neu.",
    ),
    "pay_nothing": ("Nothing to pay for this parcel.", "Für dieses Paket ist nichts zu zahlen."),
    "pay_unknown": ("This link is not valid.", "Dieser Link ist ungültig."),
    "pay_no_provider": (
        "Paying by link is not possible here: pay at the station or in the shop.",
        "Zahlen per Link ist hier nicht möglich: zahlen Sie an der Station oder im Geschäft.",
    ),
    "staff_payments": ("Payments", "Zahlungen"),
    "staff_unpaid": ("Unpaid parcels", "Unbezahlte Pakete"),
    "staff_amount": ("Amount", "Betrag"),
    "staff_age": ("Waiting", "Wartet seit"),
    "staff_paid_cash": ("Paid in cash", "Bar bezahlt"),
    "staff_waive": ("Waive", "Erlassen"),
    "staff_set_amount": ("Change amount", "Betrag ändern"),
    "staff_refund": ("Refund / reverse", "Erstatten / stornieren"),
    "staff_day_totals": ("Today's totals", "Summen des Tages"),
    "staff_method": ("Way of payment", "Zahlungsart"),
    "staff_taken": ("Taken", "Eingenommen"),
    "staff_returned": ("Given back", "Zurückgegeben"),
    "staff_count": ("Payments", "Zahlungen"),
    "staff_end_of_day": ("Terminal end-of-day", "Kassenschnitt am Terminal"),
    "staff_end_of_day_done": (
        "End-of-day: {count} payments, {amount} ({text})",
        "Kassenschnitt: {count} Zahlungen, {amount} ({text})",
    ),
    "staff_no_terminal": ("No card terminal here.", "Kein Kartenterminal vorhanden."),
    "staff_money_done": ("Done: {what}", "Erledigt: {what}"),
    "staff_payments_of": ("Payments of parcel {id}", "Zahlungen von Paket {id}"),
    "staff_state": ("State", "Zustand"),
    "staff_none_unpaid": ("No parcel is waiting to be paid.", "Kein Paket wartet auf Zahlung."),
    "staff_order_amount": (
        "Amount due (e.g. 20.40; empty: paid)",
        "Zu zahlen (z. B. 20,40; leer: bezahlt)",
    ),
    # issue 26: the announced parcel's journey, a code that is never lost
    "courier_announced": ("Announced for {carrier}", "Angekündigt für {carrier}"),
    "courier_announced_none": (
        "No parcel of {carrier} is announced for this station.",
        "Für diese Station ist kein Paket von {carrier} angekündigt.",
    ),
    "courier_announced_hint": (
        "Scan or type a tracking number: an announced parcel is found and deposited as it "
        "was announced.",
        "Sendungsnummer scannen oder eingeben: Ein angekündigtes Paket wird gefunden und so "
        "eingelegt, wie es angekündigt wurde.",
    ),
    "courier_announced_match": (
        "Announced: {tracking} for {name}, size {size}.",
        "Angekündigt: {tracking} für {name}, Größe {size}.",
    ),
    "courier_deposit_this": ("Deposit this parcel", "Dieses Paket einlegen"),
    "courier_mark_cold": ("cold: {kind}", "gekühlt: {kind}"),
    "courier_mark_due": ("to pay: {amount}", "zu zahlen: {amount}"),
    "courier_resumed": (
        "Your deposit into compartment {n} is still under way.",
        "Ihre Einlieferung in Fach {n} läuft noch.",
    ),
    "courier_token_revoked": (
        "Your password is set. The access token printed for you no longer works (a new "
        "password ends it, by design): ask the shop for a new one if an app needs it.",
        "Ihr Passwort ist gesetzt. Der für Sie gedruckte Zugangs-Token gilt nicht mehr (ein "
        "neues Passwort beendet ihn, so ist es gewollt): Bitten Sie den Laden um einen neuen, "
        "wenn eine App ihn braucht.",
    ),
    "staff_send_code": ("Send the code again", "Code erneut senden"),
    "staff_new_code": ("Make a new code", "Neuen Code erstellen"),
    "staff_code_sent": (
        "A new code was sent to the recipient ({to}); the old one no longer opens the door.",
        "Ein neuer Code wurde an den Empfänger gesendet ({to}); der alte öffnet nicht mehr.",
    ),
    "staff_code_made": (
        "New code (shown once, hand it to the recipient); the old one no longer opens the door:",
        "Neuer Code (nur einmal angezeigt, dem Empfänger geben); der alte öffnet nicht mehr:",
    ),
    "problem_tracking_number_live": (
        "This tracking number is a parcel at this station already.",
        "Diese Sendungsnummer ist bereits ein Paket an dieser Station.",
    ),
    "problem_no_channel": (
        "The code cannot be sent: no mail server is set, or the recipient has no address. "
        "Make a new code and hand it over.",
        "Der Code kann nicht gesendet werden: Kein Mailserver eingerichtet oder keine "
        "Adresse des Empfängers. Erstellen Sie einen neuen Code und geben Sie ihn weiter.",
    ),
}

# Problems the domain reports (their stable codes) -> the key of the words shown for them;
# any other problem shows the domain's own (English) message.
PROBLEM_WORDS: Mapping[str, str] = {
    "tracking_number_live": "problem_tracking_number_live",
    "no_channel": "problem_no_channel",
    "nothing_to_pay": "pay_nothing",
    "code_invalid": "kiosk_invalid",
    "no_free_compartment": "courier_no_free",
    "no_free_chilled_compartment": "problem_no_chilled",
    "no_free_frozen_compartment": "problem_no_frozen",
    "door_busy": "problem_door_busy",
    "door_not_closed": "problem_door_not_closed",
    "parcel_not_detected": "problem_parcel_not_detected",
    "invalid_transition": "problem_invalid_transition",
    "not_found": "problem_not_found",
    "not_authenticated": "problem_wrong_password",
    "extension_refused": "problem_extension_refused",
    "hold_refused": "problem_hold_refused",  # issue 17
    "person_has_parcels_waiting": "problem_person_waiting",  # issue 17
    "reason_required": "staff_reason_needed",
    "second_staff_required": "problem_second_staff_required",
    "second_staff_invalid": "problem_second_staff_invalid",
    "second_staff_same_person": "problem_second_staff_same_person",
}

ORDINALS: Mapping[str, tuple[str, ...]] = {
    "en": ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"),
    "de": ("erste", "zweite", "dritte", "vierte", "fünfte", "sechste", "siebte", "achte"),
}


# The card terminal's intermediate texts (drivers/zvt/codes.py words them in English), as
# the German kiosk shows them; a text not here is shown as the terminal said it.
TERMINAL_DE: dict[str, str] = {
    "Please confirm the amount": "Bitte Betrag bestätigen",
    "Please watch the PIN pad": "Bitte PIN eingeben",
    "Insert card": "Karte einstecken",
    "Please insert or tap the card": "Bitte Karte einstecken oder auflegen",
    "Please wait": "Bitte warten",
    "Waiting for the card issuer": "Warten auf die Bank",
    "Please remove the card": "Bitte Karte entnehmen",
    "Card not readable": "Karte nicht lesbar",
    "Incorrect PIN": "PIN falsch",
    "Declined": "Abgelehnt",
}


@dataclass(frozen=True)
class Words(common.words.Words):
    """The station's texts of one language: ``words("kiosk_opened", n=3, where=...)``."""

    TEXTS: ClassVar[WordTable] = TEXTS

    def problem(self, exc: DomainError) -> str:
        """What to say of a refusal: its own words here, else its code's sentence
        (locker/sentences/problems.py), never a bare code."""
        key = PROBLEM_WORDS.get(exc.code)
        return self(key) if key else refusal(exc, self.lang)

    def terminal(self, text: str) -> str:
        """The card terminal's words in this language (German ones for the known texts)."""
        return TERMINAL_DE.get(text, text) if self.lang == "de" else text

    def ordinal(self, n: int) -> str:
        names = ORDINALS[self.lang]
        return names[n - 1] if n <= len(names) else f"{n}."

    def where(self, spot: Location) -> str:
        """E.g. "second column from the left, bottom" / "zweite Spalte von links, unten"."""
        if spot.height == "middle":
            place = self("where_middle", row=self.ordinal(spot.row))
        else:
            place = self(f"where_{spot.height}")
        return self("where_column", column=self.ordinal(spot.column), place=place)
