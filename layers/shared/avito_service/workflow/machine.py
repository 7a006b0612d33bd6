"""The chat workflow as a state machine: pure functions from (state, event) to the next state (no I/O here).

- incoming message at t: closed -> new (the assignee kept as a hint) when t is after the close; awaited since t
  when nothing is awaited and t is after what was answered (the oldest unanswered one, when out of order);
- outgoing message (through the service, or from Avito's app: ``direction: out``): clears the wait it answers;
  ``firstResponseAt`` set once; an automatic reply (``automatic``) changes nothing (a robot's reply is no answer);
- claim: new -> open with the caller as assignee (one winner: ``ChatTaken`` when someone else has it);
- transfer: open with the target as assignee; release: new, no assignee;
- close: closed (assignee kept), nothing awaited; reopen: closed -> open with the caller as assignee;
- no reply needed at t: nothing awaited; what came before t counts as answered;
- auto-assignment: new -> open with the chosen operator (``NotAssignable`` when it is not new any more);
- the assignee offline past the grace period (presence.py): their open chat -> new, no assignee; a chat that is
  no longer theirs, or not open, is left as it is.

Times are ISO 8601 UTC strings of one width (``clock.iso``), so they compare like the times they name.
``answeredUpTo`` is the newest time up to which incoming messages are taken as answered (the newest reply, a
close, a "no reply needed"); an incoming message from before it (history a listing finds late) sets nothing.
Under out-of-order delivery one case is approximate: a reply older than the newest incoming message clears
the wait only up to that message (``lastIncomingAt`` stays awaited), never hides a newer question.

Who may do what (roles) is asked here too, so the rule lives next to the transition: a transfer or release by
someone who is neither the assignee nor a director or admin is ``NotAllowed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from avito_service.errors import Conflict, Forbidden
from avito_service.roles import Role

SUPERVISORS = frozenset({Role.ADMIN.value, Role.DIRECTOR.value})


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"userId": self.user_id, "name": self.name}


@dataclass(frozen=True)
class Actor:
    """Who asks for a transition: the person and their role."""

    person: Person
    role: str

    @property
    def supervises(self) -> bool:
        return self.role in SUPERVISORS


@dataclass(frozen=True)
class State:
    status: Status = Status.NEW
    assignee: Person | None = None
    awaiting_since: str | None = None
    first_response_at: str | None = None
    first_incoming_at: str | None = None
    last_incoming_at: str | None = None
    answered_up_to: str | None = None
    closed_at: str | None = None
    tags: tuple[str, ...] = field(default=())


# --- events ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    at: str


@dataclass(frozen=True)
class Outgoing:
    """An outgoing message: sent through the service, or from Avito's own app (a delivery or listing with
    ``direction: out``); both answer the client. ``automatic`` replies (autoreplies) answer nothing."""

    at: str
    automatic: bool = False


@dataclass(frozen=True)
class Claim:
    actor: Actor


@dataclass(frozen=True)
class Transfer:
    actor: Actor
    target: Person


@dataclass(frozen=True)
class Release:
    actor: Actor


@dataclass(frozen=True)
class Close:
    actor: Actor
    at: str


@dataclass(frozen=True)
class Reopen:
    actor: Actor


@dataclass(frozen=True)
class NoReplyNeeded:
    actor: Actor
    at: str


@dataclass(frozen=True)
class SetTags:
    actor: Actor
    tags: tuple[str, ...]


@dataclass(frozen=True)
class AutoAssign:
    """Auto-assignment gives a ``new`` chat to an available operator (routing.py)."""

    target: Person


@dataclass(frozen=True)
class OfflineRelease:
    """The assignee ``user_id`` stayed offline past the grace period (presence.py): back to the queue."""

    user_id: str


Event = (
    Incoming
    | Outgoing
    | Claim
    | Transfer
    | Release
    | Close
    | Reopen
    | NoReplyNeeded
    | SetTags
    | AutoAssign
    | OfflineRelease
)


# --- refusals ----------------------------------------------------------------------------------------------


class ChatTaken(Conflict):
    code = "chat_taken"

    def __init__(self, assignee: Person) -> None:
        named = f"{assignee.name} ({assignee.user_id})" if assignee.name else assignee.user_id
        super().__init__(f"The chat is taken by {named}.")
        self.assignee = assignee


class ChatClosed(Conflict):
    code = "chat_closed"


class ChatNotClosed(Conflict):
    code = "chat_not_closed"


class NotAllowed(Forbidden):
    code = "forbidden"


class NotAssignable(Conflict):
    """Auto-assignment lost the race: the chat is no longer ``new`` (someone took or closed it meanwhile)."""

    code = "not_assignable"


# --- the transitions ---------------------------------------------------------------------------------------


def _later(a: str | None, b: str | None) -> str | None:
    return max((x for x in (a, b) if x is not None), default=None)


def _earlier(a: str | None, b: str | None) -> str | None:
    return min((x for x in (a, b) if x is not None), default=None)


def _may_handle(state: State, actor: Actor) -> bool:
    """The assignee, a director or an admin."""
    return actor.supervises or (state.assignee is not None and state.assignee.user_id == actor.person.user_id)


def _hand_over(state: State, actor: Actor, verb: str, status: Status, assignee: Person | None) -> State:
    """Transfer and release: the assignee, a director or an admin hands a chat that is not closed on."""
    if not _may_handle(state, actor):
        raise NotAllowed(f"Only the chat's assignee, a director or an admin may {verb} it.")
    if state.status is Status.CLOSED:
        raise ChatClosed("The chat is closed; reopen it first.")
    return replace(state, status=status, assignee=assignee)


def apply(state: State, event: Event) -> State:
    """The state after ``event``; raises a refusal (ServiceError) when the event is not allowed now."""
    match event:
        case Incoming(at=at):
            return _incoming(state, at)
        case Outgoing(at=at, automatic=automatic):
            return state if automatic else _outgoing(state, at)
        case Claim(actor=actor):
            if state.status is Status.CLOSED:
                raise ChatClosed("The chat is closed; reopen it to take it.")
            holder = state.assignee
            if state.status is Status.OPEN and holder is not None and holder.user_id != actor.person.user_id:
                raise ChatTaken(holder)
            return replace(state, status=Status.OPEN, assignee=actor.person)
        case Transfer(actor=actor, target=target):
            return _hand_over(state, actor, "transfer", Status.OPEN, target)
        case Release(actor=actor):
            return _hand_over(state, actor, "release", Status.NEW, None)
        case Close(actor=actor, at=at):
            if state.status is Status.OPEN and state.assignee is not None and not _may_handle(state, actor):
                raise NotAllowed("The chat is another operator's; they, a director or an admin may close it.")
            answered = _later(state.answered_up_to, at)
            return replace(state, status=Status.CLOSED, closed_at=at, awaiting_since=None, answered_up_to=answered)
        case Reopen(actor=actor):
            if state.status is not Status.CLOSED:
                raise ChatNotClosed("The chat is not closed.")
            return replace(state, status=Status.OPEN, assignee=actor.person)
        case NoReplyNeeded(at=at):
            return replace(state, awaiting_since=None, answered_up_to=_later(state.answered_up_to, at))
        case SetTags(tags=tags):
            return replace(state, tags=tuple(dict.fromkeys(tags)))
        case AutoAssign(target=target):
            if state.status is not Status.NEW:
                raise NotAssignable("The chat was taken meanwhile.")
            return replace(state, status=Status.OPEN, assignee=target)
        case OfflineRelease(user_id=user_id):
            holder = state.assignee
            if state.status is not Status.OPEN or holder is None or holder.user_id != user_id:
                return state  # transferred, released or closed meanwhile: not the offline operator's to give back
            return replace(state, status=Status.NEW, assignee=None)
    raise TypeError(f"not a workflow event: {event!r}")


def _incoming(state: State, at: str) -> State:
    status = state.status
    if status is Status.CLOSED and (state.closed_at is None or at > state.closed_at):
        status = Status.NEW  # the client wrote again: back to the queue, the last assignee kept as a hint
    awaiting = state.awaiting_since
    if state.answered_up_to is None or at > state.answered_up_to:
        awaiting = _earlier(awaiting, at)  # the oldest unanswered one
    return replace(
        state,
        status=status,
        awaiting_since=awaiting,
        first_incoming_at=_earlier(state.first_incoming_at, at),
        last_incoming_at=_later(state.last_incoming_at, at),
    )


def _outgoing(state: State, at: str) -> State:
    awaiting = state.awaiting_since
    if awaiting is not None and awaiting <= at:
        # answered; an incoming message newer than this reply (delivered before it) still waits
        newer = state.last_incoming_at if state.last_incoming_at and state.last_incoming_at > at else None
        awaiting = newer
    first_response = state.first_response_at
    if first_response is None and state.first_incoming_at is not None and at >= state.first_incoming_at:
        first_response = at
    return replace(
        state,
        awaiting_since=awaiting,
        first_response_at=first_response,
        answered_up_to=_later(state.answered_up_to, at),
    )
