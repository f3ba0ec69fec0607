"""Fetching listings from a real HTTP server on loopback that misbehaves on purpose."""

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import httpx
import pytest
from click.testing import CliRunner

from assets.resources import PaperlakeResource
from assets.sources import daily_fetch, raw_listing_freshness
from pipeline import fetch, warehouse
from pipeline.artifacts import ArtifactStore
from pipeline.cli import main
from pipeline.definitions import defs
from pipeline.formats import parse_dump
from pipeline.ingest import RAW_ARTIFACT
from pipeline.reports import digest
from tests.conftest import listing, sample_papers

FIXTURES = Path(__file__).parent / "fixtures"
DAY = date(2026, 11, 24)


class Script:
    """What the server answers on each path: a list of responses, the last one repeating."""

    def __init__(self) -> None:
        self.routes: dict[str, list[dict]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []

    def answer(self, path: str, *responses: dict) -> None:
        self.routes[path] = list(responses)

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)


def _handler(script: Script):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            script.requests.append((self.path, dict(self.headers)))
            queue = script.routes.get(self.path) or [{"status": 404, "body": b"not found"}]
            response = queue.pop(0) if len(queue) > 1 else queue[0]
            time.sleep(response.get("delay", 0))
            if response.get("etag") and self.headers.get("If-None-Match") == response["etag"]:
                self.send_response(304)
                self.end_headers()
                return
            body = response.get("body", b"")
            self.send_response(response.get("status", 200))
            for name, value in response.get("headers", {}).items():
                self.send_header(name, value)
            if response.get("etag"):
                self.send_header("ETag", response["etag"])
            self.send_header("Content-Length", str(response.get("length", len(body))))
            self.end_headers()
            self.wfile.write(body)
            if "length" in response:  # promised more than it sends: a truncated body
                self.close_connection = True

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def server():
    script = Script()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    script.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield script
    httpd.shutdown()


@pytest.fixture
def waits():
    return []


def _fetcher(home, waits, **options) -> fetch.Fetcher:
    client = httpx.Client(timeout=httpx.Timeout(options.pop("timeout", 5.0)))
    return fetch.Fetcher(home, client, sleep=waits.append, first_backoff=2.0, **options)


def _source(server, path="/daily/{date}", fmt="daily_papers_json", **headers) -> fetch.Source:
    return fetch.Source("hf-daily", server.base + path, fmt, headers)


DAILY = (FIXTURES / "daily-papers-2026-11-24.json").read_bytes()


def test_a_503_then_success_retries_once_with_backoff(home, server, waits):
    server.answer("/daily/2026-11-24", {"status": 503, "body": b"busy"}, {"body": DAILY})
    result = _fetcher(home, waits).fetch(_source(server), DAY)
    assert (result.status, result.requests, waits) == ("new", 2, [2.0])
    assert result.landed == "hf-daily-2026-11-24.json"
    assert (home.landing / result.landed).read_bytes() == DAILY


def test_a_429_waits_for_retry_after(home, server, waits):
    server.answer(
        "/daily/2026-11-24", {"status": 429, "headers": {"Retry-After": "7"}}, {"body": DAILY}
    )
    result = _fetcher(home, waits).fetch(_source(server), DAY)
    assert (result.status, result.requests, waits) == ("new", 2, [7.0])


def test_a_slow_server_times_out_and_gives_up_with_nothing_written(home, server, waits):
    server.answer("/daily/2026-11-24", {"body": DAILY, "delay": 1.5})
    result = _fetcher(home, waits, timeout=0.3).fetch(_source(server), DAY)
    assert (result.status, result.requests, waits) == ("failed", 4, [2.0, 4.0, 8.0])
    assert "ReadTimeout" in result.message
    assert list(home.landing.iterdir()) == []


def test_a_truncated_body_is_retried_never_landed(home, server, waits):
    server.answer("/daily/2026-11-24", {"body": DAILY[:100], "length": len(DAILY)}, {"body": DAILY})
    result = _fetcher(home, waits).fetch(_source(server), DAY)
    assert (result.status, result.requests, waits) == ("new", 2, [2.0])
    assert (home.landing / result.landed).read_bytes() == DAILY


def test_an_unchanged_listing_costs_a_304_and_lands_nothing(home, server, waits):
    server.answer("/daily/2026-11-24", {"body": DAILY, "etag": '"v1"'})
    fetcher = _fetcher(home, waits)
    assert fetcher.fetch(_source(server), DAY).status == "new"
    (home.landing / "hf-daily-2026-11-24.json").unlink()  # ingested meanwhile
    again = fetcher.fetch(_source(server), DAY)
    assert (again.status, again.requests) == ("unchanged", 1)
    assert server.requests[-1][1]["If-None-Match"] == '"v1"'
    assert list(home.landing.iterdir()) == []


def test_a_body_over_the_cap_is_refused(home, server, waits):
    server.answer("/daily/2026-11-24", {"body": b"[" + b" " * 5000 + b"]"})
    result = _fetcher(home, waits, max_bytes=1000).fetch(_source(server), DAY)
    assert (result.status, result.requests) == ("failed", 1)
    assert "over the 1,000-byte cap" in result.message
    assert list(home.landing.iterdir()) == []


def test_polite_headers_and_source_headers_are_sent(home, server, waits):
    server.answer("/daily/2026-11-24", {"body": DAILY})
    _fetcher(home, waits).fetch(_source(server, Accept="application/json"), DAY)
    headers = server.requests[0][1]
    assert headers["User-Agent"].startswith("paperlake/")
    assert headers["Accept"] == "application/json"


def test_an_empty_listing_is_nothing_new(home, server, waits):
    server.answer("/daily/2026-11-24", {"body": b"[]"})
    assert _fetcher(home, waits).fetch(_source(server), DAY).status == "empty"
    assert list(home.landing.iterdir()) == []


