"""Fetching listings over HTTP from the sources a user configures, politely and robustly.

Sources live in ``sources.yaml`` in ``PAPERLAKE_HOME`` (or the file ``PAPERLAKE_SOURCES`` names)::

    sources:
      - name: hf-daily                       # becomes the snapshot name: hf-daily-2026-11-26
        url: https://huggingface.co/api/daily_papers?date={date}   # {date} is YYYY-MM-DD
        format: daily_papers_json            # or listing_text, arxiv_jsonl
        headers: {Accept: application/json}  # optional

A fetched listing is written into the landing folder under the name a user would have dropped
it with, so it goes through exactly the same archive, naming and parser. Every request has a
timeout; 5xx answers and connection errors are retried with exponential backoff, a 429 waits for
its Retry-After; ETag/Last-Modified make an unchanged listing cost a 304; bodies over a size cap
are refused. Without a configured source nothing is fetched.
"""

from __future__ import annotations

import email.utils
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import yaml

from pipeline.artifacts import sha256_hex
from pipeline.home import FETCH_STATE, LANDING, Home
from pipeline.storage import Storage

SOURCES_ENV = "PAPERLAKE_SOURCES"
USER_AGENT = "paperlake/0.1 (trending-papers archiver; +https://github.com/paperlake)"
FORMATS = {"listing_text": ".txt", "daily_papers_json": ".json", "arxiv_jsonl": ".jsonl"}
MAX_BYTES = 64 * 1024 * 1024
ATTEMPTS = 4
FIRST_BACKOFF = 2.0
MAX_RETRY_AFTER = 600.0
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class SourceConfigError(ValueError):
    """sources.yaml is missing something or names something unknown; the message says what."""


@dataclass(frozen=True)
class Source:
    name: str
    url: str
    format: str
    headers: dict[str, str] = field(default_factory=dict)

    def url_for(self, day: date) -> str:
        return self.url.replace("{date}", day.isoformat())

    def file_name(self, day: date) -> str:
        return f"{self.name}-{day.isoformat()}{FORMATS[self.format]}"


@dataclass(frozen=True)
class FetchResult:
    """What fetching one source for one day did: ``new`` (a file landed), ``unchanged`` (304 or
    identical bytes), ``empty`` (the source has nothing that day) or ``failed``."""

    source: str
    day: date
    status: str
    message: str
    requests: int
    landed: str | None = None  # the file's name in the landing folder


def sources_file(home: Home, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env[SOURCES_ENV]) if env.get(SOURCES_ENV) else home.root / "sources.yaml"


def load_sources(home: Home, env: Mapping[str, str] | None = None) -> list[Source]:
    """The configured sources; an empty list when there is no sources file."""
    path = sources_file(home, env)
    if not path.exists():
        return []
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise SourceConfigError(f"{path}: not valid YAML ({error})") from None
    entries = document.get("sources") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise SourceConfigError(f"{path}: expected a top-level 'sources:' list")
    sources = []
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise SourceConfigError(f"{path}: source {position} is not a mapping")
        missing = [key for key in ("name", "url", "format") if not entry.get(key)]
        if missing:
            raise SourceConfigError(f"{path}: source {position} has no {', '.join(missing)}")
        if entry["format"] not in FORMATS:
            raise SourceConfigError(
                f"{path}: source {entry['name']!r} has format {entry['format']!r}; "
                f"use one of {', '.join(FORMATS)}"
            )
        if not str(entry["url"]).startswith(("http://", "https://")):
            raise SourceConfigError(f"{path}: source {entry['name']!r} needs an http(s) url")
        headers = entry.get("headers") or {}
        sources.append(
            Source(
                str(entry["name"]),
                str(entry["url"]),
                entry["format"],
                {str(k): str(v) for k, v in headers.items()},
            )
        )
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise SourceConfigError(f"{path}: source names must be unique")
    return sources


class FetchState:
    """Per-URL validators and the hash of the last body, so unchanged listings cost nothing."""

    def __init__(self, storage: Storage, name: str) -> None:
        self.storage, self.name = storage, name
        text = storage.read_text(name)
        self.entries: dict[str, dict[str, str]] = json.loads(text) if text else {}

    def get(self, url: str) -> dict[str, str]:
        return self.entries.get(url, {})

    def remember(self, url: str, **values: str) -> None:
        self.entries[url] = {k: v for k, v in values.items() if v}
        self.storage.write(self.name, json.dumps(self.entries, indent=1, sort_keys=True).encode())


