"""EC2 instances of an Auto Scaling group serve an EFS directory through an ALB, offline.

Contract: Amazon EC2 User Guide, "Run commands when you launch an EC2 instance with user data
input" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html: a `#!` script
runs once at first boot; gzip-compressed user data is unpacked by cloud-init); Amazon EFS User
Guide, mounting with the EFS mount helper and with NFS (a mount target in the instance's
Availability Zone); EC2 Auto Scaling User Guide, "Use ELB to distribute incoming application
traffic in your Auto Scaling group" (instances launched by the group are registered with its
target groups and those it terminates are deregistered,
https://docs.aws.amazon.com/autoscaling/ec2/userguide/autoscaling-load-balancer.html); ALB
target groups route round robin by default; the ALB answers 503 when no target can take the
request (load-balancer-troubleshooting.html). Python's `http.server` sends the file with
Content-Length and Last-Modified (its mtime), and 404 for a missing file.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from botocore.exceptions import ClientError

from helpers.emulator.instances import start_server, stop_process
from tests.emulator.vpc_support import two_zone_vpc

BACKENDS = ("moto", "moto-server")
AMI = "ami-12c6146b"
# the chapter's user data, as it runs on an Amazon Linux 2023 instance
USER_DATA = """#!/bin/bash
set -euo pipefail
dnf install -y amazon-efs-utils
mkdir -p /mnt/efs
mount -t efs -o tls {fs}:/ /mnt/efs
cd /mnt/efs/updates   # may or may not be present; prefer --directory
nohup python3 -m http.server 80 --directory /mnt/efs/updates > /var/log/updates.log 2>&1 &
"""
SERVICE_UNAVAILABLE = "503 Service Temporarily Unavailable"


@pytest.fixture(scope="module")
def network(lab) -> tuple[str, list[str]]:
    """A VPC with a subnet in each of two Availability Zones."""
    return two_zone_vpc(lab)


@pytest.fixture(scope="module")
def file_system(lab, network) -> str:
    """An EFS file system with a mount target in each subnet, and an `updates` folder."""
    efs = lab.client("efs")
    fs = efs.create_file_system(CreationToken=lab.name("updates"))["FileSystemId"]
    for subnet in network[1]:
        efs.create_mount_target(FileSystemId=fs, SubnetId=subnet)
    (lab.emulator.efs.directory(fs) / "updates").mkdir(exist_ok=True)
    return fs


@pytest.fixture(scope="module")
def updates(lab, file_system) -> Path:
    """The `updates` folder of the file system, as this machine holds it."""
    return lab.emulator.efs.directory(file_system) / "updates"


@dataclass
class Fleet:
    """An Auto Scaling group behind an internet-facing ALB (HTTP:80 → target group :80)."""

    lab: object
    group: str
    target_group: str
    dns: str

    def url(self, path: str) -> str:
        return f"http://{self.dns}{path}"

    def in_service(self) -> set[str]:
        asg = self.lab.client("autoscaling")
        found = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[self.group])
        return {i["InstanceId"] for i in found["AutoScalingGroups"][0]["Instances"]}

    def registered(self) -> set[str]:
        elb = self.lab.client("elbv2")
        health = elb.describe_target_health(TargetGroupArn=self.target_group)
        return {t["Target"]["Id"] for t in health["TargetHealthDescriptions"]}

    def scale(self, desired: int) -> None:
        self.lab.client("autoscaling").set_desired_capacity(
            AutoScalingGroupName=self.group, DesiredCapacity=desired
        )


@pytest.fixture
def fleet(lab, network) -> Iterator:
    """fleet(base, script, desired=2, raw=None) -> Fleet, launched from a launch template whose
    user data is `script` (or the bytes `raw`); the groups are deleted after the test."""
    ec2, elb, asg = lab.client("ec2"), lab.client("elbv2"), lab.client("autoscaling")
    vpc, subnets = network
    made: list[str] = []

    def _make(base: str, script: str, *, desired: int = 2, raw: bytes | None = None) -> Fleet:
        user_data = base64.b64encode(raw if raw is not None else script.encode()).decode()
        template = lab.name(f"{base}-lt")
        ec2.create_launch_template(
            LaunchTemplateName=template,
            LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro", "UserData": user_data},
        )
        lb = elb.create_load_balancer(Name=lab.name(base), Subnets=subnets)["LoadBalancers"][0]
        elb.get_waiter("load_balancer_available").wait(LoadBalancerArns=[lb["LoadBalancerArn"]])
        group_arn = elb.create_target_group(
            Name=lab.name(f"{base}-tg"), Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
        )["TargetGroups"][0]["TargetGroupArn"]
        elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": group_arn}],
        )
        name = lab.name(f"{base}-asg")
        asg.create_auto_scaling_group(
            AutoScalingGroupName=name,
            MinSize=0,
            MaxSize=6,
            DesiredCapacity=desired,
            LaunchTemplate={"LaunchTemplateName": template, "Version": "$Latest"},
            VPCZoneIdentifier=",".join(subnets),
            TargetGroupARNs=[group_arn],
        )
        made.append(name)
        return Fleet(lab, name, group_arn, lb["DNSName"])

    yield _make
    for name in made:  # their instances terminate and their servers stop
        with contextlib.suppress(ClientError):  # a test deleted it already
            asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)


def requests_by_instance(lab, before: dict | None = None) -> dict[str, int]:
    """Requests each instance was sent, since `before` (an earlier usage())."""
    before = before or {}
    return {
        iid: use["requests"] - before.get(iid, {}).get("requests", 0)
        for iid, use in lab.emulator.instances.usage().items()
    }


def refuses_connections(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=2).close()
    except OSError:
        return True
    return False


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=10)


# ---- serving ------------------------------------------------------------------------------
def test_the_instances_serve_the_efs_files_through_the_load_balancer(
    lab, fleet, file_system, updates
):
    package = bytes(range(256)) * 40
    (updates / "v2.bin").write_bytes(package)
    app = fleet("serve", USER_DATA.format(fs=file_system))

    resp = get(app.url("/v2.bin"))

    assert resp.status_code == 200
    assert resp.content == package
    assert resp.headers["Content-Length"] == str(len(package))
    mtime = (updates / "v2.bin").stat().st_mtime
    assert resp.headers["Last-Modified"] == formatdate(mtime, usegmt=True)
    assert resp.headers["Server"].startswith("SimpleHTTP/")  # the instance's own server
    missing = get(app.url("/v3.bin"))
    assert missing.status_code == 404
    assert "File not found" in missing.text


def test_a_file_written_after_the_first_request_is_served_too(lab, fleet, file_system, updates):
    app = fleet("later", USER_DATA.format(fs=file_system), desired=1)
    assert get(app.url("/manifest-later.json")).status_code == 404

    (updates / "manifest-later.json").write_text('{"version": 3}')  # the shared file system

    assert get(app.url("/manifest-later.json")).json() == {"version": 3}


def test_requests_take_turns_among_the_in_service_instances(lab, fleet, file_system, updates):
    (updates / "turns.txt").write_text("turns")
    app = fleet("turns", USER_DATA.format(fs=file_system), desired=3)
    get(app.url("/turns.txt"))
    before = lab.emulator.instances.usage()

    assert {get(app.url("/turns.txt")).text for _ in range(9)} == {"turns"}

    sent = requests_by_instance(lab, before)
    assert {iid: sent[iid] for iid in app.in_service()} == dict.fromkeys(app.in_service(), 3)
    usage = lab.emulator.instances.usage()
    assert all(usage[iid]["cpu_s"] > 0 for iid in app.in_service())  # each ran its own server
    sent_bytes = {iid: usage[iid]["bytes"] - before[iid]["bytes"] for iid in app.in_service()}
    assert sent_bytes == dict.fromkeys(app.in_service(), 3 * len("turns"))  # bodies only


def test_instances_launched_on_scale_out_serve(lab, fleet, file_system, updates):
    (updates / "scale-out.txt").write_text("more")
    app = fleet("out", USER_DATA.format(fs=file_system), desired=1)
    assert get(app.url("/scale-out.txt")).text == "more"

    app.scale(3)
    assert app.registered() == app.in_service() and len(app.in_service()) == 3
    before = lab.emulator.instances.usage()
    answers = [get(app.url("/scale-out.txt")) for _ in range(6)]

    assert [(r.status_code, r.text) for r in answers] == [(200, "more")] * 6
    sent = requests_by_instance(lab, before)
    assert {iid: sent[iid] for iid in app.in_service()} == dict.fromkeys(app.in_service(), 2)


def test_scale_in_deregisters_the_terminated_instances_and_stops_their_servers(
    lab, fleet, file_system, updates
):
    (updates / "scale-in.txt").write_text("fewer")
    app = fleet("in", USER_DATA.format(fs=file_system), desired=3)
    for _ in range(3):
        assert get(app.url("/scale-in.txt")).text == "fewer"
    stand_ins = lab.emulator.alb.stand_ins
    servers = {iid: stand_ins.find(iid, 80) for iid in app.in_service()}
    assert all(isinstance(url, str) for url in servers.values())

    app.scale(1)

    (kept,) = app.in_service()
    assert app.registered() == {kept}  # the terminated ones are no longer listed
    for iid, url in servers.items():
        if iid != kept:
            assert stand_ins.find(iid, 80) is None
            assert refuses_connections(url)
    before = lab.emulator.instances.usage()
    assert {get(app.url("/scale-in.txt")).text for _ in range(3)} == {"fewer"}
    assert {iid: n for iid, n in requests_by_instance(lab, before).items() if n} == {kept: 3}


def test_a_detached_instance_is_deregistered_and_keeps_running(lab, fleet, file_system, updates):
    (updates / "detach.txt").write_text("still here")
    app = fleet("detach", USER_DATA.format(fs=file_system), desired=2)
    assert get(app.url("/detach.txt")).text == "still here"
    detached, kept = sorted(app.in_service())

    lab.client("autoscaling").detach_instances(
        AutoScalingGroupName=app.group, InstanceIds=[detached], ShouldDecrementDesiredCapacity=True
    )

    assert app.registered() == app.in_service() == {kept}
    ec2 = lab.client("ec2")
    state = ec2.describe_instances(InstanceIds=[detached])["Reservations"][0]["Instances"][0]
    assert state["State"]["Name"] == "running"
    # registered again by hand, it stays when the group scales in
    lab.client("elbv2").register_targets(
        TargetGroupArn=app.target_group, Targets=[{"Id": detached}]
    )
    app.scale(0)
    assert app.registered() == {detached}
    assert get(app.url("/detach.txt")).text == "still here"  # its server kept running


def test_deleting_the_group_deregisters_all_its_instances(lab, fleet, file_system):
    app = fleet("delete", USER_DATA.format(fs=file_system), desired=2)
    assert len(app.registered()) == 2

    lab.client("autoscaling").delete_auto_scaling_group(
        AutoScalingGroupName=app.group, ForceDelete=True
    )

    assert app.registered() == set()
    page = get(app.url("/anything"))
    assert page.status_code == 503 and f"<title>{SERVICE_UNAVAILABLE}</title>" in page.text


# ---- what the user data says ----------------------------------------------------------------
def test_an_instance_whose_user_data_starts_no_server_is_skipped_with_503(lab, fleet, file_system):
    script = f"#!/bin/bash\nmkdir -p /mnt/efs\nmount -t efs {file_system}:/ /mnt/efs\n"
    app = fleet("noserver", script, desired=1)

    page = get(app.url("/"))

    assert page.status_code == 503
    assert page.headers["Server"] == "awselb/2.0"
    assert f"<title>{SERVICE_UNAVAILABLE}</title>" in page.text
    (iid,) = app.in_service()
    assert any(
        iid in note and "starts no `python3 -m http.server`" in note for note in lab.emulator.notes
    )


def test_each_line_that_does_not_run_offline_is_noted_once(lab, fleet, file_system, updates):
    marker = lab.name("marker")
    script = USER_DATA.format(fs=file_system).replace(
        "set -euo pipefail\n", f"set -euo pipefail\necho {marker} >> /etc/motd\n"
    )
    app = fleet("noted", script, desired=2)
    get(app.url("/"))
    get(app.url("/"))

    noted = [n for n in lab.emulator.notes if f"`echo {marker} >> /etc/motd`" in n]
    assert len(noted) == 1
    assert "does not run offline" in noted[0]
    assert not [n for n in lab.emulator.notes if n.startswith("EC2 user data: `mount")]  # it ran


def test_cd_gives_the_server_its_directory(lab, fleet, file_system, updates):
    (updates / "cd-form.txt").write_text("from the current directory")
    script = (
        "#!/bin/bash\n"
        "set -e\n"
        f"mount -t nfs4 -o nfsvers=4.1,rsize=1048576,hard,timeo=600,retrans=2,noresvport "
        f"{file_system}.efs.{lab.region}.amazonaws.com:/ /mnt/efs\n"
        "cd /mnt/efs && nohup python3 -m http.server 80 &\n"
    )
    app = fleet("cd", script, desired=1)

    resp = get(app.url("/updates/cd-form.txt"))

    assert (resp.status_code, resp.text) == (200, "from the current directory")


def test_gzip_compressed_user_data_runs(lab, fleet, file_system, updates):
    (updates / "gzip.txt").write_text("unpacked")
    script = USER_DATA.format(fs=file_system)
    app = fleet("gzip", "", desired=1, raw=gzip.compress(script.encode()))

    assert get(app.url("/gzip.txt")).text == "unpacked"


def test_a_mount_through_an_access_point_shows_its_root_directory(lab, fleet, file_system):
    root = lab.emulator.efs.directory(file_system) / "releases"
    root.mkdir()
    (root / "ap.txt").write_text("through the access point")
    ap = lab.client("efs").create_access_point(
        FileSystemId=file_system, RootDirectory={"Path": "/releases"}
    )["AccessPointId"]
    script = (
        "#!/bin/bash\n"
        f"mount -t efs -o tls,accesspoint={ap} {file_system}:/ /mnt/efs\n"
        "python3 -m http.server 80 --directory /mnt/efs &\n"
    )
    app = fleet("ap", script, desired=1)

    assert get(app.url("/ap.txt")).text == "through the access point"
    assert get(app.url("/releases/ap.txt")).status_code == 404  # the root is not visible


def test_a_failing_cd_under_set_e_ends_the_user_data_before_the_server(lab, fleet, file_system):
    script = USER_DATA.format(fs=file_system).replace("/mnt/efs/updates", "/mnt/efs/not-there")
    app = fleet("nodir", script, desired=1)

    page = get(app.url("/"))

    assert page.status_code == 503
    (iid,) = app.in_service()
    assert any(iid in n and "`cd /mnt/efs/not-there` fails" in n for n in lab.emulator.notes)


def test_the_group_spreads_its_instances_over_its_availability_zones(lab, fleet, file_system):
    """Auto Scaling "attempts to distribute instances evenly between the Availability Zones
    that are enabled for your Auto Scaling group" (EC2 Auto Scaling User Guide)."""
    app = fleet("spread", USER_DATA.format(fs=file_system), desired=3)
    autoscaling = lab.client("autoscaling")

    def zones():
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[app.group])
        return Counter(i["AvailabilityZone"] for i in group["AutoScalingGroups"][0]["Instances"])

    assert sorted(zones().values()) == [1, 2]
    autoscaling.set_desired_capacity(AutoScalingGroupName=app.group, DesiredCapacity=4)
    assert sorted(zones().values()) == [2, 2]


