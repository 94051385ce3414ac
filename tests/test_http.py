"""The one retry layer (forecasting.sources.http) against a real local GOV.UK on 127.0.0.1.

Deadlines, redirects, allowed hosts, conditional answers and fast failure when GOV.UK cannot be
reached. The same faults through the real `crossings ingest` are in test_ingest_govuk.py.
"""

from __future__ import annotations

import socket
import time

import pytest

from forecasting.sources.http import AllowedHosts, Http, HttpProblem, Retry

FAST = Retry(attempts=3, backoff=0.01, max_delay=0.05)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _problem(http: Http, url: str, **kwargs) -> str:
    with pytest.raises(HttpProblem) as caught:
        http.get(url, max_bytes=kwargs.pop("max_bytes", 50 << 20), **kwargs)
    assert "\n" not in str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://www.gov.uk/government/publications/x", True),
        ("https://WWW.GOV.UK:443/x", True),
        ("https://assets.publishing.service.gov.uk/media/abc/x.ods", True),
        ("http://www.gov.uk/x", False),  # not https: another port
        ("http://assets.publishing.service.gov.uk/media/x.ods", False),
        ("https://www.gov.uk.evil.example/x", False),
        ("https://evil.example/www.gov.uk/x", False),
        ("https://www.gov.uk:8443/x", False),
        ("file:///etc/passwd", False),
        ("ftp://www.gov.uk/x", False),
    ],
)
def test_allowed_hosts_for_the_real_base(url, allowed):
    refusal = AllowedHosts("https://www.gov.uk").refusal(url)
    assert (refusal is None) is allowed, refusal
    if refusal:
        assert refusal.startswith("refusing ")


def test_allowed_hosts_for_a_local_base_are_its_own_host_and_port():
    hosts = AllowedHosts("http://127.0.0.1:8765")
    assert hosts.refusal("http://127.0.0.1:8765/media/x.ods") is None
    assert "127.0.0.1:8766 is not GOV.UK" in hosts.refusal("http://127.0.0.1:8766/media/x.ods")
    assert hosts.refusal("http://localhost:8765/x") is not None


def test_redirect_on_site_is_followed_and_the_final_url_kept(govuk_server):
    target = govuk_server.ods_url + "?moved=1"
    govuk_server.fault("ods", redirect=target, times=1)
    with Http(govuk_server.url, retry=FAST) as http:
        answer = http.get(govuk_server.ods_url, max_bytes=50 << 20)
    assert answer.url == target and answer.http_status == 200
    assert answer.content == govuk_server.release.read_bytes()


def test_redirect_off_site_is_refused_and_named(govuk_server, elsewhere):
    govuk_server.fault("ods", redirect=elsewhere.ods_url)
    with Http(govuk_server.url, retry=FAST) as http:
        problem = _problem(http, govuk_server.ods_url)
    port = elsewhere.url.rsplit(":", 1)[1]
    assert f"refusing {elsewhere.ods_url}: 127.0.0.1:{port} is not GOV.UK" in problem
    assert elsewhere.requests == []  # never asked
    assert govuk_server.hits("ods") == 1  # not retried


@pytest.mark.parametrize("location", ["self", "relative_self", "two_step"])
def test_redirect_loops_are_refused(govuk_server, location):
    path = govuk_server.ods_url[len(govuk_server.url) :]
    if location == "two_step":
        govuk_server.fault("ods", redirect=path + "?b", times=1)
        govuk_server.fault("ods", redirect=path, times=1)
    else:
        govuk_server.fault("ods", redirect=govuk_server.ods_url if location == "self" else path)
    with Http(govuk_server.url, retry=FAST) as http:
        assert "redirect loop" in _problem(http, govuk_server.ods_url)


def test_too_many_redirects_are_refused(govuk_server):
    for hop in range(1, 8):
        govuk_server.fault("ods", redirect=f"{govuk_server.ods_url}?hop={hop}", times=1)
    with Http(govuk_server.url, retry=FAST) as http:
        assert "more than 5 redirects" in _problem(http, govuk_server.ods_url)
    assert govuk_server.hits("ods") == 6


