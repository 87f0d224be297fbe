from __future__ import annotations

from datetime import date

import pytest

from bot.dates import find_date

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2027-03-15", date(2027, 3, 15)),
        ("it expires on 15 March 2027", date(2027, 3, 15)),
        ("March 15, 2027", date(2027, 3, 15)),
        ("march 15th 2027", date(2027, 3, 15)),
        ("the 15th of March 2027", date(2027, 3, 15)),
        ("3/15/2027", date(2027, 3, 15)),
        ("Mar 15 2027", date(2027, 3, 15)),
        ("my licence expires on Jan 3", date(2027, 1, 3)),  # no year: the next one
        ("tomorrow", date(2026, 11, 23)),
        ("in 2 weeks", date(2026, 12, 6)),
    ],
)
def test_usual_written_dates_parse(text, expected):
    assert find_date(text, TODAY) == expected


def test_day_first_order_is_configurable():
    assert find_date("03/04/2027", TODAY, "DMY") == date(2027, 4, 3)
    assert find_date("03/04/2027", TODAY, "MDY") == date(2027, 3, 4)


@pytest.mark.parametrize("text", ["skip", "yes please", "how do I renew my licence", "SR-7K3M9Q2X", "May I renew?"])
def test_text_without_a_date_gives_none(text):
    assert find_date(text, TODAY) is None
