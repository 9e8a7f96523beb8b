"""Chapter 5's ingestion path: AWS IoT Core, and the Firehose options for an S3 data lake.

Expected values are worked out by hand from the published us-east-1 unit prices quoted in each
docstring (https://aws.amazon.com/iot-core/pricing/, https://aws.amazon.com/firehose/pricing/),
never read back from the module.
"""

from datetime import date
from decimal import Decimal

import pytest

from helpers import costs

ON = date(2026, 11, 1)
CENT = Decimal("0.01")
MILLION = 1_000_000
MESSAGE = Decimal("1.00")  # per 1M messages, first billion a month
RULE = Decimal("0.15")  # per 1M rules triggered
ACTION = Decimal("0.15")  # per 1M actions executed
CONNECTION = Decimal("0.08")  # per 1M connection minutes
INGESTED = Decimal("0.029")  # Firehose, per GB ingested (first 500 TB)
CONVERTED = Decimal("0.018")  # Firehose format conversion, per GB
PARTITIONED = Decimal("0.020")  # Firehose dynamic partitioning, per GB
OBJECTS = Decimal("0.005")  # per 1,000 S3 objects delivered
JQ_HOUR = Decimal("0.07")


# --------------------------------------------------------------------------- IoT Core messaging
def test_iot_core_messages_at_one_dollar_per_million():
    """2.5 million 1 KB messages = 2.5 x $1.00 = $2.50 (connections, rules and free tier off)."""
    assert costs.iot_core_cost(messages=2_500_000, on=ON) == Decimal("2.50")


@pytest.mark.parametrize(
    ("message_kb", "metered"),
    [(0.1, 1), (1, 1), (5, 1), (5.01, 2), (8, 2), (10, 2), (10.5, 3), (128, 26)],
)
def test_iot_core_meters_messages_in_5kb_increments(message_kb, metered):
    """'Messages are metered in 5 KB increments': an 8 KB message is 2 messages, a 128 KB one
    26; 1M of them cost metered x $1.00."""
    cost = costs.iot_core_cost(messages=MILLION, message_kb=message_kb, on=ON)
    assert cost == metered * MESSAGE


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        (1_000_000_000, 1000 * MESSAGE),  # the whole first tier
        (1_001_000_000, 1000 * MESSAGE + Decimal("0.80")),  # 1M into the second
        (5_000_000_000, 1000 * MESSAGE + 4000 * Decimal("0.80")),  # $4,200
        (5_001_000_000, Decimal(4200) + Decimal("0.70")),  # 1M into the third
    ],
    ids=["1B", "1B+1M", "5B", "5B+1M"],
)
def test_iot_core_message_tiers_at_1_and_5_billion(messages, expected):
    """First 1 billion messages a month $1.00 per million, next 4 billion $0.80, over 5 billion
    $0.70."""
    assert costs.iot_core_cost(messages=messages, on=ON) == expected


def test_iot_core_tiers_count_metered_messages():
    """600M messages of 8 KB are 1.2 billion metered messages: 1,000M x $1.00 + 200M x $0.80 =
    $1,160; explain() shows one line per tier."""
    usage = dict(messages=600_000_000, message_kb=8, on=ON)
    assert costs.iot_core_cost(**usage) == Decimal(1160)
    lines = [i for i in costs.explain(costs.iot_core_cost, **usage).items if i.amount]
    assert [(i.dimension, i.quantity, i.unit_price) for i in lines] == [
        ("Messages", 1000, Decimal("1.00")),
        ("Messages", 200, Decimal("0.80")),
    ]
    assert "tier 0-1,000,000,000 messages" in lines[0].note and "5 KB" in lines[0].note


# --------------------------------------------------------------------------- connectivity, rules
def test_iot_core_connectivity_per_million_minutes():
    """100 devices connected all of a 30-day month: 100 x 43,200 = 4,320,000 minutes x
    $0.08 per million = $0.3456."""
    cost = costs.iot_core_cost(messages=0, connection_minutes=100 * 30 * 24 * 60, on=ON)
    assert cost == Decimal("4.32") * CONNECTION == Decimal("0.3456")


