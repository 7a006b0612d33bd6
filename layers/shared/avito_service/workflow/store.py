"""The workflow state on the chat item of MessengerTable, and the workflow's own items there.

- ``status``, ``assignee``, ``awaitingReplySince``, ``firstResponseAt``, ``tags``: the API's fields (``Chat``);
- ``wfFirstIncomingAt``, ``wfLastIncomingAt``, ``wfAnsweredUpTo``, ``wfClosedAt``: the machine's memory;
- ``wfVersion``: optimistic lock, every transition is conditional on the version read (one winner for a claim);
- ``wfBy``: who made the last status/assignee change (``avito-chat-assigned``'s ``by``; absent: the service);
- GSI ``byStatus``: ``statusPk`` = ``STATUS#<status>#<00-15>``, ``activitySk`` (a status, newest first);
- GSI ``byAssignee``: ``assigneePk`` = ``ASSIGNEE#<userId>`` (one partition a user) or ``ASSIGNEE#-#<00-15>``
  (nobody), ``activitySk``;
- GSI ``awaitingReply`` (sparse): ``awaitPk`` = ``AWAIT#<00-15>``, ``awaitSk`` =
  ``<awaitingReplySince>#<account>#<chat>``, read oldest first ("needs a reply, longest waiting first");
- items ``<chat pk>`` / ``NOTE#<createdAt>#<id>``: a chat's internal notes (never sent to Avito; announced to the
  console as ``avito-chat-note``);
- items ``USER#<id>`` / ``PRESENCE`` (``away``) and ``USER#<id>`` / ``OFFLINE`` (``since``: when the user's last
  connection closed, the offline period a grace schedule is for; presence.py).

The 16 shards are the inbox's (``messenger.items.inbox_shard``), merged the same way (``messenger.inbox``).
A chat item written before the workflow existed has no ``status``: it reads as ``new`` (``state_of``) and enters
the status index at its next transition or message.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from avito_service import aws, dynamo
from avito_service.config import get_settings
from avito_service.errors import NotFound
from avito_service.messenger.items import CHAT_SK, chat_pk, inbox_shard
from avito_service.workflow.machine import Person, State, Status

BY_STATUS = "byStatus"
BY_ASSIGNEE = "byAssignee"
AWAITING = "awaitingReply"
NOTE_PREFIX = "NOTE#"
TRANSITION_ATTEMPTS = 20
NOBODY = "-"
ROUTING_SK = "ROUTING"
PRESENCE_SK = "PRESENCE"
OFFLINE_SK = "OFFLINE"


class Contention(Exception):
    """A chat's workflow kept changing under a transition (answered as an unexpected error)."""


def _table() -> Any:
    return aws.table(get_settings().messenger_table)


def status_pk(status: str, shard: int) -> str:
    return f"STATUS#{status}#{shard:02d}"


def assignee_pk(user_id: str | None, shard: int = 0) -> str:
    return f"ASSIGNEE#{user_id}" if user_id else f"ASSIGNEE#{NOBODY}#{shard:02d}"


def await_pk(shard: int) -> str:
    return f"AWAIT#{shard:02d}"


def chat_not_found(chat_id: str) -> NotFound:
    return NotFound(f"No stored chat with id '{chat_id[:200]}'.", code="chat_not_found")


# --- item <-> state ----------------------------------------------------------------------------------------


def _person(value: Any) -> Person | None:
    if not isinstance(value, Mapping) or not value.get("userId"):
        return None
    name = value.get("name")
    return Person(str(value["userId"]), str(name) if name else None)


def state_of(item: Mapping[str, Any]) -> State:
    """The machine's state of a chat item (an item older than the workflow: ``new``, nothing awaited)."""
    status = item.get("status")
    return State(
        status=Status(status) if status in {s.value for s in Status} else Status.NEW,
        assignee=_person(item.get("assignee")),
        awaiting_since=item.get("awaitingReplySince"),
        first_response_at=item.get("firstResponseAt"),
        first_incoming_at=item.get("wfFirstIncomingAt"),
        last_incoming_at=item.get("wfLastIncomingAt"),
        answered_up_to=item.get("wfAnsweredUpTo"),
        closed_at=item.get("wfClosedAt"),
        tags=tuple(str(t) for t in item.get("tags") or ()),
    )


def initial_fields(account_id: str, chat_id: str) -> dict[str, Any]:
    """What a chat is created with (``if_not_exists`` in messenger.changes): ``new``, in the queue's index."""
    shard = inbox_shard(account_id, chat_id)
    return {
        "status": Status.NEW.value,
        "statusPk": status_pk(Status.NEW.value, shard),
        "assigneePk": assignee_pk(None, shard),
    }


