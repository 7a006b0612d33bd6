"""In-memory state of the fake Avito and its JSON representations (shapes from Avito's OpenAPI documents)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .inbound import Review, TrackedCall

MessengerAccess = bool | Literal["402", "403"]

AVATAR_URL = "https://www.avito.st/stub_avatars/_/14_256x256.png"
IMAGE_SIZES = ("1280x960", "640x480", "140x105", "32x32")
FILES_PATH = "/sim-files"  # the simulator serves uploaded images and voice files under its own base URL


def now_ts() -> int:
    """Current unix time in whole seconds."""
    return int(time.time())


def today_utc() -> date:
    """Today's date in UTC (the simulator's notion of "today" for statistics)."""
    return datetime.now(UTC).date()


def iso_utc(ts: int) -> str:
    """RFC 3339 UTC time as in webhook ``published_at``."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def price_string(price: int | None) -> str:
    """Avito style price text, e.g. ``300 000 ₽``."""
    if price is None:
        return "Цена не указана"
    return f"{price:,}".replace(",", " ") + " ₽"


def profile_url(user_id: int) -> str:
    """Public profile URL of a user."""
    return f"https://www.avito.ru/user/{user_id:032x}/profile"


@dataclass
class Account:
    """One Avito account (a client_id/client_secret pair and its data)."""

    client_id: str
    client_secret: str
    user_id: int
    name: str = "Shop"
    email: str = ""
    phone: str = ""
    balance_real: float = 0.0
    balance_bonus: float = 0.0
    cpa_balance: int | None = 0
    messenger: MessengerAccess = True
    items: dict[int, Item] = field(default_factory=dict)
    chats: dict[str, Chat] = field(default_factory=dict)
    subscriptions: list[str] = field(default_factory=list)
    blacklist: list[BlacklistEntry] = field(default_factory=list)
    ratings: MessengerAccess = True  # ratings and reviews API (reviews.json): True, or "402"/"403"
    calltracking: MessengerAccess = True  # call tracking API (calltracking.json): True, or "402"/"403"
    cpa: MessengerAccess = True  # CPA's phonesInfoFromChats (cpa.json): True, or "402"/"403"
    rating_enabled: bool = True
    reviews: list[Review] = field(default_factory=list)
    calls: list[TrackedCall] = field(default_factory=list)

    def self_json(self) -> dict[str, Any]:
        """``GET /core/v1/accounts/self`` answer."""
        return {
            "id": self.user_id,
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "phones": [self.phone] if self.phone else [],
            "profile_url": profile_url(self.user_id),
        }

    def messenger_denied_status(self) -> int | None:
        """HTTP status messenger calls get, or None when the account has Messenger access."""
        return self.denied_status("messenger")

    def denied_status(self, api: str) -> int | None:
        """HTTP status calls of ``api`` (messenger, ratings, calltracking, cpa) get, or None when the account has it."""
        access = getattr(self, api)
        if access is True:
            return None
        if access == "402":
            return 402
        return 403


@dataclass
class Item:
    """One listing; ``stats`` maps ``YYYY-MM-DD`` to (uniqViews, uniqContacts, uniqFavorites)."""

    item_id: int
    user_id: int
    title: str
    status: str = "active"
    price: int | None = 1000
    address: str = "Москва, Лесная улица 7"
    category_id: int = 111
    category_name: str = "Товары"
    stats: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """Public URL of the listing."""
        return f"https://www.avito.ru/moskva/tovary/item_{self.item_id}"

    def resource_json(self) -> dict[str, Any]:
        """One entry of ``GET /core/v1/items`` ``resources``."""
        return {
            "id": self.item_id,
            "title": self.title,
            "price": self.price,
            "status": self.status,
            "url": self.url,
            "address": self.address,
            "category": {"id": self.category_id, "name": self.category_name},
        }


@dataclass
class Message:
    """One chat message; ``author_id`` decides its direction relative to the account."""

    message_id: str
    chat_id: str
    author_id: int
    text: str
    created: int
    msg_type: str = "text"
    is_read: bool = False
    read: int | None = None
    content: dict[str, Any] | None = None
    image_id: str | None = None  # an image the simulator keeps (type image): its sizes are served by it
    voice_id: str | None = None  # a voice file the simulator keeps (type voice)
    cpa_phone: str | None = None  # the number Avito CPA reports for this message when its text hides it

    def content_json(self, files_url: str = "") -> dict[str, Any]:
        """The ``content`` object (``{text}`` for text messages unless set explicitly).

        ``files_url`` is the simulator's base URL: image messages link to the sizes it serves."""
        if self.msg_type == "deleted":
            return {}
        if self.image_id is not None:
            return {"image": {"sizes": image_sizes(files_url, self.image_id)}}
        if self.voice_id is not None:
            return {"voice": {"voice_id": self.voice_id}}
        if self.content is not None:
            return dict(self.content)
        return {"text": self.text}

    def direction(self, account_user_id: int) -> str:
        """``out`` when the account wrote it, else ``in``."""
        return "out" if self.author_id == account_user_id else "in"

    def to_json(self, account_user_id: int, files_url: str = "") -> dict[str, Any]:
        """A Message as ``GET .../messages/`` answers it."""
        return {
            "id": self.message_id,
            "author_id": self.author_id,
            "created": self.created,
            "direction": self.direction(account_user_id),
            "type": self.msg_type,
            "content": self.content_json(files_url),
            "is_read": self.is_read,
            "read": self.read,
        }

    def last_message_json(self, account_user_id: int, files_url: str = "") -> dict[str, Any]:
        """The ``last_message`` object of a Chat."""
        full = self.to_json(account_user_id, files_url)
        return {key: full[key] for key in ("id", "author_id", "created", "direction", "type", "content")}