def test_iot_core_aws_pricing_example_connectivity_and_messaging():
    """AWS IoT Core pricing page example: 100,000 devices connected for 30 days, each sending
    325 messages of 1 KB a day: 4,320,000,000 minutes x $0.08/1M = $345.60 and 975,000,000
    messages x $1.00/1M = $975.00 (the example is priced for Europe (Ireland), which charges the
    same $0.08 and $1.00). Source: https://aws.amazon.com/iot-core/pricing/ as quoted in
    https://gist.github.com/brianfoody/2c62cecc912dbd97bc759eba427e84cf"""
    usage = dict(messages=100_000 * 325 * 30, connection_minutes=100_000 * 60 * 24 * 30, on=ON)
    cost = costs.iot_core_cost(**usage)
    assert abs(cost - (Decimal("345.60") + Decimal("975.00"))) <= CENT
    amounts = {i.dimension: i.amount for i in costs.explain("iot_core", **usage).items}
    assert amounts == {"Connectivity": Decimal("345.60"), "Messages": Decimal("975.00")}


def test_iot_core_rules_and_actions():
    """$0.15 per million rules triggered and $0.15 per million actions executed: 1M rules of
    1 KB with one action each = $0.15 + $0.15 = $0.30."""
    cost = costs.iot_core_cost(messages=0, rules_triggered=MILLION, actions_executed=MILLION, on=ON)
    assert cost == RULE + ACTION == Decimal("0.30")


def test_iot_core_rules_are_metered_per_5kb_but_actions_are_not():
    """'A rule processing an 8 KB message counts as 2': 1M rules on 8 KB messages = 2M x $0.15
    = $0.30, plus 1M actions x $0.15 = $0.15; publishing those messages too adds 2M metered
    messages x $1.00 = $2.00."""
    rules = dict(rules_triggered=MILLION, actions_executed=MILLION, message_kb=8, on=ON)
    assert costs.iot_core_cost(messages=0, **rules) == 2 * RULE + ACTION
    assert costs.iot_core_cost(messages=MILLION, **rules) == 2 * RULE + ACTION + 2 * MESSAGE


def test_iot_core_basic_ingest_pays_for_rules_only():
    """Basic Ingest ($aws/rules/... topics) skips the message broker, so no messaging charge:
    10M 1 KB messages routed to one Firehose action = 10 x ($0.15 + $0.15) = $3.00 instead of
    $3.00 + 10 x $1.00 = $13.00 through a normal topic."""
    rules = dict(rules_triggered=10 * MILLION, actions_executed=10 * MILLION, on=ON)
    assert costs.iot_core_cost(messages=0, **rules) == Decimal("3.00")
    assert costs.iot_core_cost(messages=10 * MILLION, **rules) == Decimal("13.00")


def test_iot_core_explain_line_items():
    """One line per dimension, in the price table's units, each with its source and a note."""
    breakdown = costs.explain(
        "iot_core_cost",
        messages=3 * MILLION,
        message_kb=6,
        rules_triggered=MILLION,
        actions_executed=2 * MILLION,
        connection_minutes=5 * MILLION,
        on=ON,
    )
    rows = [(i.dimension, i.quantity, i.unit, i.unit_price) for i in breakdown.items]
    assert rows == [
        ("Connectivity", 5, "1M connection minutes", CONNECTION),
        ("Messages", 6, "1M messages", MESSAGE),  # 6 KB = 2 metered messages each
        ("Rules triggered", 2, "1M rules triggered", RULE),
        ("Actions executed", 2, "1M actions executed", ACTION),
    ]
    assert breakdown.total == 5 * CONNECTION + 6 * MESSAGE + 2 * RULE + 2 * ACTION
    for item in breakdown.items:
        assert item.source == "https://aws.amazon.com/iot-core/pricing/"
        assert "free tier not applied" in item.note
    only_messages = costs.explain("iot_core", messages=1, on=ON).items
    assert [i.dimension for i in only_messages] == ["Messages"]  # zero-usage lines are left out


