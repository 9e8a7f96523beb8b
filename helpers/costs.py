"""Dated, sourced us-east-1 prices and what one month of usage costs, service by service.

Every ``*_cost`` function returns USD as an unrounded :class:`decimal.Decimal` for one month of the
stated usage, priced with the rates in force on ``on`` (default: today). Keyword arguments are named
after AWS's pricing dimensions, with the unit in the name. :func:`explain` returns the line items
(dimension, quantity, unit price, amount) behind any figure, so a notebook can show why it is what it
is. The prices, each with its source URL and the date it took effect, are in
``helpers/prices/us-east-1.json``; :func:`price_entry` reads one.

CloudFront is priced by pricing region (:data:`CLOUDFRONT_REGIONS`, the columns of AWS's price
table) and, for a mix of viewers, by price class (:func:`cloudfront_mix_cost`,
:func:`cloudfront_price_class_regions`).

Conventions: data is billed in binary units (1 GB = 2**30 bytes, 1 TB = 1024 GB); a month is
730 hours where a function needs one; free-tier allowances come off the bottom of the first tier.
Invalid usage raises ``ValueError`` naming the argument and the accepted range.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

__all__ = [
    "CLOUDFRONT_PRICE_CLASSES",
    "CLOUDFRONT_REGIONS",
    "HOURS_PER_MONTH",
    "PRICE_FILE",
    "Breakdown",
    "LineItem",
    "alb_cost",
    "api_gateway_cost",
    "athena_cost",
    "aurora_serverless_v2_cost",
    "elasticache_serverless_cost",
    "cents",
    "cloudfront_cost",
    "cloudfront_mix_cost",
    "cloudfront_price_class_regions",
    "cognito_cost",
    "data_transfer_out_cost",
    "dynamodb_cost",
    "dynamodb_provisioned_cost",
    "ec2_cost",
    "efs_cost",
    "elasticache_cost",
    "explain",
    "fargate_cost",
    "firehose_cost",
    "iot_core_cost",
    "kinesis_streams_cost",
    "lambda_cost",
    "nat_gateway_cost",
    "price_entry",
    "price_keys",
    "public_ipv4_cost",
    "route53_cost",
    "s3_cost",
    "secrets_manager_cost",
    "service_launch",
    "ses_cost",
    "sns_cost",
    "sqs_cost",
    "usd",
    "vpc_endpoint_cost",
]

PRICE_FILE = Path(__file__).with_name("prices") / "us-east-1.json"
HOURS_PER_MONTH = 730

Number = int | float | Decimal
Date = _dt.date | None

_ZERO = Decimal(0)
_ONE = Decimal(1)
_KB_PER_GB = Decimal(1024 * 1024)
_BYTES_PER_MB = Decimal(2**20)
_MB_PER_TB = Decimal(2**20)
_FARGATE_INCLUDED_GB = Decimal(20)  # ephemeral storage every Fargate task includes


# --------------------------------------------------------------------------- line items


class LineItem(NamedTuple):
    """One line of a bill: what was metered, how much, at what unit price, for what amount."""

    dimension: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    note: str = ""
    source: str = ""


@dataclass(frozen=True)
class Breakdown:
    """The line items behind one cost figure; prints as a table, renders as HTML in notebooks."""

    function: str
    on: _dt.date
    items: tuple[LineItem, ...]

    @property
    def total(self) -> Decimal:
        """Sum of the line items, unrounded (equal to the cost function's result)."""
        return sum((item.amount for item in self.items), _ZERO)

    def rows(self) -> list[dict[str, Any]]:
        """The line items as plain dictionaries."""
        return [item._asdict() for item in self.items]

    def __str__(self) -> str:
        header = ("dimension", "quantity", "unit", "unit price ($)", "amount ($)")
        body = [
            (i.dimension, _fmt(i.quantity), i.unit, _fmt(i.unit_price), _money(i.amount))
            for i in self.items
        ]
        widths = [max(len(r[c]) for r in [header, *body]) for c in range(len(header))]
        right = (False, True, False, True, True)

        def line(cells: Iterable[str]) -> str:
            parts = [
                c.rjust(w) if r else c.ljust(w)
                for c, w, r in zip(cells, widths, right, strict=True)
            ]
            return "  ".join(parts).rstrip()

        rule = "-" * len(line(header))
        total = f"total {_money(self.total)} (≈ {usd(self.total)})"
        out = [f"{self.function} on {self.on.isoformat()}", line(header), rule]
        out += [line(r) for r in body]
        out += [rule, total.rjust(len(rule))]
        notes = dict.fromkeys(f"{i.dimension}: {i.note}" for i in self.items if i.note)
        return "\n".join(out + list(notes))

    def __repr__(self) -> str:
        return str(self)  # the table, also where only text is shown (terminals, nbval)

    def _repr_html_(self) -> str:
        right = "<td style='text-align:right'>"
        rows = []
        for i in self.items:
            values = (i.dimension, _fmt(i.quantity), i.unit, _fmt(i.unit_price), _money(i.amount))
            tds = [
                (right if k in (1, 3, 4) else "<td>") + html.escape(v) + "</td>"
                for k, v in enumerate(values)
            ]
            rows.append("<tr>" + "".join(tds) + f"<td>{html.escape(i.note)}</td></tr>")
        cells = "".join(rows)
        return (
            f"<p><code>{html.escape(self.function)}</code> on {self.on.isoformat()}</p>"
            "<table><thead><tr><th>dimension</th><th>quantity</th><th>unit</th>"
            "<th>unit price ($)</th><th>amount ($)</th><th>note</th></tr></thead>"
            f"<tbody>{cells}</tbody><tfoot><tr><th colspan='4'>total</th>"
            f"<th style='text-align:right'>{usd(self.total)}</th><th></th></tr></tfoot></table>"
        )


def cents(amount: Decimal) -> Decimal:
    """``amount`` rounded half-up to the cent, for display (cost functions never round)."""
    return Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def usd(amount: Decimal) -> str:
    """``amount`` formatted as dollars and cents, e.g. ``'$1,234.57'``."""
    value = cents(amount)
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def _fmt(value: Decimal) -> str:
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.normalize():,f}"


def _money(value: Decimal) -> str:
    value = Decimal(value)
    if value == 0 or abs(value) >= Decimal("0.0001"):
        return f"{value:,.4f}"
    return f"{value.normalize():f}"


# --------------------------------------------------------------------------- the price table


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    with PRICE_FILE.open(encoding="utf-8") as handle:
        return json.load(handle)


def price_keys(prefix: str = "") -> list[str]:
    """The keys of the price table that start with ``prefix`` (e.g. ``'lambda.'``)."""
    return sorted(k for k in _table()["prices"] if k.startswith(prefix))


def _as_date(on: object) -> _dt.date:
    if on is None:
        return _dt.date.today()
    if isinstance(on, _dt.datetime):
        return on.date()
    if isinstance(on, _dt.date):
        return on
    raise ValueError(f"on must be a datetime.date or None for today (got {on!r})")


def price_entry(key: str, on: Date = None) -> dict[str, Any]:
    """The price-table entry for ``key`` in force on ``on`` (default today), with its source."""
    eras = _table()["prices"].get(key)
    if eras is None:
        raise ValueError(f"unknown price key {key!r}; see costs.price_keys() for the known keys")
    day = _as_date(on)
    current = None
    for era in eras:
        if _dt.date.fromisoformat(era["since"]) <= day:
            current = era
    first = eras[0]["since"]
    if current is None:
        raise ValueError(
            f"on={day.isoformat()}: no sourced price for {key} before {first}; "
            f"accepted range: on >= {first}"
        )
    if current.get("withdrawn"):
        raise ValueError(
            f"on={day.isoformat()}: {key} was withdrawn on {current['since']}; "
            f"accepted range: {first} <= on < {current['since']}"
        )
    return {"key": key, **current}


def service_launch(service: str) -> _dt.date:
    """The date ``service`` (a key of the table's ``services``, e.g. ``'athena'``) launched."""
    try:
        return _dt.date.fromisoformat(_table()["services"][service]["launched"])
    except KeyError:
        known = ", ".join(sorted(_table()["services"]))
        raise ValueError(f"service must be one of: {known} (got {service!r})") from None


def _require_service(service: str, day: _dt.date) -> None:
    launched = service_launch(service)
    if day < launched:
        name = _table()["services"][service]["name"]
        raise ValueError(
            f"on={day.isoformat()}: {name} did not exist before {launched.isoformat()}; "
            f"accepted range: on >= {launched.isoformat()}"
        )


# --------------------------------------------------------------------------- argument checks


def _number(name: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"{name} must be a number (got {value!r})")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number (got {value!r})")
    return number


def _at_least(name: str, value: object, low: Number = 0, unit: str = "") -> Decimal:
    number = _number(name, value)
    if number < Decimal(str(low)):
        raise ValueError(f"{name} must be >= {low}{unit} (got {value!r})")
    return number


def _whole(name: str, value: object, low: int = 0) -> Decimal:
    number = _at_least(name, value, low)
    if number != number.to_integral_value():
        raise ValueError(f"{name} must be a whole number >= {low} (got {value!r})")
    return number


def _ceil(value: Decimal) -> Decimal:
    return value.to_integral_value(rounding=ROUND_CEILING)


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False (got {value!r})")
    return value


