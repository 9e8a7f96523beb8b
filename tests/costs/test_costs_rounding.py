"""Every documented rounding, metering and free-tier rule, one at a time.

Expected values are worked out here by hand from the rule and the published unit price quoted in
the docstring, never read back from the module.
"""

from datetime import date
from decimal import Decimal

import pytest

from helpers import costs

ON = date(2026, 11, 1)
LAMBDA_X86 = Decimal("0.0000166667")  # per GB-s, https://aws.amazon.com/lambda/pricing/
LAMBDA_REQUEST = Decimal("0.0000002")  # $0.20 per 1M requests


# --------------------------------------------------------------------------- Lambda
@pytest.mark.parametrize(
    ("duration_ms", "billed_ms"),
    [(0.2, 1), (120, 120), (120.01, 121), (999.5, 1000)],
)
def test_lambda_duration_rounds_up_to_1ms_since_december_2020(duration_ms, billed_ms):
    """'Duration is ... rounded up to the nearest 1 ms', no minimum (1M requests at 1 GB)."""
    cost = costs.lambda_cost(
        requests=1_000_000, duration_ms=duration_ms, memory_mb=1024, free_tier=False, on=ON
    )
    gb_seconds = Decimal(1_000_000) * Decimal(billed_ms) / 1000
    assert cost == 1_000_000 * LAMBDA_REQUEST + gb_seconds * LAMBDA_X86


@pytest.mark.parametrize(
    ("duration_ms", "billed_ms"),
    [(5, 100), (100, 100), (101, 200), (120, 200), (385, 400)],
)
def test_lambda_duration_rounds_up_to_100ms_before_december_2020(duration_ms, billed_ms):
    """Pre-2020 page: duration 'rounded up to the nearest 100ms' (5 ms -> 100, 385 ms -> 400)."""
    cost = costs.lambda_cost(
        requests=1_000_000,
        duration_ms=duration_ms,
        memory_mb=1024,
        free_tier=False,
        on=date(2020, 6, 1),
    )
    gb_seconds = Decimal(1_000_000) * Decimal(billed_ms) / 1000
    assert cost == 1_000_000 * LAMBDA_REQUEST + gb_seconds * LAMBDA_X86


def test_lambda_free_tier_is_1m_requests_and_400k_gb_seconds():
    """Free tier: 1M requests and 400,000 GB-seconds a month; usage inside it costs $0."""
    inside = costs.lambda_cost(requests=1_000_000, duration_ms=400, memory_mb=1024, on=ON)
    assert inside == 0  # 1M x 0.4 s x 1 GB = 400,000 GB-s
    one_more = costs.lambda_cost(requests=1_000_001, duration_ms=400, memory_mb=1024, on=ON)
    assert one_more == LAMBDA_REQUEST + Decimal("0.4") * LAMBDA_X86


def test_lambda_arm_duration_rate():
    """Arm price: $0.0000133334 per GB-s (requests priced the same as x86)."""
    cost = costs.lambda_cost(
        requests=1_000_000, duration_ms=1000, memory_mb=1024, arch="arm64", free_tier=False, on=ON
    )
    assert cost == Decimal("0.20") + 1_000_000 * Decimal("0.0000133334")


def test_lambda_ephemeral_storage_bills_only_above_512mb():
    """512 MB of ephemeral storage is free; each GB-s above it costs $0.0000000309, for the
    billed duration, and the free tier does not cover it."""
    base = dict(requests=1_000_000, duration_ms=1000, memory_mb=1024, on=ON)
    assert costs.lambda_cost(**base, ephemeral_storage_mb=512) == costs.lambda_cost(**base)
    extra = costs.lambda_cost(**base, ephemeral_storage_mb=1536) - costs.lambda_cost(**base)
    assert extra == 1_000_000 * Decimal(1) * Decimal("0.0000000309")  # 1 GB above 512 MB, 1 s


