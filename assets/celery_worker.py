"""The Celery application paperlake's workers run (distributed profile)::

    celery -A assets.celery_worker worker -Q dagster --concurrency 1

It is dagster-celery's application with the broker and backend from ``PAPERLAKE_CELERY_BROKER`` /
``PAPERLAKE_CELERY_BACKEND`` and the same delivery settings as the executor, so a worker's
settings cannot drift from what the runs expect.
"""

from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_execute_job_task, create_resume_job_task, create_task

from assets.executors import DELIVERY, celery_settings

settings = celery_settings()
app = make_app()
app.conf.update(broker_url=settings["broker"], result_backend=settings["backend"], **DELIVERY)

execute_plan = create_task(app)
execute_job = create_execute_job_task(app)
resume_job = create_resume_job_task(app)
