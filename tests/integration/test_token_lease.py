"""Issue 22 item 13: the Avito token's fetch lease is released only by its owner, and waiters do not write while
another container's lease is live. moto's DynamoDB; the fetch is a function (no Avito needed)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from avito_service import aws, deadline
from avito_service.avito import tokens
from avito_service.config import get_settings


def table() -> Any:
    return aws.table(get_settings().tokens_table)


def leased_by(owner: str, account_id: str = "acc-lease") -> None:
    table().put_item(Item={"accountId": account_id, "leaseUntil": int(time.time()) + 15, "leaseOwner": owner})


def test_waiters_do_not_write_while_a_lease_is_live(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    leased_by("another-container")
    store = tokens.TokenStore()
    writes: list[str] = []
    real = store._table.update_item
    monkeypatch.setattr(
        store._table, "update_item", lambda **kw: (writes.append(kw["UpdateExpression"]), real(**kw))[1]
    )
    with deadline.budget(0.6), pytest.raises(deadline.DeadlineExceeded):
        store.get_token("acc-lease", "fp", lambda: ("never", 3600), deadline=deadline.current())
    assert writes == []  # only reads while the other container fetches
    item = table().get_item(Key={"accountId": "acc-lease"})["Item"]
    assert item["leaseOwner"] == "another-container"


def test_a_failed_fetch_releases_only_its_own_lease(aws_env: dict[str, str]) -> None:
    store = tokens.TokenStore()

    def fetch_while_the_lease_passes() -> tuple[str, int]:
        leased_by("the-next-owner")  # our lease ran out meanwhile and another container took it
        raise RuntimeError("Avito failed")

    with pytest.raises(RuntimeError):
        store.get_token("acc-lease", "fp", fetch_while_the_lease_passes, deadline=deadline.Deadline(5))
    item = table().get_item(Key={"accountId": "acc-lease"})["Item"]
    assert item["leaseOwner"] == "the-next-owner" and "leaseUntil" in item  # theirs is left alone

    table().delete_item(Key={"accountId": "acc-lease"})
    with pytest.raises(RuntimeError):
        store.get_token(
            "acc-lease", "fp", lambda: (_ for _ in ()).throw(RuntimeError("x")), deadline=deadline.Deadline(5)
        )
    assert "leaseOwner" not in table().get_item(Key={"accountId": "acc-lease"})["Item"]  # ours is released


def test_a_token_fetched_under_a_lost_lease_does_not_overwrite_the_new_owners(aws_env: dict[str, str]) -> None:
    store = tokens.TokenStore()

    def fetch_while_the_lease_passes() -> tuple[str, int]:
        leased_by("the-next-owner")
        return "late-token", 3600

    token = store.get_token("acc-lease", "fp", fetch_while_the_lease_passes, deadline=deadline.Deadline(5))
    assert token.value == "late-token"  # usable by this container
    item = table().get_item(Key={"accountId": "acc-lease"})["Item"]
    assert "sealedToken" not in item and item["leaseOwner"] == "the-next-owner"


def test_an_account_update_copies_its_changes_on_each_retry(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22 item 13: an attempt drops a clientId equal to the one it read; when another update changes the
    clientId meanwhile, the retry must still set the one this request asked for."""
    from avito_service.accounts import service
    from avito_service.accounts.models import AccountUpdate
    from avito_service.accounts.store import AccountStore

    from tests.support.accounts import create_account

    account_id = create_account(name="Race", clientId="cid-a", clientSecret="s")
    real = AccountStore.update
    raced = {"done": False}

    def another_update_first(self: AccountStore, *args: Any, **kwargs: Any) -> Any:
        if not raced["done"]:
            raced["done"] = True
            service.update_account(account_id, AccountUpdate(clientId="cid-b"))  # wins the race
            raise service.ConditionFailed
        return real(self, *args, **kwargs)

    monkeypatch.setattr(AccountStore, "update", another_update_first)
    updated = service.update_account(account_id, AccountUpdate(clientId="cid-a", name="Renamed"))
    assert raced["done"] and updated.name == "Renamed"
    assert updated.clientId == "cid-a"  # this request's clientId, not the one the race left
