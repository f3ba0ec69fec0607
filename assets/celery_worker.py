"""The Celery application paperlake's workers run (distributed profile)::

    celery -A assets.celery_worker worker -Q dagster --concurrency 1

It is dagster-celery's application with the broker and backend from ``PAPERLAKE_CELERY_BROKER`` /
``PAPERLAKE_CELERY_BACKEND`` and the same delivery settings as the executor, so a worker's
settings cannot drift from what the runs expect.
"""

from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_execute_job_task, create_resume_job_task, create_task

from assets.executors import celery_settings

app = make_app()
app.conf.update(
    broker_url=celery_settings()["broker"],
    result_backend=celery_settings()["backend"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
)

execute_plan = create_task(app)
execute_job = create_execute_job_task(app)
resume_job = create_resume_job_task(app)
