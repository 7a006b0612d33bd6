"""PUT /api/v1/accounts/{id}/auto-replies: change the greeting, the out-of-hours reply or the working hours (admin).

The parts given replace the stored ones; the change is written to the audit log (texts and calendar included:
they hold no secret)."""

from avito_service.api import AccountId, Envelope, admin_only, current_caller, doc, ok, rest_app, rest_handler
from avito_service.audit import service as audit
from avito_service.autoreplies import service
from avito_service.autoreplies.models import AutoReplies, AutoRepliesUpdate

app = rest_app()


@app.put(
    "/api/v1/accounts/<id>/auto-replies",
    summary="Change an account's automatic replies",
    description="greeting, outOfHours and workingHours are each replaced when given and kept when left out.",
    tags=["Automatic replies"],
    responses=doc(Envelope[AutoReplies], 400, 404),
    middlewares=[admin_only],
)
def update_auto_replies(id: AccountId, body: AutoRepliesUpdate):
    caller = current_caller(app)
    settings, changes = service.update_auto_replies(id, body, by=caller.sub)
    audit.record(caller.sub, caller.name, "auto_replies.update", f"account:{id}", changes)
    return ok(settings)


lambda_handler = rest_handler(app)
