"""Alerts delivered through Apprise to a real HTTP receiver on 127.0.0.1, each one once.

The receiver (tests/hook_receiver.py) is what `CROSSINGS_NOTIFY=json://127.0.0.1:<port>/hook`
posts to. The last test drives the real pipeline: the `crossings run` command in a fresh
interpreter, then the nightly flow in-process against one temporary Prefect API, with a local
GOV.UK (tests/govuk_server.py) for the failed source.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from cli_run import child_env, run_cli
from hook_receiver import Receiver, edited_page, receiver  # noqa: F401 - the fixture

from forecasting.alerts import Alert, RunFacts
from forecasting.notify import announce, announce_run, send, send_test
from forecasting.settings import Settings
from forecasting.store.announcements import record_announcement, was_announced

ROOT = Path(__file__).resolve().parents[1]
DEAD_URL = "json://127.0.0.1:9/nobody-listens"


# --- delivery ----------------------------------------------------------------------------------


def test_send_says_per_url_what_happened(receiver: Receiver) -> None:  # noqa: F811
    receiver.failing.add("/broken")
    urls = [receiver.url("/hook"), receiver.url("/broken"), DEAD_URL, "nonsense://x"]
    deliveries = send(urls, "Channel crossings: a title", "A body with 1,234 people.", "warning")
    assert [d.delivered for d in deliveries] == [True, False, False, False]
    assert deliveries[0].target == f"json://127.0.0.1:{receiver.port}/hook"
    assert "500" in deliveries[1].problem or "error" in deliveries[1].problem.lower()
    assert "connection" in deliveries[2].problem.lower()
    assert "not a URL Apprise understands" in deliveries[3].problem
    [got] = receiver.delivered()
    assert got["title"] == "Channel crossings: a title"
    assert got["message"] == "A body with 1,234 people."
    assert got["type"] == "warning"


def test_secrets_in_urls_are_never_shown(receiver: Receiver) -> None:  # noqa: F811
    url = f"json://analyst:hunter2@127.0.0.1:{receiver.port}/hook?token=s3cret"
    [delivery] = send_test([url])
    assert delivery.delivered
    assert "hunter2" not in delivery.describe() and "s3cret" not in delivery.describe()
    assert receiver.delivered()[0]["title"] == "Channel crossings: test message"
    # A URL Apprise cannot read is shown by scheme and host only.
    [unread] = send(["nosuchservice://user:pw@host/TOKEN123?key=abc"], "t", "b")
    assert unread.describe() == ("FAILED: nosuchservice://host/...: not a URL Apprise understands")


def test_nothing_is_sent_or_written_when_unset(receiver: Receiver, db_path: Path) -> None:  # noqa: F811
    facts = RunFacts(failure="RuntimeError: boom", run_id="r1")
    assert announce_run(db_path, db_path.parent / "reports", facts, Settings()) is None
    assert receiver.messages == []
    assert not db_path.exists()


def test_each_alert_goes_out_once_and_again_until_delivered(
    receiver: Receiver,  # noqa: F811
    db_path: Path,
) -> None:
    alerts = [
        Alert("new:abc", "new", "new figures to 1 March 2026", "New figures: a page."),
        Alert("quiet:page:2026-03-01", "quiet", "no new page for 4 days", "Quiet."),
    ]
    headline = ["Year to date: 1,234 people crossed."]
    receiver.failing.add("/down")
    # Nobody took it: nothing recorded, so the next run tries again.
    missed = announce(db_path, alerts, [receiver.url("/down")], headline)
    assert missed is not None and not missed.delivered
    assert not was_announced(db_path, "new:abc")

    sent = announce(db_path, alerts, [receiver.url("/hook"), DEAD_URL], headline)
    assert sent is not None and sent.delivered
    assert [d.delivered for d in sent.deliveries] == [True, False]
    [message] = receiver.take()
    assert message["title"] == (
        "Channel crossings: new figures to 1 March 2026; no new page for 4 days"
    )
    assert message["type"] == "warning"  # the most serious of its alerts
    assert "Headline figures:\n- Year to date: 1,234 people crossed." in message["message"]
    assert was_announced(db_path, "new:abc") and was_announced(db_path, "quiet:page:2026-03-01")

    assert announce(db_path, alerts, [receiver.url("/hook")], headline) is None
    # One more alert: only it goes out.
    extra = Alert("record:day:2026-03-01", "record", "record day", "Record day.")
    again = announce(db_path, [*alerts, extra], [receiver.url("/hook")], headline)
    assert again is not None and [a.key for a in again.alerts] == ["record:day:2026-03-01"]
    assert [m["title"] for m in receiver.take()] == ["Channel crossings: record day"]

    assert not record_announcement(db_path, "record:day:2026-03-01", "record", "a second one")
    con = duckdb.connect(str(db_path), read_only=True)
    rows = con.execute(
        "SELECT key, kind, message LIKE 'Channel crossings: record day%' FROM announcements "
        "ORDER BY key"
    ).fetchall()
    con.close()
    assert rows == [
        ("new:abc", "new", False),
        ("quiet:page:2026-03-01", "quiet", False),
        ("record:day:2026-03-01", "record", True),  # the first record of a key is kept
    ]


# --- the command -------------------------------------------------------------------------------


@pytest.mark.integration
def test_notify_test_command_reports_each_url(receiver: Receiver) -> None:  # noqa: F811
    receiver.failing.add("/broken")
    secret = f"json://user:hunter2@127.0.0.1:{receiver.port}/broken"
    env = child_env(CROSSINGS_NOTIFY=f"{receiver.url()},{secret},{DEAD_URL}")
    run = run_cli(["notify", "--test"], env=env)
    lines = run.stdout.splitlines()
    assert run.status == 1, run.stderr
    assert lines[0] == f"delivered: json://127.0.0.1:{receiver.port}/hook"
    assert lines[1].startswith(f"FAILED: json://user:****@127.0.0.1:{receiver.port}/broken: ")
    assert lines[2].startswith("FAILED: json://127.0.0.1:9/nobody-listens: ")
    assert len(lines) == 3
    assert "hunter2" not in run.stdout + run.stderr

    ok = run_cli(["notify", "--test"], env=child_env(CROSSINGS_NOTIFY=receiver.url()))
    assert (ok.status, ok.stdout.splitlines()) == (
        0,
        [f"delivered: json://127.0.0.1:{receiver.port}/hook"],
    )
    assert [m["title"] for m in receiver.delivered()] == ["Channel crossings: test message"] * 2

    unset = run_cli(["notify", "--test"], env=child_env(CROSSINGS_NOTIFY=""))
    assert unset.status == 2 and len(unset.lines) == 1
    assert "CROSSINGS_NOTIFY is not set" in unset.lines[0]


@pytest.mark.integration
def test_notify_command_announces_what_the_store_shows_now(
    receiver: Receiver,  # noqa: F811
    store_copy: Path,
) -> None:
    """Without --test: a quiet source (the release of 27 February is months old), once."""
    env = child_env(CROSSINGS_NOTIFY=receiver.url())
    run = run_cli(["notify", "--db", str(store_copy)], env=env)
    assert run.status == 0, run.stderr
    title = run.stdout.splitlines()[0]
    assert title.startswith("Channel crossings: no new weekly release for ")
    [message] = receiver.take()
    assert message["title"] == title
    assert "release date 27 February 2026" in message["message"]
    assert "2,209 people crossed in small boats in 2026 up to 26 February" in message["message"]
    again = run_cli(["notify", "--db", str(store_copy)], env=env)
    assert (again.status, again.stdout.strip()) == (0, "nothing new to announce")
    assert receiver.take() == []


# --- the real pipeline -------------------------------------------------------------------------


def _assert_headline(message: dict, db: Path, reports: Path) -> None:
    """The message carries the year to date, the latest day and the stored year-end forecast."""
    from forecasting.store import latest_daily
    from forecasting.ytd import year_to_date

    daily = latest_daily(db).daily
    this_year = year_to_date(daily).table.iloc[-1]
    last = daily.iloc[-1]
    con = duckdb.connect(str(db), read_only=True)
    p10, p50, p90 = con.execute(
        "SELECT year_end_p10, year_end_p50, year_end_p90 FROM forecasts WHERE production "
        "ORDER BY as_of DESC LIMIT 1"
    ).fetchone()
    con.close()
    text = message["message"]
    assert f"{int(this_year.migrants_arrived):,} people crossed in small boats" in text
    assert f"{last['date'].day} {last['date']:%B %Y}: {int(last.migrants_arrived):,} people" in text
    assert f"median {p50:,.0f}, 80% range {p10:,.0f} to {p90:,.0f}" in text
    assert (reports / "index.html").resolve().as_uri() in text


def _alerts_artifact() -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["crossings-alerts"]))
        )
    return max(found, key=lambda a: a.created).data


@pytest.mark.integration
@pytest.mark.slow
def test_the_pipeline_announces_each_thing_once(
    prefect_api: str,
    receiver: Receiver,  # noqa: F811
    govuk_server: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    release_paths: list[Path],
    page_paths: list[Path],
) -> None:
    from flows import pipeline

    db, reports, raw = tmp_path / "crossings.duckdb", tmp_path / "reports", tmp_path / "raw"
    where = {"db": str(db), "reports_dir": str(reports), "raw_dir": str(raw)}
    # The shared figures are months old: quiet sources are tested on their own, step 4.
    quiet_off = {
        "CROSSINGS_QUIET_PAGE_DAYS": "100000",
        "CROSSINGS_QUIET_RELEASE_DAYS": "100000",
        "CROSSINGS_STALE_AFTER_DAYS": "100000",
    }
    for name, value in {**quiet_off, "CROSSINGS_NOTIFY": receiver.url()}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CROSSINGS_SOURCE", raising=False)
    release = next(p for p in release_paths if p.name.startswith("20_February_2026_"))

    # 1. New figures, through the real command in a fresh interpreter.
    command = [sys.executable, "-m", "flows.cli", "run", "--source", str(release)]
    command += ["--db", str(db), "--reports-dir", str(reports), "--raw-dir", str(raw)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PREFECT_API_URL": prefect_api}
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [message] = receiver.take()
    assert message["title"] == "Channel crossings: new figures to 19 February 2026"
    assert message["type"] == "info"
    _assert_headline(message, db, reports)

    # 2. The same again: nothing new, nothing sent.
    pipeline.nightly(source=str(release), **where)
    assert receiver.take() == []

    # 3. A record day on the page; a second, dead URL fails without failing the run.
    page = edited_page(
        next(p for p in page_paths if p.name == "2026-02-21.html"),
        tmp_path / "2026-02-21.html",
        "20 February 2026",
        12_000,
    )
    monkeypatch.setenv("CROSSINGS_NOTIFY", f"{receiver.url()},{DEAD_URL}")
    pipeline.nightly(source=str(page), **where)
    [message] = receiver.take()
    assert message["title"] == (
        "Channel crossings: new figures to 20 February 2026; record day; record week; "
        "record month; highest year to date"
    )
    assert "Record day: 12,000 people crossed on 20 February 2026" in message["message"]
    _assert_headline(message, db, reports)
    artifact = _alerts_artifact()
    assert "record day" in artifact and "FAILED: json://127.0.0.1:9/nobody-listens" in artifact

    # 4. The sources go quiet (default thresholds: 3 days for the page, 9 for the release).
    for name in quiet_off:
        monkeypatch.delenv(name)
    pipeline.nightly(source=str(page), **where)
    [message] = receiver.take()
    assert message["title"].startswith("Channel crossings: no new daily last-7-days page for ")
    assert "no new weekly release for " in message["title"]
    assert "'updated' stamp 21 February 2026" in message["message"]
    assert message["type"] == "warning"
    _assert_headline(message, db, reports)
    pipeline.nightly(source=str(page), **where)
    assert receiver.take() == []  # quiet, but already said

    # 5. GOV.UK fails (404 on its API and publication page): the report is still written.
    monkeypatch.setenv("CROSSINGS_GOVUK_URL", govuk_server.url)
    govuk_server.fault("api", status=404)
    govuk_server.fault("publication", status=404)
    summary = pipeline.nightly(**where)
    assert summary.failures and summary.status == 10
    [message] = receiver.take()
    assert message["title"] == "Channel crossings: a source failed"
    assert message["type"] == "failure"
    assert "GOV.UK could not be reached" in message["message"]
    _assert_headline(message, db, reports)

    # 6. The run fails (its reports folder is a file): announced by the flow's failure hook.
    not_a_folder = tmp_path / "reports-file"
    not_a_folder.write_text("a file")
    with pytest.raises(Exception, match="not a folder"):
        pipeline.nightly(source=str(page), db=str(db), reports_dir=str(not_a_folder))
    [message] = receiver.take()
    assert message["title"] == "Channel crossings: the run failed"
    assert "not a folder" in message["message"] and message["type"] == "failure"
    assert "people crossed in small boats" in message["message"]

    con = duckdb.connect(str(db), read_only=True)
    kinds = con.execute("SELECT kind, count(*) FROM announcements GROUP BY kind ORDER BY kind")
    # A failed run's alert (keyed by its flow run) is not kept: the failed run changed nothing.
    assert dict(kinds.fetchall()) == {"new": 2, "quiet": 2, "record": 4, "source": 1}
    con.close()