def test_a_mount_retried_until_it_succeeds_runs_once(lab, fleet, file_system, updates):
    (updates / "retried.txt").write_text("mounted on the first try")
    script = (
        "#!/bin/bash\n"
        "set -euo pipefail\n"
        "mkdir -p /mnt/efs\n"
        f"until mount -t efs -o tls {file_system}:/ /mnt/efs; do sleep 5; done\n"
        "nohup python3 -m http.server 80 --directory /mnt/efs/updates > /var/log/s.log 2>&1 &\n"
    )
    app = fleet("retry", script, desired=1)

    assert get(app.url("/retried.txt")).text == "mounted on the first try"
    assert not [n for n in lab.emulator.notes if "`do sleep 5`" in n or "`done`" in n]


def test_a_retry_loop_whose_condition_fails_never_ends_and_serves_nothing(lab, fleet):
    efs = lab.client("efs")
    bare = efs.create_file_system(CreationToken=lab.name("loop"))["FileSystemId"]  # no target
    script = (
        "#!/bin/bash\n"
        f"until mount -t efs {bare}:/ /mnt/efs; do sleep 5; done\n"
        "python3 -m http.server 80 --directory /mnt/efs &\n"
    )
    app = fleet("loop", script, desired=1)

    assert get(app.url("/")).status_code == 503
    (iid,) = app.in_service()
    assert any(iid in n and "would loop for ever" in n for n in lab.emulator.notes)


