"""The micro-services chapter: Fargate against Lambda, Aurora Serverless v2, ElastiCache Serverless,
NAT, endpoints, public IPv4 addresses, DNS.

Expected values are worked out by hand from the published us-east-1 unit prices quoted here, never
read back from the module. Sources: https://aws.amazon.com/fargate/pricing/,
https://aws.amazon.com/rds/aurora/pricing/, https://aws.amazon.com/elasticache/pricing/,
https://aws.amazon.com/vpc/pricing/, https://aws.amazon.com/privatelink/pricing/,
https://aws.amazon.com/route53/pricing/ (see the price table's notes for what each figure was
checked against).
"""

import inspect
from datetime import date
from decimal import Decimal

import pytest

from helpers import costs

ON = date(2026, 11, 1)
MONTH = 730  # hours

FARGATE_VCPU = Decimal("0.04048")  # Linux/x86, per vCPU-hour
FARGATE_GB = Decimal("0.004445")  # Linux/x86, per GB-hour
FARGATE_ARM_VCPU = Decimal("0.03238")  # Linux/ARM
FARGATE_ARM_GB = Decimal("0.00356")
FARGATE_DISK = Decimal("0.000111")  # per GB-hour above the 20 GB included
ACU = Decimal("0.12")  # Aurora Serverless v2, Aurora Standard, per ACU-hour
ACU_IO_OPTIMIZED = Decimal("0.156")
AURORA_GB = Decimal("0.10")  # per GB-month, Standard
AURORA_GB_IO_OPTIMIZED = Decimal("0.225")
AURORA_IO = Decimal("0.20")  # per 1M I/O requests, Standard only
VALKEY_GB_HOUR = Decimal("0.084")  # ElastiCache Serverless for Valkey, data stored
VALKEY_ECPU = Decimal("0.0023")  # per 1M ECPUs
OSS_GB_HOUR = Decimal("0.125")  # ElastiCache Serverless for Redis OSS and for Memcached
OSS_ECPU = Decimal("0.0034")  # per 1M ECPUs
NAT_HOUR = Decimal("0.045")
NAT_GB = Decimal("0.045")
ENDPOINT_AZ_HOUR = Decimal("0.01")
PUBLIC_IPV4_HOUR = Decimal("0.005")  # per public IPv4 address, in use or idle, from 2024-02-01
PB = 1024 * 1024  # GB: binary units, as in the AWS Price List (1 PB = 1,048,576 GB)
ZONE = Decimal("0.50")  # first 25 hosted zones, per zone-month
ZONE_OVER_25 = Decimal("0.10")
QUERIES = Decimal("0.40")  # per 1M standard queries, first billion
QUERIES_OVER_1B = Decimal("0.20")


# --------------------------------------------------------------------------- Fargate
def test_fargate_one_small_task_for_a_month():
    """1 vCPU / 2 GB for 730 h: 730 x 0.04048 = 29.5504, 730 x 2 x 0.004445 = 6.4897."""
    cost = costs.fargate_cost(vcpu=1, memory_gb=2, hours=MONTH, on=ON)
    assert cost == Decimal("29.5504") + Decimal("6.4897") == Decimal("36.0401")


def test_fargate_matches_the_price_list_figures_for_2_vcpu_4_gb():
    """2 vCPU x 730 h = 1,460 vCPU-h x 0.04048 = 59.1008 (~$59.10); 4 GB x 730 h = 2,920 GB-h
    x 0.004445 = 12.9794 (~$12.98): the figures infracost prints from the AWS Price List."""
    breakdown = costs.explain("fargate", vcpu=2, memory_gb=4, hours=MONTH, on=ON)
    assert [(i.quantity, i.amount) for i in breakdown.items] == [
        (1460, Decimal("59.1008")),
        (2920, Decimal("12.9794")),
    ]
    assert [costs.usd(i.amount) for i in breakdown.items] == ["$59.10", "$12.98"]


