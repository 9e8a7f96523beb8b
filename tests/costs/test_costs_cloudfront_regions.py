"""CloudFront by pricing region and price class.

Every rate below is AWS's, quoted from the on-demand price page
(https://aws.amazon.com/cloudfront/pricing/: "Regional Data Transfer Out to Internet (per GB)" and
the HTTP/HTTPS request prices per 10,000), and price-class membership and billing from the
Developer Guide, "Choosing the price class for a CloudFront distribution"
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/PriceClass.html). Expected
figures are worked out here by hand from those numbers, never read back from the module.
"""

from datetime import date
from decimal import Decimal

import pytest

from helpers import costs

ON = date(2026, 11, 1)

# First 10 TB, next 40 TB, next 100 TB, next 350 TB, next 524 TB, next 4 PB, over 5 PB ($/GB).
DATA_OUT = {
    "us": ("0.085", "0.080", "0.060", "0.040", "0.030", "0.025", "0.020"),
    "europe": ("0.085", "0.080", "0.060", "0.040", "0.030", "0.025", "0.020"),
    "middle_east_africa": ("0.110", "0.105", "0.090", "0.080", "0.060", "0.050", "0.040"),
    "south_america": ("0.110", "0.105", "0.090", "0.080", "0.060", "0.050", "0.040"),
    "japan": ("0.114", "0.089", "0.086", "0.084", "0.080", "0.070", "0.060"),
    "australia": ("0.114", "0.098", "0.094", "0.092", "0.090", "0.085", "0.080"),
    "asia_pacific": ("0.120", "0.100", "0.095", "0.090", "0.080", "0.070", "0.060"),
    "india": ("0.109", "0.085", "0.082", "0.080", "0.078", "0.075", "0.072"),
}
# (HTTP, HTTPS) $ per 10,000 requests.
REQUESTS = {
    "us": ("0.0075", "0.0100"),
    "europe": ("0.0090", "0.0120"),
    "middle_east_africa": ("0.0090", "0.0120"),
    "south_america": ("0.0160", "0.0220"),
    "japan": ("0.0090", "0.0120"),
    "australia": ("0.0090", "0.0125"),
    "asia_pacific": ("0.0090", "0.0120"),
    "india": ("0.0090", "0.0120"),
}
# The tier widths in GB (AWS bills 1 TB = 1,024 GB): 10 TB, 40 TB, 100 TB, 350 TB, 524 TB, 4 PB.
TIER_GB = (10_240, 40_960, 102_400, 358_400, 536_576, 4_194_304)


def rate(region: str, tier: int = 0) -> Decimal:
    return Decimal(DATA_OUT[region][tier])


def per_10k(region: str, https: bool = True) -> Decimal:
    return Decimal(REQUESTS[region][1 if https else 0])


# --------------------------------------------------------------------------- regions
def test_every_pricing_region_on_aws_page_is_known():
    assert set(costs.CLOUDFRONT_REGIONS) == set(DATA_OUT)
    assert "Japan" in costs.CLOUDFRONT_REGIONS["japan"]
    assert "Vietnam" in costs.CLOUDFRONT_REGIONS["asia_pacific"]
    assert "Kenya" in costs.CLOUDFRONT_REGIONS["middle_east_africa"]


@pytest.mark.parametrize("region", sorted(DATA_OUT))
def test_each_region_bills_its_own_seven_tiers(region):
    """5 PB plus 1,000 GB without the free tier: each slice at that region's published rate."""
    slices = (*TIER_GB, 1000)
    cost = costs.cloudfront_cost(
        data_out_gb=sum(slices), requests=0, region=region, free_tier=False, on=ON
    )
    assert cost == sum(Decimal(gb) * rate(region, i) for i, gb in enumerate(slices))


@pytest.mark.parametrize("region", sorted(REQUESTS))
@pytest.mark.parametrize("https", [True, False], ids=["https", "http"])
def test_each_region_bills_its_request_price(region, https):
    """1M requests = 100 x the price per 10,000."""
    cost = costs.cloudfront_cost(
        data_out_gb=0, requests=1_000_000, region=region, https=https, free_tier=False, on=ON
    )
    assert cost == 100 * per_10k(region, https)


def test_india_matches_an_independent_price_list_computation():
    """infracost's golden test, priced from the AWS Price List API on 2021-10-13 (commit
    d1c8b60fc), billed 12,340,000 GB to India: $1,116.16 + $3,481.60 + $8,396.80 + $28,672.00 +
    $41,852.93 + $314,572.80 + $510,992.64 (each line rounded to the cent)."""
    published = ["1116.16", "3481.60", "8396.80", "28672.00", "41852.93", "314572.80", "510992.64"]
    cost = costs.cloudfront_cost(
        data_out_gb=12_340_000, requests=0, region="india", free_tier=False, on=ON
    )
    assert abs(cost - sum(Decimal(p) for p in published)) <= Decimal("0.01")


