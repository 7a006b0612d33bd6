"""What the client card keeps of Avito CPA's ``phonesInfoFromChats`` (table ``MessengerTable``, beside the chats).

| access pattern                                  | key                                                         |
|-------------------------------------------------|-------------------------------------------------------------|
| the account's CPA state (last fetch, refusal)   | pk ``ACCOUNT#<accountId>#CPA``, sk ``STATE``                |
| the phones Avito found, by the message's second | same pk, sk ``PHONE#<unix second, 12 digits>#<result id>``  |

``STATE`` holds ``fetchedAt`` (the last call, claimed with a conditional write so that one container calls per
minute), ``deniedUntil`` (a 402/403 is remembered for a day), and where the next call starts (``dateFrom``,
``offset``). The partition is removed with the account (``accounts/cleanup.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from avito_service import aws, dynamo
from avito_service.config import get_settings

STATE_SK = "STATE"
PHONE_PREFIX = "PHONE#"
MAX_READ = 2000  # CPA results read for one card (the chat's time span, newest first)


def cpa_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}#CPA"


def _table() -> Any:
    return aws.table(get_settings().messenger_table)


def phone_sk(second: int, result_id: str) -> str:
    return f"{PHONE_PREFIX}{second:012d}#{result_id}"


@dataclass(frozen=True)
class CpaState:
    fetched_at: float = 0.0
    denied_until: float = 0.0
    date_from: int | None = None
    offset: int = 0


def state(account_id: str) -> CpaState:
    item = _table().get_item(Key={"pk": cpa_pk(account_id), "sk": STATE_SK}).get("Item") or {}
    return CpaState(
        fetched_at=float(item.get("fetchedAt") or 0),
        denied_until=float(item.get("deniedUntil") or 0),
        date_from=int(item["dateFrom"]) if item.get("dateFrom") is not None else None,
        offset=int(item.get("offset") or 0),
    )


def claim(account_id: str, now: float, fresh_after: float) -> bool:
    """Take this minute's call for the account: True for exactly one caller while the last fetch is older than
    ``fresh_after`` and the account is not refused (a conditional write, so containers racing get one winner)."""
    try:
        _table().update_item(
            Key={"pk": cpa_pk(account_id), "sk": STATE_SK},
            UpdateExpression="SET fetchedAt = :now",
            ConditionExpression="(attribute_not_exists(fetchedAt) OR fetchedAt <= :fresh) AND "
            "(attribute_not_exists(deniedUntil) OR deniedUntil <= :now)",
            ExpressionAttributeValues={
                ":now": Decimal(str(round(now, 3))),
                ":fresh": Decimal(str(round(fresh_after, 3))),
            },
        )
    except ClientError as exc:
        if dynamo.condition_failed(exc):
            return False
        raise
    return True


def advance(account_id: str, date_from: int, offset: int) -> None:
    _table().update_item(
        Key={"pk": cpa_pk(account_id), "sk": STATE_SK},
        UpdateExpression="SET dateFrom = :from, #offset = :offset",
        ExpressionAttributeNames={"#offset": "offset"},
        ExpressionAttributeValues={":from": int(date_from), ":offset": int(offset)},
    )


def deny(account_id: str, until: float) -> None:
    _table().update_item(
        Key={"pk": cpa_pk(account_id), "sk": STATE_SK},
        UpdateExpression="SET deniedUntil = :until",
        ExpressionAttributeValues={":until": Decimal(str(round(until, 3)))},
    )


def save(account_id: str, found: list[tuple[int, str, str]]) -> None:
    """Store ``(second, result id, +7XXXXXXXXXX)`` results (a result seen again overwrites itself)."""
    with _table().batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
        for second, result_id, phone in found:
            batch.put_item(
                Item={
                    "pk": cpa_pk(account_id),
                    "sk": phone_sk(second, result_id),
                    "accountId": account_id,
                    "at": second,
                    "phone": phone,
                }
            )


def phones_between(account_id: str, first: int, last: int) -> list[tuple[int, str]]:
    """``(second, phone)`` of the results sent in [first, last], newest first (at most MAX_READ)."""
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(cpa_pk(account_id))
        & Key("sk").between(f"{PHONE_PREFIX}{first:012d}#", f"{PHONE_PREFIX}{last:012d}#~"),
        "ScanIndexForward": False,
        "ProjectionExpression": "#at, phone",
        "ExpressionAttributeNames": {"#at": "at"},
    }
    found: list[tuple[int, str]] = []
    while len(found) < MAX_READ:
        page = _table().query(**query, Limit=min(500, MAX_READ - len(found)))
        found.extend((int(item["at"]), str(item["phone"])) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found
