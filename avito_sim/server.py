"""The fake Avito API server: state, test controls and the WSGI app, served over real HTTP."""

from __future__ import annotations

import json
import math
import re
import secrets
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import requests
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from .deliveries import delivery
from .errors import ApiError, Family, error_body, family_for_path
from .faults import Fault
from .handlers import Context, Route, find_route, image_type
from .inbound import RATE_LIMITS as INBOUND_RATE_LIMITS
from .inbound import Binary, Review, ReviewAnswer, TrackedCall
from .models import (
    FILES_PATH,
    Account,
    Chat,
    Item,
    Message,
    MessengerAccess,
    SentMessage,
    StoredFile,
    Token,
    VoiceLink,
    iso_utc,
    now_ts,
)
from .oauth import App, OAuthState, consent_page, withdraw

WEBHOOK_TIMEOUT_SECONDS = 5.0
VOICE_LINK_SECONDS = 3600  # getVoiceFiles: "a link is valid for one hour" (messenger.json)
_FILE_PATH = re.compile(rf"{FILES_PATH}/(?:images/(?P<image_id>[^/]+)/[^/]+|voice/(?P<voice_id>[^/]+)\.mp4)")
# Avito's documented per-account limits (avito-api.md), by route handler: (calls, seconds).
MESSENGER_READS = ("chats_list", "chat_one", "messages_list")  # what a backfill or reconciliation reads
RATE_LIMITS = {"items_list": (25, 60.0), "cpa_balance": (1, 60.0), "cpa_phones": (5, 60.0), **INBOUND_RATE_LIMITS}

Delivery = tuple[str, int | None]


@dataclass
class RecordedRequest:
    """One request the simulator received; ``status`` is 0 until answered and stays 0 for a reset."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    time: float
    status: int = 0
    files: dict[str, list[bytes]] | None = None  # multipart file parts by field name, the exact bytes received


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not log every request to stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return

    def log(self, type: str, message: str, *args: Any) -> None:
        return


def _parse_body(raw: bytes, content_type: str) -> Any:
    """JSON, form fields, raw text, or None for an empty body."""
    if not raw or content_type.startswith("multipart/form-data"):
        return None  # multipart parts are in RecordedRequest.files
    text = raw.decode("utf-8", errors="replace")
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        return json.loads(text)
    except ValueError:
        return text


def _reset_connection(environ: dict[str, Any]) -> None:
    """Close the client's TCP connection abruptly (RST) without answering."""
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionResetError("fault: connection reset")