def test_new_regions_have_no_price_before_the_first_sourced_date():
    """The regional rates are recorded 'in force by' 2021-10-13 (data) and 2021-06-02 (requests)."""
    with pytest.raises(ValueError, match=r"no sourced price for cloudfront\.data_out\.japan"):
        costs.cloudfront_cost(data_out_gb=1, requests=0, region="japan", on=date(2021, 10, 12))
    assert costs.cloudfront_cost(
        data_out_gb=1, requests=0, region="japan", free_tier=False, on=date(2021, 10, 13)
    ) == rate("japan")


# --------------------------------------------------------------------------- price classes
@pytest.mark.parametrize(
    ("price_class", "regions"),
    [
        ("PriceClass_100", {"us", "europe"}),
        (
            "PriceClass_200",
            {"us", "europe", "middle_east_africa", "japan", "asia_pacific", "india"},
        ),
        ("PriceClass_All", set(DATA_OUT)),
    ],
)
def test_price_class_regions_follow_the_developer_guide_table(price_class, regions):
    """Price Class 100: North America and Europe; Price Class 200 adds South Africa, Kenya and
    the Middle East, Japan, Hong Kong/Indonesia/Philippines/Singapore/South Korea/Taiwan/Thailand,
    and India (not South America, not Australia and New Zealand); Price Class All: everything."""
    assert set(costs.cloudfront_price_class_regions(price_class, on=ON)) == regions


def test_unknown_price_class_names_the_accepted_ones():
    with pytest.raises(
        ValueError,
        match=r"price_class must be one of 'PriceClass_100', 'PriceClass_200', 'PriceClass_All'",
    ):
        costs.cloudfront_price_class_regions("PriceClass_300")


def test_viewers_inside_the_class_pay_their_own_region():
    """Japan is in Price Class 200: 2,048 GB and 20M HTTPS requests, free tier applied, are
    1,024 GB x $0.114 + 1,000 x $0.0120."""
    cost = costs.cloudfront_mix_cost(
        data_out_gb=2048,
        requests=20_000_000,
        viewers={"japan": 1},
        price_class="PriceClass_200",
        on=ON,
    )
    assert cost == 1024 * rate("japan") + 1000 * per_10k("japan")


def test_viewers_outside_the_class_default_to_its_least_expensive_region():
    """Price Class 100 serves Japan from US or European edges. AWS bills the serving location's
    region and, when it serves from outside the class, 'the rate for the least expensive region
    in your price class': the US ($0.085/GB, $0.0100 per 10,000 HTTPS), also the lowest rate a
    viewer outside the class can cost."""
    usage = dict(data_out_gb=2048, requests=20_000_000, viewers={"japan": 1}, on=ON)
    limited = costs.cloudfront_mix_cost(**usage, price_class="PriceClass_100")
    assert limited == 1024 * rate("us") + 1000 * per_10k("us")
    everywhere = costs.cloudfront_mix_cost(**usage, price_class="PriceClass_All")
    assert everywhere == 1024 * rate("japan") + 1000 * per_10k("japan")
    breakdown = costs.explain("cloudfront_mix", **usage, price_class="PriceClass_100")
    notes = " ".join(item.note for item in breakdown.items if item.dimension.endswith("(us)"))
    assert "japan" in notes and "PriceClass_100" in notes


def test_served_from_names_the_in_class_region_that_serves_outside_viewers():
    """Australian viewers under Price Class 200, served from Asia Pacific edges, pay Asia
    Pacific's $0.120/GB and $0.0120 per 10,000 HTTPS (more than Australia's own $0.114)."""
    usage = dict(data_out_gb=2048, requests=20_000_000, viewers={"australia": 1}, on=ON)
    cost = costs.cloudfront_mix_cost(
        **usage, price_class="PriceClass_200", served_from={"australia": "asia_pacific"}
    )
    assert cost == 1024 * rate("asia_pacific") + 1000 * per_10k("asia_pacific")
    default = costs.cloudfront_mix_cost(**usage, price_class="PriceClass_200")
    assert default == 1024 * rate("us") + 1000 * per_10k("us")


@pytest.mark.parametrize(
    "served_from",
    [{"japan": "india"}, {"us": "europe"}, {"mars": "us"}, ["japan", "us"]],
    ids=["to-outside-region", "from-inside-region", "unknown-region", "not-a-mapping"],
)
def test_served_from_must_map_outside_regions_to_inside_ones(served_from):
    with pytest.raises(ValueError, match=r"^served_from must map regions outside PriceClass_100"):
        costs.cloudfront_mix_cost(
            data_out_gb=1,
            requests=1,
            viewers={"japan": 1},
            price_class="PriceClass_100",
            served_from=served_from,
            on=ON,
        )


