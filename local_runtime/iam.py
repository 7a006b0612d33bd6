"""The IAM statements each function's role gets from the template, resolved to ARNs.

A function's ``Policies`` are inline ``Statement`` documents, ``Ref``s to the template's
``AWS::IAM::ManagedPolicy`` resources and SAM policy templates (the ones this project uses are spelled out in
``_SAM_POLICY_TEMPLATES`` exactly as SAM defines them; any other is an error, so a new one gets added here
rather than silently ignored). The permissions SAM adds for event sources and logs (the Lambda service's own
calls) are not listed: function code never makes those calls.

``aws_requests`` turns one boto3 call into the (action, resource ARN) pairs AWS authorizes. The local runtime's
workers refuse what their function is not granted (``enforce_in_worker``), as AWS would; the test suite's
evaluator (``tests/support/iam.py``) does the same for handlers run in the test process.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from local_runtime.intrinsics import DEFAULT_ACCOUNT_ID, Resolver
from local_runtime.template import TemplateError

MANAGED_POLICY_TYPE = "AWS::IAM::ManagedPolicy"

# SAM's policy templates (samtranslator/policy_templates_data/policy_templates.json) used by template.yaml.
_SAM_POLICY_TEMPLATES: dict[str, Any] = {
    "SQSSendMessagePolicy": lambda p: {
        "Action": ["sqs:SendMessage*"],
        "Resource": {
            "Fn::Sub": [
                "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${queueName}",
                {"queueName": p["QueueName"]},
            ]
        },
    },
    "AWSSecretsManagerGetSecretValuePolicy": lambda p: {
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": p["SecretArn"],
    },
}


@dataclass(frozen=True)
class Statement:
    """One statement: IAM action patterns and resource ARN patterns (``*`` and ``?`` wildcards). An Allow grants
    them; a Deny (only made from KMS key policies, :func:`key_policy_statements`) refuses the actions that match
    ``actions`` but not ``not_actions`` whatever an Allow says."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    source: str  # where it comes from: "inline", a managed policy's logical id, a SAM policy template's name
    effect: str = "Allow"
    not_actions: tuple[str, ...] = ()

    def allows(self, action: str, resource: str) -> bool:
        """The statement applies to this action on this resource (grants it for an Allow, refuses it for a Deny)."""
        if not (self._action_pattern.match(action.lower()) and self._resource_pattern.match(resource)):
            return False
        return not (self.not_actions and self._not_action_pattern.match(action.lower()))

    @functools.cached_property
    def _action_pattern(self) -> re.Pattern[str]:
        return _wildcards(pattern.lower() for pattern in self.actions)

    @functools.cached_property
    def _not_action_pattern(self) -> re.Pattern[str]:
        return _wildcards(pattern.lower() for pattern in self.not_actions)

    @functools.cached_property
    def _resource_pattern(self) -> re.Pattern[str]:
        return _wildcards(self.resources)

    def as_json(self) -> dict[str, Any]:
        found = {"source": self.source, "actions": sorted(self.actions), "resources": sorted(self.resources)}
        if self.effect != "Allow":
            found.update(effect=self.effect, notActions=sorted(self.not_actions))
        return found

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Statement:
        return cls(
            tuple(document["actions"]),
            tuple(document["resources"]),
            document["source"],
            document.get("effect", "Allow"),
            tuple(document.get("notActions", ())),
        )


def _wildcards(patterns: Any) -> re.Pattern[str]:
    """One regex for IAM patterns: * any run of characters (slashes included), ? one character, nothing else
    special."""
    parts = (re.escape(p).replace(r"\*", ".*").replace(r"\?", ".") for p in patterns)
    return re.compile("(?:" + "|".join(parts) + r")\Z", re.DOTALL)


