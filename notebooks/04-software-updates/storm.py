"""Release day at scale: a download storm, minute by minute, with and without CloudFront.

The notebook measures the real thing at small scale (a few hundred requests on loopback, or on
a real account); this model takes those measurements and the published figures below and
plays a whole release day for a fleet of devices, one lab minute at a time. Every figure is an
expected value: the same inputs give the same day.

**Demand.** Every device asks for `latest.json` (the manifest) every `poll_interval_s`, spread
evenly. At release, the devices online (`online_share`) all learn of the update within one poll
interval and download it at once; the others come online later, exponentially, with a mean
delay of `late_mean_s`.

**The origin** is the Auto Scaling group behind the ALB. An instance serves at most its
baseline network bandwidth (`bandwidth_bps`, from the instance type's published figure; the
short bursts above it are left out). What the in-service instances cannot send in a minute
waits, first come first served, for the next minute: nothing is dropped, so every request is
answered, late. A wait is the delay at the origin before a request's bytes go out (a real
server would rather slow every download at once). An instance capped at its baseline makes the
day without a CDN pessimistic: real instances burst above it for a while (network I/O credits).
An instance launched at minute *t* serves from *t + launch_s* (boot, user
data, the target group's health checks).

**Target tracking** follows the rules of the alarms an EC2 Auto Scaling target-tracking policy
creates (https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-target-tracking.html):
with one-minute metrics, the high alarm fires after 3 consecutive minutes above the target and
the low alarm after 15 consecutive minutes below 90 % of it; the new capacity is proportional,
`ceil(in service × metric / target)`, within the group's minimum and maximum. An alarm stays
in ALARM while its condition holds and invokes the policy every minute: scale-out launches
what the new capacity lacks beyond the instances in service and launching; scale-in waits
while instances are launching and is gradual ("scales out proportionally to the metric as fast
as it can, but scales in more gradually"; the step is not published: here at most a tenth of
the instances in service, at least one, each minute). The metric is the
group's average per in-service instance (instances still warming up are left out of the
aggregate): bytes sent (`ASGAverageNetworkOut`, per minute) or CPU utilisation
(`ASGAverageCPUUtilization`, %), from the CPU seconds per GB and per request measured on the
origin. CPU never limits what an instance sends: the model assumes the network is the
bottleneck, as it is for a file server (a CPU above 100 % would say it is not).

**CloudFront** answers from its caches. Each cache that holds an object fetches it from the
origin once per TTL, when a request for it arrives after it expired. Requests reach
`caches` caches (CloudFront's regional edge caches, 13 at the time of writing; 1 with Origin
Shield); within a TTL window a cache fetches an object at most once, and never more often than
it is asked: the first requests of a window are taken to reach different caches, the worst
case. TTL windows are counted from the release for every cache alike (a cache that
fetched late in a window refreshes early); edge locations below the regional caches, and
evictions of rarely asked objects, are left out.

The queue at the origin must drain within `MAX_DRAIN_DAYS` after the day: a fleet too small for
the storm is refused with an error naming what to raise.

`served at the edge + served by the origin = requests`, every minute: the tests check it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

MINUTE = 60
HIGH_ALARM_MINUTES = 3
LOW_ALARM_MINUTES = 15
LOW_ALARM_SHARE = 0.9
MAX_DRAIN_DAYS = 30
SCALE_IN_SHARE = 10  # scale-in removes at most 1/10 of the instances in service a minute


@dataclass(frozen=True)
class Release:
    """Who asks for what, and when."""

    devices: int = 200_000
    update_bytes: int = 100_000_000
    manifest_bytes: int = 600
    poll_interval_s: int = 3600
    online_share: float = 0.5
    late_mean_s: int = 6 * 3600
    hours: int = 24
    files: int = 1  # update files asked for evenly (builds per platform, deltas per old version)

    def __post_init__(self) -> None:
        if self.devices < 0 or self.update_bytes <= 0 or self.manifest_bytes <= 0:
            raise ValueError("Release: devices >= 0; update_bytes and manifest_bytes above 0")
        if not 0 <= self.online_share <= 1:
            raise ValueError(f"Release: online_share is a share in [0, 1], not {self.online_share}")
        if self.files < 1:
            raise ValueError(f"Release: files is at least 1 (one update file), not {self.files}")
        if self.poll_interval_s < MINUTE or self.late_mean_s <= 0 or self.hours <= 0:
            raise ValueError(
                "Release: poll_interval_s is at least 60 s; late_mean_s and hours above 0"
            )

    @property
    def minutes(self) -> int:
        return self.hours * 60

    def polls(self) -> list[int]:
        """Manifest requests per minute (whole requests, adding up exactly)."""
        rate = self.devices * MINUTE / self.poll_interval_s
        return _whole([rate] * self.minutes)

    def downloads(self) -> list[int]:
        """Update downloads per minute (whole requests, adding up exactly)."""
        window = self.poll_interval_s / MINUTE
        online = self.devices * self.online_share
        late = self.devices - online
        mean = self.late_mean_s / MINUTE
        out = []
        for m in range(self.minutes):
            first = online * max(0.0, min(m + 1, window) - m) / window if m < window else 0.0
            later = late * (math.exp(-m / mean) - math.exp(-(m + 1) / mean))
            out.append(first + later)
        return _whole(out)


@dataclass(frozen=True)
class Fleet:
    """The Auto Scaling group and its target-tracking policy."""

    instance_type: str = "m6i.large"
    bandwidth_bps: float = 0.781e9  # m6i.large baseline network bandwidth, bits per second
    vcpus: int = 2
    min_size: int = 2
    max_size: int = 40
    launch_s: int = 240
    metric: str = "network"  # "network" (ASGAverageNetworkOut) or "cpu" (ASGAverageCPUUtilization)
    target: float = 0.6  # network: the share of the baseline bandwidth; cpu: the share of vCPUs
    cpu_s_per_gb: float = 1.0  # CPU seconds to serve 1 GB (the notebook measures it offline)
    cpu_s_per_request: float = 0.001  # CPU seconds per request besides its bytes (likewise)

    def __post_init__(self) -> None:
        if self.metric not in ("network", "cpu"):
            raise ValueError(f"Fleet: metric is 'network' or 'cpu', not {self.metric!r}")
        if not 1 <= self.min_size <= self.max_size:
            raise ValueError("Fleet: 1 <= min_size <= max_size")
        if not 0 < self.target <= 1:
            raise ValueError(f"Fleet: target is a share in (0, 1], not {self.target}")
        if self.bandwidth_bps <= 0 or self.vcpus <= 0 or self.launch_s < 0:
            raise ValueError("Fleet: bandwidth_bps and vcpus above 0, launch_s at least 0")

    @property
    def bytes_per_minute(self) -> float:
        """What one instance can send in a minute at its baseline bandwidth."""
        return self.bandwidth_bps / 8 * MINUTE

    @property
    def target_value(self) -> float:
        """The policy's TargetValue: bytes per instance per minute, or CPU %."""
        if self.metric == "network":
            return self.target * self.bytes_per_minute
        return self.target * 100


