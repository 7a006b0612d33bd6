"""Endpoint handlers of the fake Avito API and the route table.

Each handler gets a :class:`Context` and returns ``(status, body)`` or raises :class:`ApiError`.
Handlers run while the simulator's state lock is held.
"""

from __future__ import annotations

import re
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import MultiDict

from . import inbound, oauth
from .errors import ApiError
from .models import (
    Account,
    BlacklistEntry,
    Chat,
    Message,
    SentMessage,
    StoredFile,
    image_sizes,
    now_ts,
    today_utc,
)

if TYPE_CHECKING:
    from .server import AvitoSimulator

ITEM_STATUSES = ("active", "removed", "old", "blocked", "rejected")
CHAT_TYPES = ("u2i", "u2u", "a2u")
STATS_FIELDS = {"uniqViews": 0, "views": 0, "uniqContacts": 1, "contacts": 1, "uniqFavorites": 2, "favorites": 2}
DEFAULT_STATS_FIELDS = ("uniqViews", "uniqContacts", "uniqFavorites")
PERIOD_GROUPINGS = ("day", "week", "month")
STATS_MAX_DAYS_BACK = 270
STATS_MAX_ITEM_IDS = 200
MESSAGE_MAX_CHARS = 1000
DELETE_WINDOW_SECONDS = 3600
UPLOAD_MAX_BYTES = 24 * 1024 * 1024  # uploadImages: at most 24 MB (messenger.json)
UPLOAD_FIELD = "uploadfile[]"
BLACKLIST_REASONS = (1, 2, 3, 4)  # spam, fraud, insults, other (addBlacklistRequestBody)

Result = tuple[int, Any]


@dataclass
class Context:
    """Everything a handler needs about one request."""

    sim: AvitoSimulator
    method: str
    path: str
    query: MultiDict[str, str]
    headers: dict[str, str]
    body: Any
    params: dict[str, str] = field(default_factory=dict)
    account: Account | None = None
    files: MultiDict[str, Any] | None = None  # multipart file parts (werkzeug FileStorage)

    @property
    def acc(self) -> Account:
        """The authenticated account (routes with auth always have one)."""
        if self.account is None:
            raise ApiError(401)
        return self.account

    def json_body(self) -> dict[str, Any]:
        """The body as a JSON object, or 400."""
        if not isinstance(self.body, dict):
            raise ApiError(400, "request body must be a JSON object")
        return self.body


Handler = Callable[[Context], Result]


@dataclass(frozen=True)
class Route:
    """One endpoint: method, full-match path regex, handler and access rules."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool = True
    messenger: bool = False
    access: str = ""  # "ratings" or "calltracking": the account needs that API (inbound.py)


# ---------------------------------------------------------------- parameter helpers


def validation_error(name: str, problem: str) -> ApiError:
    """400 in messenger.json's validatingError shape."""
    return ApiError(
        400, "Validation error", {"error": {"code": 400, "message": "Validation error", "fields": {name: problem}}}
    )