def test_iot_core_launch_and_first_sourced_price():
    """AWS IoT Core became generally available on 2015-12-18; its current prices are sourced
    from 2022-10-28, so dates in between have no price."""
    with pytest.raises(ValueError, match=r"on=2015-12-17: .* did not exist before 2015-12-18"):
        costs.iot_core_cost(messages=1, on=date(2015, 12, 17))
    with pytest.raises(
        ValueError, match=r"on=2020-01-01: no sourced price for iot_core\..* on >= 2022-10-28"
    ):
        costs.iot_core_cost(messages=1, on=date(2020, 1, 1))
    assert costs.iot_core_cost(messages=MILLION, on=date(2022, 10, 28)) == MESSAGE


# --------------------------------------------------------------------------- Firehose options
def test_firehose_options_default_off():
    """Existing calls are unchanged: without options only ingestion is billed."""
    usage = dict(records=1_048_576, record_kb=3, on=ON)
    assert costs.firehose_cost(**usage) == 5 * INGESTED  # 1,048,576 x 5 KB = 5 GB
    off = dict(format_conversion=False, dynamic_partitioning=False, objects_delivered=0)
    assert costs.firehose_cost(**usage, **off, jq_processing_hours=0) == 5 * INGESTED
    assert [i.dimension for i in costs.explain("firehose", **usage).items] == ["Data ingested"]


@pytest.mark.parametrize(("record_kb", "billed_gb"), [(3, 5), (5, 5), (12, 15)])
def test_firehose_format_conversion_is_billed_on_the_5kb_rounded_gb_ingested(record_kb, billed_gb):
    """Format conversion: $0.018 per GB, 'billed per GB based on the GBs ingested in 5 KB
    increments'. 1,048,576 records of 3 KB are billed as 5 GB: 5 x ($0.029 + $0.018) =
    $0.235; of 12 KB, as 15 GB."""
    cost = costs.firehose_cost(
        records=1_048_576, record_kb=record_kb, format_conversion=True, on=ON
    )
    assert cost == billed_gb * (INGESTED + CONVERTED)


def test_firehose_pricing_page_example_with_format_conversion():
    """Firehose pricing page example (100 records/s of 3 KB, billed as 5 KB, 30 days =
    1,235.96 GB, $35.84 of ingestion) converted to Parquet: + 1,235.96 GB x $0.018 = $22.25,
    $58.09 a month. Source: https://aws.amazon.com/firehose/pricing/"""
    cost = costs.firehose_cost(
        records=100 * 86_400 * 30, record_kb=3, format_conversion=True, on=ON
    )
    assert abs(cost - (Decimal("35.84") + Decimal("22.25"))) <= CENT


def test_firehose_dynamic_partitioning_data_objects_and_jq_hours():
    """Dynamic partitioning: $0.020 per GB delivered, $0.005 per 1,000 S3 objects, $0.07 per JQ
    processing hour. 1,048,576 records of 3 KB deliver 3 GB (no 5 KB rounding) = $0.06;
    10,000 objects = $0.05; 10 JQ hours = $0.70; plus 5 GB ingested x $0.029 = $0.145."""
    usage = dict(
        records=1_048_576,
        record_kb=3,
        dynamic_partitioning=True,
        objects_delivered=10_000,
        jq_processing_hours=10,
        on=ON,
    )
    assert costs.firehose_cost(**usage) == 5 * INGESTED + 3 * PARTITIONED + 10 * OBJECTS + (
        10 * JQ_HOUR
    )
    rows = [
        (i.dimension, i.quantity, i.unit, i.amount)
        for i in costs.explain("firehose", **usage).items
    ]
    assert rows == [
        ("Data ingested", 5, "GB", Decimal("0.145")),
        ("Dynamic partitioning (data)", 3, "GB", Decimal("0.06")),
        ("Dynamic partitioning (S3 objects)", 10, "1K S3 objects", Decimal("0.05")),
        ("Dynamic partitioning (JQ)", 10, "JQ processing hour", Decimal("0.70")),
    ]


