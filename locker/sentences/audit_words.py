"""The station's audit actions (locker/audit.py names them) as sentences: ``{n}`` is the
row's compartment, ``{parcel}`` its parcel, and the facts read from its detail
(:mod:`locker.sentences.audit`). What the detail says beyond them follows after a colon."""

from __future__ import annotations

from common.sentences import Sentences

AUDIT: Sentences = {
    # a parcel's life (locker/lifecycle.py TRANSITIONS, and the services around it)
    "parcel.announced": ("Parcel {parcel} announced", "Paket {parcel} angekündigt"),
    "parcel.reserved": (
        "Compartment {n} reserved for parcel {parcel}",
        "Fach {n} für Paket {parcel} reserviert",
    ),
    "parcel.released": (
        "Reservation of parcel {parcel} released",
        "Reservierung für Paket {parcel} aufgehoben",
    ),
    "parcel.stored": (
        "Parcel {parcel} stored in compartment {n}",
        "Paket {parcel} in Fach {n} eingelegt",
    ),
    "parcel.collected": (
        "Parcel {parcel} collected from compartment {n}",
        "Paket {parcel} aus Fach {n} abgeholt",
    ),
    "parcel.expired": (
        "Parcel {parcel} not collected in time",
        "Paket {parcel} nicht rechtzeitig abgeholt",
    ),
    "parcel.extended": (
        "Parcel {parcel} given more time",
        "Paket {parcel} bekam mehr Zeit",
    ),
    "parcel.returned": (
        "Parcel {parcel} taken back by its courier",
        "Paket {parcel} vom Kurier zurückgenommen",
    ),
    "parcel.lapsed": (
        "Announced parcel {parcel} never brought in: its announcement lapsed",
        "Angekündigtes Paket {parcel} nie eingeliefert: die Ankündigung ist verfallen",
    ),
    "parcel.held": ("Parcel {parcel} held longer", "Paket {parcel} wartet länger"),
    "parcel.assigned": (
        "Parcel {parcel} assigned to a recipient",
        "Paket {parcel} einem Empfänger zugeordnet",
    ),
    "parcel.sent_back": (
        "Parcel {parcel} sent back (recipient unknown)",
        "Paket {parcel} zurückgeschickt (Empfänger unbekannt)",
    ),
    "parcel.door_seen_open": (
        "Door of compartment {n} seen open during the deposit of parcel {parcel}",
        "Tür von Fach {n} beim Einlegen von Paket {parcel} offen gesehen",
    ),
    "parcel.personal_data_erased": (
        "Personal data of parcels erased",
        "Persönliche Daten von Paketen gelöscht",
    ),
    "parcel.amount_changed": (
        "Amount to pay for parcel {parcel} changed",
        "Zu zahlender Betrag für Paket {parcel} geändert",
    ),
    # compartments (locker/station.py) and doors (locker/services/doors.py, reconcile.py)
    "compartment.added": ("Compartment {n} added", "Fach {n} hinzugefügt"),
    "compartment.retired": ("Compartment {n} retired", "Fach {n} stillgelegt"),
    "compartment.restored": ("Compartment {n} back in the layout", "Fach {n} wieder im Aufbau"),
    "compartment.ok": ("Compartment {n} back in service", "Fach {n} wieder in Betrieb"),
    "compartment.out_of_service": (
        "Compartment {n} taken out of service",
        "Fach {n} außer Betrieb genommen",
    ),
    "compartment.fault": ("Compartment {n} at fault", "Fach {n} gestört"),
    "door.opened": ("Door {n} opened ({purpose})", "Tür {n} geöffnet ({purpose})"),
    "door.refused": (
        "Door {n} did not open: the lock stayed shut ({purpose})",
        "Tür {n} ging nicht auf: Das Schloss blieb zu ({purpose})",
    ),
    "door.no_answer": (
        "Door {n}: its board did not answer ({purpose})",
        "Tür {n}: Ihre Steuerung antwortete nicht ({purpose})",
    ),
    "door.unknown": (
        "Door {n}: unknown whether it opened ({purpose})",
        "Tür {n}: unbekannt, ob sie aufging ({purpose})",
    ),
    "door.open_unconfirmed": (
        "Door {n} opened by staff without a second person",
        "Tür {n} vom Personal ohne zweite Person geöffnet",
    ),
    "door.reconciled_opened": (
        "Interrupted opening of door {n} ({purpose}) settled: it opened",
        "Unterbrochene Öffnung von Tür {n} ({purpose}) geklärt: Sie ging auf",
    ),
    "door.reconciled_not_opened": (
        "Interrupted opening of door {n} ({purpose}) settled: it did not open",
        "Unterbrochene Öffnung von Tür {n} ({purpose}) geklärt: Sie ging nicht auf",
    ),
    "door.reconciled_unknown": (
        "Interrupted opening of door {n} ({purpose}): unknown, compartment put at fault",
        "Unterbrochene Öffnung von Tür {n} ({purpose}): unbekannt, Fach auf Störung gesetzt",
    ),
    "open_all": ("Every door opened", "Alle Türen geöffnet"),
    "open_all.done": ("Opening every door finished", "Öffnen aller Türen beendet"),
    # codes and attempts
    "code.rejected": ("A wrong pickup code was typed", "Ein falscher Abholcode wurde eingegeben"),
    "code.reissued": (
        "New pickup code for parcel {parcel}",
        "Neuer Abholcode für Paket {parcel}",
    ),
    "code.resent": (
        "Pickup code of parcel {parcel} sent to its recipient again",
        "Abholcode von Paket {parcel} dem Empfänger erneut geschickt",
    ),
    "collect.payment_required": (
        "Pickup refused: not paid yet",
        "Abholung abgelehnt: noch nicht bezahlt",
    ),
    "collect.refused": (
        "{count} pickup tries refused: {why}",
        "{count} Abholversuche abgelehnt: {why}",
    ),
    "extend.refused": ("More time refused", "Mehr Zeit abgelehnt"),
    "return_code.issued": ("Return code issued", "Rücksendecode ausgegeben"),
    "return_code.rejected": (
        "A wrong return code was typed",
        "Ein falscher Rücksendecode wurde eingegeben",
    ),
    # accounts, sign-ins, kiosks, tokens
    "account.created": ("Account created", "Konto angelegt"),
    "account.deactivated": ("Account switched off", "Konto abgeschaltet"),
    "courier.revoked": ("Courier's access revoked", "Zugang des Kuriers widerrufen"),
    "password.reset": ("Password reset", "Passwort zurückgesetzt"),
    "password.changed": ("Password changed", "Passwort geändert"),
    "login.rejected": (
        "Sign-in refused: wrong name or password",
        "Anmeldung abgelehnt: falscher Name oder falsches Passwort",
    ),
    "session.started": ("Signed in", "Angemeldet"),
    "token.issued": ("API token issued", "API-Token ausgegeben"),
    "token.revoked": ("API token revoked", "API-Token widerrufen"),
    "kiosk.paired": ("Kiosk paired", "Terminal gekoppelt"),
    "kiosk.repaired": ("Kiosk paired again", "Terminal neu gekoppelt"),
    "kiosk.unpaired": ("Kiosk unpaired", "Terminal entkoppelt"),
    "carrier.connected": ("Carrier connected", "Paketdienst angebunden"),
    # the directory and privacy
    "recipient.created": ("Recipient added", "Empfänger hinzugefügt"),
    "recipient.updated": ("Recipient changed", "Empfänger geändert"),
    "recipient.imported": ("Directory imported", "Verzeichnis importiert"),
    "person.exported": ("A person's data exported", "Daten einer Person exportiert"),
    "person.erased": ("A person's data erased", "Daten einer Person gelöscht"),
    # payments (locker/payments/ledger.py, desk.py)
    "payment.started": ("Payment started", "Zahlung begonnen"),
    "payment.approved": ("Payment taken", "Zahlung erhalten"),
    "payment.duplicate": ("Paid twice: refunded at once", "Doppelt bezahlt: sofort erstattet"),
    "payment.failed": ("Payment failed", "Zahlung fehlgeschlagen"),
    "payment.unknown": (
        "Payment unknown: staff check it",
        "Zahlung unklar: Das Personal prüft sie",
    ),
    "payment.returning": ("Payment going back", "Zahlung wird zurückgezahlt"),
    "payment.reversed": ("Card payment cancelled", "Kartenzahlung storniert"),
    "payment.refunded": ("Payment refunded", "Zahlung erstattet"),
    "payment.refund_failed": (
        "Refund failed: hand the money back by hand",
        "Erstattung fehlgeschlagen: Geld von Hand zurückgeben",
    ),
    "payment.pending": ("Payment waiting", "Zahlung wartet"),
    "terminal.end_of_day": ("Card terminal closed the day", "Kartenterminal-Tagesabschluss"),
    # the cooled groups (locker/cold/watch.py)
    "cold.ok": ("Cooled group keeps its temperature", "Kühlgruppe hält ihre Temperatur"),
    "cold.out_of_band": (
        "Cooled group out of its temperature band",
        "Kühlgruppe außerhalb ihres Temperaturbereichs",
    ),
    "cold.silent": (
        "Cooled group's thermometer does not answer",
        "Thermometer der Kühlgruppe antwortet nicht",
    ),
    "cold.unknown": (
        "Cooled group's temperature not known yet",
        "Temperatur der Kühlgruppe noch unbekannt",
    ),
    # the hub (locker/uplink/commands.py, grants.py)
    "hub.announce": ("Hub announced a parcel: {outcome}", "Hub kündigte ein Paket an: {outcome}"),
    "hub.extend": (
        "Hub gave a parcel more time: {outcome}",
        "Hub gab einem Paket mehr Zeit: {outcome}",
    ),
    "hub.out_of_service": (
        "Hub took a compartment out of service: {outcome}",
        "Hub nahm ein Fach außer Betrieb: {outcome}",
    ),
    "hub.back_in_service": (
        "Hub put a compartment back in service: {outcome}",
        "Hub nahm ein Fach wieder in Betrieb: {outcome}",
    ),
    "hub.revoke_courier": (
        "Hub revoked a courier's access: {outcome}",
        "Hub widerrief den Zugang eines Kuriers: {outcome}",
    ),
    "hub.grant_access": ("Hub granted access: {outcome}", "Hub gab Zugang: {outcome}"),
    "hub.revoke_access": ("Hub revoked access: {outcome}", "Hub widerrief Zugang: {outcome}"),
    "hub.snapshot": ("Hub asked for a snapshot: {outcome}", "Hub bat um eine Übersicht: {outcome}"),
    "hub.resend": ("Hub asked to send again: {outcome}", "Hub bat um erneutes Senden: {outcome}"),
    "central.granted": ("Hub operator given access", "Person vom Hub bekam Zugang"),
    "central.revoked": ("Hub operator's access revoked", "Zugang der Person vom Hub widerrufen"),
    "central.signed_in": ("Hub operator signed in", "Person vom Hub angemeldet"),
    "central.refused": (
        "Hub operator's sign-in refused: {why}",
        "Anmeldung der Person vom Hub abgelehnt: {why}",
    ),
}

# a door opening's purpose (locker.types.DoorPurpose), as the sentences above say it
PURPOSES: Sentences = {
    "deposit": ("deposit", "Einlegen"),
    "collect": ("pickup", "Abholung"),
    "take_back": ("taking back", "Rücknahme"),
    "staff": ("staff", "Personal"),
    "open_all": ("all doors", "alle Türen"),
}

OUTCOMES: Sentences = {"ok": ("done", "erledigt")}  # else: the refusal's sentence
