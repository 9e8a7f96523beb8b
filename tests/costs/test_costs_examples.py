"""AWS's own published worked examples, reproduced to within one cent.

Each test quotes its example's inputs and result and cites where AWS published it. The expected
figure is AWS's, never this module's output. `on` pins the date the example was priced for.
"""

from datetime import date
from decimal import Decimal

import pytest

from helpers import costs

CENT = Decimal("0.01")
TODAY_2026 = date(2026, 11, 1)  # the pricing pages as read for this table
PRE_2020 = date(2019, 6, 1)  # the 100 ms era


def assert_published(actual: Decimal, published: str) -> None:
    assert isinstance(actual, Decimal)
    assert abs(actual - Decimal(published)) <= CENT, f"{actual} is not within 1 cent of {published}"


# --------------------------------------------------------------------------- Lambda
def test_lambda_mobile_backend_example():
    """Lambda pricing page, Example 1 (mobile application backend): 3M requests, 120 ms,
    1536 MB, x86, free tier -> $2.33 compute + $0.40 requests = $2.73 a month.
    Source: https://aws.amazon.com/lambda/pricing/ (also FACTS.md)."""
    cost = costs.lambda_cost(
        requests=3_000_000, duration_ms=120, memory_mb=1536, arch="x86_64", on=TODAY_2026
    )
    assert_published(cost, "2.73")


def test_lambda_streaming_telemetry_example_without_free_tier():
    """Lambda pricing page, Example 2 (enriching streaming telemetry): 10,000 vehicles x 24 x 31
    = 7.44M requests, 2 s each, 1024 MB, x86; AWS prices it without the free tier:
    $1.49 requests + $248.00 compute = $249.49. Source: https://aws.amazon.com/lambda/pricing/"""
    cost = costs.lambda_cost(
        requests=10_000 * 24 * 31, duration_ms=2000, memory_mb=1024, free_tier=False, on=TODAY_2026
    )
    assert_published(cost, "249.49")


def test_lambda_ephemeral_storage_example():
    """Lambda pricing page, Example 3 (ML on support tickets): 6M requests, 280 ms, 4096 MB,
    2048 MB ephemeral storage, free tier -> $105.33 + $1 + $0.08 = $106.41.
    Source: https://aws.amazon.com/lambda/pricing/"""
    cost = costs.lambda_cost(
        requests=6_000_000,
        duration_ms=280,
        memory_mb=4096,
        ephemeral_storage_mb=2048,
        on=TODAY_2026,
    )
    assert_published(cost, "106.41")
    breakdown = costs.explain(
        costs.lambda_cost,
        requests=6_000_000,
        duration_ms=280,
        memory_mb=4096,
        ephemeral_storage_mb=2048,
        on=TODAY_2026,
    )
    storage = [i for i in breakdown.items if i.dimension == "Ephemeral storage"]
    assert len(storage) == 1
    assert_published(storage[0].amount, "0.08")  # 2,520,000 GB-s x $0.0000000309


def test_lambda_response_streaming_example_compute_and_requests():
    """Lambda pricing page, HTTP response streaming example: 3M requests, 500 ms, 1536 MB, x86,
    free tier -> compute $30.83 and requests $0.40 (the $7.81 of streamed bytes is not modelled).
    Source: https://aws.amazon.com/lambda/pricing/"""
    cost = costs.lambda_cost(requests=3_000_000, duration_ms=500, memory_mb=1536, on=TODAY_2026)
    assert_published(cost, str(Decimal("30.83") + Decimal("0.40")))


def test_lambda_pre_2020_example_1():
    """Pre-December-2020 Lambda pricing page, Example 1: 512 MB, 3M executions of 1 s, free tier
    -> $18.34 compute + $0.40 requests = $18.74. Source: https://aws.amazon.com/lambda/pricing/
    as published in the 100 ms era (quoted in several copies of the page)."""
    cost = costs.lambda_cost(requests=3_000_000, duration_ms=1000, memory_mb=512, on=PRE_2020)
    assert_published(cost, "18.74")


def test_lambda_pre_2020_example_2():
    """Pre-December-2020 Lambda pricing page, Example 2: 128 MB, 30M executions of 200 ms,
    free tier -> $5.83 compute + $5.80 requests = $11.63. Source: https://aws.amazon.com/lambda/pricing/
    (100 ms era)."""
    cost = costs.lambda_cost(requests=30_000_000, duration_ms=200, memory_mb=128, on=PRE_2020)
    assert_published(cost, "11.63")


@pytest.mark.parametrize(
    ("on", "published"),
    [(date(2020, 11, 15), "112"), (date(2020, 12, 15), "40")],
    ids=["100ms-billing", "1ms-billing"],
)
def test_lambda_1ms_billing_blog_example(on, published):
    """AWS News Blog, 'New for AWS Lambda - 1ms Billing Granularity Adds Cost Savings' (Dec 2020):
    60M invocations of 28 ms at 1 GB, free tier ignored: $12 requests + $100 compute billed at
    100 ms = $112; at 1 ms, $12 + $28 = $40.
    Source: https://aws.amazon.com/blogs/aws/new-for-aws-lambda-1ms-billing-granularity-adds-cost-savings/"""
    cost = costs.lambda_cost(
        requests=100_000 * 20 * 30, duration_ms=28, memory_mb=1024, free_tier=False, on=on
    )
    assert_published(cost, published)


