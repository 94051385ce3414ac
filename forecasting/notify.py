"""Sending alerts through Apprise to every URL in `CROSSINGS_NOTIFY`, each alert once.

Nightly runs are for people who are not watching: after a run, one message goes to every
configured URL (`json://`, `mailto://`, Slack, Teams, ...) with what happened and the headline
figures. Nothing is sent when no URL is set. A failed notification never fails the run: it is
logged, and an alert that reached no URL at all stays unannounced so the next run tries again.
Apprise is imported only when something is sent, so commands that send nothing start quickly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from forecasting.alert_headline import headline_figures
from forecasting.alerts import SEVERITY, Alert, RunFacts, compute_alerts
from forecasting.errors import one_line
from forecasting.settings import Settings
from forecasting.store.announcements import record_announcement, was_announced

__all__ = [
    "Delivery",
    "Announcement",
    "send",
    "send_test",
    "compose",
    "announce",
    "announce_run",
]

LOGGER = logging.getLogger("crossings.notify")
TITLE_PREFIX = "Channel crossings: "
MAX_TITLE = 250
_ORDER = ("info", "warning", "failure")
# A failed run's alert is keyed by its flow run, which never recurs: nothing to remember, so a
# failed run (bad input included) changes nothing in the store.
UNRECORDED = frozenset({"failed"})


@dataclass(frozen=True)
class Delivery:
    """What happened to one message at one URL (secrets in the URL masked)."""

    target: str
    delivered: bool
    problem: str = ""

    def describe(self) -> str:
        if self.delivered:
            return f"delivered: {self.target}"
        return f"FAILED: {self.target}: {self.problem or 'not delivered'}"


@dataclass
class Announcement:
    """One message: the alerts it carried, its text, and what each URL did with it."""

    title: str
    body: str
    alerts: list[Alert]
    deliveries: list[Delivery]
    problems: list[str] = field(default_factory=list)  # around the sending: store, records

    @property
    def delivered(self) -> bool:
        return any(d.delivered for d in self.deliveries)

    def markdown(self) -> str:
        """The message and its deliveries, for the run's Prefect artifact."""
        lines = [f"# {self.title}", "", self.body, "", "## Deliveries", ""]
        lines += [f"- {d.describe()}" for d in self.deliveries]
        lines += [f"- problem: {p}" for p in self.problems]
        lines += ["", f"Alert keys: {', '.join(a.key for a in self.alerts)}"]
        return "\n".join(lines)


def _masked(url: str) -> str:
    """A URL Apprise could not read, as it may be printed: scheme and host only (a path or query
    may hold tokens, the user part a password)."""
    parts = urlsplit(url.strip())
    if not parts.scheme:
        return "(not a URL)"
    rest = "/..." if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{parts.hostname or ''}{rest}"


def _last_log_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    return one_line(lines[-1].split(" - ", 2)[-1], limit=200)


def _send_one(url: str, title: str, body: str, severity: str) -> Delivery:
    import apprise

    target = _masked(url)
    sender = apprise.Apprise()
    with apprise.LogCapture(level=logging.WARNING) as log:
        try:
            if not sender.add(url):
                return Delivery(target, False, "not a URL Apprise understands")
            target = sender[0].url(privacy=True).split("?", 1)[0]
            result = sender.notify(
                body=body,
                title=title,
                notify_type=getattr(apprise.NotifyType, severity.upper()),
                body_format=apprise.NotifyFormat.MARKDOWN,
            )
        except Exception as exc:  # a plugin's own bug must not stop the other URLs
            return Delivery(target, False, one_line(f"{type(exc).__name__}: {exc}", limit=200))
        problem = _last_log_line(log.getvalue())
    return Delivery(target, bool(result), "" if result else problem or "not delivered")


def send(urls: Sequence[str], title: str, body: str, severity: str = "info") -> list[Delivery]:
    """Send one message to each URL in turn; never raises, says per URL what happened."""
    deliveries = [_send_one(url, title, body, severity) for url in urls if url.strip()]
    for delivery in deliveries:
        if not delivery.delivered:
            LOGGER.info("alert not delivered: %s", delivery.describe())
    return deliveries


