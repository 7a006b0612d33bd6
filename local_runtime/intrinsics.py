"""A small CloudFormation intrinsic-function resolver for the resources the local runtime emulates.

Values that only exist once resources are created (e.g. a secret's ARN, which has a random suffix) are
registered with :meth:`Resolver.register_physical_id`.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from typing import Any

from local_runtime.template import (
    API_TYPE,
    FUNCTION_TYPE,
    LAYER_TYPE,
    QUEUE_TYPE,
    SECRET_TYPE,
    TABLE_TYPE,
    WS_API_TYPE,
    WS_DEPLOYMENT_TYPE,
    WS_INTEGRATION_TYPE,
    WS_ROUTE_RESPONSE_TYPE,
    WS_ROUTE_TYPE,
    WS_STAGE_TYPE,
    Template,
    TemplateError,
    function_url_ids,
    function_url_prefix,
)

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_STACK_NAME = "avito-service-local"
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


def default_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


@dataclass
class StackContext:
    """Where the local stack lives: used for pseudo parameters, ARNs and local URLs."""

    region: str = field(default_factory=default_region)
    account_id: str = DEFAULT_ACCOUNT_ID
    stack_name: str = DEFAULT_STACK_NAME
    sqs_base_url: str | None = None  # e.g. http://127.0.0.1:4566; None => the real-looking AWS endpoint
    webhook_url: str = "http://127.0.0.1:3001/"  # base URL of the local Function URL server
    # AWS endpoint prefix -> local URL (e.g. a WebSocket API's https://<id>.execute-api.<region>.amazonaws.com
    # -> the local management API), applied to function environments by Resolver.localize.
    local_endpoints: dict[str, str] = field(default_factory=dict)

    def execute_api_host(self, api: str) -> str:
        return f"{api}.execute-api.{self.region}.amazonaws.com"

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"

    def queue_url(self, queue_name: str) -> str:
        base = (self.sqs_base_url or f"https://sqs.{self.region}.amazonaws.com").rstrip("/")
        return f"{base}/{self.account_id}/{queue_name}"


def api_id(logical_id: str) -> str:
    """Local REST API id of an AWS::Serverless::Api (or the implicit ServerlessRestApi)."""
    return logical_id.lower()[:10]


class Resolver:
    """Evaluates intrinsic functions of one template against a :class:`StackContext`."""

    def __init__(self, template: Template, context: StackContext | None = None) -> None:
        self.template = template
        self.context = context or StackContext()
        self._physical_ids: dict[str, str] = {}
        self._conditions: dict[str, bool] = {}

    # ----------------------------------------------------------------- names
    def register_physical_id(self, logical_id: str, physical_id: str) -> None:
        """Record what `Ref logical_id` evaluates to once the resource exists (e.g. a secret's ARN)."""
        self._physical_ids[logical_id] = physical_id

    def is_active(self, logical_id: str) -> bool:
        """False if the resource has a `Condition` that evaluates to false."""
        condition = self.template.resource(logical_id).get("Condition")
        return condition is None or self.condition(condition)

    def table_name(self, logical_id: str) -> str:
        return str(self.resolve(self.template.properties(logical_id).get("TableName", logical_id), logical_id))

    def queue_name(self, logical_id: str) -> str:
        props = self.template.properties(logical_id)
        default = f"{logical_id}.fifo" if props.get("FifoQueue") else logical_id
        return str(self.resolve(props.get("QueueName", default), logical_id))

    def secret_name(self, logical_id: str) -> str:
        return str(self.resolve(self.template.properties(logical_id).get("Name", logical_id), logical_id))

    def function_name(self, logical_id: str) -> str:
        return str(self.resolve(self.template.properties(logical_id).get("FunctionName", logical_id), logical_id))

    def function_arn(self, logical_id: str) -> str:
        return self.context.arn("lambda", f"function:{self.function_name(logical_id)}")

    def _function_qualifier(self, logical_id: str, attribute: str, where: str) -> str:
        """SAM's `Ref Function.Alias` / `Ref Function.Version`: the qualified ARN (needs AutoPublishAlias)."""
        alias = self.template.function_properties(logical_id).get("AutoPublishAlias")
        if not alias:
            raise TemplateError(f"{where}: Ref {logical_id}.{attribute} needs AutoPublishAlias on {logical_id}")
        qualifier = self.resolve(alias, where) if attribute == "Alias" else "1"
        return f"{self.function_arn(logical_id)}:{qualifier}"

    def queue_arn(self, logical_id: str) -> str:
        return self.context.arn("sqs", self.queue_name(logical_id))

    def localize(self, value: str) -> str:
        """``value`` with AWS endpoints of this stack's emulated APIs replaced by their local URLs."""
        for prefix, local in self.context.local_endpoints.items():
            value = value.replace(prefix, local)
        return value

    # ----------------------------------------------------------- conditions
    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            if name not in self.template.conditions:
                raise TemplateError(f"condition {name!r} is not defined in Conditions")
            self._conditions[name] = bool(self.resolve(self.template.conditions[name], f"Conditions.{name}"))
        return self._conditions[name]

    # -------------------------------------------------------------- resolve
    def resolve(self, value: Any, where: str = "template") -> Any:
        """Return `value` with every intrinsic function evaluated; `where` names the resource for errors."""
        if isinstance(value, list):
            items = [self.resolve(item, where) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg, where)
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self._function(key, arg, where)
        resolved = {key: self.resolve(item, where) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _function(self, name: str, arg: Any, where: str) -> Any:
        if name == "Fn::If":
            condition, if_true, if_false = arg
            return self.resolve(if_true if self.condition(condition) else if_false, where)
        if name == "Fn::GetAtt":
            logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
            return self._get_att(self.resolve(logical_id, where), self.resolve(attribute, where), where)
        if name == "Fn::Sub":
            return self._sub(arg, where)
        args = self.resolve(arg, where)
        if name == "Fn::Equals":
            left, right = args
            return str(left) == str(right)
        if name == "Fn::Not":
            return not _as_bool(args[0])
        if name == "Fn::And":
            return all(_as_bool(item) for item in args)
        if name == "Fn::Or":
            return any(_as_bool(item) for item in args)
        if name == "Fn::Join":
            delimiter, items = args
            return str(delimiter).join(str(item) for item in items)
        if name == "Fn::Select":
            index, items = args
            return items[int(index)]
        if name == "Fn::Split":
            delimiter, text = args
            return str(text).split(str(delimiter))
        if name == "Fn::FindInMap":
            mapping, top, second = args
            try:
                return self.template.mappings[mapping][top][second]
            except KeyError:
                raise TemplateError(f"{where}: Fn::FindInMap {args} not found in Mappings") from None
        if name == "Fn::Base64":
            return base64.b64encode(str(args).encode()).decode()
        if name == "Fn::GetAZs":
            return [f"{self.context.region}{zone}" for zone in "abc"]
        raise TemplateError(f"{where}: intrinsic function {name} is not supported by the local runtime")

    def _pseudo(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.context.region,
            "AWS::AccountId": self.context.account_id,
            "AWS::StackName": self.context.stack_name,
            "AWS::StackId": self.context.arn("cloudformation", f"stack/{self.context.stack_name}/local"),
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
            "AWS::NotificationARNs": [],
        }
        return pseudo.get(name)

    def _ref(self, name: Any, where: str) -> Any:
        if not isinstance(name, str):
            raise TemplateError(f"{where}: Ref expects a name, got {name!r}")
        if name.startswith("AWS::"):
            value = self._pseudo(name)
            if value is None:
                raise TemplateError(f"{where}: unknown pseudo parameter {name}")
            return value
        if name in self.template.parameters:
            return self.template.parameters[name]
        if name in self._physical_ids:
            return self._physical_ids[name]
        if name == "ServerlessRestApi":
            return api_id(name)
        head, dot, attribute = name.partition(".")
        is_function = head in self.template.resources and self.template.resource_type(head) == FUNCTION_TYPE
        if dot and attribute in ("Alias", "Version") and is_function:
            return self._function_qualifier(head, attribute, where)
        resource_type = self.template.resource_type(name) if name in self.template.resources else None
        if resource_type == TABLE_TYPE:
            return self.table_name(name)
        if resource_type == QUEUE_TYPE:
            return self.context.queue_url(self.queue_name(name))
        if resource_type == FUNCTION_TYPE:
            return self.function_name(name)
        if resource_type == API_TYPE:
            return api_id(name)
        if resource_type == WS_API_TYPE:
            return api_id(name)
        if resource_type == WS_STAGE_TYPE:
            return str(self.resolve(self.template.properties(name).get("StageName", name), name))
        if resource_type in (WS_ROUTE_TYPE, WS_INTEGRATION_TYPE, WS_ROUTE_RESPONSE_TYPE, WS_DEPLOYMENT_TYPE):
            return name  # the local id of a route, integration, ... is its logical id
        if resource_type == LAYER_TYPE:
            return self.context.arn("lambda", f"layer:{name}:1")
        if resource_type == "AWS::IAM::ManagedPolicy":
            return f"arn:aws:iam::{self.context.account_id}:policy/{name}"
        if resource_type == "AWS::Cognito::UserPool":  # the real id once created (register_physical_id)
            return f"{self.context.region}_{name}"
        if resource_type in ("AWS::Cognito::UserPoolClient", "AWS::Cognito::UserPoolGroup"):
            return name
        if resource_type == "AWS::KMS::Key":  # its id once created and registered (register_physical_id)
            return name
        if resource_type in ("AWS::ApiGateway::Account", "AWS::IAM::Role", "AWS::Logs::LogGroup"):
            return name  # not emulated: their Ref is only an identifier (a role's or log group's name)
        if resource_type == "AWS::SNS::Topic":
            return self.context.arn("sns", f"{self.context.stack_name}-{name}")
        if resource_type == SECRET_TYPE:
            raise TemplateError(f"{where}: Ref {name} (a secret) is only known once the secret is created")
        if resource_type is None:
            raise TemplateError(f"{where}: Ref to unknown parameter or resource {name!r}")
        raise TemplateError(f"{where}: Ref to {name} of type {resource_type} is not supported by the local runtime")

    def _get_att(self, logical_id: str, attribute: str, where: str) -> Any:
        url_owner = logical_id.removesuffix("Url")
        if attribute == "FunctionUrl" and url_owner in function_url_ids(self.template):
            return self.context.webhook_url.rstrip("/") + function_url_prefix(self.template, url_owner)
        if logical_id not in self.template.resources:
            raise TemplateError(f"{where}: Fn::GetAtt {logical_id}.{attribute}: unknown resource {logical_id!r}")
        resource_type = self.template.resource_type(logical_id)
        handlers: dict[tuple[str, str], Any] = {
            (TABLE_TYPE, "Arn"): lambda: self.context.arn("dynamodb", f"table/{self.table_name(logical_id)}"),
            (TABLE_TYPE, "StreamArn"): lambda: self.context.arn(
                "dynamodb", f"table/{self.table_name(logical_id)}/stream/1970-01-01T00:00:00.000"
            ),
            (QUEUE_TYPE, "Arn"): lambda: self.queue_arn(logical_id),
            (QUEUE_TYPE, "QueueName"): lambda: self.queue_name(logical_id),
            (QUEUE_TYPE, "QueueUrl"): lambda: self.context.queue_url(self.queue_name(logical_id)),
            (FUNCTION_TYPE, "Arn"): lambda: self.function_arn(logical_id),
            (SECRET_TYPE, "Id"): lambda: self._ref(logical_id, where),
            (API_TYPE, "RootResourceId"): lambda: "root",
            ("AWS::Logs::LogGroup", "Arn"): lambda: self.context.arn("logs", f"log-group:{logical_id}:*"),
            ("AWS::KMS::Key", "Arn"): lambda: self.context.arn("kms", f"key/{self._ref(logical_id, where)}"),
            ("AWS::KMS::Key", "KeyId"): lambda: self._ref(logical_id, where),
            (WS_API_TYPE, "ApiId"): lambda: api_id(logical_id),
            (WS_API_TYPE, "ApiEndpoint"): lambda: "wss://" + self.context.execute_api_host(api_id(logical_id)),
            ("AWS::IAM::Role", "Arn"): lambda: f"arn:aws:iam::{self.context.account_id}:role/{logical_id}",
            ("AWS::Cognito::UserPool", "Arn"): lambda: self.context.arn(
                "cognito-idp", f"userpool/{self._ref(logical_id, where)}"
            ),
        }
        handler = handlers.get((resource_type, attribute))
        if handler is None:
            raise TemplateError(
                f"{where}: Fn::GetAtt {logical_id}.{attribute} ({resource_type}) is not supported by the local runtime"
            )
        return handler()

    def _sub(self, arg: Any, where: str) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], self.resolve(arg[1], where)
        else:
            text, variables = arg, {}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                if attribute in ("Alias", "Version"):  # SAM's property references, as with Ref
                    return str(self._ref(name, where))
                return str(self._get_att(logical_id, attribute, where))
            return str(self._ref(name, where))

        return _SUB_VARIABLE.sub(substitute, str(text))


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)
