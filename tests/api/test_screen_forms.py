"""A parcel from a screen's form: the API's own checks, with blank fields as absent ones."""

from __future__ import annotations

import pytest

from api.screens.forms import FormProblem, parcel_from_form


def test_blank_fields_are_absent_and_dimensions_count_only_whole() -> None:
    parcel = parcel_from_form(
        tracking_number=" T1 ",
        recipient_name="Ada",
        email=" ",
        size="M",
        dimensions_mm=(300, None, 200),
        language="de",
    )
    assert (parcel.tracking_number, parcel.recipient_email, parcel.dimensions) == ("T1", None, None)
    assert parcel.recipient_language == "de"
    measured = parcel_from_form(
        tracking_number="T2", recipient_name="Ada", dimensions_mm=(300, 150, 200)
    )
    assert measured.dimensions is not None
    assert measured.size is None


def test_each_problem_is_named_by_its_field() -> None:
    with pytest.raises(FormProblem, match="tracking_number"):
        parcel_from_form(tracking_number=" ", recipient_name="Ada", size="S")
    with pytest.raises(FormProblem, match="recipient_email"):
        parcel_from_form(tracking_number="T", recipient_name="Ada", size="S", email="nope")
    with pytest.raises(FormProblem, match="size class or its dimensions"):
        parcel_from_form(tracking_number="T", recipient_name="Ada")
    with pytest.raises(FormProblem, match="^size:"):
        parcel_from_form(tracking_number="T", recipient_name="Ada", size="XXL")