@dataclass(frozen=True)
class Edge:
    """A CloudFront distribution in front of the origin."""

    update_ttl_s: int = 86_400  # the /updates/* behaviour
    manifest_ttl_s: int = 60  # the default behaviour, for latest.json
    caches: int = 13  # regional edge caches that see requests; 1 with Origin Shield

    def __post_init__(self) -> None:
        if self.update_ttl_s < 0 or self.manifest_ttl_s < 0 or self.caches < 1:
            raise ValueError(
                "Edge: update_ttl_s and manifest_ttl_s at least 0 s; caches at least 1"
            )


@dataclass
class Day:
    """What happened, minute by minute (lists of equal length), and the totals."""

    requests: list[int] = field(default_factory=list)
    edge_hits: list[int] = field(default_factory=list)
    origin_requests: list[int] = field(default_factory=list)
    origin_bytes: list[float] = field(default_factory=list)  # bytes the origin sent
    edge_bytes: list[float] = field(default_factory=list)  # bytes CloudFront sent to viewers
    in_service: list[int] = field(default_factory=list)
    running: list[int] = field(default_factory=list)  # in service + launching (billed)
    metric: list[float] = field(default_factory=list)
    cpu_pct: list[float] = field(default_factory=list)
    download_wait_s: list[float] = field(default_factory=list)  # queueing at the origin
    answered: list[float] = field(default_factory=list)  # origin requests answered this minute
    answered_downloads: list[float] = field(default_factory=list)  # of them, update downloads
    alarms: list[str] = field(default_factory=list)  # "high"/"low" when one fired, else ""

    def add(self, **minute: float | int | str) -> None:
        """Append one minute: a value for every series."""
        for name, value in minute.items():
            getattr(self, name).append(value)

    @property
    def total_requests(self) -> int:
        return sum(self.requests)

    @property
    def instance_hours(self) -> float:
        return sum(self.running) / 60

    @property
    def peak_instances(self) -> int:
        return max(self.running)