def _choice(name: str, value: object, accepted: Iterable[str]) -> str:
    accepted = tuple(accepted)
    if value not in accepted:
        options = ", ".join(repr(a) for a in accepted)
        raise ValueError(f"{name} must be one of {options} (got {value!r})")
    return str(value)


# --------------------------------------------------------------------------- pricing arithmetic


def _tiers(entry: dict[str, Any]) -> list[tuple[Decimal | None, Decimal]]:
    if "tiers" in entry:
        return [
            (None if t["upto"] is None else Decimal(t["upto"]), Decimal(t["price"]))
            for t in entry["tiers"]
        ]
    return [(None, Decimal(entry["price"]))]


def _charge(
    dimension: str, entry: dict[str, Any], start: Decimal, end: Decimal, note: str = ""
) -> list[LineItem]:
    """Line items for usage from ``start`` to ``end`` base units across the entry's tiers."""
    per = Decimal(entry.get("per", 1))
    tiers = _tiers(entry)
    items: list[LineItem] = []
    lower = _ZERO
    for upper, price in tiers:
        low = max(start, lower)
        high = end if upper is None else min(end, upper)
        if high > low or (not items and (upper is None or start < upper)):
            quantity = max(high - low, _ZERO) / per
            tier_note = note
            if len(tiers) > 1:
                span = f"{_fmt(lower)}+" if upper is None else f"{_fmt(lower)}-{_fmt(upper)}"
                tier_note = f"tier {span} {entry['unit'].split(' ', 1)[-1]}" + (
                    f"; {note}" if note else ""
                )
            items.append(
                LineItem(
                    dimension,
                    quantity,
                    entry["unit"],
                    price,
                    quantity * price,
                    tier_note,
                    entry["source"],
                )
            )
        if upper is None or end <= upper:
            break
        lower = upper
    return items


def _free(
    dimension: str, key: str, used: Decimal, day: _dt.date, enabled: bool
) -> tuple[Decimal, list[LineItem]]:
    """The free allowance that covers ``used`` (0 when disabled) and its zero-priced line item."""
    if not enabled:
        return _ZERO, []
    entry = price_entry(key, day)
    allowance = Decimal(entry["quantity"])
    free = min(used, allowance)
    note = f"AWS Free Tier: {_fmt(allowance)} {entry['unit']} a month"
    item = LineItem(
        f"{dimension} (free tier)", free, entry["unit"], _ZERO, _ZERO, note, entry["source"]
    )
    return free, [item]


def _flat(
    dimension: str, key: str, quantity: Decimal, day: _dt.date, note: str = ""
) -> list[LineItem]:
    entry = price_entry(key, day)
    return _charge(dimension, entry, _ZERO, quantity * Decimal(entry.get("per", 1)), note)


# --------------------------------------------------------------------------- Lambda


def _lambda_memory(value: object, day: _dt.date) -> Decimal:
    memory = _number("memory_mb", value)
    try:
        entry = price_entry("lambda.memory_mb", day)
        low, high = (Decimal(v) for v in entry["value"])
        step = Decimal(entry.get("step", 1))
    except ValueError:  # before the first recorded limit: floor and 64 MB steps only
        low, high, step = Decimal(128), None, Decimal(64)
    if memory < low or (high is not None and memory > high):
        upper = "" if high is None else f" and {high}"
        raise ValueError(
            f"memory_mb must be between {low}{upper} MB on {day.isoformat()} (got {value!r})"
        )
    if memory % step:
        raise ValueError(
            f"memory_mb must be a multiple of {step} MB on {day.isoformat()} (got {value!r})"
        )
    return memory


def _lambda_storage(value: object, day: _dt.date) -> Decimal:
    storage = _number("ephemeral_storage_mb", value)
    entry = price_entry("lambda.ephemeral_storage_mb", day)
    low, high = (Decimal(v) for v in entry["value"])
    if not low <= storage <= high or storage != storage.to_integral_value():
        raise ValueError(
            f"ephemeral_storage_mb must be a whole number between {low} and {high} MB "
            f"on {day.isoformat()} (got {value!r})"
        )
    return storage


