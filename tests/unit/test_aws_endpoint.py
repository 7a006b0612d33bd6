"""The template declares ``AWS_ENDPOINT_URL: ""`` in Globals (so ``sam local invoke --env-vars`` can set it): in
Lambda that empty value must mean AWS itself, and a set value must reach every client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from avito_service import aws


@pytest.fixture
def fresh_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_SQS"):
        monkeypatch.delenv(name, raising=False)
    aws.clear_caches()
    yield
    aws.clear_caches()


def _endpoints() -> list[str]:
    return [
        aws.dynamodb_client().meta.endpoint_url,
        aws.dynamodb_low_level_client().meta.endpoint_url,
        aws.secrets_client().meta.endpoint_url,
        aws.sqs_client().meta.endpoint_url,
    ]


def test_an_empty_endpoint_means_aws_itself(fresh_clients: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "")
    assert _endpoints() == [
        "https://dynamodb.eu-west-1.amazonaws.com",
        "https://dynamodb.eu-west-1.amazonaws.com",
        "https://secretsmanager.eu-west-1.amazonaws.com",
        "https://sqs.eu-west-1.amazonaws.com",
    ]


def test_a_set_endpoint_reaches_every_client(fresh_clients: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://172.17.0.1:4566")
    assert _endpoints() == ["http://172.17.0.1:4566"] * 4