def state_fields(account_id: str, chat_id: str, state: State) -> tuple[dict[str, Any], set[str]]:
    """(attributes to set, attributes to remove) that store ``state`` and place the chat in the indexes."""
    shard = inbox_shard(account_id, chat_id)
    values: dict[str, Any] = {
        "status": state.status.value,
        "statusPk": status_pk(state.status.value, shard),
        "assignee": state.assignee.as_dict() if state.assignee else None,
        "assigneePk": assignee_pk(state.assignee.user_id if state.assignee else None, shard),
        "awaitingReplySince": state.awaiting_since,
        "firstResponseAt": state.first_response_at,
        "wfFirstIncomingAt": state.first_incoming_at,
        "wfLastIncomingAt": state.last_incoming_at,
        "wfAnsweredUpTo": state.answered_up_to,
        "wfClosedAt": state.closed_at,
        "tags": list(state.tags),
    }
    if state.awaiting_since:
        values["awaitPk"] = await_pk(shard)
        values["awaitSk"] = f"{state.awaiting_since}#{account_id}#{chat_id}"
    remove = {name for name, value in values.items() if value is None}
    if not state.awaiting_since:
        remove |= {"awaitPk", "awaitSk"}
    return {k: v for k, v in values.items() if v is not None}, remove


# --- transitions -------------------------------------------------------------------------------------------


def get_chat_item(account_id: str, chat_id: str) -> dict[str, Any] | None:
    key = {"pk": chat_pk(account_id, chat_id), "sk": CHAT_SK}
    return _table().get_item(Key=key, ConsistentRead=True).get("Item")