def test_a_trickle_is_cut_at_the_deadline_and_not_retried(govuk_server):
    govuk_server.fault("ods", drip=0.2)
    started = time.monotonic()
    with Http(govuk_server.url, retry=FAST, deadline_seconds=1.0) as http:
        problem = _problem(http, govuk_server.ods_url)
    elapsed = time.monotonic() - started
    assert "took longer than the 1-second download deadline" in problem
    assert 0.9 < elapsed < 3, elapsed
    assert govuk_server.hits("ods") == 1


def test_the_deadline_bounds_retries_too(govuk_server):
    govuk_server.fault("ods", status=503)
    slept: list[float] = []
    retry = Retry(attempts=10, backoff=5.0, max_delay=30.0)
    with Http(govuk_server.url, retry=retry, deadline_seconds=2.0, sleep=slept.append) as http:
        assert "HTTP 503 (after 1 attempt)" in _problem(http, govuk_server.ods_url)
    assert slept == []  # a 5 s wait would pass the deadline: give up at once


def test_refused_connection_ends_fast_and_the_host_is_then_skipped():
    port = _free_port()
    slept: list[float] = []
    with Http(f"http://127.0.0.1:{port}", retry=Retry(), sleep=slept.append) as http:
        started = time.monotonic()
        first = _problem(http, f"http://127.0.0.1:{port}/api")
        second = _problem(http, f"http://127.0.0.1:{port}/page")
        elapsed = time.monotonic() - started
    assert "could not connect" in first and "(after 2 attempts)" in first
    assert second == first  # no new attempt at a host known to be down
    assert slept == [1.0]  # one quick second try, not the full backoff
    assert elapsed < 1


def test_unknown_host_ends_fast():
    slept: list[float] = []
    with Http("http://crossings-test.invalid", retry=Retry(), sleep=slept.append) as http:
        started = time.monotonic()
        problem = _problem(http, "http://crossings-test.invalid/api")
    assert "could not connect" in problem
    assert slept == [1.0] and time.monotonic() - started < 5


def test_304_to_a_request_that_was_not_conditional_is_an_error(govuk_server):
    govuk_server.fault("ods", status=304)
    with Http(govuk_server.url, retry=FAST) as http:
        problem = _problem(http, govuk_server.ods_url)
    assert problem == "answered 304 Not Modified to a request that was not conditional"


def test_304_to_a_conditional_request_is_not_modified(govuk_server):
    with Http(govuk_server.url, retry=FAST) as http:
        first = http.get(govuk_server.ods_url, max_bytes=50 << 20)
        again = http.get(govuk_server.ods_url, max_bytes=50 << 20, etag=first.etag)
    assert first.etag and again.not_modified and again.content is None


def test_bodies_are_capped_declared_or_not(govuk_server):
    with Http(govuk_server.url, retry=FAST) as http:
        assert "over the 1,000-byte limit" in _problem(http, govuk_server.ods_url, max_bytes=1000)
    # No Content-Length (the body ends when the connection closes): refused while reading.
    govuk_server.fault("ods", raw=b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 5000)
    with Http(govuk_server.url, retry=FAST) as http:
        assert "is over the 100-byte limit" in _problem(http, govuk_server.ods_url, max_bytes=100)


def test_a_broken_protocol_is_retried_then_a_problem(govuk_server):
    govuk_server.fault("ods", raw=b"HTTP/1.1 banana\r\n\r\n")
    with Http(govuk_server.url, retry=FAST) as http:
        problem = _problem(http, govuk_server.ods_url)
    assert problem.startswith("connection failed") and "(after 3 attempts)" in problem
    assert govuk_server.hits("ods") == FAST.attempts


def test_a_url_that_is_not_http_is_refused_before_any_request(govuk_server):
    with Http(govuk_server.url, retry=FAST) as http:
        assert "not an http(s) URL" in _problem(http, "file:///etc/passwd")
    assert govuk_server.requests == []
