"""Eternal-online benchmark: the simulated hour's start, the fleet's intervals, list prices and assumptions."""

from __future__ import annotations

T0 = 1_800_000_000  # simulated start of the hour (unix s), as in tests/integration/test_eternal_online.py
INTERVALS = (60, 120, 300, 900, 3600)
TARGET_S = 15.0  # "every enabled account gets keep-alives at its own interval within about +-15 s"
SIM_UID0 = 7_100_000
PAGE_BYTES = 1024 * 1024
HOURS_PER_MONTH = 24 * 30

PRICES = {
    "source": "AWS list prices, us-east-1, as published in 2025 (on-demand, arm64, no free tier, no discounts)",
    "lambda_per_gb_s_arm64": 0.0000133334,
    "lambda_per_1m_requests": 0.20,
    "sqs_standard_per_1m_requests": 0.40,
    "dynamodb_on_demand_per_1m_rru": 0.125,
    "dynamodb_on_demand_per_1m_wru": 0.625,
    "secrets_manager_per_secret_month": 0.40,
    "secrets_manager_per_10k_api_calls": 0.05,
    "cloudwatch_logs_per_gb_ingested": 0.50,
}

ASSUMPTIONS = {
    "rtt_s": {"Query": 0.020, "UpdateItem": 0.005, "GetItem": 0.005, "SendMessageBatch": 0.010},
    "lambda_cpu_factor": round(1769 / 512, 2),
    "sqs_delay_exact": "a message becomes receivable exactly DelaySeconds after SendMessageBatch returns",
    "invoke_overhead_s": 0.02,
    "lambda_platform_log_bytes_per_invocation": 300,
    "worker_container_lifetime_h": 2.0,
    "steady_state_chat_update_index_writes": 0,
}
