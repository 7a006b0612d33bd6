"""The IAM statements each function's role gets from the template, resolved to ARNs.

A function's ``Policies`` are inline ``Statement`` documents, ``Ref``s to the template's
``AWS::IAM::ManagedPolicy`` resources and SAM policy templates (the ones this project uses are spelled out in
``_SAM_POLICY_TEMPLATES`` exactly as SAM defines them; any other is an error, so a new one gets added here
rather than silently ignored). The permissions SAM adds for event sources and logs (the Lambda service's own
calls) are not listed: function code never makes those calls.

Used by the test suite's IAM evaluator (``tests/support/iam.py``) and by the template snapshot.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from local_runtime.intrinsics import Resolver
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
    """One Allow statement: IAM action patterns and resource ARN patterns (``*`` and ``?`` wildcards)."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    source: str  # where it comes from: "inline", a managed policy's logical id, a SAM policy template's name

    def allows(self, action: str, resource: str) -> bool:
        return any(_matches(pattern.lower(), action.lower()) for pattern in self.actions) and any(
            _matches(pattern, resource) for pattern in self.resources
        )

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "actions": sorted(self.actions), "resources": sorted(self.resources)}


def _matches(pattern: str, value: str) -> bool:
    # IAM wildcards: * any run of characters (slashes included), ? one character; nothing else is special.
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


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
    return found


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
    return any(statement.allows(action, resource) for statement in statements)