def test_firehose_jq_hours_are_optional():
    """Partition keys from inline parsing need no JQ: only data and objects are billed."""
    cost = costs.firehose_cost(
        records=1_048_576,
        record_kb=1,
        dynamic_partitioning=True,
        objects_delivered=1000,
        on=ON,
    )
    assert cost == 5 * INGESTED + 1 * PARTITIONED + OBJECTS  # 1 KB billed as 5 KB to ingest


def test_firehose_options_did_not_exist_before_their_launch():
    """Dynamic partitioning launched on 2021-08-31 (format conversion in 2018)."""
    with pytest.raises(ValueError, match=r"on=2021-08-30: .* did not exist before 2021-08-31"):
        costs.firehose_cost(records=1, record_kb=1, dynamic_partitioning=True, on=date(2021, 8, 30))
    cost = costs.firehose_cost(
        records=1_048_576, record_kb=5, format_conversion=True, on=date(2020, 1, 1)
    )
    assert cost == 5 * (INGESTED + CONVERTED)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("usage", "argument"),
    [
        (dict(messages=-1), "messages"),
        (dict(messages=1.5), "messages"),
        (dict(messages="10"), "messages"),
        (dict(messages=1, message_kb=0), "message_kb"),
        (dict(messages=1, message_kb=-8), "message_kb"),
        (dict(messages=1, connection_minutes=-1), "connection_minutes"),
        (dict(messages=1, rules_triggered=0.5), "rules_triggered"),
        (dict(messages=1, rules_triggered=1, actions_executed=-1), "actions_executed"),
        (dict(messages=1, on="2026-11-01"), "on"),
    ],
)
def test_iot_core_invalid_usage_names_the_argument(usage, argument):
    with pytest.raises(ValueError, match=rf"^{argument} must|{argument}="):
        costs.iot_core_cost(**usage)


def test_iot_core_zero_message_size_says_what_is_accepted():
    with pytest.raises(ValueError, match=r"^message_kb must be > 0 KB \(got 0\)$"):
        costs.iot_core_cost(messages=1, message_kb=0, on=ON)


def test_iot_core_actions_need_a_triggered_rule():
    with pytest.raises(
        ValueError,
        match=r"^actions_executed must be 0 when rules_triggered is 0 \(got 5\).*rules_triggered",
    ):
        costs.iot_core_cost(messages=10, actions_executed=5, on=ON)


@pytest.mark.parametrize(
    ("usage", "argument"),
    [
        (dict(format_conversion="yes"), "format_conversion"),
        (dict(dynamic_partitioning=1), "dynamic_partitioning"),
        (dict(dynamic_partitioning=True, objects_delivered=-1), "objects_delivered"),
        (dict(dynamic_partitioning=True, objects_delivered=2.5), "objects_delivered"),
        (dict(dynamic_partitioning=True, jq_processing_hours=-0.5), "jq_processing_hours"),
        (dict(record_kb=0), "record_kb"),
    ],
)
def test_firehose_invalid_options_name_the_argument(usage, argument):
    with pytest.raises(ValueError, match=rf"^{argument} must"):
        costs.firehose_cost(**{"records": 1, "record_kb": 1, **usage, "on": ON})


@pytest.mark.parametrize(
    ("usage", "argument"),
    [
        (dict(objects_delivered=100), "objects_delivered"),
        (dict(jq_processing_hours=1), "jq_processing_hours"),
    ],
)
def test_firehose_partitioning_charges_need_dynamic_partitioning(usage, argument):
    """Objects and JQ hours are billed only for dynamic partitioning; the error says the fix."""
    with pytest.raises(
        ValueError,
        match=rf"^{argument} must be 0 when dynamic_partitioning=False .*"
        r"pass dynamic_partitioning=True$",
    ):
        costs.firehose_cost(records=1, record_kb=1, **usage, on=ON)
