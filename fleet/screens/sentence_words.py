"""The hub's own codes as sentences in English and German: its refusals (fleet/errors.py
and the modules beside it), the commands it gives stations, and its audit log's actions.
A station's codes (what it answers to a command, its events and alerts) are the
station's: :mod:`locker.sentences`."""

from __future__ import annotations

from common.sentences import Sentences

FLEET_PROBLEMS: Sentences = {
    "fleet_error": ("The hub refused this.", "Der Hub hat das abgelehnt."),
    "station_not_found": ("There is no station {ident}.", "Es gibt keine Station {ident}."),
    "account_not_found": ("There is no operator {ident}.", "Es gibt keine Person {ident}."),
    "grant_not_found": ("There is no grant {ident}.", "Es gibt keine Freigabe {ident}."),
    "command_not_found": ("There is no command {ident}.", "Es gibt keinen Befehl {ident}."),
    "announcement_not_found": (
        "There is no announcement {ident}.",
        "Es gibt keine Ankündigung {ident}.",
    ),
    "backup_not_found": ("There is no backup {ident}.", "Es gibt keine Sicherung {ident}."),
    "login_failed": ("The name or the password is wrong.", "Name oder Passwort ist falsch."),
    "already_exists": ("That exists already.", "Das gibt es schon."),
    "invalid_name": ("That name is not allowed.", "Dieser Name ist nicht erlaubt."),
    "unknown_command": (
        "The stations know no such command.",
        "Die Stationen kennen diesen Befehl nicht.",
    ),
    "bad_payload": ("The message could not be read.", "Die Nachricht ließ sich nicht lesen."),
    "no_station_fits": (
        "No station can take this parcel.",
        "Keine Station kann dieses Paket nehmen.",
    ),
    "station_full": ("The station is full.", "Die Station ist voll."),
    "station_not_allowed": (
        "This carrier may not use that station.",
        "Dieser Paketdienst darf diese Station nicht nutzen.",
    ),
    "grant_refused": ("The grant was refused.", "Die Freigabe wurde abgelehnt."),
    "no_grant": (
        "You hold no grant for this station.",
        "Sie haben keine Freigabe für diese Station.",
    ),
    "backup_refused": ("The backup was refused.", "Die Sicherung wurde abgelehnt."),
    "cross_site_request": (
        "The form came from another site: reload the page and try again.",
        "Das Formular kam von einer anderen Seite: Laden Sie die Seite neu.",
    ),
}

# what a command asks of a station (locker.uplink.messages.CommandType), with its args
COMMANDS: Sentences = {
    "announce": (
        "Announce parcel {tracking_number} ({carrier})",
        "Paket {tracking_number} ankündigen ({carrier})",
    ),
    "extend": (
        "Give parcel {parcel} more time, until {until}",
        "Paket {parcel} mehr Zeit geben, bis {until}",
    ),
    "out_of_service": (
        "Take compartment {compartment_id} out of service: {reason}",
        "Fach {compartment_id} außer Betrieb nehmen: {reason}",
    ),
    "back_in_service": (
        "Put compartment {compartment_id} back in service{note}",
        "Fach {compartment_id} wieder in Betrieb nehmen{note}",
    ),
    "revoke_courier": ("Revoke courier {name}'s access", "Zugang von Kurier {name} widerrufen"),
    "snapshot": ("Ask for a snapshot of everything", "Eine Übersicht von allem anfordern"),
    "resend": (
        "Ask for the events again from number {from_seq}",
        "Die Ereignisse ab Nummer {from_seq} erneut anfordern",
    ),
    "grant_access": (
        "Let {operator} sign in as {role} until {expires_at}",
        "{operator} bis {expires_at} als {role} anmelden lassen",
    ),
    "revoke_access": ("End grant {grant_id}", "Freigabe {grant_id} beenden"),
}

# the hub's audit log (fleet/grants.py audit(); a command is ``command.<type>``)
HUB_AUDIT: Sentences = {
    "grant.given": (
        "Access given to {operator} until {until} UTC",
        "Zugang für {operator} bis {until} UTC gegeben",
    ),
    "grant.revoked": ("Access of {operator} revoked", "Zugang von {operator} widerrufen"),
    "pass.issued": (
        "One-time pass issued, valid until {until} UTC",
        "Einmal-Pass ausgestellt, gültig bis {until} UTC",
    ),
    "backup.downloaded": (
        "A sealed backup of the station downloaded",
        "Eine versiegelte Sicherung der Station heruntergeladen",
    ),
    "screen.signed_in": ("Signed in", "Angemeldet"),
    "screen.signed_out": ("Signed out", "Abgemeldet"),
    "command": ("Command: {asked}", "Befehl: {asked}"),  # command.<type>: COMMANDS
}