@pytest.mark.parametrize(
    ("fmt", "body", "suffix"),
    [
        ("daily_papers_json", DAILY, ".json"),
        ("listing_text", listing(sample_papers()[:5]), ".txt"),
        ("arxiv_jsonl", (FIXTURES / "arxiv-2026-11-25.jsonl").read_bytes(), ".jsonl"),
    ],
)
def test_every_format_lands_under_the_name_a_user_would_drop(
    home, server, waits, fmt, body, suffix
):
    server.answer("/x/2026-11-24", {"body": body})
    result = _fetcher(home, waits).fetch(_source(server, "/x/{date}", fmt), DAY)
    assert result.landed == f"hf-daily-2026-11-24{suffix}"
    assert parse_dump((home.landing / result.landed).read_bytes(), result.landed).format == fmt


def _write_sources(home, server, path="/daily/{date}") -> None:
    (home.root / "sources.yaml").write_text(
        f"sources:\n  - name: hf-daily\n    url: {server.base}{path}\n    format: daily_papers_json\n"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("sources: nope", "expected a top-level 'sources:' list"),
        ("sources:\n  - name: a\n    url: http://x/{date}\n", "has no format"),
        ("sources:\n  - name: a\n    url: http://x\n    format: pdf\n", "format 'pdf'"),
        (
            "sources:\n  - name: a\n    url: ftp://x\n    format: listing_text\n",
            "needs an http.s. url",
        ),
        ("sources: [", "not valid YAML"),
    ],
)
def test_bad_sources_files_say_what_to_fix(home, text, problem):
    (home.root / "sources.yaml").write_text(text)
    with pytest.raises(fetch.SourceConfigError, match=problem):
        fetch.load_sources(home)


def test_offline_by_default(home, instance):
    assert fetch.load_sources(home) == []
    context = dg.build_schedule_context(
        instance=instance,
        resources={"paperlake": PaperlakeResource()},
        scheduled_execution_time=datetime(2026, 11, 26, 6, tzinfo=UTC),
    )
    assert isinstance(daily_fetch(context), dg.SkipReason)


def _week(server) -> list[date]:
    """A past week: Monday to Wednesday bring new listings, Thursday repeats Wednesday's papers,
    Friday to Sunday list nothing; every day after it, up to today, lists nothing either."""
    papers = sample_papers()
    week = [date(2026, 11, 16) + timedelta(days=i) for i in range(7)]
    for i, day in enumerate(week[:4]):
        start = min(i, 2) * 10
        chosen = papers[start : start + 40]
        entries = [
            {"paper": {"id": f"2311.{start + n:05d}", "title": t, "summary": a}}
            for n, (t, a) in enumerate(chosen)
        ]
        server.answer(f"/daily/{day}", {"body": json.dumps(entries).encode()})
    quiet = week[4]
    while quiet <= datetime.now(UTC).date():
        server.answer(f"/daily/{quiet}", {"body": b"[]"})
        quiet += timedelta(days=1)
    return week


@pytest.mark.slow
def test_a_week_backfill_lands_each_new_day_once(home, server):
    week = _week(server)
    _write_sources(home, server)
    runner = CliRunner()
    env = {"PAPERLAKE_HOME": str(home.root)}
    both = runner.invoke(main, ["fetch", "--since", str(week[0]), "--date", str(week[-1])], env=env)
    assert both.exit_code == 2, "--since and --date together are refused"
    result = runner.invoke(
        main, ["fetch", "--since", str(week[0])], env=env, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    with warehouse.session(home, read_only=True) as con:
        snapshots = con.execute("SELECT snapshot_id FROM snapshots ORDER BY 1").fetchall()
        statuses = dict(con.execute("SELECT day, status FROM fetches").fetchall())
        thursday = digest.load_digest(con, f"hf-daily-{week[3]}")
    assert [s for (s,) in snapshots] == [f"hf-daily-{day}" for day in week[:4]]
    assert [statuses[day] for day in week] == ["new"] * 4 + ["empty"] * 3
    assert thursday.nothing_new, "Thursday repeats Wednesday: a snapshot with no new papers"
    latest = (home.reports / "snapshot_report" / "latest.md").read_text()
    assert "No new papers in this snapshot" in latest
    assert f"Nothing new on {week[6]}" in latest and f"Nothing new on {week[4]}" in latest

    requests = len(server.requests)
    rerun = runner.invoke(main, ["fetch", "--since", str(week[0])], env=env)
    assert rerun.exit_code == 0, rerun.output
    assert len(server.requests) == requests, "days already fetched are not fetched again"


def test_freshness_check_fails_when_no_new_dump_arrived(home, instance):
    store = ArtifactStore(home.artifacts)

    def evaluate() -> dg.AssetCheckResult:
        result = dg.materialize(
            [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]
            + [raw_listing_freshness],
            selection=dg.AssetSelection.checks(raw_listing_freshness),
            instance=instance,
            resources={"paperlake": PaperlakeResource()},
        )
        [evaluation] = result.get_asset_check_evaluations()
        return evaluation

    assert not evaluate().passed
    version = store.put(RAW_ARTIFACT, "old", b"dump", suffix=".txt", code_version="1")
    manifest = Path(version.path).with_name(f"{version.version}.manifest.json")
    stale = json.loads(manifest.read_text()) | {
        "created_at": (datetime.now(UTC) - timedelta(hours=40)).isoformat()
    }
    manifest.write_text(json.dumps(stale))
    assert not evaluate().passed
    store.put(RAW_ARTIFACT, "new", b"another dump", suffix=".txt", code_version="1")
    assert evaluate().passed
