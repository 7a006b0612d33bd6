"""GET /api/v1/chats: stored chats, newest activity first, paginated (any role; from storage, never Avito).

The workflow's filters (``status``, ``assignee``, ``awaitingReply``, ``tag``) are answered by the workflow's
indexes (workflow.store, workflow.listing.list_chats)."""

from typing import Annotated, Literal

from avito_service.api import Cursor, Limit, Page, any_role, current_caller, doc, ok, rest_app, rest_handler
from avito_service.messenger.models import Chat
from avito_service.workflow import listing
from aws_lambda_powertools.event_handler.openapi.params import Query

app = rest_app()

AccountFilter = Annotated[
    str | None, Query(alias="accountId", min_length=1, max_length=64, description="only this account's chats")
]
UnreadOnly = Annotated[bool, Query(alias="unreadOnly", description="only chats with unread incoming messages")]
StatusFilter = Annotated[Literal["new", "open", "closed"] | None, Query(alias="status", description="only this status")]
AssigneeFilter = Annotated[
    str | None,
    Query(
        alias="assignee",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9-]+$",
        description="`me`, `none` (nobody has it) or a user id",
    ),
]
AwaitingReply = Annotated[
    bool, Query(alias="awaitingReply", description="true: only chats that need a reply, longest waiting first")
]
TagFilter = Annotated[
    str | None, Query(alias="tag", min_length=1, max_length=32, description="only chats with this tag")
]


@app.get(
    "/api/v1/chats",
    summary="List stored chats",
    description="Newest activity first; with `awaitingReply=true`, longest waiting first. Filters combine.",
    tags=["Stored chats"],
    responses=doc(Page[Chat]),
    middlewares=[any_role],
)
def list_chats(  # noqa: PLR0917 - the query parameters, as Powertools passes them
    account_id: AccountFilter = None,
    unread_only: UnreadOnly = False,
    status: StatusFilter = None,
    assignee: AssigneeFilter = None,
    awaiting_reply: AwaitingReply = False,
    tag: TagFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
):
    caller = current_caller(app)
    chats, next_cursor = listing.list_chats(
        caller_id=caller.sub,
        account_id=account_id,
        unread_only=unread_only,
        status=status,
        assignee=assignee,
        awaiting=awaiting_reply,
        tag=tag,
        limit=limit,
        cursor=cursor,
        only=caller.account_ids,
    )
    return ok(chats, next_cursor=next_cursor)


lambda_handler = rest_handler(app)
