"""Every word a screen shows exists in English and German, with the same fields in both,
and every key a template asks for is in the catalogue."""

from __future__ import annotations

import re
import string

from api.screens.i18n import TEXTS, Words
from api.screens.render import PACKAGE
from common.words import pick_language
from drivers.counters import FailureKind
from locker.cold.band import ColdStatus
from locker.front import locate
from locker.layout import demo_layout
from locker.people import directory_csv, person
from locker.types import ColdKind, CompartmentState, ParcelState
from sim.faults import Fault

DIRECTORY_REASONS = (
    "required", "too_long", "control", "not_email", "not_phone", "language", "notify_by",
    "needed_for", "bad_id", "yes_no", "cells", "unreadable", "twice", "exists", "no_such_id",
)  # fmt: skip
KEY_IN_TEMPLATE = re.compile(r"""\bt\(\s*["']([a-z_]+)["']""")
KEY_IN_CODE = re.compile(r"""\bwords\(\s*f?["']([a-z_]+)["'{]""")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_every_text_with_the_same_fields() -> None:
    for key, (english, german) in TEXTS.items():
        assert english.strip(), key
        assert german.strip(), key
        assert _fields(english) == _fields(german), key


def test_every_key_the_screens_use_is_in_the_catalogue() -> None:
    used: set[str] = set()
    for template in (PACKAGE / "templates").glob("*.html"):
        used |= set(KEY_IN_TEMPLATE.findall(template.read_text()))
    for module in (PACKAGE / "screens").glob("*.py"):
        used |= set(KEY_IN_CODE.findall(module.read_text()))
    assert used, "the scan found nothing: the patterns are wrong"
    prefixes = {key for key in used if key.endswith("_")}  # e.g. t("state_" + state.value)
    assert used - prefixes - set(TEXTS) == set()
    # the keys made from a prefix and a value: every value has its words
    made = {
        "state_": [s.value for s in CompartmentState],
        "parcel_": [s.value for s in ParcelState],
        "sim_hand_": ["open", "close", "put", "take"],
        "where_": ["top", "bottom", "middle"],
        "fail_": [k.value for k in FailureKind],
        "sim_fault_": [f.value for f in Fault],
        "staff_today_": ["stored", "collected"],
        # the directory (issue 17): its fields, their problems' reasons, the channels
        "dir_field_": ["id", "row", *(c for c in directory_csv.CSV_COLUMNS if c != "id")],
        "dir_problem_": list(DIRECTORY_REASONS),
        "dir_by_": list(person.NOTIFY_BY),
        # cooled compartments (issue 27): the kinds, a group's statuses
        "cold_": ["none", *(k.value for k in ColdKind)],
        "cold_status_": [s.value for s in ColdStatus],
    }
    assert prefixes <= set(made), prefixes - set(made)
    for prefix, values in made.items():
        for value in values:
            assert prefix + value in TEXTS, prefix + value


def test_where_a_compartment_is_in_either_language() -> None:
    spot = locate(demo_layout(), 13)
    assert Words("en").where(spot) == "second column from the left, fifth from the top"
    assert Words("de").where(spot) == "zweite Spalte von links, fünfte von oben"
    assert Words("de").where(locate(demo_layout(), 1)) == "erste Spalte von links, oben"


def test_the_language_is_the_choice_then_the_cookie_then_the_browser() -> None:
    assert pick_language("de", "en", "en") == "de"
    assert pick_language(None, "de", "en-GB") == "de"
    assert pick_language("xx", None, "fr-FR,de;q=0.8") == "de"
    assert pick_language(None, None, None) == "en"