# --------------------------------------------------------------------------- API Gateway
def test_rest_api_request_tiers():
    """REST: first 333M at $3.50 per million, next 667M at $2.80, next 19B at $2.38."""
    assert costs.api_gateway_cost(requests=333_000_000, on=ON) == Decimal("1165.5")
    assert costs.api_gateway_cost(requests=334_000_000, on=ON) == Decimal("1165.5") + Decimal(
        "2.80"
    )
    assert costs.api_gateway_cost(requests=1_001_000_000, on=ON) == (
        333 * Decimal("3.50") + 667 * Decimal("2.80") + Decimal("2.38")
    )


def test_http_api_request_tiers():
    """HTTP APIs: first 300M at $1.00 per million, $0.90 beyond."""
    assert costs.api_gateway_cost(requests=300_000_000, api="http", on=ON) == 300
    assert costs.api_gateway_cost(requests=301_000_000, api="http", on=ON) == Decimal("300.90")


def test_rest_api_stage_cache_is_billed_per_hour():
    """Cache: $0.020 per hour for 0.5 GB, $0.038 for 1.6 GB, billed for every hour provisioned."""
    without = costs.api_gateway_cost(requests=1_000_000, on=ON)
    with_cache = costs.api_gateway_cost(requests=1_000_000, cache_size_gb=0.5, on=ON)
    assert with_cache - without == 730 * Decimal("0.020")
    day = costs.api_gateway_cost(requests=0, cache_size_gb=1.6, cache_hours=24, on=ON)
    assert day == 24 * Decimal("0.038")


# --------------------------------------------------------------------------- DynamoDB
def test_dynamodb_on_demand_units_storage_and_streams():
    """On-demand (since Nov 2024): $0.625 per 1M WRU, $0.125 per 1M RRU; storage $0.25 per
    GB-month after 25 GB free; stream reads $0.02 per 100,000 after 2.5M free."""
    cost = costs.dynamodb_cost(
        write_request_units=2_000_000,
        read_request_units=4_000_000,
        storage_gb=35,
        stream_read_requests=3_500_000,
        on=ON,
    )
    assert cost == 2 * Decimal("0.625") + 4 * Decimal("0.125") + 10 * Decimal(
        "0.25"
    ) + 10 * Decimal("0.02")
    no_free = costs.dynamodb_cost(
        storage_gb=25, stream_read_requests=2_500_000, free_tier=False, on=ON
    )
    assert no_free == 25 * Decimal("0.25") + 25 * Decimal("0.02")


def test_dynamodb_provisioned_capacity():
    """Provisioned: $0.00065 per WCU-hour, $0.00013 per RCU-hour."""
    cost = costs.dynamodb_provisioned_cost(rcu=100, wcu=100, hours=720, on=ON)
    assert cost == Decimal("46.80") + Decimal("9.36")


# --------------------------------------------------------------------------- CloudFront, S3, DTO
def test_cloudfront_free_tier_then_first_tier():
    """Always free: 1 TB (1,024 GB) and 10M requests; then US $0.085/GB (first 10 TB) and
    $0.0100 per 10,000 HTTPS or $0.0075 per 10,000 HTTP requests."""
    assert costs.cloudfront_cost(data_out_gb=1024, requests=10_000_000, on=ON) == 0
    https = costs.cloudfront_cost(data_out_gb=2048, requests=20_000_000, on=ON)
    assert https == 1024 * Decimal("0.085") + 1000 * Decimal("0.0100")
    http = costs.cloudfront_cost(data_out_gb=2048, requests=20_000_000, https=False, on=ON)
    assert http == 1024 * Decimal("0.085") + 1000 * Decimal("0.0075")


def test_cloudfront_second_data_tier_starts_at_10_tb():
    """'First 10TB $0.085, Next 40TB $0.080' (10 TB = 10,240 GB), without the free tier."""
    cost = costs.cloudfront_cost(data_out_gb=10_240 + 100, requests=0, free_tier=False, on=ON)
    assert cost == 10_240 * Decimal("0.085") + 100 * Decimal("0.080")


