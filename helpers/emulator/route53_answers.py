"""Route 53's answers, offline: TestDNSAnswer over moto's hosted zones and record sets.

moto stores hosted zones and record sets but has no TestDNSAnswer (its route answers 404). This
adds `GET /2013-04-01/testdnsanswer` and answers as Route 53's name servers would for a record in
a hosted zone (API reference: https://docs.aws.amazon.com/Route53/latest/APIReference/
API_TestDNSAnswer.html; developer guide: "Checking DNS responses from Route 53", "Choosing a
routing policy", "Choosing between alias and non-alias records"):

- **The answer**: `Nameserver` (the zone's first name server), `RecordName` and `RecordType` as
  asked, `RecordData` (the values, one entry each, as stored: a TXT value keeps its quotes),
  `ResponseCode` (`NOERROR`; `NXDOMAIN` when no record of any type has the name, nor a wildcard
  covers it) and `Protocol` (`UDP`). A name that exists without a record of the type asked
  (or an empty non-terminal, such as `b.example.com` when only `a.b.example.com` has records)
  answers NOERROR with no data, as DNS does. Names are matched case-insensitively, with or
  without the final dot, and `\\052` is `*`.
- **Wildcards** (`*.example.com`) answer for names that do not exist, by RFC 4592's closest
  encloser: `x.y.example.com` is covered unless `y.example.com` exists.
- **CNAME**: a query of another type for a name with a CNAME answers the CNAME's target, then
  follows it inside the zone (at most 8 steps) and adds the target's records, as an
  authoritative server does; asking for the CNAME itself answers its value.
- **Routing policies**, for record sets sharing a name and type: simple; **weighted** (one
  record set per call, chosen with probability weight / total, so over many calls the split
  follows the weights; weight 0 only when all are 0; unhealthy record sets are skipped unless all
  are unhealthy, then all count); failover (PRIMARY while healthy, else SECONDARY);
  multivalue answer (up to 8 healthy values, in random order); latency and geolocation as seen
  from TestDNSAnswer's default resolver in us-east-1 (the record of us-east-1, else the nearest
  region; geolocation `US-VA`, then `US`, then `NA`, then the default `*`).
- **Alias records** answer the target's addresses: an Application or Network Load Balancer of
  the lab (`[dualstack.]name-id.region.elb.amazonaws.com`, found in moto's ELBv2; one address
  per subnet, stable per load balancer: a private address of the subnet (not among the five
  AWS reserves) for an internal one, a documentation address (RFC 5737, 203.0.113.0/24) for an
  internet-facing one), another record
  of the same hosted zone (resolved there), or a CloudFront distribution, S3 website endpoint,
  API Gateway or other AWS name (stable documentation addresses, 198.51.100.0/24). With
  `EvaluateTargetHealth`, a load balancer that no longer exists, or an alias to a name of the
  zone that answers nothing, counts as unhealthy.
- **Errors**: an unknown hosted zone answers NoSuchHostedZone (404, "No hosted zone found with
  ID: ..."); a record type outside Route 53's list answers InvalidInput; a **private** hosted
  zone answers InvalidInput, because the API reference says "This call only supports querying
  public hosted zones" (resolving names of a private zone happens inside its VPCs; `resolve()`
  here answers for them, for other emulator pieces). A name outside the zone answers `REFUSED`
  with no data, as an authoritative server does for a zone it does not serve.

Simplified: health checks are not run (a record set with `HealthCheckId` counts as healthy, as
does any existing alias target, whatever its targets' health); `ResolverIP` and the EDNS0
client subnet are accepted but the resolver is always taken to be in us-east-1 (US-VA), so
latency and geolocation answers do not move with them; geoproximity, IP-based (CIDR) routing
and traffic policies are not emulated (their record sets answer like simple ones); the `NS`
records a parent zone delegates to a subdomain are answered like any record (the API reference
says TestDNSAnswer leaves those out); TTLs and DNSSEC are not part of the answer.

moto seams (tests/emulator/test_moto_seams.py checks them): a `test_dns_answer` method on
`moto.route53.responses.Route53` and a `testdnsanswer` route in `moto.route53.urls.url_paths`;
read: `route53_backends`, `FakeZone` (`name`, `id`, `private_zone`, `rrsets`,
`delegation_set.name_servers`), `RecordSet` (`name`, `type`, `records`, `set_identifier`,
`weight`, `region`, `failover`, `geo_location`, `multi_value_answer`, `health_check_id`,
`alias_target`), and `elbv2_backends` load balancers (`dns_name`, `scheme`, `subnets`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import random
from dataclasses import dataclass
from typing import Any

# RRType (API reference, ResourceRecordSet.Type)
RECORD_TYPES = (
    "SOA",
    "A",
    "TXT",
    "NS",
    "CNAME",
    "MX",
    "NAPTR",
    "PTR",
    "SRV",
    "SPF",
    "AAAA",
    "CAA",
    "DS",
    "TLSA",
    "SSHFP",
    "SVCB",
    "HTTPS",
)
MAX_MULTIVALUE = 8  # "Route 53 responds to DNS queries with up to eight healthy records"
MAX_CNAME_STEPS = 8
DEFAULT_RESOLVER_REGION = "us-east-1"  # "TestDnsAnswer uses ... a DNS resolver in ... us-east-1"
# nearest regions to us-east-1 first, for latency records (a fixed, plausible order)
_NEAREST = (
    "us-east-1",
    "us-east-2",
    "ca-central-1",
    "us-west-2",
    "us-west-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "eu-west-3",
    "eu-north-1",
    "eu-south-1",
    "af-south-1",
    "me-south-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-east-1",
)
_ROUTE = r"{0}/(?P<api_version>[\d_-]+)/testdnsanswer$"
_rng = random.SystemRandom()


@dataclass
class Answer:
    """What a name server answers: the response code and the record data, in order."""

    code: str
    data: list[str]


# ---- installation ----------------------------------------------------------------------------
def install(emulator: Any) -> None:
    """Add TestDNSAnswer to moto's Route 53, until teardown."""
    from moto.route53 import urls as route53_urls
    from moto.route53.responses import Route53

    emulator._patch(Route53, "test_dns_answer", _test_dns_answer)
    paths = dict(route53_urls.url_paths)
    paths[_ROUTE] = Route53.dispatch
    emulator._patch(route53_urls, "url_paths", paths)


