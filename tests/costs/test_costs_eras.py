"""Price changes: a date on each side of each change, and dates before a service existed."""

from datetime import date
from decimal import Decimal

import pytest

from helpers import costs


def test_lambda_billing_granularity_changed_on_2020_12_01():
    """100 ms rounding until November 2020, 1 ms from the December 2020 billing cycle.
    https://aws.amazon.com/about-aws/whats-new/2020/12/aws-lambda-changes-duration-billing-granularity-from-100ms-to-1ms/"""
    usage = dict(requests=1_000_000, duration_ms=28, memory_mb=1024, free_tier=False)
    before = costs.lambda_cost(**usage, on=date(2020, 11, 30))
    after = costs.lambda_cost(**usage, on=date(2020, 12, 1))
    rate = Decimal("0.0000166667")
    assert before == Decimal("0.20") + 100_000 * rate  # 1M x 0.100 s x 1 GB
    assert after == Decimal("0.20") + 28_000 * rate  # 1M x 0.028 s x 1 GB
    assert costs.price_entry("lambda.billing_granularity_ms", date(2020, 11, 30))["value"] == 100
    assert costs.price_entry("lambda.billing_granularity_ms", date(2020, 12, 1))["value"] == 1


def test_lambda_gb_second_rate_is_the_same_in_both_granularity_eras():
    """AWS's 1 ms announcement prices both eras at $0.0000166667 per GB-s (the pre-2020 page
    printed it rounded as $0.00001667)."""
    before = costs.price_entry("lambda.duration.x86_64", date(2020, 11, 30))
    after = costs.price_entry("lambda.duration.x86_64", date(2020, 12, 1))
    assert Decimal(before["price"]) == Decimal(after["price"]) == Decimal("0.0000166667")


def test_lambda_tiered_duration_from_august_2022():
    """From the billing cycle beginning August 1, 2022: first 6B GB-s $0.0000166667, next 9B
    $0.0000150000 (x86). AWS Compute Blog example scale: 75M invocations x 60 s x 2 GB = 9B GB-s.
    https://aws.amazon.com/about-aws/whats-new/2022/08/aws-lambda-tiered-pricing/"""
    usage = dict(requests=75_000_000, duration_ms=60_000, memory_mb=2048, free_tier=False)
    requests = 75 * Decimal("0.20")
    before = costs.lambda_cost(**usage, on=date(2022, 7, 31))
    after = costs.lambda_cost(**usage, on=date(2022, 8, 1))
    assert before == requests + 9_000_000_000 * Decimal("0.0000166667")
    assert after == requests + 6_000_000_000 * Decimal("0.0000166667") + 3_000_000_000 * Decimal(
        "0.0000150000"
    )


def test_lambda_memory_ceiling_rose_to_10240mb_on_2020_12_01():
    """128-3008 MB in 64 MB steps before; 128-10,240 MB in 1 MB steps after."""
    with pytest.raises(ValueError, match=r"memory_mb must be between 128 and 3008"):
        costs.lambda_cost(requests=1, duration_ms=1, memory_mb=4096, on=date(2020, 11, 30))
    with pytest.raises(ValueError, match=r"memory_mb must be a multiple of 64"):
        costs.lambda_cost(requests=1, duration_ms=1, memory_mb=1000, on=date(2020, 11, 30))
    assert costs.lambda_cost(requests=1, duration_ms=1, memory_mb=4096, on=date(2020, 12, 1)) == 0
    assert costs.lambda_cost(requests=1, duration_ms=1, memory_mb=1000, on=date(2020, 12, 1)) == 0


def test_lambda_arm64_exists_from_2021_09_29():
    with pytest.raises(ValueError, match=r"on=2021-09-28.*accepted range: on >= 2021-09-29"):
        costs.lambda_cost(
            requests=1, duration_ms=1, memory_mb=128, arch="arm64", on=date(2021, 9, 28)
        )
    assert (
        costs.lambda_cost(
            requests=1, duration_ms=1, memory_mb=128, arch="arm64", on=date(2021, 9, 29)
        )
        == 0
    )


def test_lambda_ephemeral_storage_configurable_from_2022_03_24():
    with pytest.raises(
        ValueError, match=r"ephemeral_storage_mb must be a whole number between 512 and 512"
    ):
        costs.lambda_cost(
            requests=1,
            duration_ms=1,
            memory_mb=128,
            ephemeral_storage_mb=1024,
            on=date(2022, 3, 23),
        )
    assert (
        costs.lambda_cost(
            requests=1,
            duration_ms=1,
            memory_mb=128,
            ephemeral_storage_mb=1024,
            on=date(2022, 3, 24),
        )
        > 0
    )


def test_cloudfront_free_tier_grew_on_2021_12_01():
    """Before: 50 GB and 2M requests (12 months, new accounts); from December 1, 2021: 1 TB and
    10M requests, always free.
    https://aws.amazon.com/blogs/aws/aws-free-tier-data-transfer-expansion-100-gb-from-regions-and-1-tb-from-amazon-cloudfront-per-month/"""
    usage = dict(data_out_gb=1024, requests=10_000_000)
    before = costs.cloudfront_cost(**usage, on=date(2021, 11, 30))
    after = costs.cloudfront_cost(**usage, on=date(2021, 12, 1))
    assert before == (1024 - 50) * Decimal("0.085") + 800 * Decimal("0.0100")
    assert after == 0


