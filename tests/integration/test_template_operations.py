"""template.yaml as deployed: least privilege, operations (log groups, alarms, failure destinations), the
webhook's concurrency cap, API Gateway's own answers and CORS. Read from the template and the code itself,
so a new function or a new import cannot slip past these rules."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import health
import pytest
import yaml

from local_runtime.apigw import ApiGatewayApp
from local_runtime.apigw_config import load_api_configs
from local_runtime.functions import load_function_specs
from local_runtime.intrinsics import Resolver, StackContext
from local_runtime.template import load_template
from tests.support.events import FakeContext, api_event

ROOT = Path(__file__).resolve().parents[2]
# The template as CloudFormation sees it: Fn::ForEach loops (AWS::LanguageExtensions) expanded.
TEMPLATE = load_template(ROOT / "template.yaml").document
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = {lid: r["Properties"] for lid, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
AVITO_CLIENT = "avito_service.avito.client"
ALARM_ACTION = {"Fn::If": ["CreateAlarmTopic", {"Ref": "AlarmTopic"}, {"Ref": "AlarmTopicArn"}]}


# --- least privilege -----------------------------------------------------------------------------------------


def statements(function_id: str) -> list[dict[str, Any]]:
    """Inline statements and those of the template's managed policies the function refers to."""
    found = []
    for policy in FUNCTIONS[function_id].get("Policies") or []:
        if isinstance(policy, dict) and "Statement" in policy:
            found.extend(policy["Statement"])
        elif isinstance(policy, dict) and set(policy) == {"Ref"}:
            found.extend(RESOURCES[policy["Ref"]]["Properties"]["PolicyDocument"]["Statement"])
    return found