def int_param(query: MultiDict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    """An integer query parameter within [low, high]; 400 otherwise."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise validation_error(name, "must be an integer") from None
    if value < low or (high is not None and value > high):
        raise validation_error(name, f"must be between {low} and {high}")
    return value


def list_param(query: MultiDict[str, str], name: str) -> list[str]:
    """A list parameter given as a comma list and/or repeated (``a,b`` or ``a&name=b`` or ``name[]=``)."""
    values = query.getlist(name) + query.getlist(f"{name}[]")
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def bool_param(query: MultiDict[str, str], name: str) -> bool:
    """A boolean query parameter (``true``/``false``/``1``/``0``)."""
    raw = (query.get(name) or "false").lower()
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0"):
        return False
    raise validation_error(name, "must be a boolean")


def parse_day(value: Any, name: str) -> date:
    """A ``YYYY-MM-DD`` date or 400."""
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ApiError(400, f"{name}: expected date in format YYYY-MM-DD") from None


# ---------------------------------------------------------------- token, user, CPA


def token(ctx: Context) -> Result:
    """``POST /token``: client credentials grant; a partner app's authorization_code and refresh_token grants
    (oauth.py)."""
    form = ctx.body if isinstance(ctx.body, dict) else {}
    grant_type = form.get("grant_type")
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    if grant_type in ("authorization_code", "refresh_token"):
        return 200, oauth.token_grant(ctx.sim, form)
    if grant_type != "client_credentials":
        raise ApiError(
            400, body={"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"}
        )
    if not client_id or not client_secret:
        raise ApiError(
            400, body={"error": "invalid_request", "error_description": "client_id and client_secret are required"}
        )
    issued = ctx.sim.issue_token_for_credentials(str(client_id), str(client_secret))
    if issued is None:
        raise ApiError(
            ctx.sim.token_error_status,
            body={"error": "invalid_client", "error_description": "invalid client_id or client_secret"},
        )
    return 200, {"access_token": issued.value, "expires_in": ctx.sim.token_ttl, "token_type": "Bearer"}


def accounts_self(ctx: Context) -> Result:
    """``GET /core/v1/accounts/self``."""
    return 200, ctx.acc.self_json()


def balance(ctx: Context) -> Result:
    """``GET /core/v1/accounts/{user_id}/balance/``."""
    return 200, {"real": float(ctx.acc.balance_real), "bonus": float(ctx.acc.balance_bonus)}


def cpa_balance(ctx: Context) -> Result:
    """``POST /cpa/v3/balanceInfo``; errors come inside a 200 (cpa.json codes 1000-1004)."""
    if not ctx.headers.get("x-source"):
        return 200, {"error": {"code": 1001, "message": "validation error: header X-Source is required"}}
    if ctx.acc.cpa_balance is None:
        return 200, {"error": {"code": 1004, "message": "CPA balance not found"}}
    return 200, {"balance": int(ctx.acc.cpa_balance)}


CPA_PHONE = re.compile(r"(?<![\d+])(?:\+\s*7|8|7)[\s\-()]*(\d{3})[\s\-()]*(\d{3})[\s\-]*(\d{2})[\s\-]*(\d{2})(?!\d)")
MOSCOW = timezone(timedelta(hours=3))


def cpa_phones(ctx: Context) -> Result:
    """``POST /cpa/v1/phonesInfoFromChats`` ``{dateTimeFrom, offset, limit}`` -> ``{total, results}``: the account's
    incoming messages sent since ``dateTimeFrom`` that carry a phone number (the message's ``cpa_phone``, else a
    number written in it), oldest first. ``date`` is the message's time in Moscow's offset like cpa.json's examples
    (``2023-04-05T12:36:33+03:00``), ``phone_number`` 11 digits from 8 like its ``buyerPhone`` example."""
    if not ctx.headers.get("x-source"):
        return 200, {"error": {"code": 1001, "message": "validation error: header X-Source is required"}}
    body = ctx.json_body()
    start = inbound._rfc3339(body.get("dateTimeFrom"))
    offset, limit = body.get("offset"), body.get("limit")
    if start is None:
        return 200, {"error": {"code": 1001, "message": "dateTimeFrom: RFC3339 time required"}}
    for name, value in (("offset", offset), ("limit", limit)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (name == "limit" and value < 1):
            return 200, {"error": {"code": 1001, "message": f"{name}: non-negative integer required"}}
    found = []
    for chat in ctx.acc.chats.values():
        for message in chat.messages:
            if message.author_id == ctx.acc.user_id or message.created < start.timestamp():
                continue
            phone = message.cpa_phone
            if phone is None:
                match = CPA_PHONE.search(message.text or "")
                phone = "8" + "".join(match.groups()) if match else None
            if phone is not None:
                found.append((message.created, message.message_id, phone))
    found.sort()
    results = [
        {
            "id": zlib.crc32(message_id.encode()),
            "date": datetime.fromtimestamp(created, tz=MOSCOW).isoformat(),
            "phone_number": phone,
            "pricePenny": 0,
            "group": "Целевой",
            "url": "https://00.img.avito.st/image/1/preview",
        }
        for created, message_id, phone in found[offset : offset + limit]
    ]
    return 200, {"total": len(found), "results": results}


# ---------------------------------------------------------------- items and stats


def items_error(message: str) -> ApiError:
    """400 in the items list's ``{code, message}`` shape."""
    return ApiError(400, message, {"code": "400", "message": message})


def items_list(ctx: Context) -> Result:
    """``GET /core/v1/items``: 1-based pages, no total; page until ``resources`` is empty."""
    try:
        per_page = int(ctx.query.get("per_page") or 25)
        page = int(ctx.query.get("page") or 1)
    except ValueError:
        raise items_error("per_page and page must be integers") from None
    if not 1 <= per_page <= 100:
        raise items_error("per_page must be between 1 and 100")
    if page < 1:
        raise items_error("page must be greater than 0")
    statuses = list_param(ctx.query, "status") or ["active"]
    unknown = [status for status in statuses if status not in ITEM_STATUSES]
    if unknown:
        raise items_error(f"unknown status: {','.join(unknown)}")
    matching = [item for item in ctx.acc.items.values() if item.status in statuses]
    start = (page - 1) * per_page
    resources = [item.resource_json() for item in matching[start : start + per_page]]
    return 200, {"meta": {"page": page, "per_page": per_page}, "resources": resources}


def _period_start(day: date, grouping: str) -> date:
    if grouping == "week":
        return day - timedelta(days=day.weekday())
    if grouping == "month":
        return day.replace(day=1)
    return day


def _item_stats(
    stats: dict[str, tuple[int, int, int]], first: date, last: date, grouping: str, fields: list[str]
) -> list[dict[str, Any]]:
    totals: dict[date, list[int]] = {}
    for day_text, values in stats.items():
        day = date.fromisoformat(day_text)
        if first <= day <= last:
            bucket = totals.setdefault(_period_start(day, grouping), [0, 0, 0])
            for index in range(3):
                bucket[index] += int(values[index])
    return [
        {"date": period.isoformat(), **{name: values[STATS_FIELDS[name]] for name in fields}}
        for period, values in sorted(totals.items())
    ]


def stats(ctx: Context) -> Result:
    """``POST /stats/v1/accounts/{user_id}/items``."""
    body = ctx.json_body()
    first = parse_day(body.get("dateFrom"), "dateFrom")
    last = parse_day(body.get("dateTo"), "dateTo")
    if last < first:
        raise ApiError(400, "dateTo must not be before dateFrom")
    if first < today_utc() - timedelta(days=STATS_MAX_DAYS_BACK):
        raise ApiError(400, f"dateFrom must be within {STATS_MAX_DAYS_BACK} days")
    item_ids = body.get("itemIds")
    if not isinstance(item_ids, list) or not item_ids or not all(isinstance(i, int) for i in item_ids):
        raise ApiError(400, "itemIds must be a non-empty list of integers")
    if len(item_ids) > STATS_MAX_ITEM_IDS:
        raise ApiError(400, f"itemIds: at most {STATS_MAX_ITEM_IDS} ids")
    fields = body.get("fields") or list(DEFAULT_STATS_FIELDS)
    if not isinstance(fields, list) or any(name not in STATS_FIELDS for name in fields):
        raise ApiError(400, f"fields: allowed values are {sorted(STATS_FIELDS)}")
    grouping = body.get("periodGrouping") or "day"
    if grouping not in PERIOD_GROUPINGS:
        raise ApiError(400, f"periodGrouping must be one of {PERIOD_GROUPINGS}")
    items = [
        {"itemId": item_id, "stats": _item_stats(ctx.acc.items[item_id].stats, first, last, grouping, fields)}
        for item_id in item_ids
        if item_id in ctx.acc.items
    ]
    return 200, {"result": {"items": items}}


# ---------------------------------------------------------------- messenger


def _chat(ctx: Context) -> Chat:
    chat = ctx.acc.chats.get(ctx.params["chat_id"])
    if chat is None:
        raise ApiError(404, "chat not found")
    return chat


def chats_list(ctx: Context) -> Result:
    """``GET /messenger/v2/accounts/{user_id}/chats``: u2i only unless ``chat_types`` asks; newest first."""
    limit = int_param(ctx.query, "limit", 100, 1, 100)
    offset = int_param(ctx.query, "offset", 0, 0, 1000)
    unread_only = bool_param(ctx.query, "unread_only")
    chat_types = list_param(ctx.query, "chat_types") or ["u2i"]
    if any(chat_type not in CHAT_TYPES for chat_type in chat_types):
        raise validation_error("chat_types", f"allowed values are {CHAT_TYPES}")
    try:
        item_ids = {int(value) for value in list_param(ctx.query, "item_ids")}
    except ValueError:
        raise validation_error("item_ids", "must be integers") from None
    chats = [
        chat
        for chat in ctx.acc.chats.values()
        if chat.chat_type in chat_types
        and (not unread_only or chat.is_unread())
        and (not item_ids or chat.item_id in item_ids)
    ]
    chats.sort(key=lambda chat: chat.updated, reverse=True)
    return 200, {"chats": [chat.to_json(ctx.acc, ctx.sim.base_url) for chat in chats[offset : offset + limit]]}


def chat_one(ctx: Context) -> Result:
    """``GET /messenger/v2/accounts/{user_id}/chats/{chat_id}``."""
    return 200, _chat(ctx).to_json(ctx.acc, ctx.sim.base_url)


def messages_list(ctx: Context) -> Result:
    """``GET /messenger/v3/accounts/{user_id}/chats/{chat_id}/messages/``: bare array, newest first, no read."""
    limit = int_param(ctx.query, "limit", 100, 1, 100)
    offset = int_param(ctx.query, "offset", 0, 0, 1000)
    chat = _chat(ctx)
    page = chat.sorted_messages()[offset : offset + limit]
    return 200, [message.to_json(ctx.acc.user_id, ctx.sim.base_url) for message in page]


def send_message(ctx: Context) -> Result:
    """``POST /messenger/v1/accounts/{user_id}/chats/{chat_id}/messages``: text only, at most 1000 chars."""
    chat = _chat(ctx)
    body = ctx.json_body()
    message_body = body.get("message")
    text = message_body.get("text") if isinstance(message_body, dict) else None
    if body.get("type", "text") != "text":
        raise ApiError(400, "only text messages can be sent")
    if not isinstance(text, str) or not text:
        raise ApiError(400, "message.text is required")
    if len(text) > MESSAGE_MAX_CHARS:
        raise ApiError(400, f"message.text must be at most {MESSAGE_MAX_CHARS} characters")
    created = now_ts()
    message = Message(uuid.uuid4().hex, chat.chat_id, ctx.acc.user_id, text, created, is_read=True)
    chat.messages.append(message)
    chat.updated = max(chat.updated, created)
    ctx.sim.record_sent(SentMessage(ctx.acc.user_id, chat.chat_id, message.message_id, text, created), chat)
    return 200, {
        "id": message.message_id,
        "created": created,
        "direction": "out",
        "type": "text",
        "content": {"text": text},
    }


def delete_message(ctx: Context) -> Result:
    """``POST .../messages/{message_id}``: own message within an hour becomes type ``deleted``."""
    chat = _chat(ctx)
    message = next((m for m in chat.messages if m.message_id == ctx.params["message_id"]), None)
    if message is None:
        raise ApiError(404, "message not found")
    if message.author_id != ctx.acc.user_id or now_ts() - message.created > DELETE_WINDOW_SECONDS:
        raise ApiError(400, "message can not be deleted")
    message.msg_type, message.content = "deleted", {}
    return 200, {}


def image_type(data: bytes) -> str | None:
    """The image type Avito accepts (JPEG, PNG, GIF, BMP, HEIC) that ``data`` starts like, else None.

    Written out here on purpose, independent of the service's own detector, so tests check one against the other."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data.startswith(b"BM") and len(data) > 14:
        return "image/bmp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"):
        return "image/heic"
    return None


def upload_images(ctx: Context) -> Result:
    """``POST /messenger/v1/accounts/{user_id}/uploadImages``: one image in ``uploadfile[]``, at most 24 MB.

    Answers ``{"<image_id>": {"WxH": url}}``; the bytes are kept (``AvitoSimulator.uploaded_images``)."""
    parts = ctx.files.getlist(UPLOAD_FIELD) if ctx.files is not None else []
    if len(parts) != 1:
        raise validation_error(UPLOAD_FIELD, "exactly one image is required")
    data = parts[0].read()
    if len(data) > UPLOAD_MAX_BYTES:
        raise ApiError(413, "image is larger than 24 MB")
    content_type = image_type(data)
    if content_type is None:
        raise validation_error(UPLOAD_FIELD, "unsupported image format (JPEG, HEIC, GIF, BMP or PNG)")
    image_id = f"{ctx.acc.user_id}.{uuid.uuid4().hex[:20]}"
    ctx.sim.keep_file(
        StoredFile(image_id, data, content_type, owner_user_id=ctx.acc.user_id, filename=parts[0].filename)
    )
    return 200, {image_id: image_sizes(ctx.sim.base_url, image_id)}


def send_image(ctx: Context) -> Result:
    """``POST /messenger/v1/accounts/{user_id}/chats/{chat_id}/messages/image`` ``{image_id}``."""
    chat = _chat(ctx)
    image_id = ctx.json_body().get("image_id")
    if not isinstance(image_id, str) or not image_id:
        raise validation_error("image_id", "is required")
    image = ctx.sim.file(image_id)
    if image is None or image.owner_user_id != ctx.acc.user_id:
        raise ApiError(404, "image not found")
    created = now_ts()
    message = Message(uuid.uuid4().hex, chat.chat_id, ctx.acc.user_id, "", created, "image", True, image_id=image_id)
    chat.messages.append(message)
    chat.updated = max(chat.updated, created)
    ctx.sim.record_sent(SentMessage(ctx.acc.user_id, chat.chat_id, message.message_id, "", created, image_id), chat)
    full = message.to_json(ctx.acc.user_id, ctx.sim.base_url)
    return 200, {key: full[key] for key in ("id", "author_id", "created", "direction", "type", "content")}


def voice_files(ctx: Context) -> Result:
    """``GET /messenger/v1/accounts/{user_id}/getVoiceFiles?voice_ids=...``: a fresh link per id on every call.

    Only voice messages of the account's own chats are answered (as the documents say); other ids are left out."""
    voice_ids = list_param(ctx.query, "voice_ids")
    if not voice_ids:
        raise validation_error("voice_ids", "is required")
    own = {m.voice_id for chat in ctx.acc.chats.values() for m in chat.messages if m.voice_id}
    return 200, {"voices_urls": {v: ctx.sim.voice_link(v) for v in dict.fromkeys(voice_ids) if v in own}}


def _int_field(value: Any, name: str, *, required: bool) -> int | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise validation_error(name, "must be an integer")
    return value


def blacklist(ctx: Context) -> Result:
    """``POST /messenger/v2/accounts/{user_id}/blacklist`` ``{users: [{user_id, context: {item_id, reason_id}}]}``."""
    users = ctx.json_body().get("users")
    if not isinstance(users, list) or not users:
        raise validation_error("users", "must be a non-empty list")
    entries = []
    for index, user in enumerate(users):
        if not isinstance(user, dict):
            raise validation_error(f"users[{index}]", "must be an object")
        context = user.get("context") or {}
        if not isinstance(context, dict):
            raise validation_error(f"users[{index}].context", "must be an object")
        user_id = _int_field(user.get("user_id"), f"users[{index}].user_id", required=True)
        item_id = _int_field(context.get("item_id"), f"users[{index}].context.item_id", required=False)
        reason_id = _int_field(context.get("reason_id"), f"users[{index}].context.reason_id", required=False)
        if reason_id is not None and reason_id not in BLACKLIST_REASONS:
            raise validation_error(f"users[{index}].context.reason_id", f"must be one of {BLACKLIST_REASONS}")
        entries.append(BlacklistEntry(int(user_id or 0), item_id, reason_id))
    ctx.acc.blacklist.extend(entries)
    return 200, {}


def read_chat(ctx: Context) -> Result:
    """``POST /messenger/v1/accounts/{user_id}/chats/{chat_id}/read``: marks the whole chat read."""
    chat = _chat(ctx)
    stamp = now_ts()
    for message in chat.messages:
        if not message.is_read:
            message.is_read, message.read = True, stamp
    ctx.sim.record_read(ctx.acc.user_id, chat.chat_id)
    return 200, {"ok": True}


def _url_from_body(ctx: Context) -> str:
    url = ctx.json_body().get("url")
    if not isinstance(url, str) or not url:
        raise ApiError(400, "url is required")
    return url


def subscribe(ctx: Context) -> Result:
    """``POST /messenger/v3/webhook``: subscribe a URL for the token's account."""
    url = _url_from_body(ctx)
    if ctx.sim.one_subscription_per_account:  # as live Avito was seen to do: the newest subscription wins
        ctx.acc.subscriptions.clear()
    if url not in ctx.acc.subscriptions:
        ctx.acc.subscriptions.append(url)
    return 200, {"ok": True}


def unsubscribe(ctx: Context) -> Result:
    """``POST /messenger/v1/webhook/unsubscribe``."""
    url = _url_from_body(ctx)
    if url in ctx.acc.subscriptions:
        ctx.acc.subscriptions.remove(url)
    return 200, {"ok": True}


def subscriptions(ctx: Context) -> Result:
    """``POST /messenger/v1/subscriptions``."""
    return 200, {"subscriptions": [{"url": url, "version": "3"} for url in ctx.acc.subscriptions]}


# ---------------------------------------------------------------- routes

_USER = r"(?P<user_id>\d+)"
_CHAT = r"(?P<chat_id>[^/]+)"


def _route(method: str, pattern: str, handler: Handler, auth: bool = True, messenger: bool = False) -> Route:
    return Route(method, re.compile(pattern), handler, auth, messenger)


ROUTES: tuple[Route, ...] = (
    _route("POST", r"/token/?", token, auth=False),
    _route("GET", r"/core/v1/accounts/self/?", accounts_self),
    _route("GET", rf"/core/v1/accounts/{_USER}/balance/?", balance),
    _route("POST", r"/cpa/v3/balanceInfo/?", cpa_balance),
    Route("POST", re.compile(r"/cpa/v1/phonesInfoFromChats/?"), cpa_phones, access="cpa"),
    _route("GET", r"/core/v1/items/?", items_list),
    _route("POST", rf"/stats/v1/accounts/{_USER}/items/?", stats),
    _route("GET", rf"/messenger/v2/accounts/{_USER}/chats/?", chats_list, messenger=True),
    _route("GET", rf"/messenger/v2/accounts/{_USER}/chats/{_CHAT}/?", chat_one, messenger=True),
    _route("GET", rf"/messenger/v3/accounts/{_USER}/chats/{_CHAT}/messages/?", messages_list, messenger=True),
    _route("POST", rf"/messenger/v1/accounts/{_USER}/chats/{_CHAT}/messages/?", send_message, messenger=True),
    _route("POST", rf"/messenger/v1/accounts/{_USER}/chats/{_CHAT}/messages/image/?", send_image, messenger=True),
    _route(
        "POST",
        rf"/messenger/v1/accounts/{_USER}/chats/{_CHAT}/messages/(?P<message_id>[^/]+)/?",
        delete_message,
        messenger=True,
    ),
    _route("POST", rf"/messenger/v1/accounts/{_USER}/chats/{_CHAT}/read/?", read_chat, messenger=True),
    _route("POST", rf"/messenger/v1/accounts/{_USER}/uploadImages/?", upload_images, messenger=True),
    _route("GET", rf"/messenger/v1/accounts/{_USER}/getVoiceFiles/?", voice_files, messenger=True),
    _route("POST", rf"/messenger/v2/accounts/{_USER}/blacklist/?", blacklist, messenger=True),
    _route("POST", r"/messenger/v3/webhook/?", subscribe, messenger=True),
    _route("POST", r"/messenger/v1/webhook/unsubscribe/?", unsubscribe, messenger=True),
    _route("POST", r"/messenger/v1/subscriptions/?", subscriptions, messenger=True),
    *(Route(method, re.compile(path), handler, access=access) for method, path, handler, access in inbound.ROUTE_SPECS),
)


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route for a request, or 404 / 405 :class:`ApiError`."""
    path_matched = False
    for route in ROUTES:
        match = route.pattern.fullmatch(path)
        if match is None:
            continue
        path_matched = True
        if route.method == method:
            return route, match.groupdict()
    raise ApiError(405 if path_matched else 404)