def test_fargate_arm_tasks_and_task_count():
    """3 tasks of 0.25 vCPU / 0.5 GB on Graviton for 730 h: 3 x 730 x 0.25 = 547.5 vCPU-h
    x 0.03238 = 17.72805; 3 x 730 x 0.5 = 1,095 GB-h x 0.00356 = 3.8982."""
    cost = costs.fargate_cost(vcpu=0.25, memory_gb=0.5, hours=MONTH, tasks=3, arch="arm64", on=ON)
    assert cost == Decimal("17.72805") + Decimal("3.8982")
    x86 = costs.fargate_cost(vcpu=0.25, memory_gb=0.5, hours=MONTH, tasks=3, on=ON)
    assert x86 == Decimal("547.5") * FARGATE_VCPU + 1095 * FARGATE_GB
    assert Decimal("0.79") < cost / x86 < Decimal("0.81")  # Graviton: about 20% less


def test_fargate_bills_ephemeral_storage_only_above_the_included_20_gb():
    """50 GB configured: (50 - 20) x 730 h x 0.000111 = 2.4309 on top of the compute."""
    base = dict(vcpu=1, memory_gb=2, hours=MONTH, on=ON)
    compute = costs.fargate_cost(**base)
    assert costs.fargate_cost(**base, ephemeral_storage_gb=20) == compute
    assert costs.fargate_cost(**base, ephemeral_storage_gb=50) == compute + Decimal("2.4309")
    assert costs.fargate_cost(**base, ephemeral_storage_gb=200, tasks=2) == 2 * (
        compute + 180 * MONTH * FARGATE_DISK
    )
    dimensions = [i.dimension for i in costs.explain("fargate", **base).items]
    assert dimensions == ["vCPU (x86_64)", "Memory (x86_64)"]


def test_fargate_with_no_tasks_costs_nothing():
    assert costs.fargate_cost(vcpu=1, memory_gb=2, hours=MONTH, tasks=0, on=ON) == 0


# Amazon ECS Developer Guide, "Troubleshoot Amazon ECS task definition invalid CPU or memory
# errors": the CPU / memory combinations Fargate runs.
DOCUMENTED_SIZES = {
    0.25: [0.5, 1, 2],
    0.5: list(range(1, 5)),
    1: list(range(2, 9)),
    2: list(range(4, 17)),
    4: list(range(8, 31)),
    8: list(range(16, 61, 4)),
    16: list(range(32, 121, 8)),
}


def test_fargate_accepts_every_documented_cpu_and_memory_combination():
    combinations = [(c, m) for c, ms in DOCUMENTED_SIZES.items() for m in ms]
    assert len(combinations) == 3 + 4 + 7 + 13 + 23 + 12 + 12
    for vcpu, memory in combinations:
        expected = MONTH * (Decimal(str(vcpu)) * FARGATE_VCPU + Decimal(memory) * FARGATE_GB)
        assert costs.fargate_cost(vcpu=vcpu, memory_gb=memory, hours=MONTH, on=ON) == expected


@pytest.mark.parametrize(
    ("vcpu", "memory_gb", "message"),
    [
        (0.25, 3, r"^memory_gb must be 0.5, 1 or 2 GB with vcpu=0.25 .*use vcpu=0.5 or 1$"),
        (0.25, 1.5, r"^memory_gb must be 0.5, 1 or 2 GB .*round up to memory_gb=2$"),
        (1, 16, r"^memory_gb must be 2-8 GB in 1 GB steps with vcpu=1 .*use vcpu=2, 4 or 8$"),
        (8, 18, r"^memory_gb must be 16-60 GB in 4 GB steps with vcpu=8 .*use vcpu=4$"),
        (16, 128, r"^memory_gb must be 32-120 GB .*\(got 128\); the largest .* 120 GB: split"),
        (4, 33, r"^memory_gb must be 8-30 GB .*; use vcpu=8, which takes 16-60 GB in 4 GB steps$"),
        (3, 8, r"^vcpu must be one of 0.25, 0.5, 1, 2, 4, 8, 16 .*\(got 3\); round up to vcpu=4$"),
        (32, 64, r"^vcpu must be one of .*\(got 32\); the largest .* 16 vCPU: split the work"),
        ("1", 2, r"^vcpu must be a number"),
    ],
)
def test_fargate_rejects_sizes_it_does_not_offer_and_names_the_fix(vcpu, memory_gb, message):
    with pytest.raises(ValueError, match=message):
        costs.fargate_cost(vcpu=vcpu, memory_gb=memory_gb, hours=1, on=ON)


