"""GET /api/v1/jobs/{jobId}: a background job's status, counts and per-account outcomes."""

from typing import Annotated

from avito_service.api import Envelope, any_role, current_caller, doc, install_error_handlers, ok, rest_handler
from avito_service.cors import cors_config
from avito_service.jobs.models import Job
from avito_service.jobs.service import get_job
from avito_service.roles import Role
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Path

app = APIGatewayRestResolver(enable_validation=True, cors=cors_config())
install_error_handlers(app)

JobId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$", description="the job's id")]


@app.get(
    "/api/v1/jobs/<jobId>",
    summary="A background job: status, counts and per-account outcomes",
    tags=["Jobs"],
    responses=doc(Envelope[Job], 404),
    middlewares=[any_role],
)
def get(jobId: JobId):
    caller = current_caller(app)
    return ok(get_job(jobId, visible_to=caller.sub if caller.role == Role.OPERATOR else None))


lambda_handler = rest_handler(app)