def test_internet_egress_free_allowance_grew_on_2021_12_01():
    """1 GB a month before, 100 GB a month (all regions) from December 1, 2021."""
    assert costs.data_transfer_out_cost(gb=50, on=date(2021, 11, 30)) == 49 * Decimal("0.09")
    assert costs.data_transfer_out_cost(gb=50, on=date(2021, 12, 1)) == 0


def test_dynamodb_on_demand_halved_on_2024_11_01():
    """Before: $1.25 per 1M WRU, $0.25 per 1M RRU, $1.875 per 1M replicated WRU; from
    November 1, 2024: $0.625, $0.125, $0.625.
    https://aws.amazon.com/blogs/database/new-amazon-dynamodb-lowers-pricing-for-on-demand-throughput-and-global-tables/"""
    usage = dict(
        write_request_units=1_000_000,
        read_request_units=1_000_000,
        replicated_write_request_units=1_000_000,
    )
    assert costs.dynamodb_cost(**usage, on=date(2024, 10, 31)) == Decimal("3.375")
    assert costs.dynamodb_cost(**usage, on=date(2024, 11, 1)) == Decimal("1.375")


def test_cognito_free_maus_fell_from_50000_to_10000_on_2024_11_22():
    """Before: 50,000 free MAUs then $0.0055; from November 22, 2024 new user pools default to
    Essentials: 10,000 free MAUs then $0.015.
    https://aws.amazon.com/about-aws/whats-new/2024/11/new-feature-tiers-essentials-plus-amazon-cognito/"""
    assert costs.cognito_cost(maus=60_000, on=date(2024, 11, 21)) == 10_000 * Decimal("0.0055")
    assert costs.cognito_cost(maus=60_000, on=date(2024, 11, 22)) == 50_000 * Decimal("0.015")
    with pytest.raises(ValueError, match=r"tier='plus' on=2024-11-21.*on >= 2024-11-22"):
        costs.cognito_cost(maus=1, tier="plus", on=date(2024, 11, 21))
    with pytest.raises(ValueError, match=r"tier='legacy' on=2024-11-22.*on < 2024-11-22"):
        costs.cognito_cost(maus=1, tier="legacy", on=date(2024, 11, 22))


@pytest.mark.parametrize(
    ("call", "day_before", "launch"),
    [
        (
            lambda on: costs.lambda_cost(requests=1, duration_ms=1, memory_mb=128, on=on),
            "2014-11-12",
            "2014-11-13",
        ),
        (
            lambda on: costs.athena_cost(bytes_scanned_per_query=1, on=on),
            "2016-11-29",
            "2016-11-30",
        ),
        (
            lambda on: costs.api_gateway_cost(requests=1, api="http", on=on),
            "2020-03-11",
            "2020-03-12",
        ),
        (lambda on: costs.dynamodb_cost(write_request_units=1, on=on), "2018-11-27", "2018-11-28"),
        (lambda on: costs.sqs_cost(requests=1, fifo=True, on=on), "2016-11-16", "2016-11-17"),
        (lambda on: costs.firehose_cost(records=1, record_kb=1, on=on), "2015-10-06", "2015-10-07"),
        (lambda on: costs.secrets_manager_cost(secrets=1, on=on), "2018-04-03", "2018-04-04"),
    ],
    ids=["lambda", "athena", "http-api", "dynamodb-on-demand", "sqs-fifo", "firehose", "secrets"],
)
def test_a_date_before_the_service_existed_is_refused(call, day_before, launch):
    with pytest.raises(
        ValueError,
        match=rf"on={day_before}: .* did not exist before {launch}; accepted range: on >= {launch}",
    ):
        call(date.fromisoformat(day_before))


def test_a_date_with_no_sourced_price_is_refused():
    """Kinesis existed in 2015 but billed per PUT transaction then; the table starts later."""
    with pytest.raises(
        ValueError,
        match=r"on=2015-06-01: no sourced price for kinesis\..* accepted range: on >= 2018-01-01",
    ):
        costs.kinesis_streams_cost(shards=1, hours=1, records=1, record_kb=1, on=date(2015, 6, 1))


def test_secrets_manager_prices_are_sourced_from_2021_05_06():
    """Secrets Manager launched on 2018-04-04; its $0.40 and $0.05 are recorded 'in force by'
    2021-05-06 (the first Price List copy found), so dates in between have no sourced price."""
    with pytest.raises(
        ValueError,
        match=r"on=2020-01-01: no sourced price for secrets_manager\..* on >= 2021-05-06",
    ):
        costs.secrets_manager_cost(secrets=1, on=date(2020, 1, 1))
    assert costs.secrets_manager_cost(secrets=1, on=date(2021, 5, 6)) == Decimal("0.40")


def test_on_defaults_to_today():
    usage = dict(requests=5_000_000, duration_ms=100, memory_mb=512)
    assert costs.lambda_cost(**usage) == costs.lambda_cost(**usage, on=date.today())