@pytest.mark.parametrize(
    ("usage", "message"),
    [
        (dict(hours=-1), r"^hours must be >= 0"),
        (dict(tasks=1.5), r"^tasks must be a whole number"),
        (dict(arch="ppc"), r"^arch must be one of 'x86_64', 'arm64'"),
        (dict(ephemeral_storage_gb=201), r"^ephemeral_storage_gb must be a whole number between"),
        (dict(ephemeral_storage_gb=10), r"^ephemeral_storage_gb must be .*20 GB are included"),
        (dict(ephemeral_storage_gb=30.5), r"^ephemeral_storage_gb must be a whole number"),
    ],
)
def test_fargate_rejects_invalid_usage(usage, message):
    with pytest.raises(ValueError, match=message):
        costs.fargate_cost(**{"vcpu": 1, "memory_gb": 2, "hours": 1, "on": ON, **usage})


def test_fargate_tasks_above_4_vcpu_and_graviton_have_dates():
    """Up to 4 vCPU / 30 GB until larger tasks (recorded from 2022-10-24); Graviton from
    2021-11-23; no sourced rate before 2021-04-29."""
    with pytest.raises(ValueError, match=r"^vcpu must be one of 0.25, 0.5, 1, 2, 4 on 2022-10-23"):
        costs.fargate_cost(vcpu=8, memory_gb=16, hours=1, on=date(2022, 10, 23))
    assert costs.fargate_cost(vcpu=8, memory_gb=16, hours=1, on=date(2022, 10, 24)) == (
        8 * FARGATE_VCPU + 16 * FARGATE_GB
    )
    with pytest.raises(ValueError, match=r"on=2021-11-22: AWS Fargate on Graviton2"):
        costs.fargate_cost(vcpu=1, memory_gb=2, hours=1, arch="arm64", on=date(2021, 11, 22))
    with pytest.raises(ValueError, match=r"no sourced price .* before 2021-04-29"):
        costs.fargate_cost(vcpu=1, memory_gb=2, hours=1, on=date(2021, 4, 28))
    with pytest.raises(ValueError, match=r"^ephemeral_storage_gb must be 20 on 2021-06-01"):
        costs.fargate_cost(
            vcpu=1, memory_gb=2, hours=1, ephemeral_storage_gb=21, on=date(2021, 6, 1)
        )


