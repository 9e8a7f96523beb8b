"""The public interface: argument checks, explain(), the price table's shape, import hygiene."""

import datetime as dt
import inspect
import json
import subprocess
import sys
from decimal import Decimal

import pytest

from helpers import costs

ON = dt.date(2026, 11, 1)

PUBLIC_SIGNATURES = {
    "lambda_cost": "requests duration_ms memory_mb arch ephemeral_storage_mb free_tier on",
    "api_gateway_cost": "requests api cache_size_gb cache_hours on",
    "dynamodb_cost": "read_request_units write_request_units storage_gb stream_read_requests "
    "replicated_write_request_units free_tier on",
    "dynamodb_provisioned_cost": "rcu wcu hours on",
    "cloudfront_cost": "data_out_gb requests region https free_tier on",
    "cloudfront_mix_cost": "data_out_gb requests viewers price_class served_from https free_tier on",
    "s3_cost": "storage_gb_month put_requests get_requests data_out_gb on",
    "kinesis_streams_cost": "shards hours records record_kb on",
    "firehose_cost": "records record_kb format_conversion dynamic_partitioning objects_delivered "
    "jq_processing_hours on",
    "iot_core_cost": "messages message_kb rules_triggered actions_executed connection_minutes on",
    "athena_cost": "bytes_scanned_per_query queries on",
    "ses_cost": "emails on",
    "sqs_cost": "requests message_kb fifo on",
    "sns_cost": "publishes on",
    "cognito_cost": "maus on",
    "secrets_manager_cost": "secrets api_calls on",
    "ec2_cost": "instance_type hours on",
    "alb_cost": "hours new_connections_per_s active_connections_per_min processed_gb_per_hour "
    "rule_evaluations_per_s rules lambda_targets on",
    "efs_cost": "storage_gb_month on",
    "elasticache_cost": "node_type hours on",
    "data_transfer_out_cost": "gb on",
    "fargate_cost": "vcpu memory_gb hours arch tasks ephemeral_storage_gb on",
    "aurora_serverless_v2_cost": "acu_hours storage_gb_month io_requests io_optimized on",
    "elasticache_serverless_cost": "engine data_stored_gb hours ecpus on",
    "nat_gateway_cost": "hours data_gb on",
    "vpc_endpoint_cost": "endpoints azs hours data_gb on",
    "public_ipv4_cost": "addresses hours on",
    "route53_cost": "hosted_zones queries alias_queries on",
}


@pytest.mark.parametrize("name", sorted(PUBLIC_SIGNATURES))
def test_public_functions_take_the_documented_keyword_only_arguments(name):
    function = getattr(costs, name)
    parameters = inspect.signature(function).parameters
    for argument in PUBLIC_SIGNATURES[name].split():
        assert argument in parameters, f"{name} lacks {argument}"
        assert parameters[argument].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["on"].default is None
    assert function.__doc__ and len(function.__doc__.strip().splitlines()[0]) <= 100