def test_a_mount_needs_a_mount_target_in_the_instances_zone(lab, fleet):
    efs = lab.client("efs")
    bare = efs.create_file_system(CreationToken=lab.name("bare"))["FileSystemId"]
    app = fleet("notarget", USER_DATA.format(fs=bare), desired=1)

    assert get(app.url("/")).status_code == 503
    (iid,) = app.in_service()
    assert any(iid in n and "has no mount target" in n for n in lab.emulator.notes)


def test_a_server_on_another_port_than_the_target_groups_gets_no_requests(lab, fleet, file_system):
    script = USER_DATA.format(fs=file_system).replace("http.server 80", "http.server")  # 8000
    app = fleet("port", script, desired=1)

    assert get(app.url("/")).status_code == 503
    (iid,) = app.in_service()
    assert any(iid in n and "port 8000, not 80" in n for n in lab.emulator.notes)


# ---- the processes --------------------------------------------------------------------------
SURVIVOR = """
import sys
from pathlib import Path
from helpers.emulator.instances import start_server
process, port = start_server(Path(sys.argv[1]), log=Path(sys.argv[1]) / "log", cwd=Path(sys.argv[1]))
print(port, flush=True)
sys.stdin.read()
"""


# ---- target tracking on the lab clock ---------------------------------------------------------
def track(lab, app, metric: str, target: float, warmup: int = 120, **extra) -> None:
    lab.client("autoscaling").put_scaling_policy(
        AutoScalingGroupName=app.group,
        PolicyName="tracking",
        PolicyType="TargetTrackingScaling",
        EstimatedInstanceWarmup=warmup,
        TargetTrackingConfiguration={
            "PredefinedMetricSpecification": {"PredefinedMetricType": metric},
            "TargetValue": target,
            **extra,
        },
    )