@dataclass
class Chat:
    """One chat of an account with a buyer (u2i: about an item; u2u: profile to profile)."""

    chat_id: str
    user_id: int
    chat_type: str
    client_user_id: int
    client_name: str
    created: int
    updated: int
    item_id: int | None = None
    item_title: str | None = None
    item_price: int | None = None
    messages: list[Message] = field(default_factory=list)

    def is_unread(self) -> bool:
        """True when an incoming message is unread by the account."""
        return any(not m.is_read and m.author_id != self.user_id for m in self.messages)

    def last_message(self) -> Message | None:
        """Newest message (by creation time, then insertion order)."""
        if not self.messages:
            return None
        return max(enumerate(self.messages), key=lambda pair: (pair[1].created, pair[0]))[1]

    def sorted_messages(self) -> list[Message]:
        """Messages newest first."""
        indexed = sorted(enumerate(self.messages), key=lambda pair: (pair[1].created, pair[0]), reverse=True)
        return [message for _, message in indexed]

    def _user_json(self, user_id: int, name: str) -> dict[str, Any]:
        return {
            "id": user_id,
            "name": name,
            "public_user_profile": {
                "user_id": user_id,
                "item_id": self.item_id,
                "url": profile_url(user_id),
                "avatar": {"default": AVATAR_URL, "images": {"256x256": AVATAR_URL}},
            },
        }

    def to_json(self, account: Account, files_url: str = "") -> dict[str, Any]:
        """A Chat as ``GET /messenger/v2/accounts/{user_id}/chats[/{chat_id}]`` answers it."""
        body: dict[str, Any] = {
            "id": self.chat_id,
            "created": self.created,
            "updated": self.updated,
            "users": [
                self._user_json(account.user_id, account.name),
                self._user_json(self.client_user_id, self.client_name),
            ],
        }
        if self.chat_type == "u2i" and self.item_id is not None:
            body["context"] = {"type": "item", "value": self._item_context(account)}
        last = self.last_message()
        if last is not None:
            body["last_message"] = last.last_message_json(account.user_id, files_url)
        return body

    def _item_context(self, account: Account) -> dict[str, Any]:
        item = account.items.get(self.item_id) if self.item_id is not None else None
        title = self.item_title or (item.title if item else f"Item {self.item_id}")
        price = item.price if item else self.item_price
        return {
            "id": self.item_id,
            "title": title,
            "url": item.url if item else f"https://www.avito.ru/moskva/tovary/item_{self.item_id}",
            "price_string": price_string(price),
            "status_id": 10,
            "user_id": account.user_id,
            "images": {"count": 1, "main": {"140x105": "https://00.img.avito.st/140x105/1.jpg"}},
        }


@dataclass
class Token:
    """An issued access token."""

    value: str
    user_id: int
    expires_at: float
    revoked: bool = False
    app: str | None = None  # the partner app's client id for a token of the consent flow (oauth.py)


@dataclass
class SentMessage:
    """A message that arrived through the send endpoint."""

    user_id: int
    chat_id: str
    message_id: str
    text: str
    created: int
    image_id: str | None = None  # an image message (sent with ``.../messages/image``)

    def to_json(self) -> dict[str, Any]:
        """Plain dict view."""
        return {
            "user_id": self.user_id,
            "chat_id": self.chat_id,
            "id": self.message_id,
            "text": self.text,
            "created": self.created,
            "type": "image" if self.image_id else "text",
            "image_id": self.image_id,
        }


def image_sizes(files_url: str, image_id: str) -> dict[str, str]:
    """``{"WxH": url}`` of an image the simulator keeps (every size serves the uploaded bytes unchanged)."""
    return {size: f"{files_url}{FILES_PATH}/images/{image_id}/{size}" for size in IMAGE_SIZES}


@dataclass
class StoredFile:
    """Bytes the simulator keeps: an uploaded (or seeded) image, or a voice message's audio."""

    file_id: str
    data: bytes
    content_type: str
    owner_user_id: int | None = None  # the account that uploaded it (images sent by the account)
    filename: str | None = None
    created: int = field(default_factory=now_ts)

    def to_json(self) -> dict[str, Any]:
        """Plain dict view (bytes included: tests compare them)."""
        return {
            "id": self.file_id,
            "data": self.data,
            "content_type": self.content_type,
            "user_id": self.owner_user_id,
            "filename": self.filename,
            "created": self.created,
        }


@dataclass
class BlacklistEntry:
    """One user blocked by an account (``POST /messenger/v2/accounts/{user_id}/blacklist``)."""

    user_id: int
    item_id: int | None
    reason_id: int | None
    created: int = field(default_factory=now_ts)

    def to_json(self) -> dict[str, Any]:
        """Plain dict view."""
        return {"user_id": self.user_id, "item_id": self.item_id, "reason_id": self.reason_id, "created": self.created}


@dataclass
class VoiceLink:
    """A link ``getVoiceFiles`` handed out: valid for an hour (Avito's documents), then 403."""

    voice_id: str
    signature: str
    expires: int