def test_s3_storage_tiers_and_requests():
    """S3 Standard: $0.023 per GB-month for the first 50 TB, $0.022 for the next 450 TB;
    GET $0.0004 per 1,000."""
    assert costs.s3_cost(storage_gb_month=100, on=ON) == Decimal("2.3")
    edge = costs.s3_cost(storage_gb_month=51_200 + 1000, on=ON)
    assert edge == 51_200 * Decimal("0.023") + 1000 * Decimal("0.022")
    assert costs.s3_cost(get_requests=1_000_000, on=ON) == Decimal("0.40")


def test_data_transfer_out_free_100gb_then_tiers():
    """Internet egress: 100 GB a month free (since Dec 2021), then $0.09/GB up to 10 TB,
    $0.085 for the next 40 TB. Where the free 100 GB sits inside the tiers is not documented;
    the table's convention (free allowance off the bottom of the first tier) is asserted here."""
    assert costs.data_transfer_out_cost(gb=100, on=ON) == 0
    assert costs.data_transfer_out_cost(gb=110, on=ON) == Decimal("0.90")
    over = costs.data_transfer_out_cost(gb=10_240 + 10, on=ON)
    assert over == (10_240 - 100) * Decimal("0.09") + 10 * Decimal("0.085")
    assert costs.s3_cost(data_out_gb=110, on=ON) == Decimal("0.90")


# --------------------------------------------------------------------------- Kinesis, Firehose, Athena
@pytest.mark.parametrize(("record_kb", "units"), [(5, 1), (25, 1), (26, 2), (45, 2), (1000, 40)])
def test_kinesis_put_payload_units_are_25kb_chunks(record_kb, units):
    """'a 5KB record contains one PUT Payload Unit, a 45KB record contains two ... and a 1MB
    record contains 40'; $0.014 per million units."""
    cost = costs.kinesis_streams_cost(
        shards=0, hours=0, records=1_000_000, record_kb=record_kb, on=ON
    )
    assert cost == units * Decimal("0.014")


def test_kinesis_shard_hours():
    """$0.015 per shard-hour."""
    cost = costs.kinesis_streams_cost(shards=2, hours=730, records=0, record_kb=1, on=ON)
    assert cost == 2 * 730 * Decimal("0.015")


@pytest.mark.parametrize(("record_kb", "billed_kb"), [(3, 5), (5, 5), (5.5, 10), (12, 15)])
def test_firehose_rounds_each_record_up_to_5kb(record_kb, billed_kb):
    """'a 3KB record is billed as 5KB, a 12KB record is billed as 15KB'; $0.029 per GB, where
    1 GB = 1,048,576 KB."""
    cost = costs.firehose_cost(records=1_048_576, record_kb=record_kb, on=ON)
    assert cost == billed_kb * Decimal("0.029")


@pytest.mark.parametrize(
    ("scanned_bytes", "billed_mb"),
    [(0, 10), (1, 10), (10 * 2**20, 10), (10 * 2**20 + 1, 11), (3 * 2**30, 3072)],
)
def test_athena_rounds_up_to_the_mb_with_10mb_minimum(scanned_bytes, billed_mb):
    """'rounded up to the nearest megabyte, with a 10 MB minimum per query'; $5 per TB."""
    cost = costs.athena_cost(bytes_scanned_per_query=scanned_bytes, on=ON)
    assert cost == Decimal(billed_mb) / 2**20 * 5


def test_athena_minimum_applies_per_query():
    """The 10 MB minimum is per query: 100 tiny queries bill 1,000 MB."""
    cost = costs.athena_cost(bytes_scanned_per_query=1024, queries=100, on=ON)
    assert cost == Decimal(1000) / 2**20 * 5


# --------------------------------------------------------------------------- SES, SQS, SNS
def test_ses_outbound_email():
    """$0.10 per 1,000 emails."""
    assert costs.ses_cost(emails=50_000, on=ON) == Decimal("5")