def transition(
    account_id: str,
    chat_id: str,
    step: Callable[[State], State],
    *,
    by: Person | None = None,
    extra: Mapping[str, Any] | None = None,
    item: dict[str, Any] | None = None,
) -> tuple[State, State, dict[str, Any]]:
    """Apply ``step`` (machine.apply with an event) to the chat's stored state: read, compute, write under
    ``wfVersion = <read>``; on a lost race read again and recompute (so a second claimer sees the winner and
    gets ChatTaken from the machine). Returns (before, after, the chat item as stored after). Nothing is
    written when the state does not change. NotFound ``chat_not_found`` when the chat is not stored.
    ``item`` is the chat as just read, saving the first read."""
    for _ in range(TRANSITION_ATTEMPTS):
        current = item if item is not None else get_chat_item(account_id, chat_id)
        item = None
        if current is None:
            raise chat_not_found(chat_id)
        before = state_of(current)
        after = step(before)
        if after == before and not extra and "status" in current:
            return before, after, current
        values, remove = state_fields(account_id, chat_id, after)
        if (before.status, before.assignee) != (after.status, after.assignee):
            values["wfBy"] = by.as_dict() if by else None
            if by is None:
                remove.add("wfBy")
                values.pop("wfBy")
        if after.awaiting_since != before.awaiting_since:
            remove.add("wfAlerted")  # a new waiting period (or none): its thresholds alert again
        values.update(extra or {})
        version = current.get("wfVersion")
        expression = dynamo.Expression()
        condition = (
            f"attribute_exists(pk) AND {expression.name('wfVersion')} = {expression.value(version)}"
            if version is not None
            else f"attribute_exists(pk) AND attribute_not_exists({expression.name('wfVersion')})"
        )
        request = dynamo.update_expression(
            set_values=values,
            add={"wfVersion": 1},
            remove=remove,
            conditions=[condition],
            expression=expression,
        )
        try:
            answer = _table().update_item(
                Key={"pk": chat_pk(account_id, chat_id), "sk": CHAT_SK}, ReturnValues="ALL_NEW", **request
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                continue  # someone else changed it (or it is gone): read again
            raise
        return before, after, answer["Attributes"]
    raise Contention(f"chat {chat_id} kept changing during a workflow transition")


# --- notes -------------------------------------------------------------------------------------------------


def add_note(account_id: str, chat_id: str, note: dict[str, Any]) -> dict[str, Any]:
    """Store a note; its stream record is the ``avito-chat-note`` frame (live.frames), hence its chat's ids."""
    key = {"pk": chat_pk(account_id, chat_id), "sk": f"{NOTE_PREFIX}{note['createdAt']}#{note['id']}"}
    item = {**key, "accountId": account_id, "chatId": chat_id, **note}
    _table().put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    return item


def list_notes(account_id: str, chat_id: str, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    pk = chat_pk(account_id, chat_id)
    return dynamo.query_page(
        _table().query,
        {"KeyConditionExpression": Key("pk").eq(pk) & Key("sk").begins_with(NOTE_PREFIX), "ScanIndexForward": True},
        limit=limit,
        cursor=cursor,
        key_attrs=("pk", "sk"),
        belongs=lambda start: start.get("pk") == pk and str(start.get("sk", "")).startswith(NOTE_PREFIX),
    )


def new_note_id() -> str:
    return uuid.uuid4().hex


# --- waiting alerts and the account's routing ------------------------------------------------------------------


def mark_alerted(account_id: str, chat_id: str, since: str, threshold: int, at: str) -> dict[str, Any] | None:
    """Record that ``threshold`` (minutes) was alerted for the waiting period that began at ``since``: once,
    conditional on that period still going and the threshold not recorded yet (``wfAlerted``, cleared when a new
    period begins). Returns the chat as stored after, or None when there is nothing to alert (answered meanwhile,
    another period, or alerted already). The write's stream record is the ``avito-chat-waiting`` frame."""
    return _mark_threshold(account_id, chat_id, since, threshold, attribute="wfAlert", at=at)


def mark_skipped(account_id: str, chat_id: str, since: str, threshold: int, at: str) -> dict[str, Any] | None:
    """Record that ``threshold`` came due but is no longer one of the account's thresholds (the routing changed
    after it was armed): handled like an alert (``wfAlerted``, once, same period) but in ``wfAlertSkipped``,
    which no frame announces; its stream record arms the next current threshold (alerts.on_chat_change).
    None when there is nothing to do (answered meanwhile, another period, or handled already)."""
    return _mark_threshold(account_id, chat_id, since, threshold, attribute="wfAlertSkipped", at=at)


def _mark_threshold(
    account_id: str, chat_id: str, since: str, threshold: int, *, attribute: str, at: str
) -> dict[str, Any] | None:
    expression = dynamo.Expression()
    n, v = expression.name, expression.value
    mark = {"threshold": threshold, "at": at}
    update = f"ADD {n('wfAlerted')} {v({threshold})} SET {n(attribute)} = {v(mark)}"
    condition = (
        f"{n('awaitingReplySince')} = {v(since)} AND "
        f"(attribute_not_exists({n('wfAlerted')}) OR NOT contains({n('wfAlerted')}, {v(threshold)}))"
    )
    try:
        answer = _table().update_item(
            Key={"pk": chat_pk(account_id, chat_id), "sk": CHAT_SK},
            ReturnValues="ALL_NEW",
            **expression.render(update, condition),
        )
    except ClientError as exc:
        if dynamo.condition_failed(exc):
            return None
        raise
    return answer["Attributes"]


def routing_key(account_id: str) -> dict[str, str]:
    return {"pk": f"ACCOUNT#{account_id}#WORKFLOW", "sk": ROUTING_SK}


def get_routing(account_id: str) -> dict[str, Any] | None:
    return _table().get_item(Key=routing_key(account_id)).get("Item")


def get_routings(account_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The accounts' routing items by account id (BatchGetItem, 100 keys a call; absent: never set)."""
    items = dynamo.batch_get(get_settings().messenger_table, [routing_key(a) for a in account_ids])
    return {str(item["accountId"]): item for item in items}


def put_routing(account_id: str, routing: Mapping[str, Any]) -> None:
    _table().put_item(Item={**routing_key(account_id), "accountId": account_id, **routing})


def next_turn(account_id: str) -> int:
    """The account's round-robin counter, moved on by one (atomic ADD on its routing item)."""
    answer = _table().update_item(
        Key=routing_key(account_id),
        UpdateExpression="ADD rrTurn :one",
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_NEW",
    )
    return int(answer["Attributes"]["rrTurn"])


def open_chats_of(user_id: str) -> int:
    """How many open chats a user has: their ``byAssignee`` partition, counted (least busy, the cap)."""
    total = 0
    request: dict[str, Any] = {
        "IndexName": BY_ASSIGNEE,
        "KeyConditionExpression": Key("assigneePk").eq(assignee_pk(user_id)),
        "FilterExpression": "#s = :open",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":open": Status.OPEN.value},
        "Select": "COUNT",
    }
    while True:
        page = _table().query(**request)
        total += int(page.get("Count", 0))
        if not page.get("LastEvaluatedKey"):
            return total
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def presence_key(user_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": PRESENCE_SK}


def set_away(user_id: str, away: bool, at: str) -> None:
    _table().put_item(Item={**presence_key(user_id), "away": away, "updatedAt": at})


def away_users(user_ids: list[str]) -> set[str]:
    """Which of ``user_ids`` set ``away`` (BatchGetItem, 100 keys a call)."""
    items = dynamo.batch_get(get_settings().messenger_table, [presence_key(u) for u in user_ids])
    return {str(i["pk"]).removeprefix("USER#") for i in items if i.get("away")}


def mark_offline(user_id: str, since: str) -> None:
    """The user's last connection closed at ``since``: the offline period the grace schedule is armed for."""
    _table().put_item(Item={"pk": f"USER#{user_id}", "sk": OFFLINE_SK, "since": since})


def offline_since(user_id: str) -> str | None:
    item = _table().get_item(Key={"pk": f"USER#{user_id}", "sk": OFFLINE_SK}, ConsistentRead=True).get("Item")
    return str(item["since"]) if item and item.get("since") else None


def open_chats_held_by(user_id: str) -> list[tuple[str, str]]:
    """(account, chat) of every open chat the user holds: their ``byAssignee`` partition."""
    found: list[tuple[str, str]] = []
    request: dict[str, Any] = {
        "IndexName": BY_ASSIGNEE,
        "KeyConditionExpression": Key("assigneePk").eq(assignee_pk(user_id)),
        "FilterExpression": "#s = :open",
        "ProjectionExpression": "accountId, chatId",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":open": Status.OPEN.value},
    }
    while True:
        page = _table().query(**request)
        found += [(str(i["accountId"]), str(i["chatId"])) for i in page.get("Items", [])]
        if not page.get("LastEvaluatedKey"):
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
