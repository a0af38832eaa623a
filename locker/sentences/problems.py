"""A refusal's stable ``code`` as a sentence (``courier_not_found`` -> "No courier of that
name at this station"), with the facts the error carries (``{ident}``, ``{retry_after}``).

Every code the station raises has a sentence here (tests/locker/test_sentences.py collects
them from the error classes); the hub's screens use the same table for what a station
answered to a command.
"""

from __future__ import annotations

from typing import Any

from common.errors import CodedError, Missing
from common.sentences import Sentences, say

PROBLEMS: Sentences = {
    "error": ("Something went wrong.", "Etwas ist schiefgegangen."),
    "domain_error": ("The station refused this.", "Die Station hat das abgelehnt."),
    "not_found": ("Not found.", "Nicht gefunden."),
    "account_not_found": ("There is no account {ident}.", "Es gibt kein Konto {ident}."),
    "compartment_not_found": (
        "There is no compartment {ident} at this station.",
        "An dieser Station gibt es kein Fach {ident}.",
    ),
    "courier_not_found": (
        "No courier of that name at this station.",
        "An dieser Station gibt es keinen Kurier dieses Namens.",
    ),
    "kiosk_not_found": ("There is no kiosk called {ident}.", "Es gibt kein Terminal {ident}."),
    "parcel_not_found": (
        "There is no parcel {ident} at this station.",
        "An dieser Station gibt es kein Paket {ident}.",
    ),
    "payment_not_found": ("There is no payment {ident}.", "Es gibt keine Zahlung {ident}."),
    "recipient_not_found": (
        "There is no recipient {ident} in the directory.",
        "Im Verzeichnis gibt es keinen Empfänger {ident}.",
    ),
    "person_not_found": (
        "No one of that name or address is in the directory.",
        "Niemand dieses Namens oder dieser Adresse steht im Verzeichnis.",
    ),
    "invalid_transition": (
        "This cannot be done in the parcel's present state.",
        "Das geht im jetzigen Zustand des Pakets nicht.",
    ),
    "no_free_compartment": (
        "No compartment of a fitting size is free.",
        "Kein Fach passender Größe ist frei.",
    ),
    "tracking_number_live": (
        "That carrier's tracking number is a parcel at this station already.",
        "Diese Sendungsnummer des Paketdienstes ist an dieser Station schon ein Paket.",
    ),
    "no_channel": (
        "The code cannot be sent to the recipient: make a new code and hand it over.",
        "Der Code kann dem Empfänger nicht geschickt werden: "
        "einen neuen Code machen und übergeben.",
    ),
    "carrier_not_found": (
        "There is no carrier {ident} at the hub.",
        "Am Hub gibt es keinen Paketdienst {ident}.",
    ),
    "no_free_cold_compartment": (
        "No cooled compartment of this kind is free.",
        "Kein gekühltes Fach dieser Art ist frei.",
    ),
    "no_free_chilled_compartment": (
        "No chilled compartment is free (or none keeps its temperature just now).",
        "Kein Kühlfach ist frei (oder keines hält gerade seine Temperatur).",
    ),
    "no_free_frozen_compartment": (
        "No freezer compartment is free (or none keeps its temperature just now).",
        "Kein Tiefkühlfach ist frei (oder keines hält gerade seine Temperatur).",
    ),
    "code_invalid": (
        "This code does not open any compartment. Check the code and try again.",
        "Dieser Code öffnet kein Fach. Prüfen Sie den Code und versuchen Sie es erneut.",
    ),
    "too_many_attempts": (
        "Too many wrong tries. Please wait {retry_after} s before trying again.",
        "Zu viele falsche Versuche. Bitte warten Sie {retry_after} s.",
    ),
    "door_busy": (
        "This door is being used right now. Try again in a moment.",
        "Diese Tür wird gerade benutzt. Versuchen Sie es gleich noch einmal.",
    ),
    "door_not_closed": (
        "The door is still open: push it shut until it clicks.",
        "Die Tür ist noch offen: Drücken Sie sie zu, bis sie einrastet.",
    ),
    "parcel_not_detected": (
        "The compartment looks empty: put the parcel in and close the door again.",
        "Das Fach scheint leer: Legen Sie das Paket hinein und schließen Sie die Tür erneut.",
    ),
    "reason_required": (
        "Say why the door is opened (it goes into the audit log).",
        "Sagen Sie, warum die Tür geöffnet wird (es kommt ins Protokoll).",
    ),
    "second_staff_required": (
        "A second staff member must confirm this opening.",
        "Eine zweite Person vom Personal muss diese Öffnung bestätigen.",
    ),
    "second_staff_invalid": (
        "The second staff member's name or password is wrong.",
        "Name oder Passwort der zweiten Person ist falsch.",
    ),
    "second_staff_same_person": (
        "The second staff member must be someone else.",
        "Die zweite Person muss jemand anderes sein.",
    ),
    "station_misconfigured": (
        "The station's layout and its database disagree: staff must check the set-up.",
        "Aufbau und Datenbank der Station stimmen nicht überein: Das Personal muss das prüfen.",
    ),
    "invalid_request": (
        "Something in the request is not valid.",
        "Etwas an der Anfrage ist ungültig.",
    ),
    "webhook_url_forbidden": (
        "That web address may not be called from the station.",
        "Diese Webadresse darf die Station nicht aufrufen.",
    ),
    "person_has_parcels_waiting": (
        "This person still has parcels waiting: their data stays until they are collected.",
        "Für diese Person warten noch Pakete: Ihre Daten bleiben, bis sie abgeholt sind.",
    ),
    "hold_refused": ("The parcel cannot be held longer.", "Das Paket kann nicht länger warten."),
    "extension_refused": (
        "The deadline cannot be moved again.",
        "Die Abholfrist kann nicht noch einmal verlängert werden.",
    ),
    "payment_provider_unavailable": (
        "The payment service does not answer just now. Try again in a few minutes.",
        "Der Zahlungsdienst antwortet gerade nicht. Versuchen Sie es in ein paar Minuten.",
    ),
    "payment_links_off": (
        "Payment by link is switched off at this station.",
        "Zahlung per Link ist an dieser Station abgeschaltet.",
    ),
    "webhook_signature_invalid": (
        "The message is not signed by the payment service.",
        "Die Nachricht ist nicht vom Zahlungsdienst signiert.",
    ),
    "amount_invalid": ("That is not a valid amount.", "Das ist kein gültiger Betrag."),
    "payment_required": (
        "Please pay first: the door opens once it is paid.",
        "Bitte zuerst bezahlen: Die Tür öffnet sich, sobald bezahlt ist.",
    ),
    "payment_busy": (
        "A payment for this parcel is under way. Try again in a moment.",
        "Eine Zahlung für dieses Paket läuft gerade. Versuchen Sie es gleich noch einmal.",
    ),
    "nothing_to_pay": ("There is nothing to pay.", "Es ist nichts zu bezahlen."),
    "csv_rejected": (
        "The file was not taken: nothing was changed.",
        "Die Datei wurde nicht übernommen: Nichts wurde geändert.",
    ),
    "not_authenticated": ("Wrong name or password.", "Falscher Name oder falsches Passwort."),
    "forbidden": ("This account may not do that.", "Dieses Konto darf das nicht."),
    "password_change_required": (
        "Choose a new password first.",
        "Wählen Sie zuerst ein neues Passwort.",
    ),
    "account_exists": (
        "An account of that name exists already.",
        "Ein Konto dieses Namens gibt es schon.",
    ),
    "weak_password": (
        "That password is too weak: at least 12 characters.",
        "Dieses Passwort ist zu schwach: mindestens 12 Zeichen.",
    ),
    "recipient_invalid": (
        "The recipient's details are not complete or not valid.",
        "Die Angaben zum Empfänger sind unvollständig oder ungültig.",
    ),
    # what the station answers to a hub command it cannot take (locker/uplink/commands.py)
    "cannot_apply": ("The station could not apply it.", "Die Station konnte das nicht ausführen."),
    "unreadable_command": (
        "The station cannot read this command (is it older than the hub?).",
        "Die Station kann diesen Befehl nicht lesen (ist sie älter als der Hub?).",
    ),
    "wrong_station": (
        "It was meant for another station.",
        "Er war für eine andere Station bestimmt.",
    ),
    "bad_signature": ("It is not signed by the hub.", "Er ist nicht vom Hub signiert."),
    # a hub operator's pass at the station (locker/uplink/grants.py)
    "no_hub": (
        "This station is not linked to a hub.",
        "Diese Station ist mit keinem Hub verbunden.",
    ),
    "pass_malformed": ("That is not a hub sign-in pass.", "Das ist kein Anmeldepass des Hubs."),
    "pass_forged": (
        "The pass is not the hub's for this station.",
        "Der Pass ist nicht der des Hubs für diese Station.",
    ),
    "pass_expired": (
        "The pass has expired: ask the hub for a new one.",
        "Der Pass ist abgelaufen: Holen Sie einen neuen beim Hub.",
    ),
    "pass_replayed": (
        "This pass was used already: ask the hub for a new one.",
        "Dieser Pass wurde schon benutzt: Holen Sie einen neuen beim Hub.",
    ),
    "grant_unknown": (
        "This station holds no such grant.",
        "Diese Station kennt diese Freigabe nicht.",
    ),
    "grant_revoked": ("The grant was revoked.", "Die Freigabe wurde widerrufen."),
    "grant_expired": ("The grant has ended.", "Die Freigabe ist abgelaufen."),
    "grant_forged": (
        "The grant is not the hub's statement for this station.",
        "Die Freigabe stammt nicht vom Hub für diese Station.",
    ),
    "grant_name_taken": (
        "A local account has the operator's name.",
        "Ein lokales Konto trägt den Namen der Person vom Hub.",
    ),
}


def facts_of(exc: CodedError) -> dict[str, Any]:
    """What an error carries for its sentence: its attributes (``retry_after``, the
    ``ident`` of a thing not found, ...)."""
    return {k: v for k, v in vars(exc).items() if not k.startswith("_")}


def problem_sentence(code: str, lang: str, facts: dict[str, Any] | None = None) -> str:
    return say(PROBLEMS, code, lang, facts)


def refusal(exc: CodedError, lang: str, table: Sentences = PROBLEMS) -> str:
    """What a screen says of a refusal, in ``lang``: its code's sentence; in English the
    domain's own message where it wrote one for people (it may say more, e.g. why a hold
    is refused), but not the made-up "parcel 7 does not exist" of a thing not found."""
    own = str(exc).strip()
    if lang == "en" and own and not isinstance(exc, Missing):
        return own[:1].upper() + own[1:]
    return say(table, exc.code, lang, facts_of(exc))