class Fetcher:
    """Fetches source listings into a home's landing folder."""

    def __init__(
        self,
        home: Home,
        client: httpx.Client | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_bytes: int = MAX_BYTES,
        attempts: int = ATTEMPTS,
        first_backoff: float = FIRST_BACKOFF,
    ) -> None:
        self.home = home
        self.client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True)
        self.sleep = sleep
        self.max_bytes = max_bytes
        self.attempts = attempts
        self.first_backoff = first_backoff
        self.state = FetchState(home.shared, FETCH_STATE)

    def fetch(self, source: Source, day: date) -> FetchResult:
        """Fetch ``source`` for ``day`` and land the listing when it is new."""
        url = source.url_for(day)
        remembered = self.state.get(url)
        headers = {"User-Agent": USER_AGENT, **source.headers}
        if remembered.get("etag"):
            headers["If-None-Match"] = remembered["etag"]
        if remembered.get("last_modified"):
            headers["If-Modified-Since"] = remembered["last_modified"]
        requests = 0
        for attempt in range(1, self.attempts + 1):
            requests += 1
            wait: float | None = None
            try:
                status, response_headers, body = self._get(url, headers)
            except _TooLarge:
                return FetchResult(
                    source.name,
                    day,
                    "failed",
                    f"{url}: response over the {self.max_bytes:,}-byte cap",
                    requests,
                )
            except httpx.HTTPError as error:
                problem = f"{type(error).__name__}: {error}".strip()
                wait = self._backoff(attempt)
            else:
                if status == 304:
                    return FetchResult(
                        source.name, day, "unchanged", f"{url}: not modified (304)", requests
                    )
                if status == 200:
                    return self._land(source, day, url, response_headers, body, requests)
                problem = f"HTTP {status}"
                if status == 429:
                    wait = _retry_after(response_headers.get("retry-after"), self._backoff(attempt))
                elif status >= 500:
                    wait = self._backoff(attempt)
                else:
                    return FetchResult(source.name, day, "failed", f"{url}: {problem}", requests)
            if attempt == self.attempts:
                break
            self.sleep(wait)
        return FetchResult(
            source.name, day, "failed", f"{url}: {problem} after {requests} attempts", requests
        )

    def _backoff(self, attempt: int) -> float:
        return self.first_backoff * 2 ** (attempt - 1)

    def _get(self, url: str, headers: dict[str, str]) -> tuple[int, httpx.Headers, bytes]:
        with self.client.stream("GET", url, headers=headers) as response:
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                raise _TooLarge
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise _TooLarge
                chunks.append(chunk)
            return response.status_code, response.headers, b"".join(chunks)

    def _land(
        self,
        source: Source,
        day: date,
        url: str,
        headers: httpx.Headers,
        body: bytes,
        requests: int,
    ) -> FetchResult:
        digest = sha256_hex(body)
        validators = {
            "etag": headers.get("etag", ""),
            "last_modified": headers.get("last-modified", ""),
        }
        if not body.strip() or body.strip() in (b"[]", b"{}"):
            self.state.remember(url, sha256=digest, **validators)
            return FetchResult(
                source.name, day, "empty", f"{url}: the source lists no papers for {day}", requests
            )
        if self.state.get(url).get("sha256") == digest:
            self.state.remember(url, sha256=digest, **validators)
            return FetchResult(
                source.name, day, "unchanged", f"{url}: same listing as last time", requests
            )
        target = source.file_name(day)
        self.home.shared.child(LANDING).write(target, body)
        self.state.remember(
            url, sha256=digest, fetched_at=datetime.now(UTC).isoformat(), **validators
        )
        return FetchResult(
            source.name,
            day,
            "new",
            f"{url}: {len(body):,} bytes landed as {target}",
            requests,
            target,
        )


class _TooLarge(Exception):
    pass


def _retry_after(value: str | None, fallback: float) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped."""
    if not value:
        return fallback
    if value.strip().isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return fallback
    return min(max((moment - datetime.now(UTC)).total_seconds(), 0.0), MAX_RETRY_AFTER)
