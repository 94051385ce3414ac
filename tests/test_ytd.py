"""Year-to-date figures are exact, and `crossings ytd` prints them as stakeholders need."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from forecasting.sources.release import read_release
from forecasting.ytd import headline, ordinal, year_to_date


@pytest.fixture(scope="module")
def daily(latest_release: Path) -> pd.DataFrame:
    return read_release(latest_release).daily


def test_2025_leads_at_31_march_not_2023(daily: pd.DataFrame) -> None:
    table = year_to_date(daily, date(2025, 3, 31)).table.set_index("year")
    assert table.loc[2025, "migrants_arrived"] == 6_642
    assert table.loc[2025, "rank"] == 1
    assert table.loc[2023, "migrants_arrived"] == 3_793
    assert table.loc[2022, "migrants_arrived"] == 4_548
    assert 2026 not in table.index


def test_2023_was_second_to_2022_at_31_march(daily: pd.DataFrame) -> None:
    ytd = year_to_date(daily, date(2023, 3, 31))
    assert ytd.table["year"].max() == 2023
    row = ytd.row(2023)
    assert (row["migrants_arrived"], row["rank"]) == (3_793, 2)
    text = headline(ytd)  # 2022 led and is last year: named once, in the comparison
    assert "2nd highest" in text and "on 2022 (4,548)" in text and text.count("4,548") == 1


def test_headline_of_latest_release(daily: pd.DataFrame) -> None:
    text = headline(year_to_date(daily))
    assert text == (
        "2,209 people crossed in small boats in 2026 up to 26 February, the 2nd highest "
        "year-to-date figure since records began in 2018 (2023: 2,953), up 7% on 2025 (2,056)"
    )


def test_headline_names_each_year_once(daily: pd.DataFrame) -> None:
    """When the leading (or runner-up) year is also last year, its figure is not repeated."""
    table = year_to_date(daily, date(2026, 2, 6)).table.set_index("year")
    assert table["migrants_arrived"].idxmax() == 2025  # last year leads: the bracket would repeat
    text = headline(year_to_date(daily, date(2026, 2, 6)))
    assert text.count("2025") == 1 and text.count("1,489") == 1
    assert text.endswith(
        "the 5th highest year-to-date figure since records began in 2018, down 34% on 2025 (1,489)"
    )
    ytd = year_to_date(daily, date(2025, 7, 29))
    runner = ytd.table[ytd.table["year"] != 2025].sort_values("migrants_arrived").iloc[-1]
    assert int(runner["year"]) == 2024  # highest, and last year runs second
    text = headline(ytd)
    assert text.count("2024") == 1 and text.count("16,712") == 1 and "next:" not in text
    # a leader that is not last year is still named, once
    text = headline(year_to_date(daily, date(2025, 10, 9)))
    assert "(next: 2022: 34,953), up 33% on 2024 (26,612)" in text


def test_29_february_counts_only_in_leap_years(daily: pd.DataFrame) -> None:
    table = year_to_date(daily, date(2024, 2, 29)).table.set_index("year")
    feb = pd.DataFrame(daily)
    feb_dates = pd.to_datetime(feb["date"])
    for year in (2023, 2024):
        end = f"{year}-02-29" if year == 2024 else f"{year}-02-28"
        expected = feb.loc[(feb_dates >= f"{year}-01-01") & (feb_dates <= end), "migrants_arrived"]
        assert table.loc[year, "migrants_arrived"] == expected.sum()
    assert table.loc[2023, "through"] == date(2023, 2, 28)


def test_as_of_after_data_is_refused(daily: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="no figures for"):
        year_to_date(daily, date(2026, 3, 1))


def test_ordinals() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "101st",
    ]


def test_cli_prints_the_facts_with_thousands_separators(latest_store: Path, crossings) -> None:
    result = crossings(["ytd", "--as-of", "2025-03-31", "--db", latest_store])
    assert result.status == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line[:2] == "20"}
    assert "6,642" in lines["2025"] and "1st" in lines["2025"]
    assert "3,793" in lines["2023"] and "4th" in lines["2023"]

    result = crossings(["ytd", "--as-of", "2023-03-31", "--db", latest_store])
    assert "3,793" in result.stdout and "2nd highest" in result.stdout
    assert "4,548" in result.stdout

    result = crossings(["ytd", "--as-of", "2026-02-06", "--db", latest_store])
    last = result.stdout.strip().splitlines()[-1]
    assert last.count("1,489") == 1 and "down 34% on 2025 (1,489)" in last


def test_cli_json_for_machines(latest_store: Path, crossings) -> None:
    result = crossings(["ytd", "--db", latest_store, "--format", "json"])
    payload = json.loads(result.stdout)
    assert payload["as_of"] == "2026-02-26"
    by_year = {y["year"]: y for y in payload["years"]}
    assert by_year[2026]["migrants_arrived"] == 2_209 and by_year[2026]["rank"] == 2
    assert by_year[2026]["change_on_previous_year"] == 2_209 - 2_056


def test_cli_on_empty_store_says_what_to_do(tmp_path: Path, crossings) -> None:
    result = crossings(["ytd", "--db", tmp_path / "none.duckdb"])
    assert result.status == 1
    assert "crossings ingest" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