# --------------------------------------------------------------------------- Athena
TB = 2**40


@pytest.mark.parametrize(
    ("scanned_bytes", "published"),
    [(3 * TB, "15"), (1 * TB, "5"), (TB // 4, "1.25")],
    ids=["3TB-text", "1TB-gzip", "quarter-TB-parquet-one-column"],
)
def test_athena_pricing_page_example(scanned_bytes, published):
    """Athena pricing page example: a 4-column table stored as 3 TB of uncompressed text costs
    $15 to query; GZIP 3:1 (1 TB) costs $5; Parquet, reading one column of four (0.25 TB), $1.25.
    Source: https://aws.amazon.com/athena/pricing/ (3 TB -> $15 also in FACTS.md)."""
    cost = costs.athena_cost(bytes_scanned_per_query=scanned_bytes, on=TODAY_2026)
    assert_published(cost, published)


# --------------------------------------------------------------------------- S3
def test_s3_put_requests_example():
    """S3 pricing example: 310,000 PUT requests at $0.005 per 1,000 -> $1.55.
    Source: https://aws.amazon.com/s3/pricing/ (FACTS.md)."""
    assert_published(costs.s3_cost(put_requests=310_000, on=TODAY_2026), "1.55")


# --------------------------------------------------------------------------- Kinesis, Firehose
def test_kinesis_data_streams_provisioned_example():
    """Kinesis Data Streams pricing page (provisioned mode) example: producers put 100 records/s
    of 35 KB (3.4 MB/s) -> 4 shards; each record is 2 PUT payload units. For a 31-day month:
    shard hours $44.64 ($1.44 a day x 31) + 535.68M PUT payload units x $0.014 = $7.50;
    total $52.14 a month. Source: https://aws.amazon.com/kinesis/data-streams/pricing/"""
    cost = costs.kinesis_streams_cost(
        shards=4, hours=24 * 31, records=100 * 86_400 * 31, record_kb=35, on=TODAY_2026
    )
    assert_published(cost, "52.14")


def test_firehose_pricing_page_example():
    """Firehose pricing page example: 100 records/s of 3 KB, billed as 5 KB each, 30 days:
    (100 x 5 KB) / 1,048,576 KB/GB x 86,400 s x 30 = 1,235.96 GB x $0.029 = $35.84 a month.
    Source: https://aws.amazon.com/firehose/pricing/"""
    cost = costs.firehose_cost(records=100 * 86_400 * 30, record_kb=3, on=TODAY_2026)
    assert_published(cost, "35.84")


# --------------------------------------------------------------------------- ALB
def test_alb_pricing_page_example():
    """Elastic Load Balancing pricing page, ALB example: 1 new connection/s lasting 2 minutes
    (120 active connections/min), 5 requests/s, 300 KB/s processed (1.08 GB/h), 60 rules
    -> LCUs = max(0.04, 0.04, 1.08, 0.25) = 1.08; $0.00864 + $0.0225 per hour = $22.73 a month.
    Source: https://aws.amazon.com/elasticloadbalancing/pricing/"""
    cost = costs.alb_cost(
        hours=730,
        new_connections_per_s=1,
        active_connections_per_min=120,
        processed_gb_per_hour=1.08,
        rule_evaluations_per_s=5 * 60,  # 5 requests/s x 60 rules processed per request
        rules=60,
        on=TODAY_2026,
    )
    assert_published(cost, "22.73")


# --------------------------------------------------------------------------- Cognito
def test_cognito_lite_pricing_page_example():
    """Cognito pricing page, Lite tier example: after the 10,000 free MAUs,
    '90,000 MAUs x $0.0055 = $495' and '850,000 MAUs x $0.0046 = $3,910' (950,000 MAUs in all).
    Source: https://aws.amazon.com/cognito/pricing/"""
    cost = costs.cognito_cost(maus=950_000, tier="lite", on=TODAY_2026)
    assert_published(cost, str(Decimal(495) + Decimal(3910)))
    breakdown = costs.explain("cognito", maus=950_000, tier="lite", on=TODAY_2026)
    assert [i.amount for i in breakdown.items if i.amount] == [Decimal(495), Decimal(3910)]


# --------------------------------------------------------------------------- Secrets Manager
def test_secrets_manager_pricing_calculator_estimate():
    """An AWS Pricing Calculator estimate exported in March 2023: 'AWS Secrets Manager ... 2.01
    ... Number of secrets (5), Average duration of each secret (30 days), Number of API calls
    (2000 per month)' -> $2.00 + $0.01. It was priced in US West (Oregon), which charges the same
    $0.40 and $0.05 per 10,000 as us-east-1.
    Source: https://gist.github.com/ranchodeluxe/c9ba4c0a0aa9c4b54b75e833cc4f51e3"""
    cost = costs.secrets_manager_cost(secrets=5, api_calls=2000, on=TODAY_2026)
    assert_published(cost, "2.01")
