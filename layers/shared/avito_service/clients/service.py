"""The client card of a stored chat: the client, the phone numbers they wrote, the item, their other chats."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from avito_service.calls.models import TrackedCall
from avito_service.calls.store import call_store
from avito_service.clients import cpa, store
from avito_service.clients.models import CardItem, ClientCard, OtherChat, PhoneSource
from avito_service.errors import NotFound
from avito_service.messenger.store import chat_store
from avito_service.phones import find_phones
from avito_service.users import scope

# Avito's item addresses start with the region: https://www.avito.ru/<region>/<category>/<slug>_<id>. The biggest
# regions by name; any other slug is shown as it is (Avito's chat context carries no city of its own).
_REGIONS = {
    "moskva": "Москва",
    "moskovskaya_oblast": "Московская область",
    "sankt-peterburg": "Санкт-Петербург",
    "leningradskaya_oblast": "Ленинградская область",
    "novosibirsk": "Новосибирск",
    "ekaterinburg": "Екатеринбург",
    "kazan": "Казань",
    "nizhniy_novgorod": "Нижний Новгород",
    "chelyabinsk": "Челябинск",
    "samara": "Самара",
    "omsk": "Омск",
    "rostov-na-donu": "Ростов-на-Дону",
    "ufa": "Уфа",
    "krasnoyarsk": "Красноярск",
    "voronezh": "Воронеж",
    "perm": "Пермь",
    "volgograd": "Волгоград",
    "krasnodar": "Краснодар",
}
MAX_PHONES_WITH_CALLS = 5  # a card shows the calls of its first (newest) phones
CALLS_PER_PHONE = 20
_SLUG = re.compile(r"^[a-z][a-z_\-]*$")


def city_of(url: str | None) -> str | None:
    """The region of an Avito item address (``https://www.avito.ru/moskva/...`` -> ``Москва``), or None."""
    if not url:
        return None
    parsed = urlparse(url)
    if not parsed.hostname or not parsed.hostname.endswith("avito.ru"):
        return None
    parts = [part for part in parsed.path.split("/") if part]
    if len(parts) < 2 or not _SLUG.match(parts[0]):
        return None
    return _REGIONS.get(parts[0], parts[0])


def client_card(chat_id: str, account_id: str | None, visible: frozenset[str] | None) -> ClientCard:
    """The card of the stored chat (404 for a chat on an account the caller may not see)."""
    owner = chat_store().owner_of(chat_id, account_id)
    if not scope.can_see(visible, owner):
        raise NotFound(f"No stored chat with id '{chat_id[:200]}'.", code="chat_not_found")
    chat = chat_store().get_chat(chat_id, owner)
    phones = _phones(owner, chat_id)
    others = []
    if chat.clientUserId:
        for item in store.chats_of_client(chat.clientUserId):
            other_account = str(item.get("accountId", ""))
            if other_account == owner or not scope.can_see(visible, other_account):
                continue
            last = item.get("lastMessage") or {}
            others.append(
                OtherChat(
                    accountId=other_account,
                    chatId=str(item.get("chatId", "")),
                    itemTitle=item.get("itemTitle"),
                    lastMessageAt=(last.get("createdAt") if isinstance(last, dict) else None) or item.get("updatedAt"),
                )
            )
    others.sort(key=lambda other: other.lastMessageAt or "", reverse=True)
    item = (
        CardItem(
            id=chat.itemId, title=chat.itemTitle, url=chat.itemUrl, price=chat.itemPrice, city=city_of(chat.itemUrl)
        )
        if chat.itemId
        else None
    )
    return ClientCard(
        clientName=chat.clientName,
        clientUserId=chat.clientUserId,
        phones=list(phones),
        phoneSources=list(phones.values()),
        item=item,
        otherChats=others,
        calls=calls_of(list(phones), visible, chat_store().hidden_accounts()),
    )


def _phones(account_id: str, chat_id: str) -> dict[str, PhoneSource]:
    """The numbers of the client's messages, newest message first: written in a message (``message``), or found by
    Avito CPA in a message sent in the same second (``cpa``, after the written ones of that message). An account
    whose key Avito refuses CPA has no ``cpa`` numbers."""
    messages = list(store.incoming_messages(account_id, chat_id))
    from_avito = cpa.phones_at(account_id, {second for second, _ in messages}) if cpa.refresh(account_id) else {}
    phones: dict[str, PhoneSource] = {}
    for second, text in messages:
        for number in find_phones(text):
            phones.setdefault(number, "message")
        for number in from_avito.pop(second, []):
            phones.setdefault(number, "cpa")
    return phones


def calls_of(phones: list[str], visible: frozenset[str] | None, hidden: frozenset[str]) -> list[TrackedCall]:
    """The calls from ``phones`` on the accounts the caller sees (deleted ones left out), newest first."""
    found: dict[tuple[str, str], TrackedCall] = {}
    for phone in phones[:MAX_PHONES_WITH_CALLS]:
        for call in call_store().calls_of_phone(phone, CALLS_PER_PHONE):
            if call.accountId in hidden or (visible is not None and call.accountId not in visible):
                continue
            found[(call.accountId, call.id)] = call
    return sorted(found.values(), key=lambda call: call.callTime, reverse=True)[:CALLS_PER_PHONE]