def _lambda_items(
    *,
    requests: Number,
    duration_ms: Number,
    memory_mb: Number,
    arch: str = "x86_64",
    ephemeral_storage_mb: Number = 512,
    free_tier: bool = True,
    on: Date = None,
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("lambda", day)
    arch = _choice("arch", arch, ("x86_64", "arm64"))
    if arch == "arm64":
        _require_service("lambda.arm64", day)
    count = _whole("requests", requests)
    duration = _at_least("duration_ms", duration_ms)
    memory = _lambda_memory(memory_mb, day)
    storage = _lambda_storage(ephemeral_storage_mb, day)

    granularity = Decimal(price_entry("lambda.billing_granularity_ms", day)["value"])
    billed_ms = max(_ceil(duration / granularity), _ONE) * granularity
    seconds = count * billed_ms / 1000
    gb_seconds = seconds * memory / 1024

    items: list[LineItem] = []
    free_requests, free_lines = _free(
        "Requests", "lambda.free_tier.requests", count, day, free_tier
    )
    items += free_lines + _charge(
        "Requests", price_entry("lambda.requests", day), free_requests, count
    )

    how = (
        f"{_fmt(count)} requests x {_fmt(billed_ms)} ms billed ({_fmt(duration)} ms rounded up "
        f"to {_fmt(granularity)} ms) x {_fmt(memory)} MB / 1024"
    )
    free_gbs, free_lines = _free(
        "Duration", "lambda.free_tier.gb_seconds", gb_seconds, day, free_tier
    )
    duration_entry = price_entry(f"lambda.duration.{arch}", day)
    items += free_lines + _charge(f"Duration ({arch})", duration_entry, free_gbs, gb_seconds, how)

    if storage > 512:
        extra = seconds * (storage - 512) / 1024
        note = f"{_fmt(storage)} MB configured, {_fmt(storage - 512)} MB above the free 512 MB"
        items += _charge(
            "Ephemeral storage", price_entry("lambda.ephemeral_storage", day), _ZERO, extra, note
        )
    return day, items


def lambda_cost(
    *,
    requests: Number,
    duration_ms: Number,
    memory_mb: Number,
    arch: str = "x86_64",
    ephemeral_storage_mb: Number = 512,
    free_tier: bool = True,
    on: Date = None,
) -> Decimal:
    """USD for a month of Lambda requests of ``duration_ms`` each (requests, duration, /tmp)."""
    return _total(
        _lambda_items(
            requests=requests,
            duration_ms=duration_ms,
            memory_mb=memory_mb,
            arch=arch,
            ephemeral_storage_mb=ephemeral_storage_mb,
            free_tier=free_tier,
            on=on,
        )
    )


# --------------------------------------------------------------------------- API Gateway


def _api_gateway_items(
    *,
    requests: Number,
    api: str = "rest",
    cache_size_gb: Number | None = None,
    cache_hours: Number = HOURS_PER_MONTH,
    on: Date = None,
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    api = _choice("api", api, ("rest", "http"))
    _require_service(f"api_gateway.{api}", day)
    count = _whole("requests", requests)
    label = "REST API requests" if api == "rest" else "HTTP API requests"
    items = _charge(label, price_entry(f"api_gateway.{api}.requests", day), _ZERO, count)
    if cache_size_gb is not None:
        if api != "rest":
            raise ValueError(
                "cache_size_gb must be None for api='http': API Gateway caching exists only "
                "for REST APIs (api='rest')"
            )
        cache = price_entry("api_gateway.rest.cache", day)
        size = _number("cache_size_gb", cache_size_gb)
        matches = [k for k in cache["sizes"] if Decimal(k) == size]
        if not matches:
            sizes = ", ".join(cache["sizes"])
            raise ValueError(f"cache_size_gb must be one of {sizes} GB (got {cache_size_gb!r})")
        hours = _at_least("cache_hours", cache_hours)
        rate = Decimal(cache["sizes"][matches[0]])
        items.append(
            LineItem(
                f"Cache ({matches[0]} GB)",
                hours,
                cache["unit"],
                rate,
                hours * rate,
                "stage cache, billed per hour provisioned",
                cache["source"],
            )
        )
    return day, items


def api_gateway_cost(
    *,
    requests: Number,
    api: str = "rest",
    cache_size_gb: Number | None = None,
    cache_hours: Number = HOURS_PER_MONTH,
    on: Date = None,
) -> Decimal:
    """USD for a month of API Gateway requests (``api='rest'`` or ``'http'``) and REST stage cache."""
    return _total(
        _api_gateway_items(
            requests=requests, api=api, cache_size_gb=cache_size_gb, cache_hours=cache_hours, on=on
        )
    )


# --------------------------------------------------------------------------- DynamoDB


def _dynamodb_items(
    *,
    read_request_units: Number = 0,
    write_request_units: Number = 0,
    storage_gb: Number = 0,
    stream_read_requests: Number = 0,
    replicated_write_request_units: Number = 0,
    free_tier: bool = True,
    on: Date = None,
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("dynamodb.on_demand", day)
    reads = _at_least("read_request_units", read_request_units)
    writes = _at_least("write_request_units", write_request_units)
    storage = _at_least("storage_gb", storage_gb)
    streams = _whole("stream_read_requests", stream_read_requests)
    replicated = _at_least("replicated_write_request_units", replicated_write_request_units)

    items = _charge(
        "Write request units", price_entry("dynamodb.on_demand.write", day), _ZERO, writes
    )
    items += _charge(
        "Read request units", price_entry("dynamodb.on_demand.read", day), _ZERO, reads
    )
    entry = price_entry("dynamodb.on_demand.replicated_write", day)
    items += _charge("Replicated write request units", entry, _ZERO, replicated)
    free, lines = _free("Storage", "dynamodb.free_tier.storage_gb", storage, day, free_tier)
    items += lines + _charge("Storage", price_entry("dynamodb.storage", day), free, storage)
    free, lines = _free("Stream reads", "dynamodb.free_tier.stream_reads", streams, day, free_tier)
    items += lines + _charge(
        "Stream reads", price_entry("dynamodb.streams.read", day), free, streams
    )
    return day, items


def dynamodb_cost(
    *,
    read_request_units: Number = 0,
    write_request_units: Number = 0,
    storage_gb: Number = 0,
    stream_read_requests: Number = 0,
    replicated_write_request_units: Number = 0,
    free_tier: bool = True,
    on: Date = None,
) -> Decimal:
    """USD for a month of a DynamoDB on-demand table: request units, storage, stream reads."""
    return _total(
        _dynamodb_items(
            read_request_units=read_request_units,
            write_request_units=write_request_units,
            storage_gb=storage_gb,
            stream_read_requests=stream_read_requests,
            replicated_write_request_units=replicated_write_request_units,
            free_tier=free_tier,
            on=on,
        )
    )


def _dynamodb_provisioned_items(
    *, rcu: Number, wcu: Number, hours: Number = HOURS_PER_MONTH, on: Date = None
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("dynamodb", day)
    reads = _whole("rcu", rcu)
    writes = _whole("wcu", wcu)
    span = _at_least("hours", hours)
    items = _flat("Write capacity", "dynamodb.provisioned.wcu", writes * span, day)
    items += _flat("Read capacity", "dynamodb.provisioned.rcu", reads * span, day)
    return day, items


def dynamodb_provisioned_cost(
    *, rcu: Number, wcu: Number, hours: Number = HOURS_PER_MONTH, on: Date = None
) -> Decimal:
    """USD for ``hours`` of DynamoDB provisioned read and write capacity units (no free tier)."""
    return _total(_dynamodb_provisioned_items(rcu=rcu, wcu=wcu, hours=hours, on=on))


# --------------------------------------------------------------------------- CloudFront

CLOUDFRONT_REGIONS: Mapping[str, str] = MappingProxyType(
    {
        "us": "United States, Mexico and Canada",
        "europe": "Europe, Israel and Türkiye",
        "middle_east_africa": "South Africa, Kenya, Nigeria and the Middle East",
        "south_america": "South America",
        "japan": "Japan",
        "australia": "Australia and New Zealand",
        "asia_pacific": "Hong Kong, Indonesia, Philippines, Singapore, South Korea, Taiwan, "
        "Thailand, Malaysia and Vietnam",
        "india": "India",
    }
)
"""CloudFront's pricing regions (the columns of AWS's on-demand price table), key -> AWS's name."""

CLOUDFRONT_PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")


def cloudfront_price_class_regions(price_class: str, *, on: Date = None) -> tuple[str, ...]:
    """The CloudFront pricing regions whose edge locations ``price_class`` serves viewers from."""
    price_class = _choice("price_class", price_class, CLOUDFRONT_PRICE_CLASSES)
    return tuple(price_entry(f"cloudfront.price_class.{price_class}", on)["value"])


def _scheme(https: object) -> str:
    if not isinstance(https, bool):
        raise ValueError(f"https must be True or False (got {https!r})")
    return "https" if https else "http"


def _cloudfront_items(
    *,
    data_out_gb: Number,
    requests: Number,
    region: str = "us",
    https: bool = True,
    free_tier: bool = True,
    on: Date = None,
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("cloudfront", day)
    region = _choice("region", region, CLOUDFRONT_REGIONS)
    data = _at_least("data_out_gb", data_out_gb)
    count = _whole("requests", requests)
    scheme = _scheme(https)

    free, items = _free(
        "Data transfer out", "cloudfront.free_tier.data_out_gb", data, day, free_tier
    )
    items += _charge(
        f"Data transfer out ({region})",
        price_entry(f"cloudfront.data_out.{region}", day),
        free,
        data,
    )
    free, lines = _free("Requests", "cloudfront.free_tier.requests", count, day, free_tier)
    entry = price_entry(f"cloudfront.requests.{region}.{scheme}", day)
    items += lines + _charge(f"{scheme.upper()} requests ({region})", entry, free, count)
    return day, items


def cloudfront_cost(
    *,
    data_out_gb: Number,
    requests: Number,
    region: str = "us",
    https: bool = True,
    free_tier: bool = True,
    on: Date = None,
) -> Decimal:
    """USD for a month of CloudFront data transfer out and HTTP(S) requests in one pricing region.

    ``region`` is a key of :data:`CLOUDFRONT_REGIONS`: the region of the edge locations that
    serve the viewers. For viewers spread over several regions, or a distribution limited to a
    price class, see :func:`cloudfront_mix_cost`.
    """
    return _total(
        _cloudfront_items(
            data_out_gb=data_out_gb,
            requests=requests,
            region=region,
            https=https,
            free_tier=free_tier,
            on=on,
        )
    )


def _viewer_weights(viewers: object) -> dict[str, Decimal]:
    accepted = ", ".join(repr(r) for r in CLOUDFRONT_REGIONS)
    if not isinstance(viewers, Mapping) or not viewers:
        raise ValueError(
            "viewers must be a non-empty mapping of CloudFront region to share of the traffic, "
            f"e.g. {{'us': 0.6, 'europe': 0.4}}; regions: {accepted} (got {viewers!r})"
        )
    weights: dict[str, Decimal] = {}
    for region, weight in viewers.items():
        if region not in CLOUDFRONT_REGIONS:
            raise ValueError(f"viewers must use the regions {accepted} (got {region!r})")
        try:
            weights[region] = _at_least("share", weight)
        except ValueError:
            raise ValueError(
                f"viewers must give each region a number >= 0 (got {region!r}: {weight!r})"
            ) from None
    if sum(weights.values()) <= 0:
        raise ValueError(f"viewers must have a total share > 0 (got {viewers!r})")
    return weights


def _cheapest_region(regions: Iterable[str], scheme: str, day: _dt.date) -> str:
    """The region of ``regions`` with the lowest first-tier data rate, then request rate."""
    ranked = []
    for order, region in enumerate(regions):
        try:
            data = _tiers(price_entry(f"cloudfront.data_out.{region}", day))[0][1]
            request = Decimal(price_entry(f"cloudfront.requests.{region}.{scheme}", day)["price"])
        except ValueError:  # no sourced price for that region on this date
            continue
        ranked.append((data, request, order, region))
    if not ranked:
        raise ValueError(f"on={day.isoformat()}: no sourced CloudFront prices for {regions!r}")
    return min(ranked)[-1]


def _cloudfront_routes(
    price_class: str,
    inside: tuple[str, ...],
    served_from: object,
    viewers: Iterable[str],
    scheme: str,
    day: _dt.date,
) -> tuple[dict[str, str], dict[str, str]]:
    """Viewer region -> billing region, and a note per billing region that takes outside viewers."""
    outside = tuple(r for r in CLOUDFRONT_REGIONS if r not in inside)
    overrides = {} if served_from is None else served_from
    if not isinstance(overrides, Mapping) or any(
        viewer not in outside or edge not in inside for viewer, edge in overrides.items()
    ):
        raise ValueError(
            f"served_from must map regions outside {price_class} ({', '.join(outside) or 'none'}) "
            f"to regions inside it ({', '.join(inside)}) (got {served_from!r})"
        )
    routes: dict[str, str] = {}
    moved: dict[str, list[str]] = {}
    default = None
    for viewer in viewers:
        if viewer in inside:
            routes[viewer] = viewer
            continue
        if viewer in overrides:
            edge, how = overrides[viewer], "as given in served_from"
        else:
            default = default or _cheapest_region(inside, scheme, day)
            edge, how = default, "assumed: the least expensive region of the class"
        routes[viewer] = edge
        moved.setdefault(edge, []).append(f"{viewer} ({how})")
    rule = price_entry("cloudfront.price_class.billing", day)["source"]
    notes = {
        edge: f"includes viewers outside {price_class} billed at this region's rates: "
        + ", ".join(names)
        + f" (see {rule})"
        for edge, names in moved.items()
    }
    return routes, notes


def _shared_free(
    dimension: str,
    key: str,
    usage: dict[str, Decimal],
    rate: Callable[[str], Decimal],
    day: _dt.date,
    enabled: bool,
) -> tuple[dict[str, Decimal], list[LineItem]]:
    """Split one free allowance over regions, most expensive first; a zero-priced line for each."""
    free = dict.fromkeys(usage, _ZERO)
    if not enabled:
        return free, []
    entry = price_entry(key, day)
    left = Decimal(entry["quantity"])
    note = (
        f"AWS Free Tier: {_fmt(left)} {entry['unit']} a month for all regions together, given "
        "to the most expensive usage first (AWS does not publish the split)"
    )
    items = []
    order = list(usage)
    for region in sorted(usage, key=lambda r: (-rate(r), order.index(r))):
        free[region] = min(left, usage[region])
        left -= free[region]
        items.append(
            LineItem(
                f"{dimension} (free tier, {region})",
                free[region],
                entry["unit"],
                _ZERO,
                _ZERO,
                note,
                entry["source"],
            )
        )
    return free, items


def _cloudfront_mix_items(
    *,
    data_out_gb: Number,
    requests: Number,
    viewers: Mapping[str, Number],
    price_class: str = "PriceClass_All",
    served_from: Mapping[str, str] | None = None,
    https: bool = True,
    free_tier: bool = True,
    on: Date = None,
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("cloudfront", day)
    data = _at_least("data_out_gb", data_out_gb)
    count = _whole("requests", requests)
    scheme = _scheme(https)
    inside = cloudfront_price_class_regions(price_class, on=day)
    weights = _viewer_weights(viewers)
    present = [v for v, w in weights.items() if w > 0]
    routes, notes = _cloudfront_routes(price_class, inside, served_from, present, scheme, day)

    # Share of the month's traffic billed in each region, in AWS's column order; the last
    # region takes the remainder so that the regions add up to exactly the stated totals.
    total = sum(weights.values())
    billed = [r for r in CLOUDFRONT_REGIONS if any(routes[v] == r for v in present)]
    data_by: dict[str, Decimal] = {}
    count_by: dict[str, Decimal] = {}
    for region in billed:
        share = sum(weights[v] for v in present if routes[v] == region) / total
        if region == billed[-1]:
            data_by[region] = data - sum(data_by.values(), _ZERO)
            count_by[region] = count - sum(count_by.values(), _ZERO)
        else:
            data_by[region] = data * share
            count_by[region] = count * share

    def data_rate(region: str) -> Decimal:
        return _tiers(price_entry(f"cloudfront.data_out.{region}", day))[0][1]

    def request_rate(region: str) -> Decimal:
        return Decimal(price_entry(f"cloudfront.requests.{region}.{scheme}", day)["price"])

    free_data, items = _shared_free(
        "Data transfer out",
        "cloudfront.free_tier.data_out_gb",
        data_by,
        data_rate,
        day,
        free_tier,
    )
    free_count, free_lines = _shared_free(
        "Requests", "cloudfront.free_tier.requests", count_by, request_rate, day, free_tier
    )
    items += free_lines
    for region in billed:
        note = notes.get(region, "")
        entry = price_entry(f"cloudfront.data_out.{region}", day)
        lines = _charge(
            f"Data transfer out ({region})", entry, free_data[region], data_by[region], note
        )
        entry = price_entry(f"cloudfront.requests.{region}.{scheme}", day)
        lines += _charge(
            f"{scheme.upper()} requests ({region})",
            entry,
            free_count[region],
            count_by[region],
            note,
        )
        items += lines
    return day, items


def cloudfront_mix_cost(
    *,
    data_out_gb: Number,
    requests: Number,
    viewers: Mapping[str, Number],
    price_class: str = "PriceClass_All",
    served_from: Mapping[str, str] | None = None,
    https: bool = True,
    free_tier: bool = True,
    on: Date = None,
) -> Decimal:
    """USD for a month of CloudFront delivery to viewers in several regions, under a price class.

    ``viewers`` maps regions of :data:`CLOUDFRONT_REGIONS` to their share of the month's data and
    requests (shares or counts; they are normalised). Each region's usage tiers are measured
    separately, as AWS does; the always-free allowance is one for all regions together (AWS does
    not publish how it is split between them: here it covers the most expensive usage first).

    Viewers in a region outside ``price_class`` are served from the lowest-latency edge location
    inside the class and billed at that location's regional rates; when CloudFront serves them
    from an edge outside the class anyway, AWS bills the least expensive region of the class
    (Developer Guide, "Choosing the price class"). AWS does not publish which in-class region
    serves which outside region, so by default they are billed as the least expensive region of
    the class: the lowest rate they can cost. Name the serving region with ``served_from``, e.g.
    ``{"australia": "asia_pacific"}``. Each line item's note says which rule priced it.
    """
    return _total(
        _cloudfront_mix_items(
            data_out_gb=data_out_gb,
            requests=requests,
            viewers=viewers,
            price_class=price_class,
            served_from=served_from,
            https=https,
            free_tier=free_tier,
            on=on,
        )
    )


# --------------------------------------------------------------------------- S3 and data transfer


def _data_transfer_items(
    *, gb: Number, free_tier: bool = True, on: Date = None, label: str = "Data transfer out"
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("data_transfer", day)
    data = _at_least("gb", gb)
    free, items = _free(label, "data_transfer.free_tier.out_gb", data, day, free_tier)
    items += _charge(
        f"{label} to internet", price_entry("data_transfer.out_to_internet", day), free, data
    )
    return day, items


def data_transfer_out_cost(*, gb: Number, free_tier: bool = True, on: Date = None) -> Decimal:
    """USD for a month of data transfer from us-east-1 to the internet (EC2, S3, ELB and others)."""
    return _total(_data_transfer_items(gb=gb, free_tier=free_tier, on=on))


def _s3_items(
    *,
    storage_gb_month: Number = 0,
    put_requests: Number = 0,
    get_requests: Number = 0,
    data_out_gb: Number = 0,
    free_tier: bool = True,
    on: Date = None,
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("s3", day)
    storage = _at_least("storage_gb_month", storage_gb_month)
    puts = _whole("put_requests", put_requests)
    gets = _whole("get_requests", get_requests)
    data = _at_least("data_out_gb", data_out_gb)
    items = _charge(
        "Storage (S3 Standard)", price_entry("s3.standard.storage", day), _ZERO, storage
    )
    items += _charge(
        "PUT, COPY, POST, LIST requests", price_entry("s3.standard.put", day), _ZERO, puts
    )
    items += _charge("GET and other requests", price_entry("s3.standard.get", day), _ZERO, gets)
    items += _data_transfer_items(
        gb=data, free_tier=free_tier, on=day, label="S3 data transfer out"
    )[1]
    return day, items


def s3_cost(
    *,
    storage_gb_month: Number = 0,
    put_requests: Number = 0,
    get_requests: Number = 0,
    data_out_gb: Number = 0,
    free_tier: bool = True,
    on: Date = None,
) -> Decimal:
    """USD for a month of S3 Standard storage, requests and data transfer out to the internet."""
    return _total(
        _s3_items(
            storage_gb_month=storage_gb_month,
            put_requests=put_requests,
            get_requests=get_requests,
            data_out_gb=data_out_gb,
            free_tier=free_tier,
            on=on,
        )
    )


# --------------------------------------------------------------------------- IoT Core


def _iot_core_items(
    *,
    messages: Number,
    message_kb: Number = 1,
    rules_triggered: Number = 0,
    actions_executed: Number = 0,
    connection_minutes: Number = 0,
    on: Date = None,
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("iot_core", day)
    count = _whole("messages", messages)
    rules = _whole("rules_triggered", rules_triggered)
    actions = _whole("actions_executed", actions_executed)
    minutes = _whole("connection_minutes", connection_minutes)
    if actions and not rules:
        raise ValueError(
            f"actions_executed must be 0 when rules_triggered is 0 (got {actions_executed!r}); "
            "the Rules Engine runs actions only for a triggered rule: count those rules in "
            "rules_triggered"
        )
    size = _number("message_kb", message_kb)
    step = Decimal(price_entry("iot_core.message_increment_kb", day)["value"])
    per_message = _chunked("message_kb", message_kb, step)
    rule_step = Decimal(price_entry("iot_core.rule_increment_kb", day)["value"])
    per_rule = _chunked("message_kb", message_kb, rule_step)
    no_free = "12-month free tier not applied"

    entry = price_entry("iot_core.connectivity", day)
    items = _charge("Connectivity", entry, _ZERO, minutes, f"one-minute increments; {no_free}")
    note = (
        f"{_fmt(count)} messages x {_fmt(per_message)} ({_fmt(size)} KB metered in "
        f"{_fmt(step)} KB increments); {no_free}"
    )
    entry = price_entry("iot_core.messaging", day)
    items += _charge("Messages", entry, _ZERO, count * per_message, note)
    note = (
        f"{_fmt(rules)} rules x {_fmt(per_rule)} ({_fmt(size)} KB processed, metered in "
        f"{_fmt(rule_step)} KB increments); {no_free}"
    )
    entry = price_entry("iot_core.rules_triggered", day)
    items += _charge("Rules triggered", entry, _ZERO, rules * per_rule, note)
    entry = price_entry("iot_core.actions_executed", day)
    items += _charge("Actions executed", entry, _ZERO, actions, no_free)
    return day, items


def iot_core_cost(
    *,
    messages: Number,
    message_kb: Number = 1,
    rules_triggered: Number = 0,
    actions_executed: Number = 0,
    connection_minutes: Number = 0,
    on: Date = None,
) -> Decimal:
    """USD for a month of AWS IoT Core: connection minutes, messages, rules and their actions.

    Messages, and the rules that process them, are metered in 5 KB increments of ``message_kb``
    (an 8 KB message counts twice); actions are not. Messages sent with Basic Ingest (to
    ``$aws/rules/...`` topics) are not charged for messaging: count them only in
    ``rules_triggered``. The 12-month free tier for new accounts is not applied.
    """
    return _total(
        _iot_core_items(
            messages=messages,
            message_kb=message_kb,
            rules_triggered=rules_triggered,
            actions_executed=actions_executed,
            connection_minutes=connection_minutes,
            on=on,
        )
    )


# --------------------------------------------------------------------------- Kinesis, Firehose, Athena


def _kinesis_items(
    *, shards: Number, hours: Number, records: Number, record_kb: Number, on: Date = None
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("kinesis", day)
    count = _whole("shards", shards)
    span = _at_least("hours", hours)
    puts = _whole("records", records)
    size = _number("record_kb", record_kb)
    if size <= 0:
        raise ValueError(f"record_kb must be > 0 KB (got {record_kb!r})")
    chunk = Decimal(price_entry("kinesis.put_payload_unit_kb", day)["value"])
    per_record = max(_ceil(size / chunk), _ONE)
    items = _flat("Shard hours", "kinesis.shard_hour", count * span, day)
    entry = price_entry("kinesis.put_payload_unit", day)
    note = f"{_fmt(size)} KB record = {_fmt(per_record)} PUT payload unit(s) of {_fmt(chunk)} KB"
    items += _charge("PUT payload units", entry, _ZERO, puts * per_record, note)
    return day, items


def kinesis_streams_cost(
    *, shards: Number, hours: Number, records: Number, record_kb: Number, on: Date = None
) -> Decimal:
    """USD for provisioned Kinesis Data Streams: shard-hours plus 25 KB PUT payload units."""
    return _total(
        _kinesis_items(shards=shards, hours=hours, records=records, record_kb=record_kb, on=on)
    )


def _firehose_items(
    *,
    records: Number,
    record_kb: Number,
    format_conversion: bool = False,
    dynamic_partitioning: bool = False,
    objects_delivered: Number = 0,
    jq_processing_hours: Number = 0,
    on: Date = None,
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("firehose", day)
    count = _whole("records", records)
    size = _number("record_kb", record_kb)
    if size <= 0:
        raise ValueError(f"record_kb must be > 0 KB (got {record_kb!r})")
    convert = _flag("format_conversion", format_conversion)
    partition = _flag("dynamic_partitioning", dynamic_partitioning)
    objects = _whole("objects_delivered", objects_delivered)
    jq_hours = _at_least("jq_processing_hours", jq_processing_hours)
    for name, value, given in (
        ("objects_delivered", objects, objects_delivered),
        ("jq_processing_hours", jq_hours, jq_processing_hours),
    ):
        if value and not partition:
            raise ValueError(
                f"{name} must be 0 when dynamic_partitioning=False (got {given!r}); Firehose "
                "bills S3 objects and JQ hours only for dynamic partitioning: pass "
                "dynamic_partitioning=True"
            )
    step = Decimal(price_entry("firehose.record_increment_kb", day)["value"])
    billed_kb = max(_ceil(size / step), _ONE) * step
    gb = count * billed_kb / _KB_PER_GB
    note = f"{_fmt(size)} KB record billed as {_fmt(billed_kb)} KB; 1 GB = 1,048,576 KB"
    items = _charge("Data ingested", price_entry("firehose.ingestion", day), _ZERO, gb, note)
    if convert:
        _require_service("firehose.format_conversion", day)
        note = f"on the GB ingested, {_fmt(billed_kb)} KB per record (5 KB increments)"
        items += _flat("Format conversion", "firehose.format_conversion", gb, day, note)
    if partition:
        _require_service("firehose.dynamic_partitioning", day)
        delivered = count * size / _KB_PER_GB
        note = (
            f"{_fmt(count)} records x {_fmt(size)} KB, not rounded to 5 KB; before any "
            "compression or format conversion"
        )
        key = "firehose.dynamic_partitioning"
        items += _flat("Dynamic partitioning (data)", f"{key}.data", delivered, day, note)
        entry = price_entry(f"{key}.objects", day)
        items += _charge("Dynamic partitioning (S3 objects)", entry, _ZERO, objects)
        items += _flat("Dynamic partitioning (JQ)", f"{key}.jq_hour", jq_hours, day)
    return day, items


def firehose_cost(
    *,
    records: Number,
    record_kb: Number,
    format_conversion: bool = False,
    dynamic_partitioning: bool = False,
    objects_delivered: Number = 0,
    jq_processing_hours: Number = 0,
    on: Date = None,
) -> Decimal:
    """USD for a month of Firehose ingestion (records rounded up to 5 KB) and its S3 options.

    ``format_conversion`` (JSON to Parquet/ORC) is billed on the GB ingested. With
    ``dynamic_partitioning`` you also pay per GB delivered, per 1,000 ``objects_delivered`` to
    S3 and, when partition keys come from JQ expressions, per ``jq_processing_hours``.
    """
    return _total(
        _firehose_items(
            records=records,
            record_kb=record_kb,
            format_conversion=format_conversion,
            dynamic_partitioning=dynamic_partitioning,
            objects_delivered=objects_delivered,
            jq_processing_hours=jq_processing_hours,
            on=on,
        )
    )


def _athena_items(
    *, bytes_scanned_per_query: Number, queries: Number = 1, on: Date = None
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("athena", day)
    scanned = _whole("bytes_scanned_per_query", bytes_scanned_per_query)
    count = _whole("queries", queries)
    minimum = Decimal(price_entry("athena.minimum_mb", day)["value"])
    billed_mb = max(_ceil(scanned / _BYTES_PER_MB), minimum)
    terabytes = count * billed_mb / _MB_PER_TB
    note = (
        f"{_fmt(count)} queries x {_fmt(billed_mb)} MB (rounded up to the MB, "
        f"{_fmt(minimum)} MB minimum); 1 TB = 1,048,576 MB"
    )
    return day, _flat("Data scanned", "athena.scanned", terabytes, day, note)


def athena_cost(
    *, bytes_scanned_per_query: Number, queries: Number = 1, on: Date = None
) -> Decimal:
    """USD for Athena queries: data scanned, rounded up to the MB with a 10 MB minimum per query."""
    return _total(
        _athena_items(bytes_scanned_per_query=bytes_scanned_per_query, queries=queries, on=on)
    )


# --------------------------------------------------------------------------- SES, SQS, SNS


def _ses_items(*, emails: Number, on: Date = None) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("ses", day)
    count = _whole("emails", emails)
    entry = price_entry("ses.outbound_email", day)
    return day, _charge("Outbound emails", entry, _ZERO, count, "free tier not applied")


def ses_cost(*, emails: Number, on: Date = None) -> Decimal:
    """USD for a month of outbound SES email (no free tier, no attachments)."""
    return _total(_ses_items(emails=emails, on=on))


def _chunked(name: str, value: object, chunk: Decimal) -> Decimal:
    size = _number(name, value)
    if size <= 0:
        raise ValueError(f"{name} must be > 0 KB (got {value!r})")
    return max(_ceil(size / chunk), _ONE)


def _sqs_items(
    *,
    requests: Number,
    message_kb: Number = 1,
    fifo: bool = False,
    free_tier: bool = True,
    on: Date = None,
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("sqs.fifo" if fifo else "sqs", day)
    count = _whole("requests", requests)
    chunk = Decimal(price_entry("sqs.chunk_kb", day)["value"])
    billed = count * _chunked("message_kb", message_kb, chunk)
    free, items = _free("Requests", "sqs.free_tier.requests", billed, day, free_tier)
    kind = "fifo" if fifo else "standard"
    note = f"each {_fmt(chunk)} KB of payload is one request"
    items += _charge(
        f"Requests ({kind})", price_entry(f"sqs.{kind}.requests", day), free, billed, note
    )
    return day, items


def sqs_cost(
    *,
    requests: Number,
    message_kb: Number = 1,
    fifo: bool = False,
    free_tier: bool = True,
    on: Date = None,
) -> Decimal:
    """USD for a month of SQS API requests, each 64 KB of payload counted as one request."""
    return _total(
        _sqs_items(requests=requests, message_kb=message_kb, fifo=fifo, free_tier=free_tier, on=on)
    )


def _sns_items(
    *, publishes: Number, message_kb: Number = 1, free_tier: bool = True, on: Date = None
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("sns", day)
    count = _whole("publishes", publishes)
    chunk = Decimal(price_entry("sns.chunk_kb", day)["value"])
    billed = count * _chunked("message_kb", message_kb, chunk)
    free, items = _free("Publishes", "sns.free_tier.publishes", billed, day, free_tier)
    items += _charge("Publishes", price_entry("sns.publish", day), free, billed)
    return day, items


def sns_cost(
    *, publishes: Number, message_kb: Number = 1, free_tier: bool = True, on: Date = None
) -> Decimal:
    """USD for a month of SNS publishes (deliveries to SQS and Lambda are free)."""
    return _total(
        _sns_items(publishes=publishes, message_kb=message_kb, free_tier=free_tier, on=on)
    )


# --------------------------------------------------------------------------- Cognito


def _cognito_items(
    *, maus: Number, tier: str | None = None, on: Date = None
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("cognito", day)
    users = _whole("maus", maus)
    tiered_since = _dt.date.fromisoformat(_table()["prices"]["cognito.essentials.mau"][0]["since"])
    if tier is None:
        tier = "legacy" if day < tiered_since else "essentials"
    tier = _choice("tier", tier, ("legacy", "lite", "essentials", "plus"))
    if tier == "legacy" and day >= tiered_since:
        raise ValueError(
            f"tier='legacy' on={day.isoformat()}: the pre-tier user-pool pricing ended on "
            f"{tiered_since.isoformat()}; accepted range: on < {tiered_since.isoformat()}"
        )
    if tier != "legacy" and day < tiered_since:
        raise ValueError(
            f"tier={tier!r} on={day.isoformat()}: Cognito feature tiers exist from "
            f"{tiered_since.isoformat()}; accepted range: on >= {tiered_since.isoformat()} "
            "(or tier=None for the pricing of the day)"
        )
    if tier == "legacy":
        free, items = _free("Monthly active users", "cognito.legacy.free_mau", users, day, True)
    elif tier in ("lite", "essentials"):
        free, items = _free("Monthly active users", "cognito.free_mau", users, day, True)
    else:
        free, items = _ZERO, []
    label = f"Monthly active users ({tier})"
    return day, items + _charge(label, price_entry(f"cognito.{tier}.mau", day), free, users)


def cognito_cost(*, maus: Number, tier: str | None = None, on: Date = None) -> Decimal:
    """USD for a month of Cognito user-pool MAUs (``tier`` None = the default tier on that date)."""
    return _total(_cognito_items(maus=maus, tier=tier, on=on))


# --------------------------------------------------------------------------- Secrets Manager


def _secrets_manager_items(
    *, secrets: Number, api_calls: Number = 0, on: Date = None
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("secrets_manager", day)
    stored = _at_least("secrets", secrets, unit=" secret-months")
    calls = _whole("api_calls", api_calls)
    items = _charge(
        "Secrets",
        price_entry("secrets_manager.secret", day),
        _ZERO,
        stored,
        "each replica is a secret; part of a month is prorated by the hour; 30-day trial not applied",
    )
    items += _charge("API calls", price_entry("secrets_manager.api_calls", day), _ZERO, calls)
    return day, items


def secrets_manager_cost(*, secrets: Number, api_calls: Number = 0, on: Date = None) -> Decimal:
    """USD for a month of AWS Secrets Manager: secrets stored (secret-months) and API calls."""
    return _total(_secrets_manager_items(secrets=secrets, api_calls=api_calls, on=on))


# --------------------------------------------------------------------------- EC2, ALB, EFS, ElastiCache


def _catalogue(prefix: str) -> list[str]:
    return [k[len(prefix) :] for k in price_keys(prefix)]


def _hourly_items(
    service: str, prefix: str, name: str, kind: str, hours: Number, on: Date, label: str
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service(service, day)
    if f"{prefix}{kind}" not in _table()["prices"]:
        accepted = ", ".join(_catalogue(prefix))
        raise ValueError(f"{name} must be one of: {accepted} (got {kind!r})")
    span = _at_least("hours", hours)
    return day, _flat(f"{label} {kind}", f"{prefix}{kind}", span, day, "on-demand")


def _ec2_items(
    *, instance_type: str, hours: Number, on: Date = None
) -> tuple[_dt.date, list[LineItem]]:
    return _hourly_items("ec2", "ec2.instance.", "instance_type", instance_type, hours, on, "EC2")


def ec2_cost(*, instance_type: str, hours: Number, on: Date = None) -> Decimal:
    """USD for ``hours`` of one on-demand Linux EC2 instance of ``instance_type``."""
    return _total(_ec2_items(instance_type=instance_type, hours=hours, on=on))


def _alb_items(
    *,
    hours: Number,
    new_connections_per_s: Number,
    active_connections_per_min: Number,
    processed_gb_per_hour: Number,
    rule_evaluations_per_s: Number,
    rules: Number = 10,
    lambda_targets: bool = False,
    on: Date = None,
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("elb.alb", day)
    span = _at_least("hours", hours)
    new = _at_least("new_connections_per_s", new_connections_per_s)
    active = _at_least("active_connections_per_min", active_connections_per_min)
    processed = _at_least("processed_gb_per_hour", processed_gb_per_hour)
    evaluations = _at_least("rule_evaluations_per_s", rule_evaluations_per_s)
    count = _whole("rules", rules)
    to_lambda = _flag("lambda_targets", lambda_targets)
    if evaluations > 0 and count == 0:
        raise ValueError("rules must be >= 1 when rule_evaluations_per_s > 0 (got 0)")
    per_lcu = {  # str(): the table holds 0.4 (GB/h per LCU for Lambda targets) as a JSON float
        k: Decimal(str(v)) for k, v in price_entry("elb.alb.lcu_dimensions", day)["value"].items()
    }
    free_rules = per_lcu["free_rules"]
    billable = evaluations * max(count - free_rules, _ZERO) / count if count else _ZERO
    processed_per_lcu = per_lcu[
        "processed_gb_per_hour_lambda" if to_lambda else "processed_gb_per_hour"
    ]
    dimensions = {
        "new connections": new / per_lcu["new_connections_per_s"],
        "active connections": active / per_lcu["active_connections_per_min"],
        "processed bytes": processed / processed_per_lcu,
        "rule evaluations": billable / per_lcu["rule_evaluations_per_s"],
    }
    winner = max(dimensions, key=lambda k: dimensions[k])
    lcus = dimensions[winner]
    shown = ", ".join(f"{k} {_fmt(v)}" for k, v in dimensions.items())
    note = f"LCUs per hour = max({shown}) = {_fmt(lcus)} ({winner})"
    if to_lambda:
        note += "; Lambda targets: 0.4 GB processed per hour is one LCU"
    items = _flat("Load balancer hours", "elb.alb.hour", span, day)
    items += _flat("LCU hours", "elb.alb.lcu_hour", lcus * span, day, note)
    return day, items


def alb_cost(
    *,
    hours: Number,
    new_connections_per_s: Number,
    active_connections_per_min: Number,
    processed_gb_per_hour: Number,
    rule_evaluations_per_s: Number,
    rules: Number = 10,
    lambda_targets: bool = False,
    on: Date = None,
) -> Decimal:
    """USD for an Application Load Balancer: hours plus LCU-hours at the highest LCU dimension.

    Usage is the hourly average: ``rule_evaluations_per_s`` is requests per second times the
    ``rules`` processed per request; the first 10 rules of each request are free. With
    ``lambda_targets=True`` an LCU covers 0.4 GB processed per hour instead of 1 GB.
    """
    return _total(
        _alb_items(
            hours=hours,
            new_connections_per_s=new_connections_per_s,
            active_connections_per_min=active_connections_per_min,
            processed_gb_per_hour=processed_gb_per_hour,
            rule_evaluations_per_s=rule_evaluations_per_s,
            rules=rules,
            lambda_targets=lambda_targets,
            on=on,
        )
    )


def _efs_items(*, storage_gb_month: Number, on: Date = None) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("efs", day)
    storage = _at_least("storage_gb_month", storage_gb_month)
    return day, _flat("Storage (EFS Standard)", "efs.standard.storage", storage, day)


def efs_cost(*, storage_gb_month: Number, on: Date = None) -> Decimal:
    """USD for a month of EFS Standard storage."""
    return _total(_efs_items(storage_gb_month=storage_gb_month, on=on))


def _elasticache_items(
    *, node_type: str, hours: Number, on: Date = None
) -> tuple[_dt.date, list[LineItem]]:
    return _hourly_items(
        "elasticache", "elasticache.node.", "node_type", node_type, hours, on, "ElastiCache"
    )


def elasticache_cost(*, node_type: str, hours: Number, on: Date = None) -> Decimal:
    """USD for ``hours`` of one on-demand ElastiCache (Redis OSS / Memcached) node."""
    return _total(_elasticache_items(node_type=node_type, hours=hours, on=on))


# --------------------------------------------------------------------------- ElastiCache Serverless

_ELASTICACHE_ENGINES = {"valkey": "Valkey", "redis": "Redis OSS", "memcached": "Memcached"}


def _elasticache_serverless_items(
    *, engine: str, data_stored_gb: Number, hours: Number, ecpus: Number = 0, on: Date = None
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("elasticache_serverless", day)
    engine = _choice("engine", engine, _ELASTICACHE_ENGINES)
    if engine == "valkey":
        _require_service("elasticache_serverless.valkey", day)
    stored = _at_least("data_stored_gb", data_stored_gb)
    span = _at_least("hours", hours)
    count = _at_least("ecpus", ecpus)
    label = _ELASTICACHE_ENGINES[engine]
    floor = Decimal(
        str(price_entry(f"elasticache_serverless.minimum_data_stored_gb.{engine}", day)["value"])
    )
    metered = max(stored, floor)
    if stored < floor:
        note = (
            f"{_fmt(span)} hours x the {_fmt(floor)} GB minimum every {label} cache is metered "
            f"for (it holds {_fmt(stored)} GB)"
        )
    else:
        note = f"{_fmt(span)} hours x {_fmt(stored)} GB, the hourly average of the data stored"
    items = _flat(
        f"Data stored ({label})",
        f"elasticache_serverless.data_stored.{engine}",
        span * metered,
        day,
        note,
    )
    entry = price_entry(f"elasticache_serverless.ecpus.{engine}", day)
    note = "1 ECPU per KB a simple GET or SET transfers; commands that use more vCPU time cost more"
    items += _charge(f"ECPUs ({label})", entry, _ZERO, count, note)
    return day, items


def elasticache_serverless_cost(
    *, engine: str, data_stored_gb: Number, hours: Number, ecpus: Number = 0, on: Date = None
) -> Decimal:
    """USD for one ElastiCache Serverless cache: data stored per GB-hour, plus ECPUs per million.

    ``engine`` is the cache's engine as the ElastiCache API names it: ``'valkey'`` (from
    2024-10-08, a third cheaper on both dimensions), ``'redis'`` (Redis OSS) or ``'memcached'``.
    ``data_stored_gb`` is the data the cache holds, as the hourly average AWS meters, for each of
    ``hours``; every hour is metered for at least the engine's minimum, so the data billed is
    ``hours x max(data_stored_gb, minimum)``: 0.1 GB (100 MB) for Valkey, 1 GB for Redis OSS and
    Memcached, even for an empty cache. For a cache whose size varies, price each steady stretch
    and add; for several caches, add one call per cache (each has its own minimum). ``ecpus`` are
    the ElastiCache Processing Units the requests consume (1 per KB a simple GET or SET moves).
    Snapshot storage, data transfer and Database Savings Plans are not modelled.
    """
    return _total(
        _elasticache_serverless_items(
            engine=engine, data_stored_gb=data_stored_gb, hours=hours, ecpus=ecpus, on=on
        )
    )


# --------------------------------------------------------------------------- Fargate


def _fargate_sizes(day: _dt.date) -> dict[Decimal, tuple[list[Decimal], str]]:
    """vCPU -> (the memory sizes it accepts, in GB; how AWS's table words them)."""
    sizes: dict[Decimal, tuple[list[Decimal], str]] = {}
    for cpu, spec in price_entry("fargate.task_sizes", day)["value"].items():
        if "values" in spec:
            memories = [Decimal(v) for v in spec["values"]]
            *head, last = (_fmt(m) for m in memories)
            wording = f"{', '.join(head)} or {last} GB"
        else:
            low, high, step = (Decimal(spec[k]) for k in ("min", "max", "step"))
            memories = [low + i * step for i in range(int((high - low) / step) + 1)]
            wording = f"{_fmt(low)}-{_fmt(high)} GB in {_fmt(step)} GB steps"
        sizes[Decimal(cpu)] = (memories, wording)
    return sizes


def _fargate_size(vcpu: object, memory_gb: object, day: _dt.date) -> tuple[Decimal, Decimal]:
    cpu = _number("vcpu", vcpu)
    memory = _number("memory_gb", memory_gb)
    sizes = _fargate_sizes(day)
    if cpu not in sizes:
        accepted = ", ".join(_fmt(c) for c in sizes)
        larger = [c for c in sizes if c > cpu]
        fix = (
            f"round up to vcpu={_fmt(larger[0])}"
            if larger
            else f"the largest Fargate task on that date has {_fmt(max(sizes))} vCPU: "
            "split the work over more tasks"
        )
        raise ValueError(
            f"vcpu must be one of {accepted} on {day.isoformat()} (got {vcpu!r}); {fix}"
        )
    memories, wording = sizes[cpu]
    if memory not in memories:
        fits = [c for c, (m, _) in sizes.items() if memory in m]
        above = [m for m in memories if m > memory]
        bigger = [(c, w) for c, (m, w) in sizes.items() if c > cpu and max(m) >= memory]
        if fits:
            *head, last = (_fmt(c) for c in fits)
            fix = f"for {_fmt(memory)} GB use vcpu=" + (
                f"{', '.join(head)} or {last}" if head else last
            )
        elif above:
            fix = f"round up to memory_gb={_fmt(above[0])}"
        elif bigger:
            fix = f"use vcpu={_fmt(bigger[0][0])}, which takes {bigger[0][1]}"
        else:
            largest = max(max(m) for m, _ in sizes.values())
            fix = f"the largest Fargate task has {_fmt(largest)} GB: split the work over more tasks"
        raise ValueError(
            f"memory_gb must be {wording} with vcpu={_fmt(cpu)} (got {memory_gb!r}); {fix}"
        )
    return cpu, memory


def _fargate_storage(value: object, day: _dt.date) -> Decimal:
    storage = _number("ephemeral_storage_gb", value)
    if storage == _FARGATE_INCLUDED_GB:
        return storage
    key = "fargate.ephemeral_storage_gb"
    try:
        entry = price_entry(key, day)
    except ValueError:
        first = _table()["prices"][key][0]["since"]
        raise ValueError(
            f"ephemeral_storage_gb must be 20 on {day.isoformat()} (got {value!r}): every task "
            f"includes 20 GB and configurable ephemeral storage is recorded from {first}"
        ) from None
    low, high = (Decimal(v) for v in entry["value"])
    if not low <= storage <= high or storage != storage.to_integral_value():
        raise ValueError(
            f"ephemeral_storage_gb must be a whole number between {low} and {high} GB "
            f"(got {value!r}); the first 20 GB are included in every task"
        )
    return storage


def _fargate_items(
    *,
    vcpu: Number,
    memory_gb: Number,
    hours: Number,
    arch: str = "x86_64",
    tasks: Number = 1,
    ephemeral_storage_gb: Number = 20,
    on: Date = None,
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("fargate", day)
    arch = _choice("arch", arch, ("x86_64", "arm64"))
    if arch == "arm64":
        _require_service("fargate.arm64", day)
    cpu, memory = _fargate_size(vcpu, memory_gb, day)
    span = _at_least("hours", hours)
    count = _whole("tasks", tasks)
    storage = _fargate_storage(ephemeral_storage_gb, day)
    task_hours = count * span
    each = f"{_fmt(count)} tasks x {_fmt(span)} hours x"
    billed = "billed on what the task requests, however little it uses (Linux)"
    items = _flat(
        f"vCPU ({arch})",
        f"fargate.linux.{arch}.vcpu_hour",
        task_hours * cpu,
        day,
        f"{each} {_fmt(cpu)} vCPU; {billed}",
    )
    items += _flat(
        f"Memory ({arch})",
        f"fargate.linux.{arch}.gb_hour",
        task_hours * memory,
        day,
        f"{each} {_fmt(memory)} GB; {billed}",
    )
    if storage > _FARGATE_INCLUDED_GB:
        extra = storage - _FARGATE_INCLUDED_GB
        note = f"{each} {_fmt(extra)} GB above the 20 GB included ({_fmt(storage)} GB configured)"
        items += _flat(
            "Ephemeral storage", "fargate.ephemeral_storage", task_hours * extra, day, note
        )
    return day, items


def fargate_cost(
    *,
    vcpu: Number,
    memory_gb: Number,
    hours: Number,
    arch: str = "x86_64",
    tasks: Number = 1,
    ephemeral_storage_gb: Number = 20,
    on: Date = None,
) -> Decimal:
    """USD for ``tasks`` Linux Fargate tasks of one size running ``hours`` each (vCPU, memory, disk).

    Fargate bills the vCPU and memory a task *requests*, per second from image pull to stop, at
    any utilization: a task that idles at 5% CPU costs what a busy one does. ``vcpu`` and
    ``memory_gb`` must be a combination Fargate offers (0.25 vCPU takes 0.5, 1 or 2 GB; 1 vCPU
    2-8 GB; ...; 16 vCPU 32-120 GB in 8 GB steps). ``arch='arm64'`` is Graviton (ECS only).
    Ephemeral storage above the 20 GB every task includes is billed per GB-hour.
    """
    return _total(
        _fargate_items(
            vcpu=vcpu,
            memory_gb=memory_gb,
            hours=hours,
            arch=arch,
            tasks=tasks,
            ephemeral_storage_gb=ephemeral_storage_gb,
            on=on,
        )
    )


# --------------------------------------------------------------------------- Aurora Serverless v2


def _aurora_serverless_v2_items(
    *,
    acu_hours: Number,
    storage_gb_month: Number = 0,
    io_requests: Number = 0,
    io_optimized: bool = False,
    on: Date = None,
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("aurora_serverless_v2", day)
    optimized = _flag("io_optimized", io_optimized)
    if optimized:
        _require_service("aurora.io_optimized", day)
    acus = _at_least("acu_hours", acu_hours)
    storage = _at_least("storage_gb_month", storage_gb_month)
    count = _whole("io_requests", io_requests)
    config, label = ("io_optimized", "I/O-Optimized") if optimized else ("standard", "Standard")
    note = "ACUs x hours at that capacity (1 ACU is about 2 GiB of memory), billed per second"
    items = _flat(f"Capacity ({label})", f"aurora_serverless_v2.acu_hour.{config}", acus, day, note)
    items += _flat(f"Storage ({label})", f"aurora.storage.{config}", storage, day)
    entry = price_entry("aurora.io_requests", day)
    if optimized:
        quantity = count / Decimal(entry["per"])
        note = "included in I/O-Optimized: no charge for read and write I/O"
        items.append(
            LineItem("I/O requests", quantity, entry["unit"], _ZERO, _ZERO, note, entry["source"])
        )
    else:
        items += _charge("I/O requests", entry, _ZERO, count)
    return day, items


def aurora_serverless_v2_cost(
    *,
    acu_hours: Number,
    storage_gb_month: Number = 0,
    io_requests: Number = 0,
    io_optimized: bool = False,
    on: Date = None,
) -> Decimal:
    """USD for a month of Aurora Serverless v2 (PostgreSQL or MySQL): ACU-hours, storage and I/O.

    ``acu_hours`` is the month's capacity summed over time: a cluster idling at its 0.5 ACU
    minimum for 730 hours is 365 ACU-hours; one writer and one reader instance count twice.
    ``io_optimized=True`` prices the I/O-Optimized configuration: dearer capacity and storage,
    and ``io_requests`` cost nothing. Backups, snapshots and data transfer are not modelled.
    """
    return _total(
        _aurora_serverless_v2_items(
            acu_hours=acu_hours,
            storage_gb_month=storage_gb_month,
            io_requests=io_requests,
            io_optimized=io_optimized,
            on=on,
        )
    )


# --------------------------------------------------------------------------- VPC networking, Route 53


def _nat_gateway_items(
    *, hours: Number, data_gb: Number = 0, on: Date = None
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("vpc.nat_gateway", day)
    span = _at_least("hours", hours)
    data = _at_least("data_gb", data_gb)
    note = "add the hours of every gateway (one per Availability Zone); partial hours bill as full"
    items = _flat("NAT gateway hours", "vpc.nat_gateway.hour", span, day, note)
    note = "both directions; data transfer out to the internet is billed on top"
    items += _flat("Data processed", "vpc.nat_gateway.data_processed", data, day, note)
    return day, items


def nat_gateway_cost(*, hours: Number, data_gb: Number = 0, on: Date = None) -> Decimal:
    """USD for NAT gateway-hours and the GB they process (internet data transfer not included).

    ``hours`` is summed over gateways: two AZs with a gateway each for a month are 1,460 hours.
    Traffic to S3 and DynamoDB can bypass the gateway through free gateway endpoints; data that
    leaves for the internet also costs :func:`data_transfer_out_cost`.
    """
    return _total(_nat_gateway_items(hours=hours, data_gb=data_gb, on=on))


def _vpc_endpoint_items(
    *, endpoints: Number, azs: Number, hours: Number, data_gb: Number = 0, on: Date = None
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("vpc.interface_endpoint", day)
    count = _whole("endpoints", endpoints)
    zones = _whole("azs", azs, 1)
    span = _at_least("hours", hours)
    data = _at_least("data_gb", data_gb)
    note = (
        f"{_fmt(count)} endpoints x {_fmt(zones)} Availability Zones x {_fmt(span)} hours; "
        "partial hours bill as full"
    )
    items = _flat(
        "Interface endpoint hours",
        "vpc.interface_endpoint.az_hour",
        count * zones * span,
        day,
        note,
    )
    entry = price_entry("vpc.interface_endpoint.data_processed", day)
    note = "all interface endpoints in the region together"
    items += _charge("Data processed", entry, _ZERO, data, note)
    return day, items


def vpc_endpoint_cost(
    *, endpoints: Number, azs: Number, hours: Number, data_gb: Number = 0, on: Date = None
) -> Decimal:
    """USD for interface VPC endpoints (PrivateLink): hours in each AZ and the GB they process.

    Each of ``endpoints`` is billed in each of its ``azs`` Availability Zones for ``hours``;
    ``data_gb`` is the total for all interface endpoints in the region (tiered at 1 PB and 5 PB).
    Gateway endpoints for S3 and DynamoDB are free and not priced here.
    """
    return _total(
        _vpc_endpoint_items(endpoints=endpoints, azs=azs, hours=hours, data_gb=data_gb, on=on)
    )


def _public_ipv4_items(
    *, addresses: Number, hours: Number, on: Date = None
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("vpc.public_ipv4", day)
    count = _at_least("addresses", addresses)
    span = _at_least("hours", hours)
    note = (
        f"{_fmt(count)} addresses x {_fmt(span)} hours; every public IPv4 address, in use or "
        "idle (Elastic IPs, NAT gateways, load balancer nodes, EC2 instances)"
    )
    items = _flat("Public IPv4 address hours", "vpc.public_ipv4.hour", count * span, day, note)
    return day, items


def public_ipv4_cost(*, addresses: Number, hours: Number, on: Date = None) -> Decimal:
    """USD for public IPv4 addresses: each address-hour, in use or idle, attached or not.

    From 2024-02-01 AWS charges for every public IPv4 address it provides: Elastic IPs
    (associated or not), the public address an EC2 instance gets at launch, and the addresses AWS
    services hold for you: a NAT gateway's Elastic IP, an internet-facing load balancer's one
    address per Availability Zone it is enabled in. ``addresses`` is how many are held for each
    of ``hours`` (an average if the count varies): an internet-facing ALB in two AZs and one NAT
    gateway are 3 addresses, 2,190 address-hours in a 730-hour month. Addresses you bring (BYOIP)
    are free and not counted. The EC2 free tier's 750 hours a month of public IPv4 for the first
    12 months is not modelled. Dates before 2024-02-01 raise ``ValueError``: until then only idle
    and additional Elastic IPs were charged, which a count of addresses cannot tell apart.
    """
    return _total(_public_ipv4_items(addresses=addresses, hours=hours, on=on))


def _route53_items(
    *, hosted_zones: Number, queries: Number = 0, alias_queries: Number = 0, on: Date = None
) -> tuple[_dt.date, list[LineItem]]:
    day = _as_date(on)
    _require_service("route53", day)
    zones = _whole("hosted_zones", hosted_zones)
    count = _whole("queries", queries)
    alias = _whole("alias_queries", alias_queries)
    entry = price_entry("route53.hosted_zone", day)
    items = _charge("Hosted zones", entry, _ZERO, zones, "per zone for the month, not prorated")
    entry = price_entry("route53.standard_queries", day)
    items += _charge("Standard queries", entry, _ZERO, count)
    entry = price_entry("route53.alias_queries", day)
    note = (
        "free: alias records that point at AWS resources (CloudFront, load balancers, "
        "API Gateway, S3 websites, VPC endpoints) are not charged; CNAMEs are standard queries"
    )
    items += _charge("Alias queries to AWS resources", entry, _ZERO, alias, note)
    return day, items


def route53_cost(
    *, hosted_zones: Number, queries: Number = 0, alias_queries: Number = 0, on: Date = None
) -> Decimal:
    """USD for a month of Route 53 public DNS: hosted zones and standard queries (alias ones free).

    ``queries`` are standard queries (simple, weighted and failover routing, CNAME records);
    ``alias_queries`` to AWS resources cost nothing and are listed only so :func:`explain`
    shows them. Latency, geo and IP-based routing and health checks are not modelled.
    """
    return _total(
        _route53_items(
            hosted_zones=hosted_zones, queries=queries, alias_queries=alias_queries, on=on
        )
    )


# --------------------------------------------------------------------------- explain


def _total(result: tuple[_dt.date, list[LineItem]]) -> Decimal:
    return sum((item.amount for item in result[1]), _ZERO)


def _dto_items(
    *, gb: Number, free_tier: bool = True, on: Date = None
) -> tuple[_dt.date, list[LineItem]]:
    return _data_transfer_items(gb=gb, free_tier=free_tier, on=on)


_BUILDERS: dict[str, Callable[..., tuple[_dt.date, list[LineItem]]]] = {
    "lambda_cost": _lambda_items,
    "api_gateway_cost": _api_gateway_items,
    "dynamodb_cost": _dynamodb_items,
    "dynamodb_provisioned_cost": _dynamodb_provisioned_items,
    "cloudfront_cost": _cloudfront_items,
    "s3_cost": _s3_items,
    "kinesis_streams_cost": _kinesis_items,
    "firehose_cost": _firehose_items,
    "iot_core_cost": _iot_core_items,
    "athena_cost": _athena_items,
    "ses_cost": _ses_items,
    "sqs_cost": _sqs_items,
    "sns_cost": _sns_items,
    "cognito_cost": _cognito_items,
    "cloudfront_mix_cost": _cloudfront_mix_items,
    "secrets_manager_cost": _secrets_manager_items,
    "ec2_cost": _ec2_items,
    "alb_cost": _alb_items,
    "efs_cost": _efs_items,
    "elasticache_cost": _elasticache_items,
    "elasticache_serverless_cost": _elasticache_serverless_items,
    "data_transfer_out_cost": _dto_items,
    "fargate_cost": _fargate_items,
    "aurora_serverless_v2_cost": _aurora_serverless_v2_items,
    "nat_gateway_cost": _nat_gateway_items,
    "vpc_endpoint_cost": _vpc_endpoint_items,
    "public_ipv4_cost": _public_ipv4_items,
    "route53_cost": _route53_items,
}


def explain(cost_function: Callable[..., Decimal] | str, /, **usage: Any) -> Breakdown:
    """The line items (dimension, quantity, unit price, amount) behind ``cost_function(**usage)``."""
    name = (
        cost_function if isinstance(cost_function, str) else getattr(cost_function, "__name__", "")
    )
    if not name.endswith("_cost"):
        name = f"{name}_cost"
    builder = _BUILDERS.get(name)
    if builder is None:
        accepted = ", ".join(sorted(_BUILDERS))
        raise ValueError(f"cost_function must be one of: {accepted} (got {cost_function!r})")
    day, items = builder(**usage)
    kept = [item for item in items if item.quantity != 0] or items[:1]
    return Breakdown(name, day, tuple(kept))
