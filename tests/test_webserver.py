"""Smoke test: the real Dagster webserver serves the asset graph, sensor and schedule."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pipeline.home import REPO_ROOT

pytestmark = pytest.mark.slow

QUERY = """
{
  assetNodes { assetKey { path } groupName description isPartitioned }
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        sensors { name sensorState { status } }
        schedules { name cronSchedule scheduleState { status } }
      }
    }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def webserver(tmp_path):
    port = _free_port()
    env = {**os.environ, "PAPERLAKE_HOME": str(tmp_path / "home"), "DAGSTER_HOME": str(REPO_ROOT)}
    command = [
        str(Path(sys.executable).with_name("dagster-webserver")),
        "-m",
        "pipeline.definitions",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    process = subprocess.Popen(
        command,
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"webserver exited: {process.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail("webserver did not answer within 120 s")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_ui_serves_assets_sensor_and_schedule(webserver):
    response = httpx.post(f"{webserver}/graphql", json={"query": QUERY}, timeout=60)
    response.raise_for_status()
    data = response.json()["data"]
    assets = {"/".join(node["assetKey"]["path"]): node for node in data["assetNodes"]}
    assert {"raw_listing", "papers", "warehouse/papers", "snapshot_report"} <= set(assets)
    assert all(node["description"] for node in assets.values())
    unpartitioned = {name for name, node in assets.items() if not node["isPartitioned"]}
    assert unpartitioned == {"trend_report", "digest_feed"}
    assert assets["source_listings"]["isPartitioned"]
    assert assets["papers"]["groupName"] == "snapshot"
    [repository] = data["repositoriesOrError"]["nodes"]
    assert {(s["name"], s["sensorState"]["status"]) for s in repository["sensors"]} == {
        ("landing_sensor", "RUNNING"),
        ("report_automation", "RUNNING"),
    }
    assert {
        (s["name"], s["cronSchedule"], s["scheduleState"]["status"])
        for s in repository["schedules"]
    } == {
        ("daily_digest", "0 7 * * *", "RUNNING"),
        ("daily_fetch", "0 6 * * *", "RUNNING"),
        ("hourly_freshness", "0 * * * *", "RUNNING"),
        ("weekly_compaction", "0 3 * * 0", "RUNNING"),
    }
