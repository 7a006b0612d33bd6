"""scripts.demo's setup on ephemeral ports: the demo account is connected and its chats are stored."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from scripts.demo import DEMO_CHAT, setup

pytestmark = pytest.mark.e2e


def test_demo_setup(tmp_path: Path) -> None:
    demo = setup(0, 0, 0, schedule_seconds=3600, log_file=tmp_path / "demo.log")
    try:
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
