"""Route 53 TestDNSAnswer offline (helpers/emulator/route53_answers.py), against the API
reference (https://docs.aws.amazon.com/Route53/latest/APIReference/API_TestDNSAnswer.html) and
the developer guide's routing policies, alias records and wildcard pages.

GIVEN a public hosted zone with simple, CNAME, TXT, wildcard, weighted, failover, multivalue and
alias records, WHEN a learner calls TestDNSAnswer, THEN Route 53's answer comes back: the values,
NOERROR or NXDOMAIN, one weighted record per call in the proportions of the weights, and a load
balancer's addresses for an alias to it.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

import helpers
from helpers.emulator import route53_answers

BACKENDS = ("moto", "moto-server")
DOMAIN = "example.com"


@pytest.fixture(scope="module")
def r53(lab: helpers.Lab) -> Any:
    return lab.client("route53")


@pytest.fixture(scope="module")
def zone(r53: Any) -> dict[str, Any]:
    created = r53.create_hosted_zone(Name=DOMAIN, CallerReference="answers-zone")
    return {
        "Id": created["HostedZone"]["Id"],
        "NameServers": created["DelegationSet"]["NameServers"],
    }


def change(r53: Any, zone_id: str, *record_sets: dict[str, Any], action: str = "CREATE") -> None:
    r53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": action, "ResourceRecordSet": r} for r in record_sets]},
    )


def a(name: str, *values: str, **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "A",
        "TTL": 60,
        "ResourceRecords": [{"Value": v} for v in values],
        **extra,
    }


def ask(r53: Any, zone: dict[str, Any], name: str, record_type: str = "A") -> dict[str, Any]:
    out = r53.test_dns_answer(HostedZoneId=zone["Id"], RecordName=name, RecordType=record_type)
    out.pop("ResponseMetadata", None)
    return out


# ---- the answer's fields -------------------------------------------------------------------
def test_an_a_record_answers_its_values_with_the_documented_fields(r53, zone):
    change(r53, zone["Id"], a(f"www.{DOMAIN}", "192.0.2.1", "192.0.2.2"))
    out = ask(r53, zone, f"www.{DOMAIN}")
    assert out["RecordName"] == f"www.{DOMAIN}"
    assert out["RecordType"] == "A"
    assert out["RecordData"] == ["192.0.2.1", "192.0.2.2"]
    assert out["ResponseCode"] == "NOERROR"
    assert out["Protocol"] in ("UDP", "TCP")
    assert out["Nameserver"] in [ns.rstrip(".") for ns in zone["NameServers"]]


def test_names_match_case_insensitively_with_or_without_the_final_dot(r53, zone):
    change(r53, zone["Id"], a(f"case.{DOMAIN}", "192.0.2.3"))
    for name in (f"CASE.{DOMAIN}", f"case.{DOMAIN}."):
        assert ask(r53, zone, name)["RecordData"] == ["192.0.2.3"]


def test_a_txt_record_keeps_its_quotes(r53, zone):
    change(
        r53,
        zone["Id"],
        {
            "Name": f"txt.{DOMAIN}",
            "Type": "TXT",
            "TTL": 60,
            "ResourceRecords": [{"Value": '"v=spf1 -all"'}, {"Value": '"hello world"'}],
        },
    )
    out = ask(r53, zone, f"txt.{DOMAIN}", "TXT")
    assert out["RecordData"] == ['"v=spf1 -all"', '"hello world"']
    assert out["ResponseCode"] == "NOERROR"


def test_a_missing_name_is_nxdomain(r53, zone):
    out = ask(r53, zone, f"no-such-name.{DOMAIN}")
    assert out["ResponseCode"] == "NXDOMAIN"
    assert out["RecordData"] == []


def test_an_existing_name_without_that_type_is_noerror_with_no_data(r53, zone):
    change(r53, zone["Id"], a(f"only-a.{DOMAIN}", "192.0.2.4"))
    out = ask(r53, zone, f"only-a.{DOMAIN}", "AAAA")
    assert out["ResponseCode"] == "NOERROR"
    assert out["RecordData"] == []


def test_an_empty_non_terminal_is_noerror(r53, zone):
    change(r53, zone["Id"], a(f"deep.branch.{DOMAIN}", "192.0.2.5"))
    out = ask(r53, zone, f"branch.{DOMAIN}")
    assert (out["ResponseCode"], out["RecordData"]) == ("NOERROR", [])


def test_the_zone_apex_answers_its_name_servers(r53, zone):
    out = ask(r53, zone, DOMAIN, "NS")
    assert [v.rstrip(".") for v in out["RecordData"]] == [
        ns.rstrip(".") for ns in zone["NameServers"]
    ]


# ---- CNAME and wildcards ---------------------------------------------------------------------
def test_a_cname_answers_its_target_and_the_targets_records(r53, zone):
    change(
        r53,
        zone["Id"],
        a(f"origin.{DOMAIN}", "192.0.2.6"),
        {
            "Name": f"alias-me.{DOMAIN}",
            "Type": "CNAME",
            "TTL": 60,
            "ResourceRecords": [{"Value": f"origin.{DOMAIN}"}],
        },
    )
    assert ask(r53, zone, f"alias-me.{DOMAIN}", "CNAME")["RecordData"] == [f"origin.{DOMAIN}"]
    out = ask(r53, zone, f"alias-me.{DOMAIN}", "A")
    assert out["RecordData"] == [f"origin.{DOMAIN}", "192.0.2.6"]
    assert out["ResponseCode"] == "NOERROR"


def test_a_wildcard_answers_for_names_that_do_not_exist(r53, zone):
    change(
        r53,
        zone["Id"],
        a(f"*.apps.{DOMAIN}", "192.0.2.7"),
        a(f"fixed.apps.{DOMAIN}", "192.0.2.8"),
    )
    assert ask(r53, zone, f"anything.apps.{DOMAIN}")["RecordData"] == ["192.0.2.7"]
    assert ask(r53, zone, f"fixed.apps.{DOMAIN}")["RecordData"] == ["192.0.2.8"]
    # the wildcard covers deeper names too, whose closest existing ancestor is apps.example.com
    assert ask(r53, zone, f"a.b.apps.{DOMAIN}")["RecordData"] == ["192.0.2.7"]
    # but not the wildcard's own parent
    assert ask(r53, zone, f"apps.{DOMAIN}")["RecordData"] == []


# ---- routing policies ------------------------------------------------------------------------
def test_weighted_records_answer_one_record_per_call_in_proportion_to_the_weights(r53, zone):
    name = f"api.{DOMAIN}"
    change(
        r53,
        zone["Id"],
        a(name, "192.0.2.10", SetIdentifier="v1", Weight=70),
        a(name, "192.0.2.20", SetIdentifier="v2", Weight=20),
        a(name, "192.0.2.30", SetIdentifier="v3", Weight=10),
        a(name, "192.0.2.40", SetIdentifier="off", Weight=0),
    )
    calls = 1500
    seen: Counter[str] = Counter()
    for _ in range(calls):
        data = ask(r53, zone, name)["RecordData"]
        assert len(data) == 1
        seen[data[0]] += 1
    assert seen["192.0.2.40"] == 0  # weight 0: never while another has weight
    for value, weight in (("192.0.2.10", 0.7), ("192.0.2.20", 0.2), ("192.0.2.30", 0.1)):
        sigma = (calls * weight * (1 - weight)) ** 0.5
        assert abs(seen[value] - calls * weight) < 5 * sigma, seen


def test_weighted_records_all_at_weight_zero_share_equally(r53, zone):
    name = f"zero.{DOMAIN}"
    change(
        r53,
        zone["Id"],
        a(name, "192.0.2.51", SetIdentifier="a", Weight=0),
        a(name, "192.0.2.52", SetIdentifier="b", Weight=0),
    )
    seen = Counter(ask(r53, zone, name)["RecordData"][0] for _ in range(200))
    assert set(seen) == {"192.0.2.51", "192.0.2.52"}


def test_failover_answers_the_primary(r53, zone):
    name = f"failover.{DOMAIN}"
    change(
        r53,
        zone["Id"],
        a(name, "192.0.2.61", SetIdentifier="secondary", Failover="SECONDARY"),
        a(name, "192.0.2.60", SetIdentifier="primary", Failover="PRIMARY"),
    )
    assert ask(r53, zone, name)["RecordData"] == ["192.0.2.60"]


def test_multivalue_answers_every_healthy_record_up_to_eight(r53, zone):
    name = f"multi.{DOMAIN}"
    values = [f"192.0.2.{70 + i}" for i in range(10)]
    change(
        r53,
        zone["Id"],
        *[a(name, v, SetIdentifier=f"m{i}", MultiValueAnswer=True) for i, v in enumerate(values)],
    )
    out = ask(r53, zone, name)["RecordData"]
    assert len(out) == 8 and set(out) <= set(values)


def test_latency_records_answer_the_region_of_the_default_resolver(r53, zone):
    name = f"latency.{DOMAIN}"
    change(
        r53,
        zone["Id"],
        a(name, "192.0.2.91", SetIdentifier="eu", Region="eu-west-1"),
        a(name, "192.0.2.90", SetIdentifier="us", Region="us-east-1"),
    )
    assert ask(r53, zone, name)["RecordData"] == ["192.0.2.90"]


# ---- alias records ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def network(lab: helpers.Lab) -> dict[str, Any]:
    ec2 = lab.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]
        for cidr, az in (("10.20.1.0/24", "us-east-1a"), ("10.20.2.0/24", "us-east-1b"))
    ]
    return {"vpc": vpc, "subnets": subnets}


def make_alb(lab: helpers.Lab, network: dict[str, Any], base: str, scheme: str) -> dict[str, Any]:
    return lab.client("elbv2").create_load_balancer(
        Name=lab.name(base)[:32].rstrip("-"),
        Subnets=[s["SubnetId"] for s in network["subnets"]],
        Scheme=scheme,
        Type="application",
    )["LoadBalancers"][0]


def alias(name: str, lb: dict[str, Any], evaluate: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "A",
        "AliasTarget": {
            "HostedZoneId": lb["CanonicalHostedZoneId"],
            "DNSName": f"dualstack.{lb['DNSName']}",
            "EvaluateTargetHealth": evaluate,
        },
        **extra,
    }


def test_an_alias_to_an_internal_alb_answers_an_address_in_each_subnet(lab, r53, zone, network):
    lb = make_alb(lab, network, "inner", "internal")
    change(r53, zone["Id"], alias(f"inner.{DOMAIN}", lb))
    out = ask(r53, zone, f"inner.{DOMAIN}")
    assert out["ResponseCode"] == "NOERROR"
    assert len(out["RecordData"]) == len(network["subnets"])
    for address, subnet in zip(out["RecordData"], network["subnets"], strict=True):
        assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet["CidrBlock"])


def test_an_alias_to_an_internet_facing_alb_answers_public_addresses(lab, r53, zone, network):
    lb = make_alb(lab, network, "outer", "internet-facing")
    change(r53, zone["Id"], alias(f"shop.{DOMAIN}", lb))
    out = ask(r53, zone, f"shop.{DOMAIN}")["RecordData"]
    assert len(out) == len(network["subnets"])
    assert all(not ipaddress.ip_address(x).is_private or x.startswith("203.0.113.") for x in out)
    assert ask(r53, zone, f"shop.{DOMAIN}")["RecordData"] == out  # stable


def test_weighted_aliases_split_traffic_between_two_albs(lab, r53, zone, network):
    blue = make_alb(lab, network, "blue", "internal")
    green = make_alb(lab, network, "green", "internal")
    name = f"release.{DOMAIN}"
    change(
        r53,
        zone["Id"],
        alias(name, blue, SetIdentifier="blue", Weight=3),
        alias(name, green, SetIdentifier="green", Weight=1),
    )
    blue_ips = set(ask(r53, zone, f"release.{DOMAIN}")["RecordData"])
    picks = Counter(tuple(ask(r53, zone, name)["RecordData"]) for _ in range(800))
    assert len(picks) == 2  # the two load balancers' address sets
    shares = sorted(picks.values())
    assert abs(shares[1] - 600) < 5 * (800 * 0.75 * 0.25) ** 0.5, picks
    assert blue_ips in [set(k) for k in picks]


def test_evaluate_target_health_skips_an_alias_to_a_deleted_alb(lab, r53, zone, network):
    gone = make_alb(lab, network, "gone", "internal")
    kept = make_alb(lab, network, "kept", "internal")
    name = f"health.{DOMAIN}"
    change(
        r53,
        zone["Id"],
        alias(name, gone, evaluate=True, SetIdentifier="gone", Weight=50),
        alias(name, kept, evaluate=True, SetIdentifier="kept", Weight=50),
    )
    kept_answer = None
    lab.client("elbv2").delete_load_balancer(LoadBalancerArn=gone["LoadBalancerArn"])
    for _ in range(50):
        data = ask(r53, zone, name)["RecordData"]
        assert data, "the healthy alias always answers"
        kept_answer = kept_answer or data
        assert data == kept_answer


def test_an_alias_to_another_record_of_the_zone(r53, zone):
    change(
        r53,
        zone["Id"],
        a(f"target.{DOMAIN}", "192.0.2.100"),
        {
            "Name": DOMAIN,
            "Type": "A",
            "AliasTarget": {
                "HostedZoneId": zone["Id"].rsplit("/", 1)[-1],
                "DNSName": f"target.{DOMAIN}",
                "EvaluateTargetHealth": False,
            },
        },
    )
    assert ask(r53, zone, DOMAIN)["RecordData"] == ["192.0.2.100"]


def test_an_alias_to_a_cloudfront_distribution_answers_addresses(r53, zone):
    change(
        r53,
        zone["Id"],
        {
            "Name": f"cdn.{DOMAIN}",
            "Type": "A",
            "AliasTarget": {
                "HostedZoneId": "Z2FDTNDATAQYW2",  # CloudFront's, for every distribution
                "DNSName": "d111111abcdef8.cloudfront.net",
                "EvaluateTargetHealth": False,
            },
        },
    )
    out = ask(r53, zone, f"cdn.{DOMAIN}")["RecordData"]
    assert out and all(ipaddress.ip_address(x).version == 4 for x in out)


# ---- errors ----------------------------------------------------------------------------------
def error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response


def test_an_unknown_hosted_zone_is_no_such_hosted_zone(r53):
    refused = error(
        r53.test_dns_answer, HostedZoneId="Z0000000NOSUCH", RecordName="a.b", RecordType="A"
    )
    assert refused["Error"]["Code"] == "NoSuchHostedZone"
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_an_unknown_record_type_is_invalid_input(r53, zone):
    refused = error(
        r53.test_dns_answer, HostedZoneId=zone["Id"], RecordName=DOMAIN, RecordType="BOGUS"
    )
    assert refused["Error"]["Code"] == "InvalidInput"
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_private_hosted_zone_is_refused_as_the_reference_says(lab, r53, network):
    private = r53.create_hosted_zone(
        Name="corp.internal",
        CallerReference="answers-private",
        HostedZoneConfig={"PrivateZone": True, "Comment": "private"},
        VPC={"VPCRegion": lab.region, "VPCId": network["vpc"]},
    )["HostedZone"]["Id"]
    change(r53, private, a("db.corp.internal", "10.20.1.50"))
    refused = error(
        r53.test_dns_answer, HostedZoneId=private, RecordName="db.corp.internal", RecordType="A"
    )
    assert refused["Error"]["Code"] == "InvalidInput"
    assert "public hosted zones" in refused["Error"]["Message"]


def test_resolve_answers_for_a_private_zone_inside_the_emulator(lab, r53, network):
    """`resolve()` is what other emulator pieces use for names only a VPC sees."""
    from moto.route53.models import route53_backends

    private = r53.create_hosted_zone(
        Name="svc.internal",
        CallerReference="answers-private-resolve",
        HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": lab.region, "VPCId": network["vpc"]},
    )["HostedZone"]["Id"]
    change(r53, private, a("orders.svc.internal", "10.20.2.60"))
    backend = route53_backends[lab.account_id]["aws"]
    found = route53_answers.resolve(
        backend.zones[private.rsplit("/", 1)[-1]], "orders.svc.internal", "A"
    )
    assert (found.code, found.data) == ("NOERROR", ["10.20.2.60"])