class AvitoSimulator:
    """A fake ``https://api.avito.ru`` for tests and demos, following Avito's OpenAPI documents.

    Start it with :meth:`start` (returns the base URL), configure accounts and data with the ``add_*``
    methods, inject failures with :meth:`add_fault` and inspect traffic with :attr:`requests`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        token_ttl: int = 86400,
        token_error_status: int = 400,
        *,
        rate_limits: bool = False,
        time_scale: float = 1.0,
    ) -> None:
        self.host = host
        self.port = port
        self.latency = latency
        self.token_ttl = token_ttl
        self.token_error_status = token_error_status
        self.echo_sent_to_webhooks = False
        # Switches of issue 28: a new subscribe replaces the account's other subscriptions (as live Avito was
        # seen to do when another integration subscribed), and deliveries dropped on purpose (the message is
        # stored at "Avito" but never POSTed: reconciliation must find it).
        self.one_subscription_per_account = False
        self.drop_deliveries = 0  # how many of the next deliveries to drop
        self.dropped_deliveries: list[dict] = []  # the ``payload.value`` of each dropped delivery
        # Enforce RATE_LIMITS per account (429 with Retry-After); windows are multiplied by ``time_scale`` so tests
        # can check "never more than 25 calls in any minute" on a scaled minute.
        self.rate_limits = rate_limits
        self.time_scale = time_scale
        self.rate_limited = 0  # calls answered 429 because of RATE_LIMITS (or a throttle)
        # Avito documents no Messenger limit but may still answer 429 (avito-api.md, "Rate limits and errors"):
        # ``throttle`` sets such a limit per account and handler, on whether ``rate_limits`` is on or not.
        self._throttles: dict[str, tuple[int, float]] = {}
        self.throttle_retry_after = True  # False: the 429s carry no Retry-After (the client backs off itself)
        self._rate_log: dict[tuple[int, str], list[float]] = {}
        self._lock = threading.RLock()
        self._accounts: dict[int, Account] = {}
        self._tokens: dict[str, Token] = {}
        self.oauth = OAuthState()  # partner apps, codes, refresh tokens (oauth.py)
        self._faults: list[Fault] = []
        self._requests: list[RecordedRequest] = []
        self._sent: list[SentMessage] = []
        self._read_calls: list[dict[str, Any]] = []
        self._files: dict[str, StoredFile] = {}
        self._voice_links: dict[str, VoiceLink] = {}
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._next_id = 7_000_000

    # ------------------------------------------------------------ lifecycle

    def start(self) -> str:
        """Start serving in a background thread; returns the base URL."""
        if self._server is not None:
            return self.base_url
        self._server = make_server(self.host, self.port, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="avito-sim", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> AvitoSimulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------ accounts and data

    def add_account(
        self,
        client_id: str,
        client_secret: str,
        user_id: int,
        name: str = "Shop",
        *,
        email: str | None = None,
        phone: str | None = None,
        balance_real: float = 0.0,
        balance_bonus: float = 0.0,
        cpa_balance: int | None = 0,
        messenger: MessengerAccess = True,
        ratings: MessengerAccess = True,
        calltracking: MessengerAccess = True,
        cpa: MessengerAccess = True,
    ) -> Account:
        """Add an account. ``messenger``, ``ratings``, ``calltracking``, ``cpa``: True, or False/"403" (403 on that
        API's calls), or "402"."""
        account = Account(
            client_id=client_id,
            client_secret=client_secret,
            user_id=user_id,
            name=name,
            email=email if email is not None else f"shop{user_id}@example.com",
            phone=phone if phone is not None else f"7900{user_id:07d}"[-11:],
            balance_real=balance_real,
            balance_bonus=balance_bonus,
            cpa_balance=cpa_balance,
            messenger=messenger,
            ratings=ratings,
            calltracking=calltracking,
            cpa=cpa,
        )
        with self._lock:
            self._accounts[user_id] = account
        return account

    def next_id(self) -> int:
        """A new numeric id (answers, calls, reviews)."""
        with self._lock:
            self._next_id += 1
            return self._next_id

    # ------------------------------------------------------------ reviews and calls (inbound.py)

    def add_review(
        self,
        user_id: int,
        score: int,
        text: str,
        *,
        review_id: int | None = None,
        created: int | None = None,
        sender_name: str | None = "Покупатель",
        item_id: int | None = None,
        item_title: str | None = None,
        stage: str = "done",
        can_answer: bool = True,
        answer: str | None = None,
    ) -> dict:
        """Add a review of the account (``answer``: the account answered it already); returns its Review JSON."""
        with self._lock:
            review = Review(
                review_id=review_id if review_id is not None else self.next_id(),
                score=score,
                text=text,
                created=created if created is not None else now_ts(),
                stage=stage,
                sender_name=sender_name,
                item_id=item_id,
                item_title=item_title,
                can_answer=can_answer,
            )
            if answer is not None:
                review.answer = ReviewAnswer(self.next_id(), answer, review.created + 60, status="published")
            self.account(user_id).reviews.append(review)
            return review.to_json()

    def reviews(self, user_id: int) -> list[dict]:
        """The account's reviews as Avito lists them (newest first)."""
        with self._lock:
            found = sorted(self.account(user_id).reviews, key=lambda r: (r.created, r.review_id), reverse=True)
            return [r.to_json() for r in found]

    def add_call(
        self,
        user_id: int,
        buyer_phone: str,
        *,
        call_id: int | None = None,
        call_time: int | None = None,
        talk_duration: int = 60,
        item_id: int | None = None,
        record: bytes | None = None,
    ) -> dict:
        """A call to the account's tracking number; ``record`` None: its recording is not ready yet (425)."""
        with self._lock:
            account = self.account(user_id)
            call = TrackedCall(
                call_id=call_id if call_id is not None else self.next_id(),
                call_time=call_time if call_time is not None else now_ts(),
                buyer_phone=buyer_phone,
                seller_phone=account.phone,
                virtual_phone="7" + f"{(account.user_id * 7919) % 10**10:010d}",
                talk_duration=talk_duration,
                item_id=item_id,
                record=record,
            )
            account.calls.append(call)
            return call.to_json()

    def set_call_record(self, user_id: int, call_id: int, record: bytes | None) -> None:
        """The recording of a call becomes ready (bytes) or not (None)."""
        with self._lock:
            next(c for c in self.account(user_id).calls if c.call_id == call_id).record = record

    def account(self, user_id: int) -> Account:
        """The live Account object (mutate it under care; e.g. ``sim.account(1).balance_real = 5``)."""
        with self._lock:
            try:
                return self._accounts[user_id]
            except KeyError:
                raise KeyError(f"no account with user_id {user_id}") from None

    def add_item(
        self,
        user_id: int,
        item_id: int,
        title: str,
        status: str = "active",
        price: int | None = 1000,
        *,
        stats: dict[str, tuple[int, int, int]] | None = None,
        address: str = "Москва, Лесная улица 7",
        category_id: int = 111,
        category_name: str = "Товары",
    ) -> Item:
        """Add a listing; ``stats`` maps ``YYYY-MM-DD`` to (views, contacts, favorites)."""
        item = Item(
            item_id=item_id,
            user_id=user_id,
            title=title,
            status=status,
            price=price,
            address=address,
            category_id=category_id,
            category_name=category_name,
            stats=dict(stats or {}),
        )
        with self._lock:
            self.account(user_id).items[item_id] = item
        return item

    def add_chat(
        self,
        user_id: int,
        chat_id: str,
        chat_type: str = "u2i",
        *,
        item_id: int | None = None,
        item_title: str | None = None,
        client_name: str = "Buyer",
        client_user_id: int | None = None,
        created: int | None = None,
        updated: int | None = None,
        item_price: int | None = None,
    ) -> dict:
        """Add a chat; returns its Chat JSON."""
        created = created if created is not None else now_ts()
        with self._lock:
            account = self.account(user_id)
            chat = Chat(
                chat_id=chat_id,
                user_id=user_id,
                chat_type=chat_type,
                client_user_id=client_user_id if client_user_id is not None else 900_000_000 + len(account.chats) + 1,
                client_name=client_name,
                created=created,
                updated=updated if updated is not None else created,
                item_id=item_id,
                item_title=item_title,
                item_price=item_price,
            )
            account.chats[chat_id] = chat
            return chat.to_json(account, self.base_url)

    def _chat(self, user_id: int, chat_id: str) -> Chat:
        chat = self.account(user_id).chats.get(chat_id)
        if chat is None:
            raise KeyError(f"no chat {chat_id} for user_id {user_id}")
        return chat

    def add_message(
        self,
        user_id: int,
        chat_id: str,
        message_id: str,
        text: str,
        direction: str = "in",
        *,
        author_id: int | None = None,
        created: int | None = None,
        is_read: bool = False,
        type: str = "text",
        content: dict | None = None,
        cpa_phone: str | None = None,
    ) -> dict:
        """Add a message to a chat (``out`` = written by the account); returns its Message JSON. ``cpa_phone``: the
        number CPA's phonesInfoFromChats reports for it (else the number in its text, if any)."""
        with self._lock:
            chat = self._chat(user_id, chat_id)
            if author_id is None:
                author_id = user_id if direction == "out" else chat.client_user_id
            created = created if created is not None else now_ts()
            message = Message(
                message_id=message_id,
                chat_id=chat_id,
                author_id=author_id,
                text=text,
                created=created,
                msg_type=type,
                is_read=is_read or author_id == user_id,
                read=created if is_read else None,
                content=content,
                cpa_phone=cpa_phone,
            )
            chat.messages.append(message)
            chat.updated = max(chat.updated, created)
            return message.to_json(user_id, self.base_url)

    def add_image_message(
        self,
        user_id: int,
        chat_id: str,
        message_id: str,
        data: bytes,
        direction: str = "in",
        *,
        created: int | None = None,
        is_read: bool = False,
    ) -> dict:
        """Add an image message whose bytes the simulator keeps and serves at ``content.image.sizes``."""
        content_type = image_type(data)
        if content_type is None:
            raise ValueError("not an image Avito accepts (JPEG, PNG, GIF, BMP, HEIC)")
        with self._lock:
            self.keep_file(StoredFile(f"seed.{message_id}", data, content_type))
            self.add_message(
                user_id, chat_id, message_id, "", direction, created=created, is_read=is_read, type="image"
            )
            stored = self._message(user_id, chat_id, message_id)
            stored.image_id = f"seed.{message_id}"
            return stored.to_json(user_id, self.base_url)

    def add_voice_message(
        self,
        user_id: int,
        chat_id: str,
        message_id: str,
        voice_id: str,
        *,
        audio: bytes = b"",
        direction: str = "in",
        created: int | None = None,
        is_read: bool = False,
    ) -> dict:
        """Add a voice message; ``getVoiceFiles`` hands out fresh links to ``audio`` (Opus in .mp4 at Avito)."""
        with self._lock:
            self.keep_file(StoredFile(voice_id, audio or b"\x00\x00\x00\x18ftypmp42", "audio/mp4"))
            self.add_message(
                user_id, chat_id, message_id, "", direction, created=created, is_read=is_read, type="voice"
            )
            stored = self._message(user_id, chat_id, message_id)
            stored.voice_id = voice_id
            return stored.to_json(user_id, self.base_url)

    def _message(self, user_id: int, chat_id: str, message_id: str) -> Message:
        return next(m for m in self._chat(user_id, chat_id).messages if m.message_id == message_id)

    def chat(self, user_id: int, chat_id: str) -> dict:
        """A chat's current Chat JSON."""
        with self._lock:
            return self._chat(user_id, chat_id).to_json(self.account(user_id), self.base_url)

    def messages(self, user_id: int, chat_id: str) -> list[dict]:
        """A chat's messages (newest first) as Message JSON."""
        with self._lock:
            return [m.to_json(user_id, self.base_url) for m in self._chat(user_id, chat_id).sorted_messages()]

    # ------------------------------------------------------------ webhooks

    def subscriptions(self, user_id: int) -> list[str]:
        """Webhook URLs subscribed for an account."""
        with self._lock:
            return list(self.account(user_id).subscriptions)

    def webhook_value(self, user_id: int, chat_id: str, message_id: str) -> dict:
        """The ``payload.value`` of a webhook delivery for a stored message."""
        with self._lock:
            chat = self._chat(user_id, chat_id)
            message = next(m for m in chat.messages if m.message_id == message_id)
            return {
                "id": message.message_id,
                "chat_id": chat.chat_id,
                "chat_type": chat.chat_type,
                "user_id": user_id,
                "author_id": message.author_id,
                "created": message.created,
                "published_at": iso_utc(message.created),
                "type": message.msg_type,
                "content": message.content_json(self.base_url),
                "item_id": chat.item_id,
                "read": message.read,
            }

    def incoming_message(
        self,
        user_id: int,
        chat_id: str,
        text: str,
        author_id: int | None = None,
        message_id: str | None = None,
        *,
        cpa_phone: str | None = None,
    ) -> tuple[dict, list[Delivery]]:
        """A buyer writes: store the message (chat becomes unread) and POST a delivery to every subscriber."""
        message_id = message_id or uuid.uuid4().hex
        message = self.add_message(
            user_id, chat_id, message_id, text, direction="in", author_id=author_id, cpa_phone=cpa_phone
        )
        return message, self.deliver(user_id, self.webhook_value(user_id, chat_id, message_id))

    def deliver(self, user_id: int, message_value: dict) -> list[Delivery]:
        """POST a raw delivery for ``user_id`` to its subscribed URLs; returns [(url, status or None)]."""
        payload = delivery(message_value, timestamp=now_ts(), version="v1.1")
        results: list[Delivery] = []
        with self._lock:
            if self.drop_deliveries > 0:
                self.drop_deliveries -= 1
                self.dropped_deliveries.append(dict(message_value))
                return results
        with requests.Session() as session:
            session.trust_env = False
            for url in self.subscriptions(user_id):
                try:
                    response = session.post(url, json=payload, timeout=WEBHOOK_TIMEOUT_SECONDS)
                    results.append((url, response.status_code))
                except requests.RequestException:
                    results.append((url, None))
        return results

    # ------------------------------------------------------------ files: images and voice messages

    def keep_file(self, stored: StoredFile) -> None:
        """Keep an image or a voice file (under the lock)."""
        with self._lock:
            self._files[stored.file_id] = stored

    def file(self, file_id: str) -> StoredFile | None:
        """A kept image or voice file by id."""
        with self._lock:
            return self._files.get(file_id)

    def uploaded_images(self, user_id: int | None = None) -> list[dict]:
        """Images that came in through ``uploadImages``, oldest first: {id, data (the exact bytes), ...}."""
        with self._lock:
            return [
                f.to_json()
                for f in self._files.values()
                if f.owner_user_id is not None and (user_id is None or f.owner_user_id == user_id)
            ]

    def clear_uploads(self) -> None:
        """Forget the images uploaded through ``uploadImages`` (seeded images and voice files stay)."""
        with self._lock:
            self._files = {key: f for key, f in self._files.items() if f.owner_user_id is None}

    def voice_link(self, voice_id: str) -> str:
        """A fresh link to a voice file, valid for an hour (each call gives another one)."""
        with self._lock:
            link = VoiceLink(voice_id, secrets.token_urlsafe(16), now_ts() + VOICE_LINK_SECONDS)
            self._voice_links[link.signature] = link
            return f"{self.base_url}{FILES_PATH}/voice/{voice_id}.mp4?expires={link.expires}&signature={link.signature}"

    def blacklisted(self, user_id: int) -> list[dict]:
        """Users the account blocked: {user_id, item_id, reason_id, created}."""
        with self._lock:
            return [entry.to_json() for entry in self.account(user_id).blacklist]

    def _serve_file(self, request: Request, match: re.Match[str]) -> Response:
        """GET of an image size (public, like Avito's image hosts) or a voice link (signature and expiry)."""
        with self._lock:
            if match.group("image_id"):
                stored = self._files.get(match.group("image_id"))
            else:
                link = self._voice_links.get(request.args.get("signature", ""))
                valid = link is not None and link.voice_id == match.group("voice_id") and link.expires > now_ts()
                if not valid:
                    return Response("link expired or invalid", status=403, content_type="text/plain")
                stored = self._files.get(match.group("voice_id"))
        if stored is None:
            return Response("not found", status=404, content_type="text/plain")
        return Response(stored.data, status=200, content_type=stored.content_type)

    # ------------------------------------------------------------ traffic inspection

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order."""
        with self._lock:
            return list(self._requests)

    def count(self, method: str | None = None, path_regex: str | None = None) -> int:
        """How many recorded requests match a method and/or a path regex (``re.search``)."""
        pattern = re.compile(path_regex) if path_regex else None
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method.upper()) and (pattern is None or pattern.search(r.path))
        )

    def clear_requests(self) -> None:
        """Forget recorded requests, sent messages and read calls."""
        with self._lock:
            self._requests.clear()
            self._sent.clear()
            self._read_calls.clear()

    def sent_messages(self, user_id: int | None = None) -> list[dict]:
        """Messages that came in through the send endpoint: {user_id, chat_id, id, text, created}."""
        with self._lock:
            return [s.to_json() for s in self._sent if user_id is None or s.user_id == user_id]

    @property
    def chat_read_calls(self) -> list[dict]:
        """Successful ``.../read`` calls: {user_id, chat_id, time}."""
        with self._lock:
            return list(self._read_calls)

    def record_sent(self, sent: SentMessage, chat: Chat) -> None:  # text and image messages
        """Called by the send handler (under the lock)."""
        self._sent.append(sent)
        if self.echo_sent_to_webhooks:
            value = self.webhook_value(sent.user_id, chat.chat_id, sent.message_id)
            threading.Thread(target=self.deliver, args=(sent.user_id, value), daemon=True).start()

    def record_read(self, user_id: int, chat_id: str) -> None:
        """Called by the read handler (under the lock)."""
        self._read_calls.append({"user_id": user_id, "chat_id": chat_id, "time": time.time()})

    # ------------------------------------------------------------ tokens

    def issue_token_for_credentials(self, client_id: str, client_secret: str) -> Token | None:
        """Issue a token when the credentials match an account."""
        with self._lock:
            account = next((a for a in self._accounts.values() if a.client_id == client_id), None)
            if account is None or not secrets.compare_digest(account.client_secret, client_secret):
                return None
            return self._issue(account.user_id)

    def _issue(self, user_id: int, app: str | None = None) -> Token:
        with self._lock:
            token = Token(secrets.token_urlsafe(24), user_id, time.time() + self.token_ttl, app=app)
            self._tokens[token.value] = token
            return token

    # ------------------------------------------------------------ consent flow (oauth.py)

    def add_app(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        """Register a partner app (developers.avito.ru/applications) and the redirect URI Avito sends users to."""
        with self._lock:
            self.oauth.apps[client_id] = App(client_id, client_secret, redirect_uri)

    def sign_in(self, user_id: int | None, *, refuse: bool = False) -> None:
        """The Avito user on the consent page (None: nobody signed in); ``refuse``: they press refuse."""
        with self._lock:
            self.oauth.consenting_user, self.oauth.refuse = user_id, refuse

    def withdraw_consent(self, user_id: int, client_id: str) -> None:
        """The owner withdraws the app's access: its refresh tokens are refused, its access tokens answer 403."""
        withdraw(self, user_id, client_id)

    def consent_url(self) -> str:
        """Where a partner app sends account owners (Avito's https://avito.ru/oauth)."""
        return f"{self.base_url}/oauth"

    def issue_token(self, user_id: int) -> str:
        """Issue a token for an account directly (test helper, no HTTP)."""
        account = self.account(user_id)
        token = self.issue_token_for_credentials(account.client_id, account.client_secret)
        if token is None:
            raise KeyError(f"cannot issue a token for user_id {user_id}")
        return token.value

    def revoke_tokens(self) -> None:
        """Every token issued so far answers 403 from now on; new tokens work."""
        with self._lock:
            for token in self._tokens.values():
                token.revoked = True

    def expire_tokens(self) -> None:
        """Every token issued so far is expired now (403)."""
        with self._lock:
            for token in self._tokens.values():
                token.expires_at = min(token.expires_at, time.time() - 1)

    # ------------------------------------------------------------ faults

    def add_fault(
        self,
        path_regex: str,
        method: str | None = None,
        status: int = 500,
        *,
        body: dict | str | None = None,
        headers: dict[str, str] | None = None,
        retry_after: float | int | None = None,
        delay: float = 0.0,
        times: int | None = 1,
        action: str | None = None,
    ) -> Fault:
        """Inject a failure for requests whose path matches ``path_regex`` (``re.search``); first match wins.

        action: None (answer ``status``/``body``), "reset" (drop the connection), "truncate" (200 with a cut-off
        JSON body, after the real effect), "delay_after_effect" (real effect, then sleep ``delay``, then answer).
        """
        fault = Fault(path_regex, method, status, body, headers, retry_after, delay, times, action)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Remove all injected failures."""
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    # ------------------------------------------------------------ request handling

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        request.max_content_length = 64 * 1024 * 1024
        raw = request.get_data(cache=True)
        content_type = request.content_type or ""
        files = None
        if content_type.startswith("multipart/form-data"):  # parsed from the cached bytes above
            files = {name: [part.read() for part in request.files.getlist(name)] for name in request.files}
            for part in request.files.values():
                part.stream.seek(0)
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.args.to_dict(),
            headers={key.lower(): value for key, value in request.headers.items()},
            body=_parse_body(raw, content_type),
            time=time.time(),
            files=files,
        )
        with self._lock:
            self._requests.append(record)
        response = self._respond(record, request, environ)
        record.status = response.status_code
        return response(environ, start_response)

    def _respond(self, record: RecordedRequest, request: Request, environ: dict[str, Any]) -> Response:
        if record.method == "GET" and record.path.rstrip("/") == "/oauth":
            status, page, headers = consent_page(self, record.query)
            return Response(page, status=status, headers=headers, content_type="text/html; charset=utf-8")
        file_match = _FILE_PATH.fullmatch(record.path) if record.method == "GET" else None
        if file_match is not None:
            return self._serve_file(request, file_match)
        family = family_for_path(record.path)
        fault = self._take_fault(record.method, record.path)
        if fault is not None and fault.action in (None, "reset"):
            time.sleep(fault.delay + self.latency)
            if fault.action == "reset":
                _reset_connection(environ)
            return self._fault_response(fault, family)
        status, body, headers = self._dispatch(record, request, family)
        if fault is not None and fault.action == "delay_after_effect":
            time.sleep(fault.delay)
        time.sleep(self.latency)
        if fault is not None and fault.action == "truncate":
            text = json.dumps(fault.body if fault.body is not None else body, ensure_ascii=False)
            return Response(
                text[: max(1, len(text) // 2)],
                status=200,
                headers=fault.response_headers(),
                content_type="application/json",
            )
        if fault is not None and fault.action == "patch" and isinstance(body, dict) and isinstance(fault.body, dict):
            body = {**body, **fault.body}  # the real answer (its token, its ids) with some fields as the fault says
        if fault is not None:
            headers.update(fault.response_headers())
        return _json_response(status, body, headers)

    @staticmethod
    def _fault_response(fault: Fault, family: Family) -> Response:
        headers = fault.response_headers()
        if isinstance(fault.body, str):
            return Response(fault.body, status=fault.status, headers=headers, content_type="application/json")
        body = fault.body if fault.body is not None else error_body(family, fault.status)
        return _json_response(fault.status, body, headers)

    def _dispatch(self, record: RecordedRequest, request: Request, family: Family) -> tuple[int, Any, dict]:
        try:
            route, params = find_route(record.method, record.path)
            with self._lock:
                ctx = Context(self, record.method, record.path, request.args, record.headers, record.body, params)
                ctx.files = request.files if record.files is not None else None
                self._authorize(ctx, route)
                retry_in = self._take_rate_slot(ctx, route)
                if retry_in is not None:
                    self.rate_limited += 1
                    body = error_body(family, 429, "Too many requests")
                    throttled = route.handler.__name__ in self._throttles and not self.throttle_retry_after
                    return 429, body, {} if throttled else {"Retry-After": str(max(1, math.ceil(retry_in)))}
                status, body = route.handler(ctx)
            return status, body, {}
        except ApiError as error:
            body = error.body if error.body is not None else error_body(family, error.status, error.message)
            return error.status, body, {}

    def _take_rate_slot(self, ctx: Context, route: Route) -> float | None:
        """None when the call is within the account's limit (and counts); else the seconds until it would be."""
        limit = self._throttles.get(route.handler.__name__)
        if limit is None and self.rate_limits:
            limit = RATE_LIMITS.get(route.handler.__name__)
        if limit is None or ctx.account is None:
            return None
        calls, period = limit[0], limit[1] * self.time_scale
        now = time.time()
        log = self._rate_log.setdefault((ctx.account.user_id, route.handler.__name__), [])
        log[:] = [t for t in log if t > now - period]
        if len(log) >= calls:
            return log[-calls] + period - now
        log.append(now)
        return None

    def throttle(self, calls: int, period: float, handlers: tuple[str, ...] = MESSENGER_READS) -> None:
        """Answer 429 beyond ``calls`` calls per ``period`` seconds (times ``time_scale``) per account and handler,
        as Avito does when it throttles an API it documents no limit for; ``calls=0`` lifts it. With
        ``throttle_retry_after`` the 429 says when a call would be let through again (Retry-After, whole seconds)."""
        with self._lock:
            for name in handlers:
                if calls:
                    self._throttles[name] = (calls, period)
                else:
                    self._throttles.pop(name, None)
                    self._rate_log = {k: v for k, v in self._rate_log.items() if k[1] != name}

    def add_items(
        self, user_id: int, count: int, first_id: int, *, stats: dict[str, tuple[int, int, int]] | None = None
    ) -> None:
        """``count`` active listings with ids from ``first_id``, each with the same ``stats`` (big accounts)."""
        for offset in range(count):
            self.add_item(user_id, first_id + offset, f"Item {first_id + offset}", stats=stats)

    def _authorize(self, ctx: Context, route: Route) -> None:
        """Resolve the bearer token to an account and check path ownership and Messenger access."""
        if not route.auth:
            return
        header = ctx.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        token = self._tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise ApiError(401)
        if token.revoked or token.expires_at <= time.time():
            raise ApiError(403, "Forbidden: access token expired or revoked")
        account = self._accounts.get(token.user_id)
        if account is None:
            raise ApiError(403)
        ctx.account = account
        path_user = ctx.params.get("user_id")
        if path_user is not None and int(path_user) != account.user_id:
            unknown = int(path_user) not in self._accounts
            raise ApiError(404 if unknown and not route.messenger else 403, "user_id does not match the token")
        denied = account.messenger_denied_status() if route.messenger else None
        if denied is not None:
            raise ApiError(denied, "Messenger API is not available for this account")
        denied = account.denied_status(route.access) if route.access else None
        if denied is not None:
            raise ApiError(denied, f"The {route.access} API is not available for this account")


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if isinstance(body, Binary):  # a call recording
        return Response(body.data, status=status, headers=headers or {}, content_type=body.content_type)
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        headers=headers or {},
        content_type="application/json; charset=utf-8",
    )
