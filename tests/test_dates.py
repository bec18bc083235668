"""A date is shown at the precision it is known, in the zone of its place (else the site's)."""

import datetime
import zoneinfo

from events import dates
from events.models import DatePrecision

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
TALKS = datetime.datetime(2022, 2, 7, 15, 0, tzinfo=datetime.UTC)  # 18:00 in Moscow


def test_an_exact_time_is_shown_in_the_place_zone_with_its_abbreviation():
    assert dates.format_moment(TALKS, DatePrecision.EXACT, MOSCOW) == "7 Feb 2022, 18:00 MSK"


def test_the_same_instant_is_shown_in_the_site_zone_when_no_place_zone_is_known():
    assert dates.format_moment(TALKS, DatePrecision.EXACT, PARIS) == "7 Feb 2022, 16:00 CET"


def test_a_day_is_shown_without_a_time():
    assert dates.format_moment(TALKS, DatePrecision.DAY, MOSCOW) == "7 Feb 2022"


def test_a_month_is_shown_as_month_and_year():
    assert dates.format_moment(TALKS, DatePrecision.MONTH, MOSCOW) == "Feb 2022"


def test_an_approximate_date_says_around():
    when = dates.anchor(datetime.date(2022, 2, 10), DatePrecision.APPROXIMATE)
    assert dates.format_moment(when, DatePrecision.APPROXIMATE, PARIS) == "around 10 Feb 2022"


def test_a_date_known_to_the_day_keeps_its_day_in_zones_far_apart():
    stored = dates.anchor(datetime.date(2022, 2, 8), DatePrecision.DAY)
    for zone in ("Pacific/Honolulu", "Europe/Kyiv", "Asia/Tokyo"):
        assert dates.format_moment(stored, DatePrecision.DAY, zoneinfo.ZoneInfo(zone)) == "8 Feb 2022"


def test_a_month_is_stored_on_its_first_day():
    stored = dates.anchor(datetime.date(2022, 2, 17), DatePrecision.MONTH)
    assert dates.calendar_date(stored, DatePrecision.MONTH) == datetime.date(2022, 2, 1)


def test_a_span_within_one_day_shows_both_times_once():
    end = TALKS + datetime.timedelta(hours=5, minutes=30)
    assert dates.format_span(TALKS, "exact", end, "exact", MOSCOW) == "7 Feb 2022, 18:00–23:30 MSK"


def test_a_span_over_days_shows_both_ends():
    end = dates.anchor(datetime.date(2022, 2, 9), DatePrecision.DAY)
    start = dates.anchor(datetime.date(2022, 2, 8), DatePrecision.DAY)
    assert dates.format_span(start, "day", end, "day", MOSCOW) == "8 Feb 2022 – 9 Feb 2022"


def test_dates_of_expectations_follow_their_precision():
    due = datetime.date(2022, 2, 10)
    assert dates.format_date(due, DatePrecision.DAY) == "10 Feb 2022"
    assert dates.format_date(due, DatePrecision.MONTH) == "Feb 2022"
    assert dates.format_date(due, DatePrecision.APPROXIMATE) == "around 10 Feb 2022"


def test_an_unknown_zone_name_falls_back_to_the_site_zone():
    assert dates.zone_for("Mars/Olympus_Mons") == dates.zone_for("")


def test_an_event_is_shown_in_its_place_zone(db):
    from tests.factories import EventFactory, PlaceFactory

    moscow = PlaceFactory(name="Moscow", time_zone="Europe/Moscow")
    event = EventFactory(start=TALKS, place=moscow)
    assert event.when == "7 Feb 2022, 18:00 MSK"
