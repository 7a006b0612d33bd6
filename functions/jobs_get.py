"""GET /api/v1/jobs/{jobId}: a background job's status and counts, with its per-account outcomes a page at a time
(``limit``/``cursor``; ``nextCursor`` beside ``data``, null on the last page)."""

from typing import Annotated, Literal

from avito_service.api import Cursor, Limit, any_role, current_caller, doc, ok, rest_app, rest_handler
from avito_service.base import Model
from avito_service.jobs.models import Job
from avito_service.jobs.service import get_job
from avito_service.roles import Role
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import Field

app = rest_app()


class JobPage(Model):
    success: Literal[True] = True
    data: Job
    nextCursor: str | None = Field(description="cursor of the next page of outcomes; null on the last page")


JobId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$", description="the job's id")]


@app.get(
    "/api/v1/jobs/<jobId>",
    summary="A background job: status, counts and per-account outcomes",
    tags=["Jobs"],
    responses=doc(JobPage, 404),
    middlewares=[any_role],
)
def get(jobId: JobId, limit: Limit = 50, cursor: Cursor = None):
    caller = current_caller(app)
    visible_to = caller.sub if caller.role == Role.OPERATOR else None
    job, next_cursor = get_job(jobId, limit, cursor, visible_to=visible_to)
    return ok(job, next_cursor=next_cursor)


lambda_handler = rest_handler(app)
