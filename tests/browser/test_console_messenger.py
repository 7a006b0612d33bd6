"""The console's richer Messenger in Chromium: images (shown, picked, pasted), voice notes, delete, blacklist."""

from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from avito_sim import AvitoSimulator
from local_runtime import LocalStack
from tests.browser.conftest import FURNITURE_USER, TECH_USER, Seeded, api
from tests.browser.test_console import messages, open_chat_as_operator
from tests.support.browser import all_of, click, tid, visible, wait_for

pytestmark = pytest.mark.browser


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG of one colour (so the browser can decode it and the simulator recognises its bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def media(sim: AvitoSimulator, stack: LocalStack, seeded: Seeded) -> Seeded:
    """A buyer's photo and voice note in Анна's chat, stored through the live listing."""
    sim.add_image_message(FURNITURE_USER, "u2i-b-anna", "u2i-b-anna-photo", png(40, 30, (200, 30, 30)), is_read=True)
    sim.add_voice_message(FURNITURE_USER, "u2i-b-anna", "u2i-b-anna-voice", "voice-anna-1", is_read=True)
    account = seeded.account_id(FURNITURE_USER)
    api(stack, "GET", f"/messenger/accounts/{account}/chats/u2i-b-anna/messages", params={"limit": 100})
    return seeded


def test_a_buyers_photo_is_shown(page: WebDriver, stack: LocalStack, sim: AvitoSimulator, media: Seeded) -> None:
    open_chat_as_operator(page, stack, media, "u2i-b-anna")
    image = visible(page, tid("message", messageId="u2i-b-anna-photo") + " " + tid("message-image"))
    assert image.get_attribute("src").startswith(sim.base_url)
    # the picture really loaded from the simulator's image host (decoded: it has its 40 px width)
    wait_for(page, lambda d: d.execute_script("return arguments[0].naturalWidth", image) == 40, "image decoded")


def test_a_voice_note_gets_a_fresh_link_on_every_play(
    page: WebDriver, stack: LocalStack, sim: AvitoSimulator, media: Seeded
) -> None:
    open_chat_as_operator(page, stack, media, "u2i-b-anna")
    voice = tid("message", messageId="u2i-b-anna-voice")
    audio = visible(page, voice + " " + tid("voice-play")) and page.find_element("css selector", voice + " audio")
    assert audio.get_attribute("src") in (None, "")
    sources = []
    for _ in range(2):
        click(page, voice + " " + tid("voice-play"))
        wait_for(page, lambda d: (s := audio.get_attribute("src")) and s not in sources, "a fresh voice link")
        sources.append(audio.get_attribute("src"))
    assert all("/voice/voice-anna-1.mp4" in src and "signature=" in src for src in sources)
    assert sources[0] != sources[1]
    assert audio.is_displayed()


def pick(page: WebDriver, path: Path) -> None:
    """Choose ``path`` in the composer's image picker (as a user does with the file dialog)."""
    page.find_element("css selector", tid("attach-input")).send_keys(str(path))


def test_an_image_picked_in_the_composer_reaches_avito_byte_for_byte(
    page: WebDriver, stack: LocalStack, sim: AvitoSimulator, seeded: Seeded, tmp_path: Path
) -> None:
    open_chat_as_operator(page, stack, seeded, "u2i-b-oleg")
    wait_for(page, messages, "the chat's messages")
    data = png(64, 48, (20, 120, 220))
    path = tmp_path / "photo.png"
    path.write_bytes(data)
    pick(page, path)
    wait_for(page, lambda d: any(t == "image" for t in _types(d)), "the sent image in the chat")
    uploads = sim.uploaded_images(TECH_USER)
    assert [upload["data"] for upload in uploads][-1:] == [data]


def test_a_pasted_image_is_sent_and_a_non_image_is_refused_with_a_message(
    page: WebDriver, stack: LocalStack, sim: AvitoSimulator, seeded: Seeded, tmp_path: Path
) -> None:
    open_chat_as_operator(page, stack, seeded, "u2i-b-igor")
    wait_for(page, messages, "the chat's messages")
    before = len(sim.uploaded_images(TECH_USER))
    data = png(8, 8, (0, 200, 0))
    page.execute_script(
        """const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], "pasted.png", { type: "image/png" }));
        document.querySelector('[data-testid="composer-input"]').dispatchEvent(
          new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }));""",
        base64.b64encode(data).decode(),
    )
    wait_for(page, lambda d: len(sim.uploaded_images(TECH_USER)) == before + 1, "the pasted image uploaded")
    wait_for(page, lambda d: "image" in _types(d), "shown in the chat")

    text_file = tmp_path / "notes.png"
    text_file.write_text("not a picture at all", encoding="utf-8")
    pick(page, text_file)
    notice = wait_for(
        page, lambda d: (n := visible(d, tid("chat-notice"))) and "Изображение не отправлено" in n.text and n, "refusal"
    )
    assert "Это не изображение" in notice.text  # the service's error code, in the console's language
    assert len(sim.uploaded_images(TECH_USER)) == before + 1


def _types(page: WebDriver) -> list[str]:
    return [el.get_attribute("data-type") or "" for el in all_of(page, tid("message"))]


def test_an_own_recent_message_can_be_deleted(
    page: WebDriver, stack: LocalStack, sim: AvitoSimulator, seeded: Seeded
) -> None:
    open_chat_as_operator(page, stack, seeded, "u2i-b-xss")
    wait_for(page, messages, "the chat's messages")
    # the buyer's message and the old own one offer no delete; a fresh own message does
    assert all_of(page, tid("message", direction="in") + " " + tid("delete-message")) == []
    box = visible(page, tid("composer-input"))
    box.send_keys("Ошибся чатом")
    click(page, tid("send"))
    sent = wait_for(page, lambda d: next((m for m, _, t in messages(d) if "Ошибся чатом" in t), None), "sent")
    row = tid("message", messageId=sent)
    click(page, row + " " + tid("delete-message"))
    click(page, row + " " + tid("confirm-delete"))
    wait_for(page, lambda d: visible(d, row).get_attribute("data-type") == "deleted", "shown as deleted")
    assert "Сообщение удалено" in visible(page, row).text
    stored = api(stack, "GET", "/chats/u2i-b-xss/messages", role="operator", params={"limit": 100})
    assert [m["type"] for m in stored if m["id"] == sent] == ["deleted"]


def test_blocking_the_client_blacklists_them_at_avito(
    page: WebDriver, stack: LocalStack, sim: AvitoSimulator, seeded: Seeded
) -> None:
    open_chat_as_operator(page, stack, seeded, "u2i-b-igor")
    chat = sim.chat(TECH_USER, "u2i-b-igor")
    click(page, tid("blacklist"))
    dialog = visible(page, tid("blacklist-dialog"))
    dialog.find_element("css selector", 'option[value="insults"]').click()
    click(page, tid("blacklist-confirm"))
    wait_for(page, lambda d: "заблокирован" in visible(d, tid("chat-notice")).text, "confirmation")
    client_user_id = next(u["id"] for u in chat["users"] if u["id"] != TECH_USER)
    assert [(e["user_id"], e["reason_id"]) for e in sim.blacklisted(TECH_USER)] == [(client_user_id, 3)]
