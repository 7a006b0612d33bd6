"""DELETE /api/v1/users/{id}: remove a user from the pool (admin; never the last enabled admin)."""

from avito_service.api import Envelope, admin_only, current_caller, doc, install_error_handlers, ok, rest_handler
from avito_service.audit import service as audit
from avito_service.cors import cors_config
from avito_service.users import service
from avito_service.users.models import User, UserId
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver(enable_validation=True, cors=cors_config())
install_error_handlers(app)


@app.delete(
    "/api/v1/users/<id>",
    summary="Delete a user",
    tags=["Users"],
    responses=doc(Envelope[User], 404, 409),
    middlewares=[admin_only],
)
def delete_user(id: UserId):
    user = service.delete_user(id)
    caller = current_caller(app)
    audit.record(caller.sub, caller.name, "user.delete", f"user:{id}", {"email": user.email, "role": user.role})
    return ok(user)


lambda_handler = rest_handler(app)
