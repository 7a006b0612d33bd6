"""POST /api/v1/accounts/check-all-connections: a job that checks every account's connection (admin)."""

from avito_service.api import Envelope, admin_only, doc, ok, rest_app, rest_handler
from avito_service.jobs.models import JobAccepted, JobKind
from avito_service.jobs.service import start_bulk

app = rest_app()


@app.post(
    "/api/v1/accounts/check-all-connections",
    summary="Check every account's connection in the background",
    tags=["Jobs"],
    responses=doc(Envelope[JobAccepted], status=202, description="The job was created; follow it at /jobs/{jobId}"),
    middlewares=[admin_only],
)
def check_all():
    return ok(start_bulk(JobKind.CHECK_ALL_CONNECTIONS), status=202)


lambda_handler = rest_handler(app)