SMALL_USAGE = {
    "lambda_cost": dict(requests=5_000_000, duration_ms=100, memory_mb=512),
    "api_gateway_cost": dict(requests=5_000_000, cache_size_gb=0.5),
    "dynamodb_cost": dict(read_request_units=5e6, write_request_units=5e6, storage_gb=30),
    "dynamodb_provisioned_cost": dict(rcu=5, wcu=5),
    "cloudfront_cost": dict(data_out_gb=2000, requests=20_000_000),
    "cloudfront_mix_cost": dict(
        data_out_gb=5000,
        requests=50_000_000,
        viewers={"us": 0.5, "europe": 0.3, "japan": 0.1, "australia": 0.1},
        price_class="PriceClass_200",
    ),
    "s3_cost": dict(
        storage_gb_month=10, put_requests=10_000, get_requests=100_000, data_out_gb=200
    ),
    "kinesis_streams_cost": dict(shards=1, hours=730, records=1_000_000, record_kb=1),
    "firehose_cost": dict(records=1_000_000, record_kb=1),
    "iot_core_cost": dict(
        messages=1_000_000,
        rules_triggered=1_000_000,
        actions_executed=1_000_000,
        connection_minutes=43_200,
    ),
    "athena_cost": dict(bytes_scanned_per_query=10**9, queries=100),
    "ses_cost": dict(emails=10_000),
    "sqs_cost": dict(requests=5_000_000),
    "sns_cost": dict(publishes=5_000_000),
    "cognito_cost": dict(maus=20_000),
    "secrets_manager_cost": dict(secrets=1, api_calls=1_000_000),
    "ec2_cost": dict(instance_type="m5.large", hours=730),
    "alb_cost": dict(
        hours=730,
        new_connections_per_s=1,
        active_connections_per_min=100,
        processed_gb_per_hour=0.5,
        rule_evaluations_per_s=10,
    ),
    "efs_cost": dict(storage_gb_month=10),
    "elasticache_cost": dict(node_type="cache.t3.small", hours=730),
    "data_transfer_out_cost": dict(gb=500),
    "fargate_cost": dict(vcpu=0.5, memory_gb=1, hours=730, tasks=2, ephemeral_storage_gb=30),
    "aurora_serverless_v2_cost": dict(acu_hours=365, storage_gb_month=10, io_requests=10**7),
    "elasticache_serverless_cost": dict(
        engine="valkey", data_stored_gb=2, hours=730, ecpus=10_000_000
    ),
    "nat_gateway_cost": dict(hours=730, data_gb=50),
    "vpc_endpoint_cost": dict(endpoints=2, azs=2, hours=730, data_gb=100),
    "public_ipv4_cost": dict(addresses=3, hours=730),
    "route53_cost": dict(hosted_zones=2, queries=3_000_000, alias_queries=5_000_000),
}


def test_every_cost_function_is_exported_documented_and_explainable():
    """A new service appears everywhere the others do: __all__, these tables and explain()."""
    exported = {name for name in costs.__all__ if name.endswith("_cost")}
    assert exported == set(PUBLIC_SIGNATURES) == set(SMALL_USAGE)
    with pytest.raises(ValueError) as raised:
        costs.explain("mainframe", hours=1)
    for name in exported:
        assert name in str(raised.value)


@pytest.mark.parametrize("name", sorted(SMALL_USAGE))
def test_explain_line_items_add_up_to_the_figure(name):
    function = getattr(costs, name)
    figure = function(**SMALL_USAGE[name], on=ON)
    breakdown = costs.explain(function, **SMALL_USAGE[name], on=ON)
    assert isinstance(figure, Decimal) and figure > 0
    assert breakdown.total == figure
    assert breakdown.on == ON and breakdown.function == name
    for item in breakdown.items:
        assert item.amount == item.quantity * item.unit_price
        assert item.source.startswith("https://")
        assert item.unit and item.dimension
    assert "total" in str(breakdown) and "<table>" in breakdown._repr_html_()
    assert costs.explain(name.removesuffix("_cost"), **SMALL_USAGE[name], on=ON) == breakdown