def function_statements(resolver: Resolver, function_id: str) -> list[Statement]:
    """Every Allow statement of ``function_id``'s role from its ``Policies``, intrinsics resolved."""
    template = resolver.template
    policies = template.function_properties(function_id).get("Policies") or []
    if isinstance(policies, (str, dict)):
        policies = [policies]
    found: list[Statement] = []
    for policy in policies:
        if isinstance(policy, dict) and set(policy) == {"Ref"}:
            target = policy["Ref"]
            if target not in template.resources or template.resource_type(target) != MANAGED_POLICY_TYPE:
                raise TemplateError(f"{function_id}: policy Ref {target!r} is not a managed policy of the template")
            document = template.properties(target)["PolicyDocument"]
            found += _statements(resolver, document.get("Statement") or [], target, function_id)
        elif isinstance(policy, dict) and "Statement" in policy:
            found += _statements(resolver, policy["Statement"], "inline", function_id)
        elif isinstance(policy, dict) and len(policy) == 1 and next(iter(policy)) in _SAM_POLICY_TEMPLATES:
            ((name, parameters),) = policy.items()
            statement = {"Effect": "Allow", **_SAM_POLICY_TEMPLATES[name](parameters)}
            found += _statements(resolver, [statement], name, function_id)
        else:
            raise TemplateError(f"{function_id}: policy {policy!r} is not understood by local_runtime/iam.py")
    return found + key_policy_statements(resolver, function_id)


KMS_KEY_TYPE = "AWS::KMS::Key"
_PRINCIPAL_CONDITIONS = {"ArnLike", "ArnEquals", "StringLike", "StringEquals"}


def role_arn(resolver: Resolver, function_id: str) -> str:
    """The ARN of the role SAM makes for a function (CloudFormation names it ``<stack>-<Function>Role-<random>``)."""
    context = resolver.context
    return f"arn:aws:iam::{context.account_id}:role/{context.stack_name}-{function_id}Role-LOCAL"


def key_policy_statements(resolver: Resolver, function_id: str) -> list[Statement]:
    """What the template's KMS keys' policies say about ``function_id``'s role, as statements.

    AWS lets a principal use a key only when the key policy allows it: naming the role (enough on its own), or
    naming the account (``:root``, then an IAM policy must allow it too). So per key: an Allow for what the
    policy grants the role itself, and a Deny of every other ``kms:`` action on the key except what it delegates
    to the account's IAM policies. Statement conditions on ``aws:PrincipalArn`` are evaluated against the role;
    conditions on the request (``kms:EncryptionContext:*``) are not (the code sends one fixed context)."""
    template = resolver.template
    role = role_arn(resolver, function_id)
    root = f"arn:aws:iam::{resolver.context.account_id}:root"
    found: list[Statement] = []
    for key in template.ids_of_type(KMS_KEY_TYPE):
        if not resolver.is_active(key):
            continue
        source = f"{key} key policy"
        key_arn = str(resolver.resolve({"Fn::GetAtt": [key, "Arn"]}, key))
        policy = resolver.resolve(template.properties(key).get("KeyPolicy") or {}, key)
        if isinstance(policy, str):
            policy = json.loads(policy)
        direct: list[str] = []
        delegated: list[str] = []
        for statement in policy.get("Statement") or []:
            if statement.get("Effect") != "Allow":
                raise TemplateError(f"{source}: only Allow statements are understood: {statement}")
            principal = statement.get("Principal")
            principals = _strings(principal.get("AWS", [])) if isinstance(principal, dict) else _strings(principal)
            if not _principal_condition_holds(statement.get("Condition") or {}, role, source):
                continue
            actions = list(_strings(statement.get("Action", [])))
            if role in principals or "*" in principals:
                direct += actions
            elif root in principals or resolver.context.account_id in principals:
                delegated += actions
        if direct:
            found.append(Statement(tuple(direct), (key_arn,), source))
        found.append(Statement(("kms:*",), (key_arn,), source, "Deny", tuple(direct + delegated)))
    return found