def desired(lab, app) -> int:
    found = lab.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[app.group]
    )
    return found["AutoScalingGroups"][0]["DesiredCapacity"]


def minutes_of_load(lab, app, path: str, per_minute: int, minutes: int) -> list[int]:
    """`per_minute` GETs of `path` in each of `minutes` lab minutes; the desired capacity after
    each minute."""
    seen = []
    lab.clock.advance(60 - lab.clock.now() % 60)  # each minute's requests in one datapoint
    for _ in range(minutes):
        for _ in range(per_minute):
            get(app.url(path)).raise_for_status()
        lab.clock.advance(60 - lab.clock.now() % 60)
        seen.append(desired(lab, app))
    return seen


def test_network_out_above_target_scales_out_after_warmup_and_three_datapoints(
    lab, fleet, file_system, updates
):
    """ASGAverageNetworkOut: 2 instances each sending 1.5 times the target; warm-up 2 minutes,
    then the high alarm needs 3 datapoints; the new capacity is ceil(2 × 1.5) = 3."""
    (updates / "mb.bin").write_bytes(b"u" * 1_000_000)
    app = fleet("tt-out", USER_DATA.format(fs=file_system), desired=2)
    lab.client("autoscaling").update_auto_scaling_group(AutoScalingGroupName=app.group, MaxSize=6)
    track(lab, app, "ASGAverageNetworkOut", 2_000_000)  # 3 MB per instance per minute, sent

    seen = minutes_of_load(lab, app, "/mb.bin", 6, 7)

    # launched in minute L (the loop's first is L+1): counted from L+2; above at L+2..L+4
    assert seen[:3] == [2, 2, 2]
    assert seen[3] == 3
    assert seen[4:] == [3, 3, 3]  # 6 MB over 3 instances is the target: no more
    assert any("scaled" in n and "out from 2 to 3" in n for n in lab.emulator.notes)