def test_results_are_unrounded_decimals():
    cost = costs.lambda_cost(requests=3_000_000, duration_ms=120, memory_mb=1536, on=ON)
    assert cost == Decimal("2.733338")  # 140,000 x 0.0000166667 + 0.40, not 2.73
    assert costs.cents(cost) == Decimal("2.73") and costs.usd(cost) == "$2.73"


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: costs.lambda_cost(requests=-1, duration_ms=1, memory_mb=128), "requests"),
        (lambda: costs.lambda_cost(requests=1, duration_ms=-1, memory_mb=128), "duration_ms"),
        (lambda: costs.lambda_cost(requests=1.5, duration_ms=1, memory_mb=128), "requests"),
        (lambda: costs.lambda_cost(requests=True, duration_ms=1, memory_mb=128), "requests"),
        (lambda: costs.lambda_cost(requests=1, duration_ms=1, memory_mb=64), "memory_mb"),
        (lambda: costs.lambda_cost(requests=1, duration_ms=1, memory_mb=10241), "memory_mb"),
        (lambda: costs.lambda_cost(requests=1, duration_ms=1, memory_mb=128, arch="ppc"), "arch"),
        (
            lambda: costs.lambda_cost(
                requests=1, duration_ms=1, memory_mb=128, ephemeral_storage_mb=100
            ),
            "ephemeral_storage_mb",
        ),
        (lambda: costs.api_gateway_cost(requests=1, api="soap"), "api"),
        (lambda: costs.api_gateway_cost(requests=1, cache_size_gb=2), "cache_size_gb"),
        (
            lambda: costs.api_gateway_cost(requests=1, api="http", cache_size_gb=0.5),
            "cache_size_gb",
        ),
        (lambda: costs.dynamodb_cost(read_request_units=-5), "read_request_units"),
        (lambda: costs.dynamodb_provisioned_cost(rcu=-1, wcu=1), "rcu"),
        (lambda: costs.cloudfront_cost(data_out_gb=1, requests=1, region="asia"), "region"),
        (lambda: costs.cloudfront_cost(data_out_gb=-1, requests=1), "data_out_gb"),
        (lambda: costs.cloudfront_cost(data_out_gb=1, requests=1, https="yes"), "https"),
        (
            lambda: costs.cloudfront_mix_cost(
                data_out_gb=1, requests=1, viewers={"us": 1}, price_class="PriceClass_50"
            ),
            "price_class",
        ),
        (
            lambda: costs.cloudfront_mix_cost(data_out_gb=1, requests=1.5, viewers={"us": 1}),
            "requests",
        ),
        (lambda: costs.cloudfront_mix_cost(data_out_gb=1, requests=1, viewers={}), "viewers"),
        (
            lambda: costs.cloudfront_mix_cost(
                data_out_gb=1, requests=1, viewers={"japan": 1}, served_from={"japan": "us"}
            ),
            "served_from",
        ),
        (lambda: costs.secrets_manager_cost(secrets=-1), "secrets"),
        (lambda: costs.secrets_manager_cost(secrets=1, api_calls=0.5), "api_calls"),
        (lambda: costs.s3_cost(put_requests=-10), "put_requests"),
        (
            lambda: costs.kinesis_streams_cost(shards=1, hours=1, records=1, record_kb=0),
            "record_kb",
        ),
        (lambda: costs.firehose_cost(records=-1, record_kb=1), "records"),
        (lambda: costs.athena_cost(bytes_scanned_per_query=-1), "bytes_scanned_per_query"),
        (lambda: costs.ses_cost(emails=-1), "emails"),
        (lambda: costs.sqs_cost(requests=1, message_kb=0), "message_kb"),
        (lambda: costs.sns_cost(publishes=-1), "publishes"),
        (lambda: costs.cognito_cost(maus=-1), "maus"),
        (lambda: costs.cognito_cost(maus=1, tier="gold"), "tier"),
        (lambda: costs.ec2_cost(instance_type="t3.micro", hours=-1), "hours"),
        (
            lambda: costs.alb_cost(
                hours=1,
                new_connections_per_s=-1,
                active_connections_per_min=0,
                processed_gb_per_hour=0,
                rule_evaluations_per_s=0,
            ),
            "new_connections_per_s",
        ),
        (lambda: costs.efs_cost(storage_gb_month=-1), "storage_gb_month"),
        (lambda: costs.fargate_cost(vcpu=0.25, memory_gb=4, hours=1), "memory_gb"),
        (lambda: costs.fargate_cost(vcpu=3, memory_gb=4, hours=1), "vcpu"),
        (lambda: costs.aurora_serverless_v2_cost(acu_hours=-1), "acu_hours"),
        (lambda: costs.nat_gateway_cost(hours=-730), "hours"),
        (lambda: costs.vpc_endpoint_cost(endpoints=1, azs=0, hours=1), "azs"),
        (lambda: costs.public_ipv4_cost(addresses=-1, hours=1), "addresses"),
        (lambda: costs.route53_cost(hosted_zones=-1), "hosted_zones"),
        (lambda: costs.data_transfer_out_cost(gb=float("nan")), "gb"),
        (
            lambda: costs.lambda_cost(requests=1, duration_ms=1, memory_mb=128, on="2024-01-01"),
            "on",
        ),
    ],
)
def test_invalid_usage_raises_valueerror_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument} must|{argument}="):
        call()