def simulate(release: Release, fleet: Fleet, edge: Edge | None = None) -> Day:
    """Play the release day; with `edge`, viewers ask CloudFront and only misses reach the ALB.

    The queue at the origin drains before the day ends (or the run goes on past `hours`, with
    no new requests, until it has), so every request is answered within the returned minutes.
    """
    polls, downloads = release.polls(), release.downloads()
    day = Day()
    # [requests, downloads among them, bytes, minute it arrived], first come first served
    queue: list[list[float]] = []
    launching: list[int] = []  # minutes at which launched instances come into service
    in_service = fleet.min_size
    above = below = 0
    caches = _Caches(edge, release.files) if edge is not None else None
    minute = 0
    while minute < release.minutes or queue:
        if minute >= release.minutes + MAX_DRAIN_DAYS * 24 * 60:
            raise ValueError(
                f"the origin would still be sending the day's downloads {MAX_DRAIN_DAYS} days "
                "later: raise the Fleet's max_size or bandwidth_bps"
            )
        new_polls = polls[minute] if minute < release.minutes else 0
        new_downloads = downloads[minute] if minute < release.minutes else 0
        requests = new_polls + new_downloads
        if caches is None:
            origin_polls, origin_downloads = new_polls, new_downloads
        else:
            origin_polls = caches.manifest_misses(new_polls, minute)
            origin_downloads = caches.update_misses(new_downloads, minute)
        origin_requests = origin_polls + origin_downloads
        hits = requests - origin_requests
        edge_bytes = 0.0
        if edge is not None:
            edge_bytes = new_polls * release.manifest_bytes + new_downloads * release.update_bytes
        arriving = origin_polls * release.manifest_bytes + origin_downloads * release.update_bytes
        if origin_requests:
            queue.append(
                [float(origin_requests), float(origin_downloads), float(arriving), float(minute)]
            )

        # instances that finished launching come into service
        in_service += sum(1 for t in launching if t <= minute)
        launching = [t for t in launching if t > minute]

        # the in-service instances send what they can, first come first served
        budget = in_service * fleet.bytes_per_minute
        sent = answered = answered_downloads = 0.0
        waits: list[tuple[float, float]] = []
        while queue and budget > 0:
            count, fetches, size, arrived = queue[0]
            share = 1.0 if size <= budget else budget / size
            sent += size * share
            answered += count * share
            answered_downloads += fetches * share
            waits.append((count * share, (minute - arrived) * MINUTE))
            if share == 1.0:
                budget -= size
                queue.pop(0)
            else:  # the rest of this minute's arrivals waits for the next minute
                budget = 0.0
                rest = 1 - share
                queue[0] = [count * rest, fetches * rest, size * rest, arrived]
        wait = sum(n * w for n, w in waits) / sum(n for n, _ in waits) if waits else 0.0

        cpu_s = (sent / 1e9) * fleet.cpu_s_per_gb + answered * fleet.cpu_s_per_request
        cpu_pct = 100 * cpu_s / (in_service * fleet.vcpus * MINUTE)
        metric = sent / in_service if fleet.metric == "network" else cpu_pct

        # target tracking: the alarms, then the proportional new capacity
        fired = ""
        above = above + 1 if metric > fleet.target_value else 0
        below = below + 1 if metric < LOW_ALARM_SHARE * fleet.target_value else 0
        desired = in_service + len(launching)
        if above >= HIGH_ALARM_MINUTES:
            wanted = min(fleet.max_size, math.ceil(in_service * metric / fleet.target_value))
            if wanted > desired:  # the alarm stays in ALARM and invokes the policy each minute
                launching += [minute + math.ceil(fleet.launch_s / MINUTE)] * (wanted - desired)
                fired = "high"
        elif below >= LOW_ALARM_MINUTES and not launching:
            wanted = max(fleet.min_size, math.ceil(in_service * metric / fleet.target_value))
            if wanted < in_service:  # gradually: at most a tenth of the group a minute
                in_service -= min(in_service - wanted, max(1, in_service // SCALE_IN_SHARE))
                fired = "low"

        day.add(
            requests=requests,
            edge_hits=hits,
            origin_requests=origin_requests,
            origin_bytes=sent,
            edge_bytes=edge_bytes,
            in_service=in_service,
            running=in_service + len(launching),
            metric=metric,
            cpu_pct=cpu_pct,
            download_wait_s=wait,
            answered=answered,
            answered_downloads=answered_downloads,
            alarms=fired,
        )
        minute += 1
    return day


class _Caches:
    """CloudFront's caches over a day: which objects each cache fetched in each TTL window."""

    def __init__(self, edge: Edge, files: int):
        self.edge, self.files = edge, files
        self.fetched: dict[tuple[str, int], int] = {}  # (object, TTL window) -> caches that did
        self.dealt = 0  # downloads dealt out to the update files so far

    def manifest_misses(self, requests: int, minute: int) -> int:
        """Polls of latest.json this minute that reach the origin."""
        return self._misses("manifest", requests, minute, self.edge.manifest_ttl_s)

    def update_misses(self, requests: int, minute: int) -> int:
        """Downloads this minute, dealt over the update files, that reach the origin."""
        spread = _spread(requests, self.files, self.dealt)
        self.dealt += requests
        ttl = self.edge.update_ttl_s
        return sum(self._misses(f"update-{i}", n, minute, ttl) for i, n in enumerate(spread))

    def _misses(self, name: str, requests: int, minute: int, ttl_s: int) -> int:
        """Requests for one object that no cache could answer this minute (origin fetches)."""
        if requests == 0:
            return 0
        if ttl_s < MINUTE:  # expires within the minute: every cache refreshes 60/ttl times
            refreshes = MINUTE // ttl_s if ttl_s else requests
            return min(requests, self.edge.caches * refreshes)
        window = (minute * MINUTE) // ttl_s
        done = self.fetched.get((name, window), 0)
        new = min(requests, self.edge.caches - done)
        self.fetched[(name, window)] = done + new
        return new


def _spread(count: int, files: int, dealt: int = 0) -> list[int]:
    """`count` requests over `files` files, dealt in turn after the `dealt` before them: as even
    as whole requests go within the minute, and over the day (the odd ones rotate)."""
    return [(dealt + count - i - 1) // files - (dealt - i - 1) // files for i in range(files)]


def hit_ratio(release: Release, edge: Edge) -> float:
    """The share of update downloads CloudFront answers from its caches over the release day."""
    downloads = release.downloads()
    caches = _Caches(edge, release.files)
    misses = sum(caches.update_misses(count, minute) for minute, count in enumerate(downloads))
    total = sum(downloads)
    return 1 - misses / total if total else 0.0


def _whole(rates: list[float]) -> list[int]:
    """Round a series to whole numbers whose running total stays within 1 of the exact one."""
    out, total, given = [], 0.0, 0
    for rate in rates:
        total += rate
        now = round(total) - given
        out.append(now)
        given += now
    return out


def percentile(values: list[float], weights: list[float], share: float) -> float:
    """The weighted `share` quantile (0..1) of `values`: e.g. the wait of the 95th-percentile
    request when `weights` are the requests answered each minute."""
    if not 0 <= share <= 1:
        raise ValueError(f"percentile: share is in [0, 1], not {share}")
    if len(values) != len(weights):
        raise ValueError("percentile: one weight per value")
    pairs = sorted((v, w) for v, w in zip(values, weights, strict=True) if w > 0)
    if not pairs:
        return 0.0
    goal, seen = share * sum(w for _, w in pairs), 0.0
    for value, weight in pairs:
        seen += weight
        if seen >= goal:
            return value
    return pairs[-1][0]
