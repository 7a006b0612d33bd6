"""Create the first admin of the user pool when it has no user yet; prints ``{"created", "email", "password"}``.

``make run`` runs it against the local stack (local_runtime/cli.py) with LOCAL_ADMIN_EMAIL / LOCAL_ADMIN_PASSWORD
(default admin@example.com and a generated password). It uses the service's own code
(``users.service.ensure_first_admin``: Cognito user with a permanent password in the ``admin`` group, and its
UsersTable record), so it also works against a deployed stack: set USERS_TABLE, USER_POOL_ID and
USER_POOL_CLIENT_ID from the stack's outputs (DEPLOYMENT.md, "The first admin").
"""

from __future__ import annotations

import json
import os
import sys

from avito_service.users import pool, service

DEFAULT_EMAIL = "admin@example.com"


def main() -> int:
    email = (os.environ.get("LOCAL_ADMIN_EMAIL") or DEFAULT_EMAIL).strip().lower()
    password = os.environ.get("LOCAL_ADMIN_PASSWORD") or pool.generated_password()
    created = service.ensure_first_admin(email, password, os.environ.get("LOCAL_ADMIN_NAME") or "Admin")
    answer = {"created": created, "email": email, "password": password if created else None}
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
