"""scripts.demo's setup on ephemeral ports: the demo account is connected and its chats are stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from local_runtime.cli import first_admin, first_admin_lines
from scripts.demo import DEMO_CHAT, _print_summary, setup

pytestmark = pytest.mark.e2e


def test_demo_setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = setup(0, 0, 0, schedule_seconds=3600, log_file=tmp_path / "demo.log")
    try:
        check_signed_in_as_the_first_admin(demo, capsys)
        headers = {"Authorization": f"Bearer {demo.token}"}
        base = demo.stack.api_url + "/api/v1"
        account = requests.get(f"{base}/accounts/{demo.account['id']}", headers=headers, timeout=30).json()["data"]
        assert account["connectionStatus"] == "connected" and account["userId"] == "1001"
        assert account["balanceReal"] == 152050 and account["webhookSubscribed"] is True
        stored = requests.get(
            f"{base}/chats", params={"accountId": account["id"], "limit": 100}, headers=headers, timeout=30
        ).json()["data"]
        assert DEMO_CHAT in {chat["id"] for chat in stored} and len(stored) == len(demo.chats) == 5
        messages = requests.get(f"{base}/chats/{DEMO_CHAT}/messages", headers=headers, timeout=30).json()["data"]
        assert [m["type"] for m in messages] == ["text", "text", "text", "image", "voice"]
        image = requests.get(next(iter(messages[3]["content"]["image"]["sizes"].values())), timeout=30)
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
        voice_id = messages[4]["content"]["voice"]["voice_id"]
        links = requests.post(
            f"{base}/messenger/accounts/{account['id']}/voice-files",
            json={"voiceIds": [voice_id]},
            headers=headers,
            timeout=30,
        ).json()["data"]
        assert requests.get(links[voice_id], timeout=30).status_code == 200
        lines = demo.curl_lines()
        assert len(lines) == 8 and all(line.startswith("curl ") and "Bearer $TOKEN" in line for line in lines)
    finally:
        demo.stop()


def check_signed_in_as_the_first_admin(demo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The demo works as the pool's first admin (created like ``make run`` creates it), signed in with its password;
    what it prints names the console, the e-mail and the password; ``make run``'s lines say the same."""
    base = demo.stack.api_url + "/api/v1"
    assert demo.admin["created"] is True and demo.admin["email"] == "admin@example.com" and demo.admin["password"]
    assert jwt.get_unverified_header(demo.token)["alg"] == "RS256"  # a Cognito access token, not the HS256 link's
    headers = {"Authorization": f"Bearer {demo.token}"}
    me = requests.get(f"{base}/me", headers=headers, timeout=30).json()["data"]
    assert (me["email"], me["role"]) == (demo.admin["email"], "admin")
    audit = requests.get(f"{base}/audit", headers=headers, timeout=30).json()["data"]
    target = f"account:{demo.account['id']}"
    created = [e for e in audit if e["target"] == target and e["action"] == "account.create"]
    assert [(e["userId"], e["userName"]) for e in created] == [(me["id"], "Admin")], audit

    _print_summary(demo)
    printed = capsys.readouterr().out
    assert f"{demo.stack.api_url}/console/  (sign in as admin@example.com / {demo.admin['password']})" in printed
    assert f"export TOKEN={demo.token}" in printed and f"/console/#token={demo.console_token}" in printed
    signed_in = requests.post(
        f"{base}/auth/login", json={"email": demo.admin["email"], "password": demo.admin["password"]}, timeout=30
    )
    assert signed_in.status_code == 200 and signed_in.json()["data"]["user"]["role"] == "admin"

    lines = first_admin_lines(demo.admin, demo.stack.api_url)  # what `make run` prints for an empty pool
    assert lines[0] == f"First admin of the user pool: admin@example.com / {demo.admin['password']}"
    again = first_admin(demo.stack)  # `make run` on a pool with users: creates nobody, prints no password
    assert again == {"created": False, "email": "admin@example.com", "password": None}
    assert "has users already" in first_admin_lines(again, demo.stack.api_url)[0]
