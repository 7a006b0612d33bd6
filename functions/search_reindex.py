"""POST /api/v1/search/reindex: a job that indexes every account's stored chats for search (admin)."""

from avito_service.api import Envelope, admin_only, doc, ok, rest_app, rest_handler
from avito_service.jobs.models import JobAccepted, JobKind
from avito_service.jobs.service import start_bulk

app = rest_app()


@app.post(
    "/api/v1/search/reindex",
    summary="Index every account's stored chats for search, in the background",
    description="Run once after deploying search over existing data (new messages are indexed as they are "
    "stored); safe to run again: indexing is idempotent.",
    tags=["Search"],
    responses=doc(Envelope[JobAccepted], status=202, description="The job was created; follow it at /jobs/{jobId}"),
    middlewares=[admin_only],
)
def reindex():
    return ok(start_bulk(JobKind.SEARCH_INDEX), status=202)


lambda_handler = rest_handler(app)