def test_the_group_scales_in_gradually_after_15_quiet_minutes(lab, fleet, file_system, updates):
    """No traffic: the low alarm needs 15 datapoints below 90 % of the target; then the group
    steps down (at least one instance a minute) to its minimum, never below."""
    app = fleet("tt-in", USER_DATA.format(fs=file_system), desired=4)
    lab.client("autoscaling").update_auto_scaling_group(AutoScalingGroupName=app.group, MinSize=2)
    get(app.url("/")).raise_for_status()  # boots them
    track(lab, app, "ASGAverageNetworkOut", 2_000_000, warmup=0)

    seen = minutes_of_load(lab, app, "/", 0, 20)

    # quiet from minute L, when the group was made (the loop's first is L+1): 15 datapoints
    # below at L..L+14
    assert seen[:13] == [4] * 13
    assert seen[13:16] == [3, 2, 2]  # a step a minute (a tenth of 4, at least one), to MinSize
    assert len(app.registered()) == 2  # the group deregistered what it terminated


def test_disable_scale_in_keeps_the_group(lab, fleet, file_system, updates):
    app = fleet("tt-keep", USER_DATA.format(fs=file_system), desired=3)
    track(lab, app, "ASGAverageNetworkOut", 2_000_000, warmup=0, DisableScaleIn=True)

    assert minutes_of_load(lab, app, "/", 0, 18) == [3] * 18