def _principal_condition_holds(condition: dict[str, Any], role: str, source: str) -> bool:
    for operator, tests in condition.items():
        for name, expected in tests.items():
            if name.lower() != "aws:principalarn":
                if name.lower().startswith(("kms:", "aws:request")):
                    continue  # about the request, not the caller: not evaluated (see key_policy_statements)
                raise TemplateError(f"{source}: condition key {name} is not understood by local_runtime/iam.py")
            if operator not in _PRINCIPAL_CONDITIONS:
                raise TemplateError(f"{source}: condition operator {operator} is not understood")
            patterns = _strings(expected)
            like = operator in ("ArnLike", "StringLike")
            if not (_wildcards(patterns).match(role) if like else role in patterns):
                return False
    return True


def _statements(resolver: Resolver, raw: Any, source: str, where: str) -> list[Statement]:
    resolved = resolver.resolve(raw if isinstance(raw, list) else [raw], where)
    statements = []
    for statement in resolved:
        if statement.get("Effect") != "Allow" or not {"Action", "Resource"} <= set(statement):
            raise TemplateError(f"{where}: only Allow statements with Action and Resource are understood: {statement}")
        statements.append(Statement(_strings(statement["Action"]), _strings(statement["Resource"]), source))
    return statements


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in (value if isinstance(value, list) else [value]))


def allowed(statements: list[Statement], action: str, resource: str) -> bool:
    """An Allow applies and no Deny does (an explicit deny wins, as in AWS)."""
    if any(s.effect == "Deny" and s.allows(action, resource) for s in statements):
        return False
    return any(s.effect == "Allow" and s.allows(action, resource) for s in statements)


# --------------------------------------------------------------- calls -> IAM requests
class UnknownRequest(Exception):
    """A call this module cannot turn into IAM actions and resources yet (teach ``aws_requests``)."""


