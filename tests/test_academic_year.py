from datetime import UTC, date, datetime

import pytest

from models.academic_year import Period, academic_year_of, academic_year_period


@pytest.mark.parametrize("moment, year", [
    (datetime(2025, 8, 31, 16, 59, tzinfo=UTC), 2024),   # 23:59 on 31 Aug in Tomsk
    (datetime(2025, 8, 31, 17, 0, tzinfo=UTC), 2025),    # 00:00 on 1 Sep in Tomsk
    (date(2026, 1, 15), 2025),
    (date(2026, 9, 1), 2026),
])
def test_academic_year_of(moment, year):
    assert academic_year_of(moment) == year


def test_period_bounds_are_tomsk_midnights():
    period = academic_year_period(2025)
    assert period.first_day == date(2025, 9, 1) and period.last_day == date(2026, 8, 31)
    assert period.starts_at == datetime(2025, 8, 31, 17, 0, tzinfo=UTC)
    assert period.ends_before == datetime(2026, 8, 31, 17, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        academic_year_of(datetime(2025, 1, 1))
    with pytest.raises(ValueError):
        Period(date(2025, 2, 1), date(2025, 1, 1))
