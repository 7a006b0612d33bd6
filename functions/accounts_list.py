"""GET /api/v1/accounts: accounts in creation order, paginated (any role; never with secrets)."""

from avito_service.accounts import service
from avito_service.accounts.models import Account
from avito_service.api import Cursor, Limit, Page, any_role, current_caller, doc, ok, rest_app, rest_handler

app = rest_app()


@app.get(
    "/api/v1/accounts", summary="List accounts", tags=["Accounts"], responses=doc(Page[Account]), middlewares=[any_role]
)
def list_accounts(limit: Limit = 50, cursor: Cursor = None):
    accounts, next_cursor = service.list_accounts(limit, cursor, only=current_caller(app).account_ids)
    return ok(accounts, next_cursor=next_cursor)


lambda_handler = rest_handler(app)
