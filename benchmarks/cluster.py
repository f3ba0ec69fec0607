"""Real Dagster deployments on this machine, for the benchmarks and the distributed tests.

``Deployment`` drives a code server, a daemon and the ``dagster`` CLI against one instance and
home, as ``paperlake dev`` runs them (one long-lived code server that the daemon and the CLI
share): it stops the landing sensors (a backfill should be the only source of runs), submits a
backfill of ``snapshot_job`` partitions and waits for its runs. ``Cluster`` is the distributed
profile on loopback services: fresh PostgreSQL databases for the instance and the DuckLake
catalog, an S3 server (moto) for the warehouse's data files and the shared state
(``PAPERLAKE_STORAGE``), and real Celery workers, each with a local home of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pipeline.home import HOME_ENV, REPO_ROOT, resolve_home

BIN = Path(sys.executable).parent
DEFINITIONS = ("-m", "pipeline.definitions")
SERVICES = {"PostgreSQL": 5432, "RabbitMQ": 5672}
DISTRIBUTED_PACKAGES = ("dagster_celery", "dagster_postgres", "moto", "psycopg2", "boto3")
# A backfill says how far it got this often, so a half-hour benchmark is not a silent one.
PROGRESS_EVERY_S = 60


def reachable(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def missing_for_cluster() -> list[str]:
    """What this machine lacks to run a ``Cluster``: services and Python packages."""
    missing = [
        f"{name} on 127.0.0.1:{port}" for name, port in SERVICES.items() if not reachable(port)
    ]
    for module in DISTRIBUTED_PACKAGES:
        try:
            __import__(module)
        except ImportError:
            missing.append(f"Python package {module} (pip install -e '.[dev,distributed]')")
    return missing


def wait_until(
    condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.5
) -> Any:
    """The first truthy value of ``condition()``, polled until ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres(sql: str) -> None:
    """Run one statement as the local ``postgres`` superuser (trust authentication)."""
    import psycopg2

    con = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    con.autocommit = True
    with con.cursor() as cursor:
        cursor.execute(sql)
    con.close()