def test_server_density_fargate_against_lambda_for_the_same_traffic():
    """100 requests/s, 50 ms each at 512 MB, for a month (730 h).
    Lambda: 100 x 3,600 x 730 = 262,800,000 requests; (262.8M - 1M free) x $0.20/M = 52.36;
    262.8M x 0.05 s x 0.5 GB = 6,570,000 GB-s, (6,570,000 - 400,000 free) x 0.0000166667
    = 102.8335390. Two 1 vCPU / 2 GB tasks for availability: 2 x 36.0401 = 72.0802, whatever
    their utilization. At a tenth of the traffic Lambda costs 1/10 of the GB-s and requests."""
    requests = 100 * 3600 * MONTH
    lambda_month = costs.lambda_cost(requests=requests, duration_ms=50, memory_mb=512, on=ON)
    assert lambda_month == Decimal("52.36") + Decimal("102.8335390")
    fargate_month = costs.fargate_cost(vcpu=1, memory_gb=2, hours=MONTH, tasks=2, on=ON)
    assert fargate_month == Decimal("72.0802")
    quiet = costs.lambda_cost(requests=requests // 10, duration_ms=50, memory_mb=512, on=ON)
    # 26,280,000 requests: 25.28 x 0.20 = 5.056; 657,000 GB-s - 400,000 = 257,000 x 0.0000166667
    assert quiet == Decimal("5.056") + Decimal("4.2833419")
    assert quiet < fargate_month < lambda_month


# --------------------------------------------------------------------------- Aurora Serverless v2
def test_aurora_serverless_v2_standard():
    """0.5 ACU minimum for 730 h = 365 ACU-h x 0.12 = 43.80; 20 GB-month x 0.10 = 2.00;
    10M I/O x 0.20 = 2.00."""
    cost = costs.aurora_serverless_v2_cost(
        acu_hours=0.5 * MONTH, storage_gb_month=20, io_requests=10_000_000, on=ON
    )
    assert cost == 365 * ACU + 20 * AURORA_GB + 10 * AURORA_IO == Decimal("47.80")


def test_aurora_serverless_v2_io_optimized_has_no_io_charge():
    """365 ACU-h x 0.156 = 56.94; 20 GB-month x 0.225 = 4.50; I/O included."""
    usage = dict(acu_hours=365, storage_gb_month=20, io_requests=10_000_000, on=ON)
    cost = costs.aurora_serverless_v2_cost(**usage, io_optimized=True)
    assert cost == 365 * ACU_IO_OPTIMIZED + 20 * AURORA_GB_IO_OPTIMIZED == Decimal("61.44")
    io = costs.explain("aurora_serverless_v2", **usage, io_optimized=True).items[-1]
    assert (io.dimension, io.quantity, io.unit_price, io.amount) == ("I/O requests", 10, 0, 0)
    assert "included in I/O-Optimized" in io.note


def test_aurora_io_optimized_wins_when_io_dominates():
    """1 billion I/O a month: Standard 43.80 + 2.00 + 1,000 x 0.20 = 245.80 against 61.44."""
    usage = dict(acu_hours=365, storage_gb_month=20, io_requests=1_000_000_000, on=ON)
    assert costs.aurora_serverless_v2_cost(**usage) == Decimal("245.80")
    assert costs.aurora_serverless_v2_cost(**usage, io_optimized=True) == Decimal("61.44")


@pytest.mark.parametrize(
    ("usage", "message"),
    [
        (dict(acu_hours=-1), r"^acu_hours must be >= 0"),
        (dict(acu_hours=1, storage_gb_month=-1), r"^storage_gb_month must be >= 0"),
        (dict(acu_hours=1, io_requests=0.5), r"^io_requests must be a whole number"),
        (dict(acu_hours=1, io_optimized="yes"), r"^io_optimized must be True or False"),
        (dict(acu_hours=1, on=date(2024, 5, 29)), r"no sourced price .* before 2024-05-30"),
    ],
)
def test_aurora_serverless_v2_rejects_invalid_usage(usage, message):
    with pytest.raises(ValueError, match=message):
        costs.aurora_serverless_v2_cost(**{"on": ON, **usage})


# --------------------------------------------------------------------------- ElastiCache Serverless
def test_elasticache_serverless_valkey_bills_at_least_100_mb_an_hour():
    """A Valkey cache holding 50 MB for 730 h is metered for the 100 MB minimum:
    0.1 GB x 730 h = 73 GB-h x 0.084 = 6.132, against 0.05 x 730 x 0.084 = 3.066 for what it
    holds. An empty cache costs the same."""
    cost = costs.elasticache_serverless_cost(
        engine="valkey", data_stored_gb=0.05, hours=MONTH, on=ON
    )
    assert cost == Decimal("0.1") * MONTH * VALKEY_GB_HOUR == Decimal("6.132")
    empty = costs.elasticache_serverless_cost(engine="valkey", data_stored_gb=0, hours=MONTH, on=ON)
    assert empty == cost
    (stored,) = costs.explain(
        "elasticache_serverless", engine="valkey", data_stored_gb=0.05, hours=MONTH, on=ON
    ).items
    assert (stored.dimension, stored.quantity, stored.unit) == (
        "Data stored (Valkey)",
        73,
        "GB-hour",
    )
    assert "0.1 GB minimum" in stored.note and "0.05 GB" in stored.note


def test_elasticache_serverless_valkey_data_above_the_minimum_and_ecpus():
    """2 GB for 730 h: 1,460 GB-h x 0.084 = 122.64; 10M ECPUs: 10 x 0.0023 = 0.023."""
    usage = dict(engine="valkey", data_stored_gb=2, hours=MONTH, ecpus=10_000_000, on=ON)
    cost = costs.elasticache_serverless_cost(**usage)
    assert cost == 2 * MONTH * VALKEY_GB_HOUR + 10 * VALKEY_ECPU == Decimal("122.663")
    breakdown = costs.explain("elasticache_serverless", **usage)
    assert [(i.dimension, i.quantity, i.unit_price, i.amount) for i in breakdown.items] == [
        ("Data stored (Valkey)", 1460, VALKEY_GB_HOUR, Decimal("122.64")),
        ("ECPUs (Valkey)", 10, VALKEY_ECPU, Decimal("0.023")),
    ]
    assert breakdown.total == cost and breakdown.function == "elasticache_serverless_cost"
    for item in breakdown.items:
        assert item.source == "https://aws.amazon.com/elasticache/pricing/"


def test_elasticache_serverless_redis_oss_bills_at_least_1_gb_an_hour():
    """Redis OSS holding 0.5 GB for 730 h is metered for 1 GB: 730 x 0.125 = 91.25; with 10M
    ECPUs + 10 x 0.0034 = 0.034. 2 GB: 1,460 x 0.125 = 182.50."""
    half = costs.elasticache_serverless_cost(
        engine="redis", data_stored_gb=0.5, hours=MONTH, ecpus=10_000_000, on=ON
    )
    assert half == MONTH * OSS_GB_HOUR + 10 * OSS_ECPU == Decimal("91.284")
    two = costs.elasticache_serverless_cost(engine="redis", data_stored_gb=2, hours=MONTH, on=ON)
    assert two == 2 * MONTH * OSS_GB_HOUR == Decimal("182.50")


def test_elasticache_serverless_memcached_is_priced_as_redis_oss():
    """Memcached: same 1 GB minimum and rates as Redis OSS. 0.2 GB for 730 h = 91.25;
    3 GB for 100 h = 300 x 0.125 = 37.50, plus 1 billion ECPUs = 1,000 x 0.0034 = 3.40."""
    idle = costs.elasticache_serverless_cost(
        engine="memcached", data_stored_gb=0.2, hours=MONTH, on=ON
    )
    assert idle == Decimal("91.25")
    busy = costs.elasticache_serverless_cost(
        engine="memcached", data_stored_gb=3, hours=100, ecpus=10**9, on=ON
    )
    assert busy == 300 * OSS_GB_HOUR + 1000 * OSS_ECPU == Decimal("40.90")
    label = costs.explain(
        "elasticache_serverless", engine="memcached", data_stored_gb=3, hours=1, on=ON
    ).items[0]
    assert label.dimension == "Data stored (Memcached)"


def test_elasticache_serverless_idle_floor_valkey_against_redis_oss():
    """The floor an idle cache pays each month: Valkey 6.132, Redis OSS 91.25 (about 15x)."""
    idle = {
        engine: costs.elasticache_serverless_cost(
            engine=engine, data_stored_gb=0, hours=MONTH, on=ON
        )
        for engine in ("valkey", "redis", "memcached")
    }
    assert idle == {
        "valkey": Decimal("6.132"),
        "redis": Decimal("91.25"),
        "memcached": Decimal("91.25"),
    }


def test_elasticache_serverless_has_launch_dates():
    """ElastiCache Serverless (Redis OSS, Memcached) from 2023-11-27; Valkey from 2024-10-08."""
    usage = dict(data_stored_gb=1, hours=1)
    with pytest.raises(
        ValueError, match=r"^on=2023-11-26: Amazon ElastiCache Serverless did not exist before"
    ):
        costs.elasticache_serverless_cost(engine="redis", **usage, on=date(2023, 11, 26))
    launch = costs.elasticache_serverless_cost(engine="memcached", **usage, on=date(2023, 11, 27))
    assert launch == OSS_GB_HOUR
    with pytest.raises(
        ValueError,
        match=r"^on=2024-10-07: Amazon ElastiCache Serverless for Valkey did not exist before "
        r"2024-10-08; accepted range: on >= 2024-10-08$",
    ):
        costs.elasticache_serverless_cost(engine="valkey", **usage, on=date(2024, 10, 7))
    assert costs.elasticache_serverless_cost(engine="redis", **usage, on=date(2024, 10, 7)) == (
        OSS_GB_HOUR
    )
    assert costs.elasticache_serverless_cost(engine="valkey", **usage, on=date(2024, 10, 8)) == (
        VALKEY_GB_HOUR
    )


@pytest.mark.parametrize(
    ("usage", "message"),
    [
        (
            dict(engine="redis-oss"),
            r"^engine must be one of 'valkey', 'redis', 'memcached' \(got 'redis-oss'\)$",
        ),
        (dict(engine="Valkey"), r"^engine must be one of 'valkey', 'redis', 'memcached'"),
        (dict(data_stored_gb=-1), r"^data_stored_gb must be >= 0"),
        (dict(hours=-730), r"^hours must be >= 0"),
        (dict(ecpus=-1), r"^ecpus must be >= 0"),
        (dict(ecpus="10M"), r"^ecpus must be a number"),
        (dict(on="2026-11-01"), r"^on must be a datetime.date"),
    ],
)
def test_elasticache_serverless_rejects_invalid_usage(usage, message):
    with pytest.raises(ValueError, match=message):
        costs.elasticache_serverless_cost(
            **{"engine": "valkey", "data_stored_gb": 1, "hours": 1, "on": ON, **usage}
        )


def test_elasticache_serverless_takes_keyword_arguments_only():
    """Like every cost function: keyword-only arguments, on=None for today, a one-line summary."""
    function = costs.elasticache_serverless_cost
    parameters = inspect.signature(function).parameters
    assert list(parameters) == ["engine", "data_stored_gb", "hours", "ecpus", "on"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())
    assert parameters["on"].default is None and parameters["ecpus"].default == 0
    assert len(function.__doc__.strip().splitlines()[0]) <= 100


# --------------------------------------------------------------------------- NAT gateway, endpoints
def test_nat_gateway_hours_and_data_processed():
    """One gateway a month: 730 x 0.045 = 32.85. Two AZs and 100 GB: 1,460 x 0.045 = 65.70
    + 100 x 0.045 = 4.50 = 70.20."""
    assert costs.nat_gateway_cost(hours=MONTH, on=ON) == Decimal("32.85")
    assert costs.nat_gateway_cost(hours=2 * MONTH, data_gb=100, on=ON) == Decimal("70.20")
    items = costs.explain("nat_gateway", hours=MONTH, data_gb=100, on=ON).items
    assert [(i.dimension, i.unit_price) for i in items] == [
        ("NAT gateway hours", NAT_HOUR),
        ("Data processed", NAT_GB),
    ]
    assert "data transfer out to the internet is billed on top" in items[1].note


def test_interface_endpoints_are_billed_per_az_hour():
    """3 endpoints in 2 AZs for 730 h: 4,380 endpoint-AZ-hours x 0.01 = 43.80; 1,000 GB x 0.01
    = 10.00."""
    cost = costs.vpc_endpoint_cost(endpoints=3, azs=2, hours=MONTH, data_gb=1000, on=ON)
    assert cost == 3 * 2 * MONTH * ENDPOINT_AZ_HOUR + 10 == Decimal("53.80")


@pytest.mark.parametrize(
    ("data_gb", "expected"),
    [
        (PB, PB * Decimal("0.01")),  # 10,485.76: the whole first petabyte
        (2_000_000, Decimal("10485.76") + (2_000_000 - PB) * Decimal("0.006")),
        (5 * PB, Decimal("10485.76") + 4 * PB * Decimal("0.006")),  # 10,485.76 + 25,165.824
        (6_000_000, Decimal("35651.584") + (6_000_000 - 5 * PB) * Decimal("0.004")),
    ],
    ids=["1PB", "2M GB", "5PB", "6M GB"],
)
def test_interface_endpoint_data_tiers_at_1_and_5_pb(data_gb, expected):
    """First 1 PB $0.01 per GB, next 4 PB $0.006, over 5 PB $0.004 (no endpoint hours)."""
    assert costs.vpc_endpoint_cost(endpoints=0, azs=1, hours=0, data_gb=data_gb, on=ON) == expected


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: costs.nat_gateway_cost(hours=-1), r"^hours must be >= 0"),
        (lambda: costs.nat_gateway_cost(hours=1, data_gb=float("nan")), r"^data_gb must be"),
        (lambda: costs.vpc_endpoint_cost(endpoints=1, azs=0, hours=1), r"^azs must be >= 1"),
        (
            lambda: costs.vpc_endpoint_cost(endpoints=1.5, azs=1, hours=1),
            r"^endpoints must be a whole number",
        ),
        (
            lambda: costs.vpc_endpoint_cost(endpoints=1, azs=1, hours=1, data_gb=-1),
            r"^data_gb must be >= 0",
        ),
    ],
)
def test_networking_rejects_invalid_usage(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --------------------------------------------------------------------------- public IPv4 addresses
def test_public_ipv4_three_addresses_for_a_month():
    """An internet-facing ALB in 2 AZs (one address each) and a NAT gateway's Elastic IP for
    730 h: 3 x 730 = 2,190 address-hours x 0.005 = 10.95. One EC2 instance: 730 x 0.005 = 3.65."""
    cost = costs.public_ipv4_cost(addresses=3, hours=MONTH, on=ON)
    assert cost == 3 * MONTH * PUBLIC_IPV4_HOUR == Decimal("10.95")
    assert costs.public_ipv4_cost(addresses=1, hours=MONTH, on=ON) == Decimal("3.65")


def test_public_ipv4_explain_shows_one_line_of_address_hours():
    breakdown = costs.explain("public_ipv4", addresses=3, hours=MONTH, on=ON)
    (item,) = breakdown.items
    assert (item.dimension, item.quantity, item.unit_price, item.amount) == (
        "Public IPv4 address hours",
        2190,
        PUBLIC_IPV4_HOUR,
        Decimal("10.95"),
    )
    assert item.unit == "public IPv4 address-hour" and "in use or idle" in item.note
    assert item.source == "https://aws.amazon.com/vpc/pricing/"
    assert breakdown.total == costs.public_ipv4_cost(addresses=3, hours=MONTH, on=ON)
    assert breakdown.function == "public_ipv4_cost" and breakdown.on == ON


def test_public_ipv4_no_addresses_or_no_hours_cost_nothing():
    """0 addresses, or 0 hours, = 0; an average of 2.5 addresses: 2.5 x 730 x 0.005 = 9.125."""
    assert costs.public_ipv4_cost(addresses=0, hours=MONTH, on=ON) == 0
    assert costs.public_ipv4_cost(addresses=3, hours=0, on=ON) == 0
    assert costs.public_ipv4_cost(addresses=2.5, hours=MONTH, on=ON) == Decimal("9.125")


def test_public_ipv4_is_charged_from_2024_02_01():
    """Announced 2023-07-28, in force from 2024-02-01: earlier dates are refused, because until
    then in-use addresses were free but idle and additional Elastic IPs were not."""
    with pytest.raises(
        ValueError,
        match=r"^on=2024-01-31: AWS public IPv4 address charge did not exist before 2024-02-01; "
        r"accepted range: on >= 2024-02-01$",
    ):
        costs.public_ipv4_cost(addresses=1, hours=MONTH, on=date(2024, 1, 31))
    with pytest.raises(ValueError, match=r"^on=2023-07-28: "):
        costs.public_ipv4_cost(addresses=0, hours=0, on=date(2023, 7, 28))
    first_day = costs.public_ipv4_cost(addresses=1, hours=24, on=date(2024, 2, 1))
    assert first_day == 24 * PUBLIC_IPV4_HOUR == Decimal("0.12")
    assert costs.service_launch("vpc.public_ipv4") == date(2024, 2, 1)


@pytest.mark.parametrize(
    ("usage", "message"),
    [
        (dict(addresses=-1), r"^addresses must be >= 0 \(got -1\)$"),
        (dict(hours=-730), r"^hours must be >= 0 \(got -730\)$"),
        (dict(addresses="3"), r"^addresses must be a number"),
        (dict(addresses=True), r"^addresses must be a number"),
        (dict(hours=float("inf")), r"^hours must be a finite number"),
        (dict(on="2026-11-01"), r"^on must be a datetime.date"),
    ],
)
def test_public_ipv4_rejects_invalid_usage(usage, message):
    with pytest.raises(ValueError, match=message):
        costs.public_ipv4_cost(**{"addresses": 1, "hours": 1, "on": ON, **usage})


def test_public_ipv4_takes_keyword_arguments_only():
    parameters = inspect.signature(costs.public_ipv4_cost).parameters
    assert list(parameters) == ["addresses", "hours", "on"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())
    assert parameters["on"].default is None
    assert "public_ipv4_cost" in costs.__all__


# --------------------------------------------------------------------------- Route 53
def test_route53_one_zone_and_a_million_queries():
    """0.50 for the zone + 1 x 0.40 for 1M standard queries = 0.90."""
    assert costs.route53_cost(hosted_zones=1, queries=1_000_000, on=ON) == Decimal("0.90")


def test_route53_tiers_at_25_zones_and_a_billion_queries():
    """30 zones: 25 x 0.50 + 5 x 0.10 = 13.00. 1.5B queries: 1,000 x 0.40 + 500 x 0.20 = 500."""
    assert costs.route53_cost(hosted_zones=30, on=ON) == 25 * ZONE + 5 * ZONE_OVER_25
    cost = costs.route53_cost(hosted_zones=0, queries=1_500_000_000, on=ON)
    assert cost == 1000 * QUERIES + 500 * QUERIES_OVER_1B == Decimal("500")


def test_route53_alias_queries_to_aws_resources_are_free():
    """A billion alias queries to a CloudFront distribution or load balancer add nothing."""
    assert costs.route53_cost(hosted_zones=1, alias_queries=10**9, on=ON) == ZONE
    items = costs.explain("route53", hosted_zones=1, alias_queries=10**9, on=ON).items
    alias = items[-1]
    assert (alias.dimension, alias.quantity, alias.unit_price, alias.amount) == (
        "Alias queries to AWS resources",
        1000,
        0,
        0,
    )
    assert alias.note.startswith("free:") and alias.source.startswith("https://docs.aws.amazon")


@pytest.mark.parametrize(
    ("usage", "message"),
    [
        (dict(hosted_zones=-1), r"^hosted_zones must be >= 0"),
        (dict(hosted_zones=1.5), r"^hosted_zones must be a whole number"),
        (dict(hosted_zones=1, queries=0.5), r"^queries must be a whole number"),
        (dict(hosted_zones=1, alias_queries=-1), r"^alias_queries must be >= 0"),
    ],
)
def test_route53_rejects_invalid_usage(usage, message):
    with pytest.raises(ValueError, match=message):
        costs.route53_cost(**usage, on=ON)


# --------------------------------------------------------------------------- ALB in front of Lambda
def test_alb_lcu_covers_less_processed_data_for_lambda_targets():
    """The pricing page's example load (1.08 GB/h processed, the highest dimension) in front of
    Lambda: one LCU is 0.4 GB/h, so 1.08 / 0.4 = 2.7 LCU; 730 x (0.0225 + 2.7 x 0.008)
    = 32.193, against 730 x (0.0225 + 1.08 x 0.008) = 22.7322 for instance targets."""
    usage = dict(
        hours=MONTH,
        new_connections_per_s=1,
        active_connections_per_min=120,
        processed_gb_per_hour=1.08,
        rule_evaluations_per_s=300,
        rules=60,
        on=ON,
    )
    assert costs.alb_cost(**usage) == Decimal("22.7322")
    assert costs.alb_cost(**usage, lambda_targets=True) == Decimal("32.193")
    lcu = costs.explain("alb", **usage, lambda_targets=True).items[-1]
    assert lcu.quantity == Decimal("1971") and "Lambda targets" in lcu.note
    with pytest.raises(ValueError, match=r"^lambda_targets must be True or False"):
        costs.alb_cost(**usage, lambda_targets="yes")


def test_every_new_price_has_a_source_and_a_date():
    """Each price this chapter uses comes from the table with its source and effective date."""
    keys = (
        costs.price_keys("fargate.")
        + costs.price_keys("aurora")
        + costs.price_keys("vpc.")
        + costs.price_keys("route53.")
        + costs.price_keys("elasticache_serverless.")
    )
    assert len(keys) == 7 + 5 + 5 + 3 + 9  # vpc.: NAT 2, endpoints 2, public IPv4 1
    for key in keys:
        entry = costs.price_entry(key, ON)
        assert entry["source"].startswith("https://") and entry["since"] <= ON.isoformat()
        assert entry["checked"] is not None or entry["note"], key
