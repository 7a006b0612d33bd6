"""A workflow one-time schedule fired (EventBridge Scheduler invokes this with the schedule's input):

- a waiting alert ``{accountId, chatId, since, threshold}``: mark the threshold once and arm the next
  (workflow/alerts.py);
- the offline grace period ``{kind: "offline", userId, since}``: give a still-offline user's open chats back to
  the queue (workflow/presence.py)."""

from typing import Any

from avito_service.observability import logger, metrics
from avito_service.workflow import alerts, presence


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("kind") == presence.KIND:
        released = presence.release_if_offline(str(event["userId"]), str(event["since"]))
        logger.info("Offline grace period ended", extra={"released": released})
        return {"released": released}
    fired = alerts.fire(event)
    logger.info("Waiting alert", extra={"chat_id": str(event.get("chatId"))[:200], "alerted": fired})
    return {"alerted": fired}
