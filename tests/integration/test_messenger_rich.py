"""The richer Messenger (issue 15) against the simulator over HTTP, one account behind a real SOCKS5 proxy with a login.

Images (multipart through API Gateway's base64 body, the exact bytes at the simulator, 413/415), voice-file links
(fresh on every call, never stored), deleting an own message (409 otherwise), blacklist (reasons mapped to Avito's
ids), one chat live, ``chatTypes``; validation errors never reach Avito; every role may use all of it.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import time
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import boto3
import chats_get
import chats_messages
import messenger_blacklist
import messenger_chat_get
import messenger_chats
import messenger_delete_message
import messenger_images
import messenger_messages
import messenger_voice_files
import pytest
import requests
from avito_service import clock
from avito_service.accounts import service
from avito_service.accounts.models import AccountCreate

from avito_sim import AvitoSimulator
from tests.support.caches import reset_caches
from tests.support.events import FakeContext, api_event, call_route
from tests.support.proxies import ProxyServer, start_proxies

USER_ID = 6160
CLIENT = 9161
ROLES = ("admin", "operator", "director")
CHAT = "u2i-rich-1"
CHAT_U2U = "u2u-rich-2"
CHAT_A2U = "a2u-rich-3"
BASE = "/api/v1/messenger/accounts/{accountId}"


def png(payload: bytes = b"") -> bytes:
    """A valid PNG (1x1 pixel) with ``payload`` in an ancillary chunk, so its size and bytes are ours to choose."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + (chunk(b"tEXt", payload) if payload else b"")
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def png_of_size(size: int) -> bytes:
    """A PNG of exactly ``size`` bytes, with bytes that look like multipart boundaries and CRLFs inside."""
    bare = len(png(b"x")) - 1
    filler = (b"\r\n--boundary\r\n\x00\xff" + os.urandom(64)) * (size // 76 + 1)
    return png(filler[: size - bare])


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 4 + b"\xff\xd9"
GIF = (  # a 1x1 GIF
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
BMP = (
    b"BM"
    + struct.pack("<IHHI", 58, 0, 0, 54)
    + struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 24, 0, 4, 0, 0, 0, 0)
    + b"\x00\x00\xff\x00"
)
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64


def multipart_body(
    parts: list[tuple[str, str | None, bytes, str]], boundary: str = "----avito-test-boundary"
) -> tuple[bytes, str]:
    """(body, Content-Type) of a multipart/form-data form: parts are (field, filename or None, data, type)."""
    lines = b""
    for name, filename, data, content_type in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        lines += f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: {content_type}\r\n\r\n".encode()
        lines += data + b"\r\n"
    return lines + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload(
    account_id: str,
    chat_id: str,
    body: bytes,
    content_type: str,
    *,
    role: str = "operator",
    base64_encoded: bool = True,
    key: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """POST .../images as API Gateway delivers it: multipart/form-data is a binary media type (base64 body)."""
    resource = BASE + "/chats/{chatId}/images"
    params = {"accountId": account_id, "chatId": chat_id}
    event = api_event("POST", resource.format(**params), resource=resource, path_parameters=params, role=role)
    event["headers"]["Content-Type"] = content_type
    event["multiValueHeaders"]["Content-Type"] = [content_type]
    if key is not None:
        event["headers"]["Idempotency-Key"] = key
        event["multiValueHeaders"]["Idempotency-Key"] = [key]
    event["body"] = base64.b64encode(body).decode() if base64_encoded else body.decode()
    event["isBase64Encoded"] = base64_encoded
    result = messenger_images.lambda_handler(event, FakeContext())
    return result["statusCode"], json.loads(result["body"])


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account("rich-cid", "rich-secret", USER_ID, name="Rich shop")
    simulator.add_account("other-cid", "other-secret", USER_ID + 1, name="Other shop")
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def proxy() -> Iterator[ProxyServer]:
    # SOCKS5: a tunnel, as every proxy kind is for Avito's HTTPS. (The simulator speaks plain HTTP, which an HTTP
    # proxy forwards instead of tunnelling, and pproxy's forwarding drops request bodies over 64 KB; the image
    # test of every proxy kind below stays under that.)
    server = ProxyServer("socks5", "rich-proxy-user", "rich:proxy@pass").start()
    yield server
    server.stop()


def seed_chats(sim: AvitoSimulator) -> None:
    """Fresh chats for each test (the simulator lives for the module, moto for one test)."""
    account = sim.account(USER_ID)
    account.chats.clear()
    account.blacklist.clear()
    now = int(time.time())
    sim.add_chat(USER_ID, CHAT, item_id=501, item_title="Холодильник", client_name="Анна", client_user_id=CLIENT)
    sim.add_chat(USER_ID, CHAT_U2U, chat_type="u2u", client_name="Игорь", client_user_id=CLIENT + 1)
    sim.add_chat(USER_ID, CHAT_A2U, chat_type="a2u", client_name="Avito", client_user_id=CLIENT + 2)
    sim.add_message(USER_ID, CHAT, "in-1", "Сломался холодильник", created=now - 600)
    sim.add_message(USER_ID, CHAT, "out-old", "Пришлите фото", direction="out", created=now - 2 * 3600)
    sim.add_message(USER_ID, CHAT, "out-new", "Сейчас посмотрю", direction="out", created=now - 60)
    sim.add_voice_message(
        USER_ID, CHAT, "voice-1", "voice-abc", audio=b"\x00\x00\x00\x18ftypmp42opus", created=now - 30
    )
    sim.add_voice_message(USER_ID, CHAT, "voice-2", "voice-def", created=now - 20)


@pytest.fixture
def account_id(
    sim: AvitoSimulator, proxy: ProxyServer, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    monkeypatch.setenv("AVITO_READ_TIMEOUT", "3")
    reset_caches()
    seed_chats(sim)
    sim.clear_requests()
    sim.clear_uploads()
    sim.clear_faults()
    body = {"name": "Rich", "clientId": "rich-cid", "clientSecret": "rich-secret", **proxy.settings()}
    account = service.create_account(AccountCreate(**body)).id
    return account


def route(module: Any, method: str, tail: str, account_id: str, role: str = "operator", **kwargs: Any) -> Any:
    """Call a handler for ``BASE + tail`` with the path parameters filled in (``chatId``/``messageId`` in kwargs)."""
    params = {"accountId": account_id, **kwargs.pop("params", {})}
    return call_route(module, method, BASE + tail, params, role=role, **kwargs)


def avito_calls(sim: AvitoSimulator) -> list[str]:
    """Every Avito call but the token, as "METHOD path"."""
    return [f"{r.method} {r.path}" for r in sim.requests if r.path != "/token"]


# --- images ------------------------------------------------------------------------------------------------


def test_image_bytes_reach_avito_through_the_proxy_and_the_message_is_stored(
    sim: AvitoSimulator, proxy: ProxyServer, account_id: str
) -> None:
    image = png_of_size(300_000)
    body, content_type = multipart_body([("file", "фото поломки.PNG", image, "application/octet-stream")])
    proxy.log.clear()
    status, answer = upload(account_id, CHAT, body, content_type)
    assert status == 200, answer
    message = answer["data"]
    assert (message["type"], message["direction"], message["chatId"]) == ("image", "out", CHAT)
    sizes = message["content"]["image"]["sizes"]
    assert sizes and all(url.startswith(sim.base_url) for url in sizes.values())

    uploads = [r for r in sim.requests if r.path.endswith("/uploadImages")]
    assert len(uploads) == 1 and uploads[0].files is not None
    assert uploads[0].files["uploadfile[]"] == [image]  # the exact bytes, through the proxy
    assert uploads[0].headers["content-type"].startswith("multipart/form-data")
    assert [i["data"] for i in sim.uploaded_images(USER_ID)] == [image]
    assert any(str(sim.port) in line for line in proxy.log), proxy.log  # the proxy carried the calls to Avito
    sent = [m for m in sim.sent_messages(USER_ID) if m["type"] == "image"]
    assert [m["chat_id"] for m in sent] == [CHAT]

    # Avito serves the image at its sizes; the stored message keeps Avito's content unchanged
    assert requests.get(next(iter(sizes.values())), timeout=5).content == image
    stored = call_route(chats_messages, "GET", "/api/v1/chats/{chatId}/messages", {"chatId": CHAT})[1]["data"]
    assert [(m["id"], m["type"], m["content"]) for m in stored if m["type"] == "image"] == [
        (message["id"], "image", message["content"])
    ]
    chat = call_route(chats_get, "GET", "/api/v1/chats/{chatId}", {"chatId": CHAT})[1]["data"]
    assert chat["lastMessage"]["id"] == message["id"] and chat["lastMessage"]["type"] == "image"


@pytest.fixture(scope="module")
def every_proxy() -> Iterator[tuple[dict[str, ProxyServer], Any]]:
    servers, cert = start_proxies()
    yield servers, cert
    for server in servers.values():
        server.stop()


def test_an_image_goes_through_every_kind_of_proxy(
    sim: AvitoSimulator,
    account_id: str,
    every_proxy: tuple[dict[str, ProxyServer], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    servers, cert = every_proxy
    monkeypatch.setenv("AVITO_PROXY_CA_BUNDLE", str(cert))
    reset_caches()
    try:
        for kind, server in servers.items():
            sim.account(USER_ID).client_id = f"rich-{kind}"  # an account per proxy: its own token, through its proxy
            body = {"name": kind, "clientId": f"rich-{kind}", "clientSecret": "rich-secret", **server.settings()}
            proxied = service.create_account(AccountCreate(**body)).id
            image = png_of_size(20_000)  # pproxy forwards plain-HTTP bodies up to 64 KB (see the proxy fixture)
            form, content_type = multipart_body([("file", f"{kind}.png", image, "image/png")])
            server.log.clear()
            status, answer = upload(proxied, CHAT, form, content_type)
            assert status == 200, (kind, answer)
            assert sim.uploaded_images(USER_ID)[-1]["data"] == image, kind
            assert server.log, f"the {kind} proxy carried nothing"
    finally:
        sim.account(USER_ID).client_id = "rich-cid"


@pytest.mark.parametrize(
    ("image", "name"), [(JPEG, "a.jpg"), (GIF, "b.gif"), (BMP, "c.bmp"), (HEIC, "d.heic"), (png(), "e")]
)
def test_every_image_type_avito_accepts_is_sent(sim: AvitoSimulator, account_id: str, image: bytes, name: str) -> None:
    body, content_type = multipart_body([("file", name, image, "image/whatever")])
    status, answer = upload(account_id, CHAT, body, content_type)
    assert status == 200, answer
    assert sim.uploaded_images(USER_ID)[-1]["data"] == image


def test_five_megabytes_are_accepted_one_byte_more_is_413_and_nothing_is_sent(
    sim: AvitoSimulator, account_id: str
) -> None:
    limit = 5 * 1024 * 1024
    too_large = png_of_size(limit + 1)
    assert len(too_large) == limit + 1
    body, content_type = multipart_body([("file", "big.png", too_large, "image/png")])
    status, answer = upload(account_id, CHAT, body, content_type)
    assert status == 413, answer
    assert answer["error"]["code"] == "payload_too_large" and "5 MB" in answer["error"]["message"]
    assert avito_calls(sim) == [] and sim.uploaded_images(USER_ID) == []

    far_too_large, _ = multipart_body([("file", "huge.png", png_of_size(8 * 1024 * 1024), "image/png")])
    assert upload(account_id, CHAT, far_too_large, content_type)[0] == 413  # refused before parsing
    assert avito_calls(sim) == []

    exactly, content_type = multipart_body([("file", "max.png", png_of_size(limit), "image/png")])
    status, answer = upload(account_id, CHAT, exactly, content_type)
    assert status == 200, answer
    assert len(sim.uploaded_images(USER_ID)[0]["data"]) == limit


@pytest.mark.parametrize(
    "data",
    [
        b"name,price\nfridge,1000\n",  # a text file named .png
        b"BMW for sale, almost new",  # starts like a BMP
        b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 40,  # an image, but not one Avito takes
        b"%PDF-1.7\n" + b"\x00" * 40,
    ],
    ids=["text-named-png", "text-starting-BM", "webp", "pdf"],
)
def test_a_file_that_is_not_an_accepted_image_is_415_and_nothing_is_sent(
    sim: AvitoSimulator, account_id: str, data: bytes
) -> None:
    body, content_type = multipart_body([("file", "photo.png", data, "image/png")])
    status, answer = upload(account_id, CHAT, body, content_type)
    assert status == 415, answer
    assert answer["error"]["code"] == "unsupported_image_type" and "JPEG" in answer["error"]["message"]
    assert avito_calls(sim) == []


@pytest.mark.parametrize(
    ("parts", "content_type", "expected"),
    [
        ([("other", "a.png", png(), "image/png")], None, (422, "validation_error")),  # no field "file"
        ([("file", None, png(), "image/png")], None, (422, "validation_error")),  # a form field, not a file
        ([("file", "a.png", b"", "image/png")], None, (422, "validation_error")),  # empty file
        (
            [("file", "a.png", png(), "image/png"), ("file", "b.png", png(), "image/png")],
            None,
            (422, "validation_error"),
        ),
        ([("file", "a.png", png(), "image/png")], "application/json", (415, "unsupported_media_type")),
        ([("file", "a.png", png(), "image/png")], "multipart/form-data", (415, "unsupported_media_type")),
    ],
    ids=["no-file-field", "not-a-file", "empty", "two-files", "json-content-type", "no-boundary"],
)
def test_malformed_uploads_get_clear_errors_without_calling_avito(
    sim: AvitoSimulator, account_id: str, parts: list, content_type: str | None, expected: tuple[int, str]
) -> None:
    status, code = expected
    body, form_type = multipart_body(parts)
    answer_status, answer = upload(account_id, CHAT, body, content_type or form_type)
    assert answer_status == status, answer
    assert answer["error"]["code"] == code and answer["error"]["message"]
    if status == 422:
        assert answer["error"]["details"][0]["field"] == "file"
    assert avito_calls(sim) == []


def test_an_upload_passed_as_text_is_read_too(sim: AvitoSimulator, account_id: str) -> None:
    """Without the binary media type API Gateway would pass the body as text; a text-safe image still works."""
    text_safe_gif = b"GIF89a\x01\x00\x01\x00" + b"A" * 64  # only ASCII after the signature
    body, content_type = multipart_body([("file", "a.gif", text_safe_gif, "image/gif")])
    assert upload(account_id, CHAT, body, content_type, base64_encoded=False)[0] == 200
    assert sim.uploaded_images(USER_ID)[-1]["data"] == text_safe_gif


def test_an_image_for_an_unknown_chat_is_avitos_404_as_502(sim: AvitoSimulator, account_id: str) -> None:
    body, content_type = multipart_body([("file", "a.png", png(), "image/png")])
    status, answer = upload(account_id, "u2i-nope", body, content_type)
    assert status == 502 and answer["error"]["code"] == "avito_error", answer


def test_the_image_message_is_never_resent_when_avito_times_out(sim: AvitoSimulator, account_id: str) -> None:
    sim.add_fault(r"/messages/image$", method="POST", action="delay_after_effect", delay=4, times=1)
    body, content_type = multipart_body([("file", "a.png", png(), "image/png")])
    status, answer = upload(account_id, CHAT, body, content_type)
    assert status == 502 and answer["error"]["code"] == "send_outcome_unknown", answer
    assert sim.count("POST", r"/messages/image$") == 1


def test_an_upload_retried_with_the_same_idempotency_key_is_sent_once(sim: AvitoSimulator, account_id: str) -> None:
    image = png(b"retried upload")
    body, content_type = multipart_body([("file", "a.png", image, "image/png")])
    first = upload(account_id, CHAT, body, content_type, key="upload-7f3a")
    assert first[0] == 200, first
    again = upload(account_id, CHAT, body, content_type, key="upload-7f3a")
    assert again == first  # the first answer, replayed
    assert sim.count("POST", r"/uploadImages$") == 1 and sim.count("POST", r"/messages/image$") == 1
    assert [i["data"] for i in sim.uploaded_images(USER_ID)] == [image]

    # the fingerprint is the account, the chat and the image's SHA-256: another image or chat reuses the key
    other, other_type = multipart_body([("file", "b.png", png(b"another image"), "image/png")])
    reused = upload(account_id, CHAT, other, other_type, key="upload-7f3a")
    assert reused[0] == 422 and reused[1]["error"]["code"] == "idempotency_key_reused", reused
    reused = upload(account_id, CHAT_U2U, body, content_type, key="upload-7f3a")
    assert reused[0] == 422 and reused[1]["error"]["code"] == "idempotency_key_reused", reused
    # the same image under another file name is the same request
    renamed, renamed_type = multipart_body([("file", "renamed.png", image, "image/png")], boundary="other-boundary")
    assert upload(account_id, CHAT, renamed, renamed_type, key="upload-7f3a") == first
    assert sim.count("POST", r"/messages/image$") == 1

    bad = upload(account_id, CHAT, body, content_type, key="has space")
    assert bad[0] == 422 and bad[1]["error"]["details"][0]["field"].lower() == "idempotency-key", bad
    assert upload(account_id, CHAT, body, content_type)[0] == 200  # without a key every request sends
    assert sim.count("POST", r"/messages/image$") == 2


def test_an_image_send_that_timed_out_after_reaching_avito_is_not_sent_again_with_its_key(
    sim: AvitoSimulator, account_id: str
) -> None:
    sim.add_fault(r"/messages/image$", method="POST", action="delay_after_effect", delay=4, times=1)
    body, content_type = multipart_body([("file", "a.png", png(), "image/png")])
    first = upload(account_id, CHAT, body, content_type, key="upload-timeout")
    assert first[0] == 502 and first[1]["error"]["code"] == "send_outcome_unknown", first
    assert upload(account_id, CHAT, body, content_type, key="upload-timeout") == first
    assert sim.count("POST", r"/messages/image$") == 1


# --- voice files ---------------------------------------------------------------------------------------------


def test_voice_links_are_fresh_on_every_call_and_never_stored(
    sim: AvitoSimulator, account_id: str, aws_env: dict[str, str]
) -> None:
    body = {"voiceIds": ["voice-abc", "voice-def", "voice-abc"]}
    first = route(messenger_voice_files, "POST", "/voice-files", account_id, body=body)
    second = route(messenger_voice_files, "POST", "/voice-files", account_id, body=body)
    assert first[0] == 200 and second[0] == 200, (first, second)
    links, again = first[1]["data"], second[1]["data"]
    assert set(links) == set(again) == {"voice-abc", "voice-def"}
    assert all(links[v] != again[v] for v in links)  # a new link on every call
    calls = [r for r in sim.requests if r.path.endswith("/getVoiceFiles")]
    assert len(calls) == 2
    audio = requests.get(again["voice-abc"], timeout=5)
    assert audio.status_code == 200 and audio.content == b"\x00\x00\x00\x18ftypmp42opus"

    table = boto3.resource("dynamodb").Table(aws_env["MessengerTable"])
    assert not any(link in str(table.scan()["Items"]) for link in [*links.values(), *again.values()])


def test_voice_ids_avito_does_not_know_are_left_out(sim: AvitoSimulator, account_id: str) -> None:
    status, body = route(messenger_voice_files, "POST", "/voice-files", account_id, body={"voiceIds": ["nope"]})
    assert status == 200 and body["data"] == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"voiceIds": []}, "voiceIds"),
        ({"voiceIds": [f"v{n}" for n in range(101)]}, "voiceIds"),
        ({"voiceIds": [""]}, "voiceIds.0"),
        ({"voiceIds": ["a b"]}, "voiceIds.0"),
        ({"voiceIds": "voice-abc"}, "voiceIds"),
        ({}, "voiceIds"),
        ({"voiceIds": ["voice-abc"], "extra": 1}, "extra"),
    ],
    ids=["none", "101", "empty-id", "space", "not-a-list", "missing", "unknown-field"],
)
def test_voice_validation_never_calls_avito(sim: AvitoSimulator, account_id: str, body: dict, field: str) -> None:
    status, answer = route(messenger_voice_files, "POST", "/voice-files", account_id, body=body)
    assert status == 422, answer
    assert answer["error"]["details"][0]["field"] == field
    assert sim.requests == []


def test_one_hundred_voice_ids_are_one_call(sim: AvitoSimulator, account_id: str) -> None:
    ids = [f"v-{n}" for n in range(99)] + ["voice-abc"]
    status, answer = route(messenger_voice_files, "POST", "/voice-files", account_id, body={"voiceIds": ids})
    assert status == 200 and list(answer["data"]) == ["voice-abc"]
    call = next(r for r in sim.requests if r.path.endswith("/getVoiceFiles"))
    assert sim.count("GET", r"/getVoiceFiles$") == 1 and call.query  # the ids went as repeated voice_ids


# --- deleting messages ---------------------------------------------------------------------------------------


def _delete(account_id: str, message_id: str, chat_id: str = CHAT, role: str = "operator") -> tuple[int, dict]:
    return route(
        messenger_delete_message,
        "DELETE",
        "/chats/{chatId}/messages/{messageId}",
        account_id,
        role=role,
        params={"chatId": chat_id, "messageId": message_id},
    )


def _list_messages(account_id: str) -> None:
    assert route(messenger_messages, "GET", "/chats/{chatId}/messages", account_id, params={"chatId": CHAT})[0] == 200


def test_deleting_an_own_recent_message_stores_it_as_deleted(sim: AvitoSimulator, account_id: str) -> None:
    _list_messages(account_id)
    sim.clear_requests()
    status, body = _delete(account_id, "out-new")
    assert status == 200, body
    assert (body["data"]["id"], body["data"]["type"], body["data"]["content"]) == ("out-new", "deleted", {})
    assert sim.count("POST", r"/chats/u2i-rich-1/messages/out-new$") == 1
    assert next(m for m in sim.messages(USER_ID, CHAT) if m["id"] == "out-new")["type"] == "deleted"
    stored = call_route(chats_messages, "GET", "/api/v1/chats/{chatId}/messages", {"chatId": CHAT})[1]["data"]
    deleted = next(m for m in stored if m["id"] == "out-new")
    assert (deleted["type"], deleted["text"], deleted["content"]) == ("deleted", None, {})
    # deleting it again changes nothing and does not ask Avito
    sim.clear_requests()
    assert _delete(account_id, "out-new")[0] == 200 and avito_calls(sim) == []


def test_marking_deleted_never_recreates_a_removed_message_nor_writes_for_a_deleted_account(
    sim: AvitoSimulator, account_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's mark_message_deleted is conditional: on the item still existing, and (one transaction) on the
    account existing, like every other chat write."""
    from avito_service import aws
    from avito_service.accounts.store import account_key
    from avito_service.config import get_settings
    from avito_service.errors import NotFound
    from avito_service.messenger.items import chat_pk, sk_of
    from avito_service.messenger.store import ChatStore, chat_store

    _list_messages(account_id)
    store = chat_store()
    table = aws.table(get_settings().messenger_table)
    message = store.get_message(account_id, CHAT, "out-new")
    assert message is not None and message.type == "text"
    key = {"pk": chat_pk(account_id, CHAT), "sk": sk_of(message)}

    # the message is removed between the read and the write (its account's data being cleaned up)
    read = ChatStore.get_message

    def read_then_remove(self: ChatStore, *args: Any, **kwargs: Any) -> Any:
        found = read(self, *args, **kwargs)
        table.delete_item(Key=key)
        return found

    monkeypatch.setattr(ChatStore, "get_message", read_then_remove)
    assert store.mark_message_deleted(account_id, CHAT, "out-new") is None
    assert "Item" not in table.get_item(Key=key, ConsistentRead=True)  # not recreated as a bare deleted item
    monkeypatch.undo()

    # the account is gone: nothing is written
    other = store.get_message(account_id, CHAT, "out-old")
    assert other is not None
    aws.table(get_settings().accounts_table).delete_item(Key=account_key(account_id))
    with pytest.raises(NotFound):
        store.mark_message_deleted(account_id, CHAT, "out-old")
    kept = table.get_item(Key={"pk": chat_pk(account_id, CHAT), "sk": sk_of(other)}, ConsistentRead=True)["Item"]
    assert kept["type"] == "text" and kept.get("text") == other.text


def test_deleting_the_last_message_shows_on_the_chat(sim: AvitoSimulator, account_id: str) -> None:
    body, content_type = multipart_body([("file", "a.png", png(), "image/png")])
    sent = upload(account_id, CHAT, body, content_type)[1]["data"]
    assert _delete(account_id, sent["id"])[0] == 200
    chat = call_route(chats_get, "GET", "/api/v1/chats/{chatId}", {"chatId": CHAT})[1]["data"]
    assert (chat["lastMessage"]["id"], chat["lastMessage"]["type"]) == (sent["id"], "deleted")


def test_a_message_not_stored_yet_is_looked_up_at_avito(sim: AvitoSimulator, account_id: str) -> None:
    status, body = _delete(account_id, "out-new")  # never listed before
    assert status == 200 and body["data"]["type"] == "deleted", body
    assert _delete(account_id, "missing-message")[0] == 404


def test_deleting_someone_elses_message_is_409_and_avito_is_not_asked(sim: AvitoSimulator, account_id: str) -> None:
    _list_messages(account_id)
    sim.clear_requests()
    status, body = _delete(account_id, "in-1")
    assert status == 409 and body["error"]["code"] == "message_not_own", body
    assert "other party" in body["error"]["message"]
    assert avito_calls(sim) == [] and sim.requests == []


def test_deleting_a_message_older_than_an_hour_is_409(sim: AvitoSimulator, account_id: str) -> None:
    status, body = _delete(account_id, "out-old")  # looked up at Avito first: not stored yet
    assert status == 409 and body["error"]["code"] == "message_too_old", body
    assert "hour" in body["error"]["message"]
    assert sim.count("POST", r"/messages/out-old$") == 0


def test_the_hour_is_counted_on_the_services_clock(
    sim: AvitoSimulator, account_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _list_messages(account_id)
    real_now = time.time()
    monkeypatch.setattr(clock, "now", lambda: real_now + 3600)  # out-new (60 s old) is now an hour and a minute old
    status, body = _delete(account_id, "out-new")
    assert status == 409 and body["error"]["code"] == "message_too_old"
    monkeypatch.setattr(clock, "now", lambda: real_now + 3500)
    assert _delete(account_id, "out-new")[0] == 200


def test_avito_refusing_a_delete_is_409(sim: AvitoSimulator, account_id: str) -> None:
    _list_messages(account_id)
    sim.add_fault(r"/messages/out-new$", method="POST", status=400, times=1)
    status, body = _delete(account_id, "out-new")
    assert status == 409 and body["error"]["code"] == "message_not_deletable", body


# --- blacklist ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("reason", "reason_id"), [("spam", 1), ("fraud", 2), ("insults", 3), ("other", 4)])
def test_blacklist_maps_reasons_to_avitos_ids(
    sim: AvitoSimulator, account_id: str, reason: str, reason_id: int
) -> None:
    body = {"userId": str(CLIENT), "itemId": "501", "reason": reason}
    status, answer = route(messenger_blacklist, "POST", "/blacklist", account_id, body=body)
    assert status == 200, answer
    assert answer["data"] == {"ok": True, "userId": str(CLIENT), "itemId": "501", "reason": reason}
    assert [(e["user_id"], e["item_id"], e["reason_id"]) for e in sim.blacklisted(USER_ID)] == [
        (CLIENT, 501, reason_id)
    ]
    request = next(r for r in sim.requests if r.path.endswith("/blacklist"))
    assert request.body == {"users": [{"user_id": CLIENT, "context": {"item_id": 501, "reason_id": reason_id}}]}


def test_blacklist_without_an_item(sim: AvitoSimulator, account_id: str) -> None:
    body = {"userId": str(CLIENT), "reason": "spam"}
    assert route(messenger_blacklist, "POST", "/blacklist", account_id, body=body)[0] == 200
    assert sim.blacklisted(USER_ID)[0]["item_id"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"userId": "12a", "reason": "spam"}, "userId"),
        ({"userId": "", "reason": "spam"}, "userId"),
        ({"userId": "1" * 19, "reason": "spam"}, "userId"),
        ({"userId": "5", "reason": "rude"}, "reason"),
        ({"userId": "5"}, "reason"),
        ({"reason": "spam"}, "userId"),
        ({"userId": "5", "itemId": "x", "reason": "spam"}, "itemId"),
        ({"userId": "5", "reason": "spam", "comment": "bad"}, "comment"),
    ],
    ids=["letters", "empty", "too-long", "unknown-reason", "no-reason", "no-user", "bad-item", "unknown-field"],
)
def test_blacklist_validation_never_calls_avito(sim: AvitoSimulator, account_id: str, body: dict, field: str) -> None:
    status, answer = route(messenger_blacklist, "POST", "/blacklist", account_id, body=body)
    assert status == 422, answer
    assert answer["error"]["details"][0]["field"] == field
    assert sim.requests == []


# --- one chat, chat types ------------------------------------------------------------------------------------


def test_one_chat_live_is_stored(sim: AvitoSimulator, account_id: str) -> None:
    status, body = route(messenger_chat_get, "GET", "/chats/{chatId}", account_id, params={"chatId": CHAT_U2U})
    assert status == 200, body
    assert (body["data"]["id"], body["data"]["clientName"], body["data"]["accountId"]) == (
        CHAT_U2U,
        "Игорь",
        account_id,
    )
    assert sim.count("GET", r"/messenger/v2/accounts/\d+/chats/u2u-rich-2$") == 1
    stored = call_route(chats_get, "GET", "/api/v1/chats/{chatId}", {"chatId": CHAT_U2U})
    assert stored[0] == 200 and stored[1]["data"]["clientName"] == "Игорь"
    assert route(messenger_chat_get, "GET", "/chats/{chatId}", account_id, params={"chatId": "u2i-nope"})[0] == 502


def test_chat_types_default_and_choice(sim: AvitoSimulator, account_id: str) -> None:
    status, body = route(messenger_chats, "GET", "/chats", account_id)
    assert status == 200 and {c["id"] for c in body["data"]} == {CHAT, CHAT_U2U}
    assert next(r for r in sim.requests if r.path.endswith("/chats")).query["chat_types"] == "u2i,u2u"

    sim.clear_requests()
    status, body = route(messenger_chats, "GET", "/chats", account_id, query={"chatTypes": "a2u,u2i,a2u"})
    assert status == 200 and {c["id"] for c in body["data"]} == {CHAT, CHAT_A2U}
    assert next(r for r in sim.requests if r.path.endswith("/chats")).query["chat_types"] == "a2u,u2i"


@pytest.mark.parametrize("value", ["", "u2x", "u2i,", "u2i;u2u", "U2I", "u2i, u2u"])
def test_bad_chat_types_are_422_without_calling_avito(sim: AvitoSimulator, account_id: str, value: str) -> None:
    status, body = route(messenger_chats, "GET", "/chats", account_id, query={"chatTypes": value})
    assert status == 422 and body["error"]["details"][0]["field"] == "chatTypes", body
    assert sim.requests == []


# --- roles ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_may_use_every_new_endpoint(sim: AvitoSimulator, account_id: str, role: str) -> None:
    _list_messages(account_id)
    body, content_type = multipart_body([("file", "a.jpg", JPEG, "image/jpeg")])
    assert upload(account_id, CHAT, body, content_type, role=role)[0] == 200
    voice = route(
        messenger_voice_files, "POST", "/voice-files", account_id, role=role, body={"voiceIds": ["voice-abc"]}
    )
    assert voice[0] == 200
    assert _delete(account_id, "out-new", role=role)[0] == 200
    blacklist = {"userId": str(CLIENT), "reason": "other"}
    assert route(messenger_blacklist, "POST", "/blacklist", account_id, role=role, body=blacklist)[0] == 200
    assert route(messenger_chat_get, "GET", "/chats/{chatId}", account_id, role=role, params={"chatId": CHAT})[0] == 200


def test_an_unknown_role_gets_403_before_validation(sim: AvitoSimulator, account_id: str) -> None:
    body, content_type = multipart_body([("file", "a.txt", b"text", "text/plain")])
    status, answer = upload(account_id, CHAT, body, content_type, role="guest")
    assert status == 403, answer
    status, answer = route(messenger_voice_files, "POST", "/voice-files", account_id, role="guest", body={})
    assert status == 403, answer
    assert sim.requests == []


def test_an_unknown_account_is_404(sim: AvitoSimulator, account_id: str) -> None:
    missing = str(uuid.uuid4())
    body, content_type = multipart_body([("file", "a.png", png(), "image/png")])
    assert upload(missing, CHAT, body, content_type)[0] == 404
    assert route(messenger_voice_files, "POST", "/voice-files", missing, body={"voiceIds": ["v"]})[0] == 404
    assert _delete(missing, "out-new")[0] == 404
    assert sim.requests == []