@pytest.mark.parametrize(("message_kb", "requests_each"), [(1, 1), (64, 1), (65, 2), (256, 4)])
def test_sqs_bills_each_64kb_chunk_as_a_request(message_kb, requests_each):
    """'each 64 KB chunk of a payload is billed as 1 request (e.g., an API action with a 256 KB
    payload is billed as 4 requests)'; standard queues $0.40 per million."""
    cost = costs.sqs_cost(requests=1_000_000, message_kb=message_kb, free_tier=False, on=ON)
    assert cost == requests_each * Decimal("0.40")


def test_sqs_free_tier_and_fifo_price():
    """First 1M requests a month free; FIFO $0.50 per million."""
    assert costs.sqs_cost(requests=1_000_000, on=ON) == 0
    assert costs.sqs_cost(requests=3_000_000, on=ON) == Decimal("0.80")
    assert costs.sqs_cost(requests=3_000_000, fifo=True, on=ON) == Decimal("1.00")


def test_sns_publishes():
    """First 1M publishes free, then $0.50 per million."""
    assert costs.sns_cost(publishes=1_000_000, on=ON) == 0
    assert costs.sns_cost(publishes=5_000_000, on=ON) == Decimal("2.00")


# --------------------------------------------------------------------------- Cognito
def test_cognito_tiers():
    """Essentials: 10,000 MAUs free then $0.015; Plus: no free tier, $0.020 per MAU."""
    assert costs.cognito_cost(maus=10_000, on=ON) == 0
    assert costs.cognito_cost(maus=100_000, on=ON) == 90_000 * Decimal("0.015")
    assert costs.cognito_cost(maus=100_000, tier="plus", on=ON) == 100_000 * Decimal("0.020")


# --------------------------------------------------------------------------- Secrets Manager
def test_secrets_manager_secrets_and_api_calls():
    """$0.40 per secret per month (replicas are secrets; part of a month is prorated) and $0.05
    per 10,000 API calls, billed pro rata."""
    assert costs.secrets_manager_cost(secrets=1, on=ON) == Decimal("0.40")
    assert costs.secrets_manager_cost(secrets=3, on=ON) == Decimal("1.20")  # a secret + 2 replicas
    assert costs.secrets_manager_cost(secrets=0.5, on=ON) == Decimal("0.20")  # half a month
    calls = costs.secrets_manager_cost(secrets=0, api_calls=1_000_000, on=ON)
    assert calls == 100 * Decimal("0.05")
    assert costs.secrets_manager_cost(secrets=0, api_calls=1, on=ON) == Decimal("0.000005")


# --------------------------------------------------------------------------- hourly services
def test_alb_lcu_is_the_highest_dimension_and_10_rules_are_free():
    """One LCU = 25 new connections/s, 3,000 active connections/min, 1 GB/h or 1,000 rule
    evaluations/s; you pay the highest. With 10 rules or fewer, rule evaluations are free."""
    base = dict(
        hours=1,
        new_connections_per_s=50,
        active_connections_per_min=0,
        processed_gb_per_hour=0,
        on=ON,
    )
    cost = costs.alb_cost(**base, rule_evaluations_per_s=20_000, rules=10)
    assert cost == Decimal("0.0225") + 2 * Decimal("0.008")  # 50/25 = 2 LCU, rules free
    rules = costs.alb_cost(**base, rule_evaluations_per_s=20 * 400, rules=20)
    assert rules == Decimal("0.0225") + 4 * Decimal("0.008")  # 400 req/s x (20-10) = 4 LCU


def test_hourly_instances_and_storage():
    """On-demand Linux t3.micro $0.0104/h; ElastiCache cache.t3.micro $0.017/h; EFS Standard
    $0.30 per GB-month."""
    assert costs.ec2_cost(instance_type="t3.micro", hours=730, on=ON) == Decimal("7.592")
    assert costs.elasticache_cost(node_type="cache.t3.micro", hours=730, on=ON) == Decimal("12.41")
    assert costs.efs_cost(storage_gb_month=10, on=ON) == Decimal("3.0")
