"""Create a template's DynamoDB tables, SQS queues, Secrets Manager secrets, KMS keys (with their aliases) and
Cognito user pools (with their app clients and groups) with plain boto3.

Works against any endpoint: the local moto server, or (endpoint None) default boto3 clients, which moto's
`mock_aws` intercepts in unit tests.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.exceptions import ClientError

from local_runtime.intrinsics import Resolver, StackContext
from local_runtime.template import QUEUE_TYPE, SECRET_TYPE, TABLE_TYPE, Template, TemplateError

FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "aws_session_token": "testing"}

_TABLE_KEYS = ("KeySchema", "AttributeDefinitions", "LocalSecondaryIndexes", "StreamSpecification", "TableClass")
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)
_DEFAULT_THROUGHPUT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
KMS_KEY_TYPE = "AWS::KMS::Key"
KMS_ALIAS_TYPE = "AWS::KMS::Alias"
USER_POOL_TYPE = "AWS::Cognito::UserPool"
USER_POOL_CLIENT_TYPE = "AWS::Cognito::UserPoolClient"
USER_POOL_GROUP_TYPE = "AWS::Cognito::UserPoolGroup"
_USER_POOL_KEYS = (
    "UsernameAttributes",
    "AliasAttributes",
    "AutoVerifiedAttributes",
    "AdminCreateUserConfig",
    "Policies",
    "AccountRecoverySetting",
    "Schema",
    "MfaConfiguration",
)
_USER_POOL_CLIENT_KEYS = (
    "ExplicitAuthFlows",
    "GenerateSecret",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "AccessTokenValidity",
    "IdTokenValidity",
    "RefreshTokenValidity",
    "TokenValidityUnits",
)


class ClientFactory:
    """Makes boto3 clients for an endpoint URL, a boto3 Session, or (None) the default session."""

    def __init__(self, session_or_endpoint: Any = None, region: str | None = None) -> None:
        self._target = session_or_endpoint
        self._region = region

    @property
    def endpoint_url(self) -> str | None:
        return self._target if isinstance(self._target, str) else None

    def client(self, service: str) -> Any:
        if isinstance(self._target, str):
            return boto3.client(service, endpoint_url=self._target, region_name=self._region, **FAKE_CREDENTIALS)
        if isinstance(self._target, boto3.Session):
            return self._target.client(service, region_name=self._region)
        return boto3.client(service, region_name=self._region)


def create_resources(
    template: Template,
    boto3_session_or_endpoint: Any = None,
    *,
    resolver: Resolver | None = None,
    secret_values: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Create every table, queue and secret of `template`.

    `secret_values` maps a secret's logical id to the value to store (instead of SecretString /
    GenerateSecretString). Returns logical id -> table name / queue URL / secret ARN. Created secrets are
    registered with the resolver so later `Ref`s to them resolve to their ARN.
    """
    factory = ClientFactory(boto3_session_or_endpoint)
    if resolver is None:
        resolver = Resolver(template, StackContext(sqs_base_url=factory.endpoint_url))
    factory = ClientFactory(boto3_session_or_endpoint, resolver.context.region)
    created: dict[str, str] = {}
    dynamodb = factory.client("dynamodb")
    for logical_id in _active(template, resolver, TABLE_TYPE):
        created[logical_id] = create_table(dynamodb, resolver, logical_id)
    sqs = factory.client("sqs")
    queue_ids = _active(template, resolver, QUEUE_TYPE)
    # Queues without a RedrivePolicy first, so dead-letter queues exist before the queues that use them.
    for logical_id in sorted(queue_ids, key=lambda lid: "RedrivePolicy" in template.properties(lid)):
        created[logical_id] = create_queue(sqs, resolver, logical_id)
    secretsmanager = factory.client("secretsmanager")
    for logical_id in _active(template, resolver, SECRET_TYPE):
        value = (secret_values or {}).get(logical_id)
        created[logical_id] = create_secret(secretsmanager, resolver, logical_id, value)
        resolver.register_physical_id(logical_id, created[logical_id])
    if template.ids_of_type(KMS_KEY_TYPE):
        created.update(create_kms_keys(template, resolver, factory.client("kms")))
    if template.ids_of_type(USER_POOL_TYPE):
        created.update(create_user_pools(template, resolver, factory.client("cognito-idp")))
    return created


def local_key_alias(stack_name: str, logical_id: str) -> str:
    """The alias the local runtime gives a template's KMS key (KMS takes an alias wherever it takes a key id)."""
    return f"alias/local-runtime/{stack_name}/{logical_id}"