class Deployment:
    """A Dagster instance and paperlake home, driven through real processes."""

    def __init__(self, root: Path, env: Mapping[str, str]) -> None:
        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env = dict(env)
        self.home = resolve_home(self.env).ensure()
        self.processes: dict[str, subprocess.Popen] = {}
        self._workspace: tuple[str, ...] = ()

    def workspace(self) -> tuple[str, ...]:
        """The CLI arguments that point the daemon and the CLI at the deployment's code server,
        started on first use. A daemon given the module instead would start a code server of
        its own and replace it every minute (re-importing the code location each time), and
        every CLI command would start another."""
        if not self._workspace:
            port = _free_port()
            server = self.start(
                "code-server", str(BIN / "dagster"), "code-server", "start", *DEFINITIONS,
                "-h", "127.0.0.1", "-p", str(port),
            )  # fmt: skip

            def serving() -> bool:
                if server.poll() is not None:
                    tail = " | ".join(self.log("code-server").strip().splitlines()[-3:])
                    raise RuntimeError(f"the code server exited at start: {tail}")
                return reachable(port)

            wait_until(serving, 120, "the code server")
            workspace = self.root / "workspace.yaml"
            location = {"host": "127.0.0.1", "port": port, "location_name": DEFINITIONS[1]}
            # JSON is YAML: the workspace file needs no YAML writer
            workspace.write_text(json.dumps({"load_from": [{"grpc_server": location}]}))
            self._workspace = ("-w", str(workspace))
        return self._workspace

    def start(
        self, name: str, *command: str, env: Mapping[str, str] | None = None
    ) -> subprocess.Popen:
        """Start a long-running process (its own session, so its children stop with it), with
        the deployment's environment updated by ``env``."""
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def kill(self, name: str) -> None:
        """SIGKILL a process and everything it started."""
        os.killpg(self.processes[name].pid, signal.SIGKILL)

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def cli(self, *command: str) -> str:
        done = subprocess.run(
            [str(BIN / "dagster"), *command, *self.workspace()],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"dagster {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def instance(self):
        """The deployment's Dagster instance, opened in this process."""
        import dagster as dg
        from dagster._core.instance.ref import InstanceRef

        from pipeline.batches import environment

        storage = {k: v for k, v in self.env.items() if k.startswith(("PAPERLAKE_", "AWS_"))}
        with environment(storage):
            ref = InstanceRef.from_dir(self.env["DAGSTER_HOME"])
            return dg.DagsterInstance.from_ref(ref)

    def prepare_backfill(self, dumps: list[Path]) -> list[str]:
        """Land the dumps, register their partitions, stop the sensors, start the daemon."""
        from pipeline.home import LANDING
        from pipeline.landing import snapshot_key

        landing = self.home.shared.child(LANDING)
        for dump in dumps:
            landing.write(dump.name, dump.read_bytes())
        keys = [snapshot_key(d.name) for d in dumps]
        # The landing sensor would request its own runs for the landed files: this is a backfill.
        for sensor in ("landing_sensor", "report_automation"):
            self.cli("sensor", "stop", sensor)
        with self.instance() as instance:
            instance.add_dynamic_partitions("snapshots", keys)
        self.start("daemon", str(BIN / "dagster-daemon"), "run", *self.workspace())
        return keys

    def backfill(self, keys: list[str], during: Callable[[], None] = lambda: None) -> float:
        """Backfill ``snapshot_job`` over ``keys``; ``during`` runs once it is submitted. Returns
        the wall time until every run finished; raises if any failed."""
        import dagster as dg

        with self.instance() as instance:
            start = time.perf_counter()
            self.cli(
                "job",
                "backfill",
                "-j",
                "snapshot_job",
                "--partitions",
                ",".join(keys),
                "--noprompt",
            )
            during()

            reported = [start]
            ended = [
                dg.DagsterRunStatus.SUCCESS,
                dg.DagsterRunStatus.FAILURE,
                dg.DagsterRunStatus.CANCELED,
            ]

            # Counting, not loading every run each second: the poll must not take the CPU the
            # backfill it measures runs on.
            def finished() -> bool:
                done = instance.get_runs_count(
                    dg.RunsFilter(job_name="snapshot_job", statuses=ended)
                )
                if time.perf_counter() - reported[0] >= PROGRESS_EVERY_S:
                    reported[0] = time.perf_counter()
                    elapsed = reported[0] - start
                    print(f"  {done} of {len(keys)} runs finished ({elapsed:.0f} s)", flush=True)
                # a failed run's retry is a run of its own, counted once it exists
                runs = instance.get_runs_count(dg.RunsFilter(job_name="snapshot_job"))
                return done >= len(keys) and done == runs

            wait_until(
                finished, max(1800, 60 * len(keys)), "the backfill's runs to finish", interval=1
            )
            seconds = time.perf_counter() - start
            runs = instance.get_runs(dg.RunsFilter(job_name="snapshot_job"))
            failed = sorted(r.tags.get("dagster/partition", "?") for r in runs if not r.is_success)
            if failed:
                raise RuntimeError(f"backfill runs failed for {failed}; see {self.logs}")
        return seconds

    def time_spent(self) -> dict[str, float]:
        """Where the snapshot runs' wall time went, from the instance's run and step stats:
        mean seconds per run from launch to end, inside steps, and per step (the steps' key
        with the longest mean first)."""
        import statistics

        import dagster as dg

        with self.instance() as instance:
            runs = instance.get_runs(dg.RunsFilter(job_name="snapshot_job"))
            walls, inside, per_step = [], [], {}
            for run in runs:
                stats = instance.get_run_stats(run.run_id)
                if stats.launch_time and stats.end_time:
                    walls.append(stats.end_time - stats.launch_time)
                steps = instance.get_run_step_stats(run.run_id)
                durations = [
                    (step.step_key, step.end_time - step.start_time)
                    for step in steps
                    if step.start_time and step.end_time
                ]
                inside.append(sum(seconds for _, seconds in durations))
                for key, seconds in durations:
                    per_step.setdefault(key, []).append(seconds)
        spent = {
            "run wall s": statistics.mean(walls) if walls else 0.0,
            "inside steps s": statistics.mean(inside) if inside else 0.0,
        }
        means = {key: statistics.mean(values) for key, values in per_step.items()}
        for key, seconds in sorted(means.items(), key=lambda item: -item[1]):
            spent[f"{key} s"] = seconds
        return spent

    def stop(self) -> None:
        """Stop every process, then kill what they left behind in their sessions (a Celery
        worker's pool process, a daemon's code server)."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


class Cluster(Deployment):
    """The distributed profile on loopback: PostgreSQL, RabbitMQ, an S3 server, Celery workers."""

    def __init__(self, root: Path) -> None:
        tag = uuid.uuid4().hex[:8]
        self.tag = tag
        self.databases = (f"pl_dagster_{tag}", f"pl_lake_{tag}")
        self.bucket = f"paperlake-{tag}"
        self.s3_port = _free_port()
        super().__init__(
            root,
            {
                **os.environ,
                "PAPERLAKE_PROFILE": "distributed",
                HOME_ENV: str(root / "home"),
                "DAGSTER_HOME": str(REPO_ROOT / "deploy" / "distributed"),
                "PAPERLAKE_POSTGRES_URL": (
                    f"postgresql+psycopg2://postgres@127.0.0.1:5432/{self.databases[0]}"
                ),
                "PAPERLAKE_CATALOG": f"postgres:dbname={self.databases[1]} host=127.0.0.1 user=postgres",
                "PAPERLAKE_DATA_PATH": f"s3://{self.bucket}/warehouse/",
                "PAPERLAKE_STORAGE": f"s3://{self.bucket}/home",
                "PAPERLAKE_S3_ENDPOINT": f"127.0.0.1:{self.s3_port}",
                "PAPERLAKE_CELERY_BROKER": "pyamqp://guest@127.0.0.1:5672//",
                "AWS_ACCESS_KEY_ID": "paperlake",
                "AWS_SECRET_ACCESS_KEY": "paperlake",
                "AWS_REGION": "us-east-1",
            },
        )

    def __enter__(self) -> Cluster:
        import boto3

        for database in self.databases:
            postgres(f"CREATE DATABASE {database}")
        try:
            self.start("s3", str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.s3_port))
            wait_until(lambda: reachable(self.s3_port), 30, "the S3 server")
            boto3.client(
                "s3",
                endpoint_url=f"http://127.0.0.1:{self.s3_port}",
                region_name="us-east-1",
                aws_access_key_id="paperlake",
                aws_secret_access_key="paperlake",
            ).create_bucket(Bucket=self.bucket)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        for database in self.databases:
            postgres(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")

    def start_workers(self, count: int) -> list[str]:
        """Start ``count`` Celery workers (one step at a time each), each with a home of its own
        as on a separate machine: what steps share is in PostgreSQL and S3. Returns their names."""
        names = [f"worker{i + 1}" for i in range(count)]
        for name in names:
            self.start(
                name,
                str(BIN / "celery"), "-A", "assets.celery_worker", "worker", "-Q", "dagster",
                "--concurrency", "1", "-n", f"{name}-{self.tag}@%h", "--loglevel", "INFO",
                env={HOME_ENV: str(self.worker_home(name))},
            )  # fmt: skip

        def ready() -> bool:
            for name in names:
                if self.processes[name].poll() is not None:
                    tail = self.log(name).strip().splitlines()[-3:]
                    raise RuntimeError(f"Celery {name} exited at start: " + " | ".join(tail))
            return all("ready." in self.log(n) for n in names)

        wait_until(ready, 120, "the workers")
        return names

    def worker_home(self, name: str) -> Path:
        return self.root / f"{name}-home"

    def warehouse_env(self) -> dict[str, str]:
        """The variables a process needs to open this cluster's warehouse."""
        return {k: v for k, v in self.env.items() if k.startswith(("PAPERLAKE_", "AWS_"))}