def send_test(urls: Sequence[str]) -> list[Delivery]:
    """A test message to every URL (`crossings notify --test`)."""
    return send(
        urls,
        TITLE_PREFIX + "test message",
        "A test message from the channel-crossings pipeline: alerts configured in "
        "CROSSINGS_NOTIFY reach this address.",
    )


def compose(alerts: Sequence[Alert], headline: Sequence[str]) -> tuple[str, str, str]:
    """(title, body, severity) of the one message carrying `alerts` and the headline figures."""
    titles = list(dict.fromkeys(a.title for a in alerts))
    title = TITLE_PREFIX + "; ".join(titles)
    if len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 3] + "..."
    severity = max((SEVERITY.get(a.kind, "info") for a in alerts), key=_ORDER.index)
    body = "\n\n".join(a.body for a in alerts)
    if headline:
        body += "\n\nHeadline figures:\n" + "\n".join(f"- {line}" for line in headline)
    return title, body, severity


def announce(
    db: str | Path,
    alerts: Sequence[Alert],
    urls: Sequence[str],
    headline: Sequence[str],
    *,
    use_store: bool = True,
) -> Announcement | None:
    """Send the alerts not announced yet, in one message, and remember them once delivered.

    None when nothing is configured or nothing is new. With `use_store` False (the store is what
    failed) everything is sent and nothing recorded. Never raises: what went wrong is in the
    returned `problems` and the log.
    """
    unique = list({a.key: a for a in alerts}.values())
    if not urls or not unique:
        return None
    problems: list[str] = []
    done: set[str] = set()
    try:
        if use_store:
            done = {a.key for a in unique if was_announced(db, a.key)}
    except Exception as exc:  # the store cannot say: send, rather than stay silent
        use_store = False
        problems.append(f"could not read what was announced: {one_line(exc, 200)}")
    fresh = [a for a in unique if a.key not in done]
    if not fresh:
        return None
    title, body, severity = compose(fresh, headline)
    deliveries = send(urls, title, body, severity)
    result = Announcement(title, body, fresh, deliveries, problems)
    if result.delivered and use_store:
        message = f"{title}\n\n{body}"
        try:
            for alert in fresh:
                if alert.kind not in UNRECORDED:
                    record_announcement(db, alert.key, alert.kind, message)
        except Exception as exc:
            problems.append(f"sent, but could not record it: {one_line(exc, 200)}")
    elif not result.delivered:
        problems.append("no URL took the message; the next run will try again")
    for problem in problems:
        LOGGER.info("alerts: %s", problem)
    return result


def announce_run(
    db: str | Path, reports_dir: str | Path, facts: RunFacts, settings: Settings | None = None
) -> Announcement | None:
    """Work out what this run should announce and send it; never raises (a run never fails
    because of its alerts). None when no URL is configured or there is nothing new."""
    try:
        settings = settings or Settings.from_env()
        if not settings.notify:
            return None
        problems: list[str] = []
        try:
            alerts = compute_alerts(db, facts, settings)
        except Exception as exc:  # the store could not be read: at least say the run failed
            problems.append(f"could not read the store for alerts: {one_line(exc, 200)}")
            alerts = compute_alerts(db, _without_store(facts), settings)
        try:
            headline = headline_figures(db, reports_dir) if facts.store_readable else []
        except Exception as exc:
            headline = [f"(headline figures unavailable: {one_line(exc, 200)})"]
        result = announce(db, alerts, settings.notify, headline, use_store=facts.store_readable)
        if result is not None:
            result.problems[:0] = problems
        return result
    except Exception as exc:
        LOGGER.warning("alerts could not be sent: %s", one_line(f"{type(exc).__name__}: {exc}"))
        return None


def _without_store(facts: RunFacts) -> RunFacts:
    from dataclasses import replace

    return replace(facts, store_readable=False)