def create_kms_keys(template: Template, resolver: Resolver, kms: Any) -> dict[str, str]:
    """Every KMS key (its policy stored as given: moto does not enforce key policies, the IAM check of the
    local runtime and the tests does, local_runtime/iam.py), then its aliases. A key is found again by a
    local alias named after its stack and logical id (a restarted runtime against a long-lived moto). ``Ref``
    of a key is then its key id."""
    created: dict[str, str] = {}
    for logical_id in _active(template, resolver, KMS_KEY_TYPE):
        props = resolver.resolve(template.properties(logical_id), logical_id)
        marker = local_key_alias(resolver.context.stack_name, logical_id)
        try:
            key_id = kms.describe_key(KeyId=marker)["KeyMetadata"]["KeyId"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "NotFoundException":
                raise
            request: dict[str, Any] = {
                key: props[key] for key in ("Description", "KeySpec", "KeyUsage") if key in props
            }
            if "KeyPolicy" in props:
                policy = props["KeyPolicy"]
                request["Policy"] = policy if isinstance(policy, str) else json.dumps(policy)
            key_id = kms.create_key(**request)["KeyMetadata"]["KeyId"]
            kms.create_alias(AliasName=marker, TargetKeyId=key_id)
        created[logical_id] = key_id
        resolver.register_physical_id(logical_id, key_id)
    for logical_id in _active(template, resolver, KMS_ALIAS_TYPE):
        props = resolver.resolve(template.properties(logical_id), logical_id)
        try:
            kms.create_alias(AliasName=str(props["AliasName"]), TargetKeyId=str(props["TargetKeyId"]))
        except ClientError as error:
            if error.response["Error"]["Code"] != "AlreadyExistsException":
                raise
            kms.update_alias(AliasName=str(props["AliasName"]), TargetKeyId=str(props["TargetKeyId"]))
        created[logical_id] = str(props["AliasName"])
        resolver.register_physical_id(logical_id, created[logical_id])
    return created


def create_user_pools(template: Template, resolver: Resolver, cognito: Any) -> dict[str, str]:
    """Every user pool, then its app clients and groups; a pool of the same name is reused (a restarted runtime
    against a long-lived moto). ``Ref`` of a pool is then its id, of a client the client id."""
    created: dict[str, str] = {}
    for logical_id in _active(template, resolver, USER_POOL_TYPE):
        props = resolver.resolve(template.properties(logical_id), logical_id)
        name = str(props.get("UserPoolName", logical_id))
        existing = [p["Id"] for p in cognito.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == name]
        if existing:
            pool_id = existing[0]
        else:
            request = {key: props[key] for key in _USER_POOL_KEYS if key in props}
            pool_id = cognito.create_user_pool(PoolName=name, **request)["UserPool"]["Id"]
        created[logical_id] = pool_id
        resolver.register_physical_id(logical_id, pool_id)
    for logical_id in _active(template, resolver, USER_POOL_CLIENT_TYPE):
        props = resolver.resolve(template.properties(logical_id), logical_id)
        pool_id, name = str(props["UserPoolId"]), str(props.get("ClientName", logical_id))
        clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
        existing = [c["ClientId"] for c in clients if c["ClientName"] == name]
        if existing:
            client_id = existing[0]
        else:
            request = {key: props[key] for key in _USER_POOL_CLIENT_KEYS if key in props}
            client_id = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName=name, **request)[
                "UserPoolClient"
            ]["ClientId"]
        created[logical_id] = client_id
        resolver.register_physical_id(logical_id, client_id)
    for logical_id in _active(template, resolver, USER_POOL_GROUP_TYPE):
        props = resolver.resolve(template.properties(logical_id), logical_id)
        request = {key: props[key] for key in ("Description", "Precedence") if key in props}
        try:
            cognito.create_group(UserPoolId=str(props["UserPoolId"]), GroupName=str(props["GroupName"]), **request)
        except ClientError as error:
            if error.response["Error"]["Code"] != "GroupExistsException":
                raise
        created[logical_id] = str(props["GroupName"])
        resolver.register_physical_id(logical_id, created[logical_id])
    return created


def _active(template: Template, resolver: Resolver, resource_type: str) -> list[str]:
    return [lid for lid in template.ids_of_type(resource_type) if resolver.is_active(lid)]