def referenced_resources(value: Any) -> set[str]:
    """Logical ids a policy value refers to (Ref, GetAtt, ${X.Arn} in Sub)."""
    if isinstance(value, list):
        return set().union(*(referenced_resources(v) for v in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    if "Ref" in value:
        return {value["Ref"]}
    if "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return {target[0] if isinstance(target, list) else target.split(".")[0]}
    if "Fn::Sub" in value:
        text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        return {part.split("}")[0].split(".")[0] for part in text.split("${")[1:]}
    return set().union(*(referenced_resources(v) for v in value.values()))


def table_actions(function_id: str, table_id: str) -> set[str]:
    actions: set[str] = set()
    for statement in statements(function_id):
        if table_id in referenced_resources(statement.get("Resource")):
            listed = statement["Action"]
            actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def test_no_function_has_a_crud_or_wildcard_policy() -> None:
    for function_id, props in FUNCTIONS.items():
        for policy in props.get("Policies") or []:
            names = set(policy) if isinstance(policy, dict) else {policy}
            assert "DynamoDBCrudPolicy" not in names, f"{function_id} has DynamoDBCrudPolicy"
        for statement in statements(function_id):
            listed = statement["Action"]
            for action in [listed] if isinstance(listed, str) else listed:
                assert not action.endswith("*"), f"{function_id}: {action}"


def test_table_grants_are_table_or_named_index_arns() -> None:
    """A statement on a table names the table or one of its indexes (never `table/*` or `index/*`)."""
    for function_id in FUNCTIONS:
        for statement in statements(function_id):
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for resource in resources:
                text = json.dumps(resource)
                if "dynamodb" in " ".join(statement["Action"]) and "index/" in text:
                    index = text.split("index/")[1].split('"')[0]
                    assert index and "*" not in index, f"{function_id}: {text}"


def _module_file(name: str) -> Path | None:
    for base in (ROOT / "layers" / "shared", ROOT / "functions"):
        path = base.joinpath(*name.split("."))
        if path.with_suffix(".py").is_file():
            return path.with_suffix(".py")
        if (path / "__init__.py").is_file():
            return path / "__init__.py"
    return None


def _imports(path: Path, module: str) -> set[str]:
    """Every module `path` imports, at the top or deferred inside a function (`from a import b`: a and a.b)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def reachable_modules(handler_module: str) -> set[str]:
    seen: set[str] = set()
    todo = [handler_module]
    while todo:
        module = todo.pop()
        path = _module_file(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # a package's __init__ runs first
        todo.extend(_imports(path, module))
    return seen


def avito_calling_functions() -> set[str]:
    """Functions whose handler module can reach the Avito client through its imports (deferred ones too)."""
    return {
        function_id
        for function_id, props in FUNCTIONS.items()
        if AVITO_CLIENT in reachable_modules(props["Handler"].rsplit(".", 1)[0])
    }


def tokens_table() -> str:
    reference = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"].get("TOKENS_TABLE")
    assert isinstance(reference, dict) and "Ref" in reference, "the Avito tokens need their own table (TOKENS_TABLE)"
    return reference["Ref"]


def avito_policy_holders() -> set[str]:
    return {
        function_id
        for function_id, props in FUNCTIONS.items()
        if {"Ref": "AvitoCallerPolicy"} in (props.get("Policies") or [])
    }


def test_only_functions_that_call_avito_can_read_the_tokens() -> None:
    """Import reachability is an upper bound of who calls Avito; the job starters and readers do not even import
    the client (jobs/service.py), the worker does (jobs/runner.py)."""
    callers = avito_calling_functions()
    assert {"MessengerSendFunction", "AccountsCheckConnectionFunction", "OnlineWorkerFunction"} <= callers
    assert not {"WebhookFunction", "ChatsListFunction", "AuthorizerFunction", "HealthFunction"} & callers
    starters = {"JobsGetFunction", "AccountsSyncAllFunction", "AccountsCheckAllFunction", "JobsDailySyncFunction"}
    assert not starters & callers
    table = tokens_table()
    readers = {f for f in FUNCTIONS if table_actions(f, table) & {"dynamodb:GetItem", "dynamodb:Query"}}
    assert readers <= callers, f"not calling Avito: {sorted(readers - callers)}"
    assert {"MessengerSendFunction", "AccountsCheckConnectionFunction", "OnlineWorkerFunction"} <= readers
    assert {"JobsWorkerFunction", "AccountCleanupFunction"} <= readers  # sync steps; the deleted webhook
    for function_id in FUNCTIONS:
        if function_id not in readers:  # at most forget a token (credentials changed), never read one
            assert table_actions(function_id, table) <= {"dynamodb:DeleteItem"}, f"{function_id} may read {table}"


def test_one_policy_gives_every_avito_caller_the_token_the_limits_and_the_secret() -> None:
    """What every Avito call needs comes from AvitoCallerPolicy, and only from it: no function reads a token, takes
    an Avito budget or reads an account's credentials through an inline statement of its own."""
    table = tokens_table()
    readers = {f for f in FUNCTIONS if table_actions(f, table) & {"dynamodb:GetItem"}}
    assert avito_policy_holders() == readers
    assert avito_policy_holders() <= avito_calling_functions()
    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["AVITO_LIMITS_TABLE"] == {
        "Ref": "AvitoLimitsTable"
    }
    policy = RESOURCES["AvitoCallerPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    granted = {json.dumps(s["Resource"], sort_keys=True) for s in policy}
    assert json.dumps({"Fn::GetAtt": ["AvitoLimitsTable", "Arn"]}) in granted
    assert json.dumps({"Fn::GetAtt": [table, "Arn"]}) in granted
    for function_id, props in FUNCTIONS.items():
        for policy_entry in props.get("Policies") or []:
            for statement in policy_entry.get("Statement", []) if isinstance(policy_entry, dict) else []:
                used = referenced_resources(statement["Resource"])
                actions = set(statement["Action"])
                assert "AvitoLimitsTable" not in used, f"{function_id}: the limits come from AvitoCallerPolicy"
                assert not ({table} & used and actions & {"dynamodb:GetItem", "dynamodb:UpdateItem"}), function_id
                if function_id in avito_policy_holders():
                    assert "secretsmanager:GetSecretValue" not in actions, f"{function_id}: from AvitoCallerPolicy"


# --- operations ------------------------------------------------------------------------------------------------


def resources_of(resource_type: str) -> dict[str, dict[str, Any]]:
    return {lid: r.get("Properties") or {} for lid, r in RESOURCES.items() if r["Type"] == resource_type}


def test_every_function_has_a_log_group_with_the_retention_parameter() -> None:
    groups = {
        json.dumps(props.get("LogGroupName")): props for props in resources_of("AWS::Logs::LogGroup").values()
    }
    for function_id in FUNCTIONS:  # as Fn::ForEach::FunctionOperations writes it
        name = json.dumps({"Fn::Join": ["", ["/aws/lambda/", {"Ref": function_id}]]})
        assert name in groups, f"{function_id} has no log group: add it to Fn::ForEach::FunctionOperations"
        assert groups[name]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def alarms_on(metric: str, dimension_value: Any = None) -> list[dict[str, Any]]:
    found = []
    for props in resources_of("AWS::CloudWatch::Alarm").values():
        if props["MetricName"] != metric:
            continue
        if dimension_value is None or dimension_value in [d["Value"] for d in props.get("Dimensions", [])]:
            found.append(props)
    return found


def test_every_alarm_notifies_the_topic_parameter_or_the_created_topic() -> None:
    alarms = resources_of("AWS::CloudWatch::Alarm")
    assert alarms
    for alarm_id, props in alarms.items():
        assert props["AlarmActions"] == [ALARM_ACTION], alarm_id
    assert RESOURCES["AlarmTopic"]["Condition"] == "CreateAlarmTopic"
    assert TEMPLATE["Conditions"]["CreateAlarmTopic"] == {"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}


def test_cloudwatch_can_publish_to_the_created_alarm_topic() -> None:
    """An SNS topic under alias/aws/sns (or any key whose policy does not let cloudwatch.amazonaws.com use it)
    silently drops every alarm: the created topic is unencrypted, or its key's policy allows CloudWatch."""
    topic = RESOURCES["AlarmTopic"]["Properties"]
    key = topic.get("KmsMasterKeyId")
    if key is None:
        return
    assert isinstance(key, dict), f"AlarmTopic's key {key!r} is an AWS managed key CloudWatch cannot use"
    (key_id,) = referenced_resources(key)
    assert RESOURCES[key_id]["Type"] == "AWS::KMS::Key"
    allowed = [
        s
        for s in RESOURCES[key_id]["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert allowed and {"kms:Decrypt", "kms:GenerateDataKey*"} <= {a for s in allowed for a in s["Action"]}


def test_every_function_has_error_and_throttle_alarms() -> None:
    for function_id in FUNCTIONS:
        for metric in ("Errors", "Throttles"):
            found = alarms_on(metric, {"Ref": function_id})
            assert len(found) == 1, f"{function_id}: {metric} alarm"
            assert found[0]["Namespace"] == "AWS/Lambda" and found[0]["Threshold"] == 1


def test_dead_letter_and_failure_queues_alarm_on_visible_messages() -> None:
    queues = resources_of("AWS::SQS::Queue")
    dead_letter = {
        q["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] for q in queues.values() if "RedrivePolicy" in q
    }
    tick = FUNCTIONS["OnlineTickFunction"]
    failure = tick["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert failure["Type"] == "SQS" and tick["EventInvokeConfig"]["MaximumRetryAttempts"] == 0
    schedule = tick["Events"]["Tick"]["Properties"]
    assert schedule["DeadLetterConfig"]["Arn"] == failure["Destination"]
    assert schedule["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    dead_letter.add(failure["Destination"]["Fn::GetAtt"][0])
    assert {"KeepAliveDeadLetterQueue", "CleanupDeadLetterQueue", "JobsDeadLetterQueue"} <= dead_letter
    for queue_id in dead_letter:
        found = alarms_on("ApproximateNumberOfMessagesVisible", {"Fn::GetAtt": [queue_id, "QueueName"]})
        assert len(found) == 1 and found[0]["Threshold"] == 1, queue_id


def _emitted_metrics() -> set[str]:
    """Metric names the service's code emits (string literals next to add_metric / the worker's outcome map)."""
    names: set[str] = set()
    for path in (ROOT / "layers" / "shared" / "avito_service").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
                names.add(node.value)
    return names


@pytest.mark.parametrize("metric", ["WebhookRejected", "KeepAliveFailed"])
def test_service_metric_alarms_watch_metrics_the_code_emits(metric: str) -> None:
    assert metric in _emitted_metrics()
    (alarm,) = alarms_on(metric)
    assert alarm["Namespace"] == "AvitoService"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "avito-service"}]
    assert alarm["Statistic"] == "Sum" and isinstance(alarm["Threshold"], dict)


def test_webhook_receiver_is_not_capped_unless_asked_since_avito_does_not_retry() -> None:
    """Issue #22 item 11: a delivery Lambda throttles (429) is lost, as Avito documents no retry: by default the
    receiver has no reserved concurrency (no cap); a reservation (and its cap) is opt-in, and nothing in the
    template still claims that Avito retries throttled deliveries."""
    webhook = next(lid for lid, p in FUNCTIONS.items() if p["Handler"].startswith("webhook_receiver."))
    assert FUNCTIONS[webhook]["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasWebhookReservation", {"Ref": "WebhookReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    assert TEMPLATE["Conditions"]["HasWebhookReservation"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "WebhookReservedConcurrency"}, "0"]}]
    }
    parameter = TEMPLATE["Parameters"]["WebhookReservedConcurrency"]
    assert parameter["Type"] == "Number" and parameter["Default"] == 0 and parameter["MinValue"] == 0
    assert parameter["MaxValue"] < 1000 and "no retry" in parameter["Description"]
    text = (ROOT / "template.yaml").read_text().lower()
    assert "avito retries" not in text and "delivers them again" not in text


# What Avito and the operators cannot give back is recoverable; everything else is listed here with why not.
REBUILDABLE_TABLES = {
    "TokensTable": "cached Avito tokens: fetched again",
    "IdempotencyTable": "the first answers of sends, kept 24 h",
    "AvitoLimitsTable": "the last minute of Avito calls",
    "JobsTable": "background jobs' progress: a lost job is started again",
    "ConnectionsTable": "open WebSocket connections: browsers reconnect",
    "SearchTable": "the search index: POST /search/reindex rebuilds it from MessengerTable",
}


def test_tables_that_hold_what_cannot_be_given_back_have_point_in_time_recovery() -> None:
    """Every table has point-in-time recovery and survives a stack deletion, unless it is listed as rebuildable
    (so a new table, users or audit, must choose). The Checkov skip of CKV_AWS_28 names exactly those."""
    tables = resources_of("AWS::DynamoDB::Table")
    assert {"AccountsTable", "MessengerTable"} <= tables.keys()
    assert REBUILDABLE_TABLES.keys() <= tables.keys()
    for table_id, props in tables.items():
        if table_id in REBUILDABLE_TABLES:
            continue
        assert props.get("PointInTimeRecoverySpecification") == {"PointInTimeRecoveryEnabled": True}, table_id
        assert RESOURCES[table_id].get("DeletionPolicy") == "Retain", table_id
        assert RESOURCES[table_id].get("UpdateReplacePolicy") == "Retain", table_id
    skips = yaml.safe_load((ROOT / "checkov-skips.yaml").read_text(encoding="utf-8"))
    assert sorted(skips["CKV_AWS_28"]["resources"]) == sorted(REBUILDABLE_TABLES)


def _access_log(setting: dict[str, Any]) -> dict[str, Any]:
    (group,) = referenced_resources(setting["DestinationArn"])
    assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup"
    assert RESOURCES[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    line = json.loads(setting["Format"].replace('"$context.status"', '"200"'))  # one JSON object per request
    assert {"requestId", "status", "ip"} <= line.keys()
    for secretive in ("authorizationToken", "querystring", "header", "$input", "$context.authorizer.token"):
        assert secretive.lower() not in setting["Format"].lower(), f"{secretive} in an access log"
    return line


def test_the_rest_and_websocket_stages_write_access_logs_without_tokens() -> None:
    rest = RESOURCES["ServiceApi"]["Properties"]["AccessLogSetting"]
    assert {"method", "resource", "sub"} <= _access_log(rest).keys()
    websocket = RESOURCES["WebSocketStage"]["Properties"]["AccessLogSettings"]
    assert {"routeKey", "eventType", "connectionId"} <= _access_log(websocket).keys()
    # API Gateway writes them with the account's CloudWatch role: created (and waited for) unless one is given
    assert RESOURCES["ApiGatewayAccount"]["Condition"] == "CreateApiGatewayLogsRole"
    for stage in ("ServiceApi", "WebSocketStage"):
        assert RESOURCES[stage]["Properties"]["Tags"]["logsRole"]["Fn::If"][1] == {"Ref": "ApiGatewayAccount"}


# --- API Gateway: stage, gateway responses, CORS -----------------------------------------------------------------


def test_openapi_version_is_set_so_sam_makes_no_stage_named_stage() -> None:
    assert TEMPLATE["Globals"]["Api"]["OpenApiVersion"].startswith("3.")


def gateway(parameters: dict[str, str] | None = None) -> tuple[ApiGatewayApp, Any, Resolver]:
    template = load_template(ROOT / "template.yaml", parameters or {})
    resolver = Resolver(template, StackContext(sqs_base_url="http://127.0.0.1:1", webhook_url="http://127.0.0.1:2/"))
    resolver.register_physical_id("JwtSecret", "arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt")
    specs = load_function_specs(resolver)
    apis = load_api_configs(resolver, {spec.arn: lid for lid, spec in specs.items()})

    class NoRuntime:
        def invoke(self, *args: Any) -> None:
            raise AssertionError("no function is invoked here")

    return ApiGatewayApp(NoRuntime(), apis, [], resolver.context), apis["ServiceApi"], resolver  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("response_type", "status", "code"),
    [
        ("UNAUTHORIZED", 401, "unauthorized"),
        ("ACCESS_DENIED", 403, "forbidden"),
        ("MISSING_AUTHENTICATION_TOKEN", 404, "not_found"),
        ("THROTTLED", 429, "too_many_requests"),
        ("REQUEST_TOO_LARGE", 413, "payload_too_large"),
        ("INTEGRATION_TIMEOUT", 504, "gateway_timeout"),
        ("INTEGRATION_FAILURE", 504, "internal_error"),  # DEFAULT_5XX, keeping API Gateway's status
        ("DEFAULT_5XX", 502, "internal_error"),  # a failed or malformed Lambda answer
        ("BAD_REQUEST_BODY", 400, "bad_request"),  # DEFAULT_4XX, keeping API Gateway's status
        ("WAF_FILTERED", 403, "bad_request"),
    ],
)
def test_gateway_responses_render_the_contract_shape_with_the_origin(
    response_type: str, status: int, code: str
) -> None:
    app, api, _ = gateway({"AllowedOrigins": "https://cc.example.com"})
    response = app._gateway_response(api, response_type, None, "req-123")
    assert response.status_code == status
    body = json.loads(response.get_data(as_text=True))
    assert body["success"] is False and body["error"]["code"] == code and body["error"]["message"]
    assert body["error"]["requestId"] == "req-123" and body["error"]["details"] == []
    assert response.headers["Access-Control-Allow-Origin"] == "https://cc.example.com"


def test_default_4xx_carries_api_gateways_message_as_json() -> None:
    app, api, _ = gateway()
    api.gateway_responses.pop("MISSING_AUTHENTICATION_TOKEN")  # falls back to DEFAULT_4XX with its 403
    response = app._gateway_response(api, "MISSING_AUTHENTICATION_TOKEN", None, "r")
    assert response.status_code == 403
    assert json.loads(response.get_data(as_text=True))["error"] == {
        "code": "bad_request",
        "message": "Missing Authentication Token",
        "details": [],
        "requestId": "r",
    }


@pytest.mark.parametrize(
    ("origins", "gateway_origin"),
    [("*", "*"), ("https://cc.example.com", "https://cc.example.com"), ("https://a.example,https://b.example", "*")],
)
def test_gateway_level_origin_is_the_one_configured_or_star_for_several(origins: str, gateway_origin: str) -> None:
    _, api, resolver = gateway({"AllowedOrigins": origins})
    assert api.cors is not None and api.cors["Access-Control-Allow-Origin"] == gateway_origin
    assert api.preflight_authorizer is None  # preflights need no token
    for response in api.gateway_responses.values():
        assert response.headers["Access-Control-Allow-Origin"] == gateway_origin
    specs = load_function_specs(resolver)
    assert {spec.environment["CORS_ALLOW_ORIGINS"] for spec in specs.values()} == {origins}


def test_every_rest_handler_builds_its_resolver_with_cors() -> None:
    for path in sorted((ROOT / "functions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "APIGatewayRestResolver":
                assert "cors" in {keyword.arg for keyword in node.keywords}, path.name


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("https://a.example", True), ("https://b.example", True), ("https://c.example", False), (None, False)],
)
def test_functions_name_only_listed_origins(monkeypatch: pytest.MonkeyPatch, origin: str | None, allowed: bool) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://a.example, https://b.example")
    event = api_event("GET", "/api/v1/health", role=None)
    if origin:
        event["headers"]["Origin"] = origin
        event["multiValueHeaders"]["Origin"] = [origin]
    answer = health.lambda_handler(event, FakeContext())
    headers = answer.get("multiValueHeaders") or {}
    assert answer["statusCode"] == 200
    if allowed:
        assert headers["Access-Control-Allow-Origin"] == [origin] and headers["Vary"] == ["Origin"]
    else:
        assert "Access-Control-Allow-Origin" not in headers