@pytest.mark.parametrize(
    "viewers",
    [{}, {"mars": 1}, {"us": -1}, {"us": 0}, {"us": "half"}, [("us", 1)]],
    ids=["empty", "unknown-region", "negative", "zero-total", "not-a-number", "not-a-mapping"],
)
def test_viewers_must_be_shares_by_region(viewers):
    with pytest.raises(ValueError, match=r"^viewers must"):
        costs.cloudfront_mix_cost(data_out_gb=1, requests=1, viewers=viewers, on=ON)


# --------------------------------------------------------------------------- a mix of regions
def test_usage_tiers_are_measured_separately_for_each_region():
    """CloudFront FAQ: 'Usage tiers for data transfer are measured separately for each
    geographic region.' 10 TB to the US and 10 TB to Europe both stay in the first tier; 20 TB to
    the US alone reaches the second ($0.080)."""
    mixed = costs.cloudfront_mix_cost(
        data_out_gb=20_480,
        requests=0,
        viewers={"us": 1, "europe": 1},
        free_tier=False,
        on=ON,
    )
    assert mixed == 20_480 * rate("us")
    alone = costs.cloudfront_cost(data_out_gb=20_480, requests=0, free_tier=False, on=ON)
    assert alone == 10_240 * rate("us", 0) + 10_240 * rate("us", 1)


def test_the_free_tier_is_one_allowance_for_all_regions():
    """1 TB and 10M requests a month in all, not per region. 1,024 GB and 10M HTTPS requests to
    each of the US and Europe leave one region's worth billed; the free requests go to the more
    expensive European ones ($0.0120), as the module assumes (AWS does not publish the split)."""
    cost = costs.cloudfront_mix_cost(
        data_out_gb=2048, requests=20_000_000, viewers={"us": 1, "europe": 1}, on=ON
    )
    assert cost == 1024 * rate("us") + 1000 * per_10k("us")
    before = costs.cloudfront_mix_cost(
        data_out_gb=2048,
        requests=20_000_000,
        viewers={"us": 1, "europe": 1},
        on=date(2021, 11, 30),
    )
    # Before December 2021: 50 GB and 2M requests (to the European requests first).
    europe = 1024 * rate("europe") + 800 * per_10k("europe")
    us = 974 * rate("us") + 1000 * per_10k("us")
    assert before == europe + us


def test_a_viewer_mix_splits_data_and_requests_by_share():
    """60% US, 30% Europe, 10% India of 20,000 GB and 100M HTTPS requests, no free tier:
    12,000 GB = 10,240 x $0.085 + 1,760 x $0.080 and 60M requests x $0.0100/10k in the US;
    6,000 GB x $0.085 and 30M x $0.0120/10k in Europe; 2,000 GB x $0.109 and 10M x $0.0120/10k in
    India."""
    cost = costs.cloudfront_mix_cost(
        data_out_gb=20_000,
        requests=100_000_000,
        viewers={"us": 60, "europe": 30, "india": 10},
        free_tier=False,
        on=ON,
    )
    us = 10_240 * rate("us") + 1_760 * rate("us", 1) + 6_000 * per_10k("us")
    europe = 6_000 * rate("europe") + 3_000 * per_10k("europe")
    india = 2_000 * rate("india") + 1_000 * per_10k("india")
    assert cost == us + europe + india


def test_price_class_100_for_a_worldwide_audience():
    """Half the viewers in the US, half in Japan, 4,096 GB and 40M HTTPS requests. Price Class
    All: US 2,048 GB x $0.085 + Japan (2,048 - 1,024 free) x $0.114; requests: Japan's 20M minus
    10M free x $0.0120 + US 20M x $0.0100. Price Class 100 bills Japan's half at US rates."""
    usage = dict(data_out_gb=4096, requests=40_000_000, viewers={"us": 0.5, "japan": 0.5}, on=ON)
    everywhere = costs.cloudfront_mix_cost(**usage)
    assert everywhere == (
        2048 * rate("us") + 1024 * rate("japan") + 2000 * per_10k("us") + 1000 * per_10k("japan")
    )
    limited = costs.cloudfront_mix_cost(**usage, price_class="PriceClass_100")
    assert limited == 3072 * rate("us") + 3000 * per_10k("us")


# --------------------------------------------------------------------------- S3 direct
def test_s3_direct_month_against_cloudfront():
    """5 TB (5,120 GB) and 10M GETs a month. Straight from S3: 10M x $0.0004/1,000 = $4 plus
    (5,120 - 100 free) GB x $0.09 = $451.80, so $455.80. Through CloudFront (US): (5,120 - 1,024)
    GB x $0.085 = $348.16, the 10M requests free; origin fetches from S3 cost nothing (S3 GETs for
    cache misses are billed by S3)."""
    direct = costs.s3_cost(get_requests=10_000_000, data_out_gb=5120, on=ON)
    assert direct == Decimal("4") + 5020 * Decimal("0.09")
    cdn = costs.cloudfront_cost(data_out_gb=5120, requests=10_000_000, on=ON)
    assert cdn == 4096 * rate("us")
