"""SnapStart (issue 17): which functions have it, that the API reaches them through their alias, and that the
runtime hooks do what a snapshot and a restore need (run here as Lambda's runtime runs them)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import snapshot_restore_py
from avito_service import auth, aws, snapstart
from avito_service.accounts import vault
from avito_service.accounts.models import AccountSecrets
from avito_service.avito import tokens as avito_tokens
from avito_service.base import Model
from avito_service.webhooks import tokens as webhook_tokens

from local_runtime.template import Template, load_template

ROOT = Path(__file__).resolve().parents[2]
FUNCTION = "AWS::Serverless::Function"
# Events that mean a person (or Avito, on a person's behalf) waits for the function's answer.
WAITED_FOR = {"Api", "HttpApi"}


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(ROOT / "template.yaml")


def functions(template: Template) -> dict[str, dict[str, Any]]:
    return {lid: template.function_properties(lid) for lid in template.ids_of_type(FUNCTION)}


def authorizer_ids(template: Template) -> set[str]:
    found = set()
    for api in template.ids_of_type("AWS::Serverless::Api"):
        for spec in ((template.properties(api).get("Auth") or {}).get("Authorizers") or {}).values():
            ref = spec.get("FunctionArn") or {}
            name = ref.get("Ref") or (ref.get("Fn::GetAtt") or [None])[0]
            found.add(str(name).split(".")[0])
    return found


def websocket_route_functions(template: Template) -> set[str]:
    """The functions a WebSocket API's Lambda proxy integrations run (they have no Events of their own)."""
    return {
        lid
        for resource in template.resources.values()
        if resource.get("Type") == "AWS::ApiGatewayV2::Integration"
        for lid in functions(template)
        if references_to(resource.get("Properties") or {}, lid)
    }


def waited_for(template: Template) -> set[str]:
    """API functions, authorizers, WebSocket routes, Function URLs and anything not only run by a schedule or a
    queue."""
    ids = set(authorizer_ids(template)) | websocket_route_functions(template)
    for lid, props in functions(template).items():
        kinds = {event.get("Type") for event in (props.get("Events") or {}).values()}
        if kinds & WAITED_FOR or props.get("FunctionUrlConfig") or not kinds <= {"Schedule", "ScheduleV2", "SQS"}:
            ids.add(lid)
    # Stream consumers nobody watches: the search index and the reports' figures are read a moment later, never
    # waited on (the fan-out, also a stream consumer, is: operators wait for its frames)
    return ids - {"SearchIndexerFunction", "ReportsFiguresFunction"}


def references_to(value: Any, function_id: str) -> list[str]:
    """The ways ``value`` names ``function_id``: 'Arn' ($LATEST, GetAtt or Sub), 'Alias', 'Ref'..."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Fn::GetAtt" and isinstance(inner, list) and inner and inner[0] == function_id:
                found.append(str(inner[1]))
            elif key == "Ref" and isinstance(inner, str) and inner.split(".")[0] == function_id:
                found.append(inner.partition(".")[2] or "Ref")
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                for suffix in ("Arn", "Alias"):
                    if f"${{{function_id}.{suffix}}}" in str(text):
                        found.append(suffix)
                found.extend(references_to(inner, function_id))
            else:
                found.extend(references_to(inner, function_id))
    elif isinstance(value, list):
        for inner in value:
            found.extend(references_to(inner, function_id))
    return found


def test_every_function_a_person_waits_for_has_snapstart_on_its_published_alias(template: Template) -> None:
    props = functions(template)
    people = waited_for(template)
    assert {"AuthorizerFunction", "HealthFunction", "AccountsGetFunction", "WebhookFunction"} <= people
    assert {"WsConnectFunction", "WsDisconnectFunction", "WsDefaultFunction"} <= people
    for lid in people:
        assert (props[lid].get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions", lid
        assert props[lid].get("AutoPublishAlias") == "live", lid
    for lid in set(props) - people:  # the tick, the workers, the cleanup: nobody waits, nothing to pay
        assert (props[lid].get("SnapStart") or {}).get("ApplyOn") == "None", lid


def test_the_api_and_its_authorizer_invoke_the_alias_not_latest(template: Template) -> None:
    snapstarted = [lid for lid, p in functions(template).items() if (p.get("SnapStart") or {}).get("ApplyOn") != "None"]
    assert authorizer_ids(template) == {"AuthorizerFunction"}
    for resource_id, resource in template.resources.items():
        if resource.get("Type") == FUNCTION:
            continue  # a function's own Events are wired to its alias by SAM (AutoPublishAlias)
        for lid in snapstarted:
            kinds = references_to(resource.get("Properties") or {}, lid)
            assert "Arn" not in kinds, f"{resource_id} calls {lid} unqualified ($LATEST has no SnapStart)"
            if resource.get("Type") == "AWS::Lambda::Permission":  # permission to invoke the alias
                assert "Ref" not in kinds, f"{resource_id} grants {lid} unqualified: use {lid}.Alias"
    api = template.properties("ServiceApi")
    assert api["Auth"]["Authorizers"]["JwtAuthorizer"]["FunctionArn"] == {"Ref": "AuthorizerFunction.Alias"}


def run_hooks(registry: list[tuple[Any, tuple[Any, ...], dict[str, Any]]]) -> None:
    """What Lambda's runtime does with the registered hooks at snapshot or restore time."""
    for func, args, kwargs in registry:
        func(*args, **kwargs)