_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
_SQS_BATCH = {  # SQS authorizes a batch as its single-message action
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
_CONNECTION_METHODS = {"PostToConnection": "POST", "DeleteConnection": "DELETE", "GetConnection": "GET"}
_NO_PERMISSION = {
    ("sts", "GetCallerIdentity"),  # AWS answers these to anyone
    # Cognito's public sign-in calls: the app client id (and the user's password or token) is the credential
    ("cognito-idp", "InitiateAuth"),
    ("cognito-idp", "RespondToAuthChallenge"),
    ("cognito-idp", "RevokeToken"),
    ("cognito-idp", "GlobalSignOut"),
}


def aws_requests(
    client: Any, operation: str, params: dict[str, Any], region: str, account: str = DEFAULT_ACCOUNT_ID
) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs AWS authorizes for one call of a boto3 ``client``."""
    service = client.meta.service_model.service_name

    def arn(kind: str, resource: str) -> str:
        return f"arn:aws:{kind}:{region}:{account}:{resource}"

    def table(name: str, index: str | None = None) -> str:
        found = name if name.startswith("arn:") else arn("dynamodb", f"table/{name}")
        return f"{found}/index/{index}" if index else found

    if (service, operation) in _NO_PERMISSION:
        return []
    if service == "dynamodb":
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", table(name)) for name in params["RequestItems"]]
        if operation in ("TransactWriteItems", "TransactGetItems"):  # authorized item by item
            pairs = []
            for item in params["TransactItems"]:
                ((kind, body),) = item.items()
                pairs.append((f"dynamodb:{_TRANSACT_ACTIONS[kind]}", table(body["TableName"])))
            return pairs
        if "TableName" in params:
            return [(f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName")))]
    if service == "secretsmanager":
        secret = params.get("SecretId") or params.get("Name")
        if secret:
            # A name stands for the secret's ARN, which ends in -<6 random characters>.
            found = secret if secret.startswith("arn:") else arn("secretsmanager", f"secret:{secret}-AbCdEf")
            pairs = [(f"secretsmanager:{operation}", found)]
            if operation == "CreateSecret" and params.get("Tags"):
                pairs.append(("secretsmanager:TagResource", found))
            return pairs
    if service == "sqs":
        name = params["QueueUrl"].rstrip("/").rsplit("/", 1)[-1] if "QueueUrl" in params else params.get("QueueName")
        if name:
            return [(f"sqs:{_SQS_BATCH.get(operation, operation)}", arn("sqs", name))]
    if service == "apigatewaymanagementapi" and operation in _CONNECTION_METHODS:
        api, stage = management_api(client.meta.endpoint_url)
        connection = f"{api}/{stage}/{_CONNECTION_METHODS[operation]}/@connections/{params['ConnectionId']}"
        return [("execute-api:ManageConnections", arn("execute-api", connection))]
    if service == "kms":
        return [(f"kms:{operation}", _kms_key(params, arn))]
    if service == "scheduler" and "Name" in params:  # a schedule: its group's ARN; a target's role is passed
        group = params.get("GroupName") or "default"
        pairs = [(f"scheduler:{operation}", arn("scheduler", f"schedule/{group}/{params['Name']}"))]
        role = (params.get("Target") or {}).get("RoleArn")
        if role:
            pairs.append(("iam:PassRole", role))
        return pairs
    if service == "cognito-idp" and "UserPoolId" in params:  # the Admin* calls: authorized on the user pool
        return [(f"cognito-idp:{operation}", arn("cognito-idp", f"userpool/{params['UserPoolId']}"))]
    raise UnknownRequest(f"local_runtime/iam.py cannot tell the IAM resource of {service}.{operation}: teach it")


def management_api(endpoint: str) -> tuple[str, str]:
    """(API id, stage) of a WebSocket management endpoint: https://<api>.execute-api.<region>.amazonaws.com/<stage>,
    the local runtime's http://host:port/<api>/<stage>, or ("local", <stage>) for http://host:port/<stage>."""
    parsed = urlparse(endpoint)
    host = parsed.hostname or ""
    parts = [part for part in parsed.path.split("/") if part]
    if ".execute-api." in host:
        return host.split(".")[0], "/".join(parts) or "$default"
    if len(parts) < 2:  # http://host:port/<stage>: some local stand-in for this stack's API
        return "local", "/".join(parts) or "$default"
    return parts[0], "/".join(parts[1:])


def _kms_key(params: dict[str, Any], arn: Any) -> str:
    key = params.get("KeyId")
    if key is None and "CiphertextBlob" in params:
        blob = params["CiphertextBlob"]
        blob = base64.b64decode(blob) if isinstance(blob, str) else bytes(blob)
        key = blob[:36].decode("ascii", "replace")  # moto's ciphertext starts with the key id
    if not key:
        raise UnknownRequest("a KMS call without KeyId or CiphertextBlob")
    if key.startswith("arn:"):
        return key
    return arn("kms", key if key.startswith("alias/") else f"key/{key}")


# ----------------------------------------------------------- the local runtime's workers
IAM_ENV = "_LOCAL_RUNTIME_IAM"  # a worker's function id and statements (JSON), set by the local runtime


def worker_environment(function_id: str, statements: list[Statement], region: str) -> dict[str, str]:
    document = {"function": function_id, "region": region, "statements": [s.as_json() for s in statements]}
    return {IAM_ENV: json.dumps(document)}


def enforce_in_worker(environ: dict[str, str]) -> None:
    """In a local runtime worker (one function per process): refuse every AWS call the function's statements do
    not allow, as AWS does (AccessDeniedException), and say so on stderr, which the console shows."""
    raw = environ.pop(IAM_ENV, None)
    if not raw:
        return
    from botocore.client import BaseClient  # noqa: PLC0415 - only workers pay for it
    from botocore.exceptions import ClientError  # noqa: PLC0415

    document = json.loads(raw)
    function_id, region = document["function"], document["region"]
    statements = [Statement.from_json(s) for s in document["statements"]]
    original = BaseClient._make_api_call

    def checked(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        try:
            denied = [
                f"{action} on {resource}"
                for action, resource in aws_requests(self, operation_name, api_params, region)
                if not allowed(statements, action, resource)
            ]
        except UnknownRequest as unknown:
            denied = [str(unknown)]
        if denied:
            message = f"{function_id} may not {'; '.join(denied)} (template.yaml grants no such statement)"
            print(f"[local_runtime] IAM: {message}", file=sys.stderr, flush=True)
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": message}}, operation_name)
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = checked  # type: ignore[method-assign]
