"""The workflow state machine (avito_service/workflow/machine.py): one test per transition, and the refusals."""

from __future__ import annotations

from functools import reduce

import pytest
from avito_service.workflow.machine import (
    Actor,
    AutoAssign,
    ChatClosed,
    ChatNotClosed,
    ChatTaken,
    Claim,
    Close,
    Incoming,
    NoReplyNeeded,
    NotAllowed,
    NotAssignable,
    OfflineRelease,
    Outgoing,
    Person,
    Release,
    Reopen,
    SetTags,
    State,
    Status,
    Transfer,
    apply,
)

ANNA, BORIS = Person("anna", "Анна"), Person("boris", "Борис")
OP_ANNA, OP_BORIS = Actor(ANNA, "operator"), Actor(BORIS, "operator")
DIRECTOR = Actor(Person("dir", "Директор"), "director")
T1, T2, T3, T4 = (f"2026-12-07T10:0{minute}:00.000Z" for minute in range(4))


def run(*events, state: State | None = None) -> State:
    return reduce(apply, events, state or State())


def test_a_chat_starts_new_with_nothing_awaited() -> None:
    assert State() == State(status=Status.NEW, assignee=None, awaiting_since=None)


def test_incoming_message_starts_a_wait() -> None:
    state = run(Incoming(T1))
    assert (state.status, state.awaiting_since, state.first_incoming_at) == (Status.NEW, T1, T1)


def test_a_second_incoming_message_keeps_the_oldest_wait() -> None:
    assert run(Incoming(T1), Incoming(T2)).awaiting_since == T1
    assert run(Incoming(T2), Incoming(T1)).awaiting_since == T1  # out of order: the oldest unanswered one


def test_outgoing_message_from_the_service_clears_the_wait_and_sets_first_response() -> None:
    state = run(Incoming(T1), Outgoing(T2))
    assert (state.awaiting_since, state.first_response_at) == (None, T2)
    assert run(Incoming(T1), Outgoing(T2), Incoming(T3), Outgoing(T4)).first_response_at == T2  # set once


def test_outgoing_message_from_avitos_app_answers_like_one_from_the_service() -> None:
    # a delivery or listing with direction out is the same event: the account's own message
    assert run(Incoming(T1), Outgoing(T3)).awaiting_since is None


def test_automatic_reply_does_not_clear_the_wait() -> None:
    state = run(Incoming(T1), Outgoing(T2, automatic=True))
    assert (state.awaiting_since, state.first_response_at) == (T1, None)


def test_an_old_reply_delivered_late_leaves_a_newer_question_waiting() -> None:
    assert run(Incoming(T1), Incoming(T3), Outgoing(T2)).awaiting_since == T3


def test_history_older_than_the_last_reply_awaits_nothing() -> None:
    assert run(Outgoing(T3), Incoming(T1)).awaiting_since is None


def test_outgoing_before_any_incoming_is_no_first_response() -> None:
    assert run(Outgoing(T1), Incoming(T2)).first_response_at is None


def test_claim_makes_the_chat_open_with_the_caller() -> None:
    state = run(Incoming(T1), Claim(OP_ANNA))
    assert (state.status, state.assignee, state.awaiting_since) == (Status.OPEN, ANNA, T1)


def test_claim_of_a_chat_someone_else_has_is_chat_taken_naming_them() -> None:
    with pytest.raises(ChatTaken) as taken:
        run(Claim(OP_ANNA), Claim(OP_BORIS))
    assert taken.value.assignee == ANNA and "Анна" in taken.value.message and taken.value.status == 409


def test_claiming_a_chat_one_already_has_changes_nothing() -> None:
    state = run(Claim(OP_ANNA))
    assert apply(state, Claim(OP_ANNA)) == state


def test_claim_of_a_closed_chat_is_refused() -> None:
    with pytest.raises(ChatClosed):
        run(Close(DIRECTOR, T1), Claim(OP_ANNA))