def table_request(resolver: Resolver, logical_id: str) -> dict[str, Any]:
    """The CreateTable request of a template's table: its name, keys, billing, stream, indexes with their
    projections (throughput only where the billing mode takes it)."""
    props = resolver.resolve(resolver.template.properties(logical_id), logical_id)
    name = resolver.table_name(logical_id)
    if "KeySchema" not in props or "AttributeDefinitions" not in props:
        raise TemplateError(f"{logical_id}: a table needs KeySchema and AttributeDefinitions")
    billing_mode = props.get("BillingMode", "PROVISIONED")
    request: dict[str, Any] = {"TableName": name, "BillingMode": billing_mode}
    request.update({key: props[key] for key in _TABLE_KEYS if key in props})
    if "StreamSpecification" in request:
        request["StreamSpecification"] = {"StreamEnabled": True, **request["StreamSpecification"]}
    gsis = [dict(index) for index in props.get("GlobalSecondaryIndexes", [])]
    for index in gsis:
        index.pop("ContributorInsightsSpecification", None)
        if billing_mode == "PAY_PER_REQUEST":
            index.pop("ProvisionedThroughput", None)
        else:
            index.setdefault("ProvisionedThroughput", _DEFAULT_THROUGHPUT)
    if gsis:
        request["GlobalSecondaryIndexes"] = gsis
    if billing_mode != "PAY_PER_REQUEST":
        request["ProvisionedThroughput"] = props.get("ProvisionedThroughput", _DEFAULT_THROUGHPUT)
    return request


def create_table(dynamodb: Any, resolver: Resolver, logical_id: str) -> str:
    props = resolver.resolve(resolver.template.properties(logical_id), logical_id)
    request = table_request(resolver, logical_id)
    name = request["TableName"]
    try:
        dynamodb.create_table(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
        return name  # already exists (e.g. a restarted runtime against a long-lived moto)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and _as_bool(ttl.get("Enabled")):
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    return name


def create_queue(sqs: Any, resolver: Resolver, logical_id: str) -> str:
    props = resolver.resolve(resolver.template.properties(logical_id), logical_id)
    attributes = {key: _attribute_value(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    for policy_key in ("RedrivePolicy", "RedriveAllowPolicy"):
        if policy_key in props:
            policy = props[policy_key]
            attributes[policy_key] = policy if isinstance(policy, str) else json.dumps(policy)
    return sqs.create_queue(QueueName=resolver.queue_name(logical_id), Attributes=attributes)["QueueUrl"]


def create_secret(secretsmanager: Any, resolver: Resolver, logical_id: str, value: str | None = None) -> str:
    props = resolver.resolve(resolver.template.properties(logical_id), logical_id)
    name = resolver.secret_name(logical_id)
    secret_string = secret_string_for(props, value)
    request: dict[str, Any] = {"Name": name, "SecretString": secret_string}
    if "Description" in props:
        request["Description"] = props["Description"]
    try:
        return secretsmanager.create_secret(**request)["ARN"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceExistsException":
            raise
    return secretsmanager.put_secret_value(SecretId=name, SecretString=secret_string)["ARN"]


def secret_string_for(props: Mapping[str, Any], value: str | None = None) -> str:
    """The SecretString to store: SecretString, else GenerateSecretString (with `value` as the generated part)."""
    generate = props.get("GenerateSecretString")
    if generate is None:
        if value is not None:
            return value
        return str(props.get("SecretString", _random_password({})))
    generated = value if value is not None else _random_password(generate)
    key = generate.get("GenerateStringKey")
    if not key:
        return generated
    document = json.loads(generate.get("SecretStringTemplate") or "{}")
    document[key] = generated
    return json.dumps(document)


def _random_password(spec: Mapping[str, Any]) -> str:
    alphabet = ""
    if not _as_bool(spec.get("ExcludeLowercase", False)):
        alphabet += string.ascii_lowercase
    if not _as_bool(spec.get("ExcludeUppercase", False)):
        alphabet += string.ascii_uppercase
    if not _as_bool(spec.get("ExcludeNumbers", False)):
        alphabet += string.digits
    if not _as_bool(spec.get("ExcludePunctuation", False)):
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    if _as_bool(spec.get("IncludeSpace", False)):
        alphabet += " "
    excluded = set(str(spec.get("ExcludeCharacters", "")))
    alphabet = "".join(char for char in alphabet if char not in excluded) or string.ascii_letters
    return "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))


def _attribute_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_bool(value: Any) -> bool:
    return value.lower() == "true" if isinstance(value, str) else bool(value)