def _test_dns_answer(response: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.route53.exceptions import InvalidInput

    zone_id = _param(response, "HostedZoneId", "hostedzoneid")
    name = _param(response, "RecordName", "recordname")
    record_type = _param(response, "RecordType", "recordtype")
    zone = _zone(response.backend, zone_id)
    if record_type not in RECORD_TYPES:
        raise InvalidInput(
            f"Invalid request: {record_type!r} is not a record type Route 53 supports: "
            f"{', '.join(RECORD_TYPES)}"
        )
    if zone.private_zone:
        raise InvalidInput(
            f"TestDNSAnswer only supports public hosted zones; {zone.name} ({zone_id}) is "
            "private: its names resolve inside the VPCs associated with it"
        )
    answer = resolve(zone, name, record_type, account=response.current_account)
    servers = list(getattr(zone.delegation_set, "name_servers", None) or [])
    return ActionResult(
        {
            "Nameserver": servers[0].rstrip(".") if servers else "ns-0.awsdns-00.com",
            "RecordName": name,
            "RecordType": record_type,
            "RecordData": answer.data,
            "ResponseCode": answer.code,
            "Protocol": "UDP",
        }
    )


def _param(response: Any, name: str, query_name: str) -> str:
    value = None
    try:
        value = response._get_param(name)
    except Exception:  # moto's parser may not know the shape: read the query string
        value = None
    if value is None:
        values = (getattr(response, "querystring", None) or {}).get(query_name) or [""]
        value = values[0] if isinstance(values, list) else values
    return str(value or "")


def _zone(backend: Any, zone_id: str) -> Any:
    from moto.route53.exceptions import NoSuchHostedZone

    zone_id = zone_id.rsplit("/", 1)[-1]
    zone = backend.zones.get(zone_id)
    if zone is None:
        raise NoSuchHostedZone(zone_id)
    return zone


# ---- resolution ------------------------------------------------------------------------------
def _norm(name: str) -> str:
    return name.replace("\\052", "*").strip().rstrip(".").lower()


def resolve(zone: Any, name: str, record_type: str, *, account: str = "") -> Answer:
    """What Route 53's name servers answer for `name` and `record_type` in moto's `zone`
    (public or private): the response code and the values."""
    return _resolve(zone, _norm(name), record_type.upper(), account, depth=0)


def _resolve(zone: Any, name: str, record_type: str, account: str, depth: int) -> Answer:
    origin = _norm(zone.name)
    if name != origin and not name.endswith("." + origin):
        return Answer("REFUSED", [])
    sets = [r for r in zone.rrsets if r.type]
    owner = _owner(sets, name, origin)
    if owner is None:
        if any(_norm(r.name).endswith("." + name) for r in sets):
            return Answer("NOERROR", [])  # an empty non-terminal
        return Answer("NXDOMAIN", [])
    at_name = [r for r in sets if _norm(r.name) == owner]
    cnames = [r for r in at_name if r.type == "CNAME"]
    if cnames and record_type != "CNAME":
        chosen = _choose(cnames, zone, account, depth)
        data = [v for r in chosen for v in _values(r, zone, "CNAME", account, depth)]
        if data and depth < MAX_CNAME_STEPS:
            target = _norm(data[0])
            if target == origin or target.endswith("." + origin):
                follow = _resolve(zone, target, record_type, account, depth + 1)
                data.extend(v for v in follow.data if v not in data)
        return Answer("NOERROR", data)
    matching = [r for r in at_name if r.type == record_type]
    if not matching:
        return Answer("NOERROR", [])
    data = []
    for record_set in _choose(matching, zone, account, depth):
        data.extend(_values(record_set, zone, record_type, account, depth))
    return Answer("NOERROR", data)


def _owner(sets: list[Any], name: str, origin: str) -> str | None:
    """The name whose records answer `name`: itself, else the wildcard of its closest
    encloser (RFC 4592), else None."""
    names = {_norm(r.name) for r in sets}
    if name in names:
        return name
    if any(n.endswith("." + name) for n in names):
        return None  # an empty non-terminal exists: no wildcard answers for it
    labels = name.split(".")
    for i in range(1, len(labels)):
        encloser = ".".join(labels[i:])
        exists = encloser in names or any(n.endswith("." + encloser) for n in names)
        if exists or encloser == origin:
            wildcard = f"*.{encloser}"
            return wildcard if wildcard in names else None
        if len(encloser) < len(origin):
            break
    return None


def _choose(sets: list[Any], zone: Any, account: str, depth: int) -> list[Any]:
    """The record sets a routing policy answers with, for sets sharing a name and type."""
    if len(sets) == 1 and not sets[0].set_identifier:
        return sets
    healthy = [r for r in sets if _healthy(r, zone, account, depth)] or list(sets)
    weighted = [r for r in healthy if r.weight is not None]
    if weighted:
        weights = [max(0, int(r.weight)) for r in weighted]
        if not any(weights):
            return [_rng.choice(weighted)]
        return [_rng.choices(weighted, weights=weights, k=1)[0]]
    failover = [r for r in healthy if r.failover]
    if failover:
        primary = [r for r in failover if str(r.failover).upper() == "PRIMARY"]
        return primary[:1] or failover[:1]
    multi = [r for r in healthy if r.multi_value_answer]
    if multi:
        picked = list(multi)
        _rng.shuffle(picked)
        return picked[:MAX_MULTIVALUE]
    latency = [r for r in healthy if r.region]
    if latency:
        return [min(latency, key=lambda r: _distance(str(r.region)))]
    located = [r for r in healthy if r.geo_location]
    if located:
        for wanted in (
            {"CountryCode": "US", "SubdivisionCode": "VA"},
            {"CountryCode": "US"},
            {"ContinentCode": "NA"},
            {"CountryCode": "*"},
        ):
            for record_set in located:
                location = {k: v for k, v in dict(record_set.geo_location).items() if v}
                if location == wanted:
                    return [record_set]
        return []
    return healthy[:1]


def _distance(region: str) -> int:
    return _NEAREST.index(region) if region in _NEAREST else len(_NEAREST)


def _healthy(record_set: Any, zone: Any, account: str, depth: int) -> bool:
    alias = record_set.alias_target or {}
    if alias and _evaluate(alias):
        target = str(alias.get("DNSName") or "")
        if target.lower().rstrip(".").endswith(".elb.amazonaws.com"):
            return _load_balancer(account, target) is not None
        origin = _norm(zone.name)
        name = _norm(target)
        if (name == origin or name.endswith("." + origin)) and depth < MAX_CNAME_STEPS:
            return bool(_resolve(zone, name, record_set.type, account, depth + 1).data)
    return True


def _evaluate(alias: dict[str, Any]) -> bool:
    value = alias.get("EvaluateTargetHealth")
    return value is True or str(value).lower() == "true"


def _values(record_set: Any, zone: Any, record_type: str, account: str, depth: int) -> list[str]:
    """The values a record set answers: its own, or its alias target's addresses."""
    alias = record_set.alias_target or {}
    if not alias:
        out = []
        for value in record_set.records or []:
            out.append(str(value.get("Value") if isinstance(value, dict) else value))
        return out
    target = str(alias.get("DNSName") or "")
    name = _norm(target)
    origin = _norm(zone.name)
    if (name == origin or name.endswith("." + origin)) and depth < MAX_CNAME_STEPS:
        return _resolve(zone, name, record_type, account, depth + 1).data
    if record_type not in ("A", "AAAA"):
        return []
    if name.endswith(".elb.amazonaws.com"):
        lb = _load_balancer(account, target)
        if lb is None:
            return []
        return _lb_addresses(lb, record_type)
    return _stand_in_addresses(name, record_type)


def _load_balancer(account: str, dns_name: str) -> Any:
    """The lab's load balancer with that DNS name (or `dualstack.` name), or None."""
    from moto.elbv2.models import elbv2_backends

    wanted = _norm(dns_name).removeprefix("dualstack.")
    accounts = [account] if account else list(elbv2_backends.keys())
    for acct in accounts:
        for region, backend in elbv2_backends[acct].items():
            if f".{region}." not in f".{wanted}":
                continue
            for lb in list(backend.load_balancers.values()):
                if _norm(str(getattr(lb, "dns_name", ""))).removeprefix("dualstack.") == wanted:
                    return lb
    return None


def _lb_addresses(lb: Any, record_type: str) -> list[str]:
    """One address per subnet, stable per load balancer: a private address of the subnet for an
    internal load balancer, a documentation address for an internet-facing one."""
    internal = str(getattr(lb, "scheme", "")) == "internal"
    out = []
    for subnet in getattr(lb, "subnets", None) or []:
        if record_type == "AAAA":
            block = getattr(subnet, "ipv6_cidr_block", None)
            if not block or str(getattr(lb, "ip_address_type", "ipv4")) == "ipv4":
                continue
            network = ipaddress.ip_network(str(block), strict=False)
            out.append(str(network[10]))
            continue
        key = f"{getattr(lb, 'arn', '')}|{getattr(subnet, 'id', '')}"
        if internal:
            try:
                network = ipaddress.ip_network(subnet.cidr_block, strict=False)
            except (ValueError, AttributeError):
                continue
            # AWS reserves the first four addresses of a subnet and the last one
            usable = max(1, network.num_addresses - 5)
            digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")
            out.append(str(network[4 + digest % usable]))
        else:
            octet = _octet(key)
            while f"203.0.113.{octet}" in out:
                octet = octet % 254 + 1
            out.append(f"203.0.113.{octet}")
    return out


def _stand_in_addresses(name: str, record_type: str) -> list[str]:
    """Stable documentation addresses for an AWS name the lab does not serve."""
    first = _octet(name)
    second = first % 254 + 1
    if record_type == "AAAA":
        return [f"2001:db8::{first:x}", f"2001:db8::{second:x}"]
    return [f"198.51.100.{first}", f"198.51.100.{second}"]


def _octet(key: str) -> int:
    return 1 + hashlib.sha256(key.encode()).digest()[0] % 254