def test_transfer_by_the_assignee_or_a_director() -> None:
    assert run(Claim(OP_ANNA), Transfer(OP_ANNA, BORIS)).assignee == BORIS
    state = run(Claim(OP_ANNA), Transfer(DIRECTOR, BORIS))
    assert (state.status, state.assignee) == (Status.OPEN, BORIS)


def test_transfer_or_release_by_another_operator_is_not_allowed() -> None:
    with pytest.raises(NotAllowed):
        run(Claim(OP_ANNA), Transfer(OP_BORIS, BORIS))
    with pytest.raises(NotAllowed):
        run(Claim(OP_ANNA), Release(OP_BORIS))


def test_release_puts_the_chat_back_in_the_queue() -> None:
    state = run(Incoming(T1), Claim(OP_ANNA), Release(OP_ANNA))
    assert (state.status, state.assignee, state.awaiting_since) == (Status.NEW, None, T1)


def test_close_keeps_the_assignee_and_clears_the_wait() -> None:
    state = run(Incoming(T1), Claim(OP_ANNA), Close(OP_ANNA, T2))
    assert (state.status, state.assignee, state.awaiting_since, state.closed_at) == (Status.CLOSED, ANNA, None, T2)


def test_another_operators_open_chat_cannot_be_closed_by_an_operator() -> None:
    with pytest.raises(NotAllowed):
        run(Claim(OP_ANNA), Close(OP_BORIS, T2))


def test_reopen_makes_a_closed_chat_open_with_the_caller() -> None:
    state = run(Claim(OP_ANNA), Close(OP_ANNA, T1), Reopen(OP_BORIS))
    assert (state.status, state.assignee) == (Status.OPEN, BORIS)
    with pytest.raises(ChatNotClosed):
        run(Claim(OP_ANNA), Reopen(OP_ANNA))


def test_incoming_to_a_closed_chat_makes_it_new_with_the_assignee_kept_as_a_hint() -> None:
    state = run(Claim(OP_ANNA), Close(OP_ANNA, T1), Incoming(T2))
    assert (state.status, state.assignee, state.awaiting_since) == (Status.NEW, ANNA, T2)


def test_history_from_before_the_close_does_not_reopen() -> None:
    state = run(Claim(OP_ANNA), Close(OP_ANNA, T3), Incoming(T1))
    assert (state.status, state.awaiting_since) == (Status.CLOSED, None)


def test_no_reply_needed_clears_the_wait_without_a_reply() -> None:
    state = run(Incoming(T1), NoReplyNeeded(OP_ANNA, T2))
    assert (state.awaiting_since, state.first_response_at) == (None, None)
    assert run(Incoming(T1), NoReplyNeeded(OP_ANNA, T2), Incoming(T3)).awaiting_since == T3  # a new period


def test_tags_replace_the_list_without_repeats() -> None:
    assert run(SetTags(OP_ANNA, ("vip", "доставка", "vip"))).tags == ("vip", "доставка")


def test_auto_assignment_gives_a_new_chat_to_the_operator_and_never_takes_one_from_someone() -> None:
    state = run(Incoming(T1), AutoAssign(BORIS))
    assert (state.status, state.assignee) == (Status.OPEN, BORIS)
    with pytest.raises(NotAssignable):
        run(Claim(OP_ANNA), AutoAssign(BORIS))


def test_offline_release_gives_the_offline_operators_open_chat_back_to_the_queue() -> None:
    state = run(Incoming(T1), Claim(OP_ANNA), OfflineRelease("anna"))
    assert (state.status, state.assignee, state.awaiting_since) == (Status.NEW, None, T1)  # still waiting


def test_offline_release_leaves_a_chat_that_is_no_longer_the_offline_operators() -> None:
    transferred = run(Claim(OP_ANNA), Transfer(OP_ANNA, BORIS))
    assert run(OfflineRelease("anna"), state=transferred) == transferred
    closed = run(Claim(OP_ANNA), Close(OP_ANNA, T2))
    assert run(OfflineRelease("anna"), state=closed) == closed  # a closed chat keeps its assignee
    assert run(OfflineRelease("anna")) == State()  # nobody's
