"""API Gateway TOKEN authorizer: verifies the caller's token (a Cognito access token of the pool or an HS256
token, ``avito_service.auth``) and hands ``sub``, ``role``, ``accountIds`` (the accounts a limited operator may
see, JSON; empty: every account) and ``name`` to the handlers.

Unknown roles are let through on purpose: the handlers answer them 403 in the contract's error shape,
while a bad or missing token is a 401 ("Unauthorized" is what API Gateway maps to 401).
"""

from __future__ import annotations

from typing import Any

from avito_service.auth import InvalidToken, authenticate, bearer_token, context_of
from avito_service.observability import logger, metrics
from aws_lambda_powertools.utilities.typing import LambdaContext


def _policy(principal: str, effect: str, method_arn: str) -> dict[str, Any]:
    # Allow the whole API so API Gateway's authorizer cache (keyed by token) serves every route.
    arn_parts = method_arn.split(":")
    api_and_stage = "/".join(arn_parts[5].split("/")[:2]) if len(arn_parts) > 5 else "*/*"
    resource = ":".join([*arn_parts[:5], f"{api_and_stage}/*/*"]) if len(arn_parts) > 5 else "*"
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        identity = authenticate(bearer_token(event.get("authorizationToken")))
    except InvalidToken as exc:
        logger.info("Token rejected", extra={"reason": str(exc)})
        metrics.add_metric(name="TokenRejected", unit="Count", value=1)
        raise Exception("Unauthorized") from None
    logger.append_keys(caller=identity.sub, role=identity.role)
    response = _policy(identity.sub, "Allow", event.get("methodArn", ""))
    response["context"] = context_of(identity)
    return response
