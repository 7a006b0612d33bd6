"""Docker-free replacement for `sam local`: runs a SAM template's real handlers on 127.0.0.1.

Everything (routes, authorizers, gateway responses, Function URLs, schedules, queues, tables, secrets)
comes from the template; there is no per-route or per-function code here, and handlers never import this
package.

Programmatic use::

    from local_runtime import LocalStack
    with LocalStack("template.yaml", env_overrides={"JWT_SECRET": "s3cret"}) as stack:
        stack.api_url, stack.webhook_url, stack.ws_url, stack.moto_url, stack.jwt_secret
        stack.invoke("SomeFunction", {...}); stack.fire_schedule("CronFunction")

Without servers (e.g. under moto's `mock_aws`)::

    from local_runtime.resources import create_resources
    from local_runtime.template import load_template
    create_resources(load_template("template.yaml"))  # -> {logical id: table name / queue URL / secret ARN}

CLI: `python -m local_runtime run|token|invoke` (see `local_runtime.cli`).

Environment:
    PORT (3000)              API Gateway emulation + Lambda Invoke API (POST /2015-03-31/functions/X/invocations)
    WEBHOOK_PORT (3001)      Function URLs (one at "/", several at "/<LogicalId>/")
    MOTO_PORT (4566)         moto server (a child process running moto's ThreadedMotoServer)
    MOTO_HOST (127.0.0.1)    where moto listens: the docker bridge address lets `sam local invoke` reach it
    WS_PORT (3002)           WebSocket APIs (AWS::ApiGatewayV2::Api, WEBSOCKET); their management API
                             (@connections) listens on a free port that functions find in their environment
    JWT_SECRET               stored in the JwtSecret secret; random when unset (`run` then writes it to
                             .local/jwt_secret next to the template, which `token` reads)
    LOCAL_SCHEDULE_SECONDS   period of every schedule (default: from rate(...); cron(...) -> 60 s), or
                             "manual": schedules fire only through fire_schedule()
    LOCAL_LOG_FORMAT         "console" (one line per request + the functions' errors) or "json" (every line)
    LOCAL_LOG_DIR            per-function log and metric files, requests.log (`run`: .local/logs)
    LOCAL_LOG_FILE           also append every worker log line to this file

Controls for tests that step through time instead of waiting for it: fire_schedule(key),
pause_event_sources() / resume_event_sources(), wait_event_sources_idle().
    AVITO_API_URL, WEBHOOK_BASE_URL  -> template parameters AvitoApiUrl, WebhookBaseUrl (the latter defaults
                             to the local Function URL base)
    AWS_REGION / AWS_DEFAULT_REGION (us-east-1)
"""

from typing import Any

__all__ = ["InvocationError", "LocalStack"]


def __getattr__(name: str) -> Any:
    # Lazy, so `python -m local_runtime.worker` (one per function) does not import boto3/werkzeug.
    if name in __all__:
        from local_runtime import stack  # noqa: PLC0415

        return getattr(stack, name)
    raise AttributeError(name)