@pytest.fixture
def restored() -> Iterator[None]:
    yield
    random.seed()


def test_hooks_are_registered_with_the_lambda_runtime() -> None:
    after = [func for func, _, _ in snapshot_restore_py.get_after_restore()]
    before = [func for func, _, _ in snapshot_restore_py.get_before_snapshot()]
    assert snapstart.prime in before
    for hook in (snapstart.reseed_random, vault.clear_cache, webhook_tokens._verified.clear):
        assert hook in after


def test_after_restore_gives_each_copy_its_own_randomness_and_lease_owner(restored: None) -> None:
    snapshot = random.getstate()  # every copy restored from one snapshot starts from this state
    owners, draws = set(), set()
    for _ in range(2):
        random.setstate(snapshot)
        run_hooks(snapshot_restore_py.get_after_restore())
        draws.add(random.random())
        owners.add(avito_tokens.container.owner)
    assert len(draws) == 2 and len(owners) == 2


def test_after_restore_forgets_cached_secrets_and_verified_tokens(aws_env: dict[str, str]) -> None:
    secrets = boto3.client("secretsmanager")
    key_before = auth.signing_key()
    secrets.put_secret_value(SecretId=aws_env["JwtSecret"], SecretString="rotated-" + key_before)
    assert auth.signing_key() == key_before  # cached for a warm container
    vault._cache[("arn:example", 1)] = AccountSecrets(clientSecret="cached-secret")
    webhook_tokens._verified["account-1"] = (float("inf"), "hash", {"id": "account-1"})

    run_hooks(snapshot_restore_py.get_after_restore())

    assert auth.signing_key() == "rotated-" + key_before
    assert vault._cache == {} and webhook_tokens._verified == {}


def test_before_snapshot_builds_the_models_and_creates_the_clients(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Deferred(Model):  # like every service model: built on first use, unless a snapshot is coming
        text: str

    created: list[str] = []
    real_client, real_resource = boto3.client, boto3.resource
    monkeypatch.setattr(boto3, "client", lambda service, **kw: created.append(service) or real_client(service, **kw))
    monkeypatch.setattr(
        boto3, "resource", lambda service, **kw: created.append(service) or real_resource(service, **kw)
    )
    aws.clear_caches()
    assert not Deferred.__pydantic_complete__

    run_hooks(snapshot_restore_py.get_before_snapshot())

    assert Deferred.__pydantic_complete__
    assert sorted(created) == ["dynamodb", "dynamodb", "secretsmanager", "sqs"]
    assert aws.sqs_client() is aws.sqs_client() and aws.table(aws_env["AccountsTable"]).table_name  # cached
    assert sorted(created) == ["dynamodb", "dynamodb", "secretsmanager", "sqs"]