def test_unknown_instance_and_node_types_list_the_accepted_ones():
    with pytest.raises(
        ValueError, match=r"instance_type must be one of: .*t3\.micro.*\(got 'x9\.huge'\)"
    ):
        costs.ec2_cost(instance_type="x9.huge", hours=1)
    with pytest.raises(ValueError, match=r"node_type must be one of: .*cache\.t3\.micro"):
        costs.elasticache_cost(node_type="cache.x9.huge", hours=1)


def test_explain_rejects_unknown_functions():
    with pytest.raises(ValueError, match=r"cost_function must be one of: .*lambda_cost"):
        costs.explain("mainframe", hours=1)


# --------------------------------------------------------------------------- the price table
def load_table():
    return json.loads(costs.PRICE_FILE.read_text(encoding="utf-8"))


def test_every_price_entry_is_dated_and_sourced():
    table = load_table()
    assert table["region"] == "us-east-1" and table["currency"] == "USD"
    kinds = ("price", "tiers", "quantity", "value", "sizes", "withdrawn")
    for key, eras in table["prices"].items():
        assert eras, key
        dates = [dt.date.fromisoformat(e["since"]) for e in eras]
        assert dates == sorted(dates) and len(set(dates)) == len(dates), key
        for era in eras:
            where = f"{key} since {era['since']}"
            assert era["source"].startswith("https://"), where
            assert era["since_is"] in ("launch", "change", "in force by"), where
            assert era["checked"] is None or dt.date.fromisoformat(era["checked"]), where
            assert sum(k in era for k in kinds) == 1, where
            if "price" in era or "tiers" in era:
                assert era["unit"] and int(era.get("per", 1)) >= 1, where
            for tier in era.get("tiers", []):
                Decimal(tier["price"])
            limits = [Decimal(t["upto"]) for t in era.get("tiers", []) if t["upto"] is not None]
            assert limits == sorted(limits), where
            if "tiers" in era:
                assert era["tiers"][-1]["upto"] is None, where


@pytest.mark.parametrize(
    ("key", "change"),
    [
        ("lambda.billing_granularity_ms", "2020-12-01"),
        ("lambda.duration.x86_64", "2022-08-01"),
        ("cloudfront.free_tier.data_out_gb", "2021-12-01"),
        ("cloudfront.free_tier.requests", "2021-12-01"),
        ("dynamodb.on_demand.write", "2024-11-01"),
        ("dynamodb.on_demand.read", "2024-11-01"),
        ("cognito.legacy.free_mau", "2024-11-22"),
        ("data_transfer.free_tier.out_gb", "2021-12-01"),
    ],
)
def test_both_eras_are_kept_for_each_price_change(key, change):
    eras = load_table()["prices"][key]
    assert len(eras) >= 2
    assert change in [e["since"] for e in eras if e["since_is"] == "change"]


def test_services_have_launch_dates_and_every_table_service_is_known():
    services = load_table()["services"]
    for name in services:
        assert costs.service_launch(name) <= dt.date(2026, 12, 31)
    with pytest.raises(ValueError, match=r"service must be one of"):
        costs.service_launch("mainframe")


def test_importing_costs_and_plots_needs_no_aws_emulator_and_no_gui():
    code = (
        "import sys; import helpers.costs, helpers.plots; "
        "bad = [m for m in ('moto', 'matplotlib.pyplot') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
