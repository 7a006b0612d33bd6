"""GET /api/v1/me/presence reads back what PUT stored (the console's presence switch shows it after a reload)."""

from __future__ import annotations

import me_presence
import pytest

from tests.support.events import call_route


def presence(sub: str, status: str | None = None) -> tuple[int, dict]:
    if status is None:
        return call_route(me_presence, "get", "/api/v1/me/presence", {}, role="operator", sub=sub)
    return call_route(me_presence, "put", "/api/v1/me/presence", {}, role="operator", sub=sub, body={"status": status})


@pytest.mark.usefixtures("aws_env")
def test_presence_is_available_until_set_and_reads_back_what_was_set() -> None:
    assert presence("olga") == (200, {"success": True, "data": {"userId": "olga", "status": "available"}})
    assert presence("olga", "away")[0] == 200
    assert presence("olga") == (200, {"success": True, "data": {"userId": "olga", "status": "away"}})
    # one's own only: another user's is still the default
    assert presence("pavel") == (200, {"success": True, "data": {"userId": "pavel", "status": "available"}})
    assert presence("olga", "available")[0] == 200
    assert presence("olga")[1]["data"]["status"] == "available"


@pytest.mark.usefixtures("aws_env")
def test_a_presence_of_another_value_is_refused_with_the_contracts_error() -> None:
    status, body = presence("olga", "busy")
    assert status == 422 and body["error"]["code"] == "validation_error"
