"""The contract's roles (no imports: the REST handlers, the authorizer and the WebSocket functions share it)."""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    DIRECTOR = "director"


ALL_ROLES = frozenset(Role)