def test_request_count_per_target_counts_requests(lab, fleet, file_system, updates):
    """ALBRequestCountPerTarget: 12 requests a minute over 2 targets is 6 per target, twice the
    target of 3: after warm-up and 3 datapoints, ceil(2 × 6 / 3) = 4."""
    app = fleet("tt-req", USER_DATA.format(fs=file_system), desired=2)
    track(lab, app, "ALBRequestCountPerTarget", 3, warmup=0)

    seen = minutes_of_load(lab, app, "/", 12, 4)

    assert seen == [2, 2, 4, 4]


def test_network_out_reaches_cloudwatch_per_group_and_instance(lab, fleet, file_system, updates):
    (updates / "kb.bin").write_bytes(b"k" * 100_000)
    app = fleet("tt-cw", USER_DATA.format(fs=file_system), desired=2)
    track(lab, app, "ASGAverageNetworkOut", 10**9, warmup=0)
    start = lab.clock.datetime()

    minutes_of_load(lab, app, "/kb.bin", 4, 1)

    cloudwatch = lab.client("cloudwatch")
    found = cloudwatch.get_metric_statistics(
        Namespace="AWS/EC2",
        MetricName="NetworkOut",
        Dimensions=[{"Name": "AutoScalingGroupName", "Value": app.group}],
        StartTime=start - timedelta(minutes=2),
        EndTime=lab.clock.datetime(),
        Period=60,
        Statistics=["Sum", "Average"],
    )["Datapoints"]
    assert [(d["Sum"], d["Average"]) for d in found if d["Sum"]] == [(400_000, 200_000)]


def test_a_cpu_policy_is_noted_and_does_not_act(lab, fleet, file_system, updates):
    app = fleet("tt-cpu", USER_DATA.format(fs=file_system), desired=2)
    track(lab, app, "ASGAverageCPUUtilization", 1, warmup=0)

    assert minutes_of_load(lab, app, "/", 5, 5) == [2] * 5
    assert any("ASGAverageCPUUtilization" in n and "does not act" in n for n in lab.emulator.notes)


def test_a_server_ends_when_the_process_that_started_it_dies(tmp_path):
    kernel = subprocess.Popen(
        [sys.executable, "-c", SURVIVOR, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    port = int(kernel.stdout.readline())
    url = f"http://127.0.0.1:{port}"
    assert not refuses_connections(url)

    kernel.kill()  # as a notebook kernel is killed: no teardown runs
    kernel.wait()

    deadline = time.monotonic() + 10
    while not refuses_connections(url) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert refuses_connections(url)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_server_ignores_the_interrupt_jupyter_sends_the_kernels_process_group(tmp_path):
    process, port = start_server(tmp_path, log=tmp_path / "log", cwd=tmp_path)
    try:
        status = Path(f"/proc/{process.pid}/status").read_text()
        ignored = int(re.search(r"^SigIgn:\s*([0-9a-f]+)$", status, re.M).group(1), 16)
        assert ignored & (1 << (signal.SIGINT - 1))

        os.kill(process.pid, signal.SIGINT)

        assert get(f"http://127.0.0.1:{port}/").status_code == 200  # the directory listing
    finally:
        stop_process(process)
