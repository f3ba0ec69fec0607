"""How a run executes its steps, chosen by the deployment profile.

Embedded (the default): Dagster's in-process executor: a run's steps execute one after another
in the run's own process (work inside a step that is worth parallelising, such as a large dump,
uses a worker pool of its own). At daily snapshot sizes a process per step costs more than the
steps themselves: the backfill benchmark (``python -m benchmarks.run backfill``) halved with this
executor.
Distributed (``PAPERLAKE_PROFILE=distributed``): the ``dagster-celery`` executor; steps are queued
on the broker named by ``PAPERLAKE_CELERY_BROKER`` and run by Celery workers on any machine that
shares the instance, the warehouse and the storage (``PAPERLAKE_STORAGE``), started with
``celery -A assets.celery_worker worker``.
"""

from __future__ import annotations

import os

import dagster as dg

PROFILE_ENV = "PAPERLAKE_PROFILE"
BROKER_ENV = "PAPERLAKE_CELERY_BROKER"
BACKEND_ENV = "PAPERLAKE_CELERY_BACKEND"
DEFAULT_BROKER = "pyamqp://guest@127.0.0.1:5672//"
# The queue paperlake's workers consume; the Celery executor routes every step to it.
QUEUE = "dagster"
# How steps are delivered, for the executor and the workers alike: a step whose worker dies is
# handed to another worker, not lost, and a worker holds only the step it runs.
DELIVERY = {
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
}


def profile() -> str:
    return os.environ.get(PROFILE_ENV, "").strip() or "embedded"


def celery_settings() -> dict[str, str]:
    """Broker and result backend of the distributed profile, from the environment."""
    return {
        "broker": os.environ.get(BROKER_ENV, "").strip() or DEFAULT_BROKER,
        "backend": os.environ.get(BACKEND_ENV, "").strip() or "rpc://",
    }


def default_executor() -> dg.ExecutorDefinition:
    """The executor every job uses unless it says otherwise."""
    if profile() != "distributed":
        return dg.in_process_executor
    from dagster_celery import celery_executor

    return celery_executor.configured({**celery_settings(), "config_source": DELIVERY})
