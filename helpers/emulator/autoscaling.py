"""EC2 Auto Scaling target tracking, acting on the lab clock from the traffic instances serve.

What AWS does (EC2 Auto Scaling User Guide, "Target tracking scaling policies",
https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-target-tracking.html): a
target-tracking policy keeps a metric at its `TargetValue` through two CloudWatch alarms it
manages. With one-minute metrics (detailed monitoring), the high alarm goes off after 3
consecutive datapoints above the target, the low alarm after 15 consecutive datapoints below 90 %
of it; while an alarm is in ALARM it invokes the policy again. The new capacity is proportional
to the metric, `ceil(capacity × metric / target)`, within the group's minimum and maximum; the
group "scales out proportionally to the metric as fast as it can, but scales in more gradually",
does not scale in while it is scaling out, and leaves instances still warming up
(`EstimatedInstanceWarmup`, else the group's `DefaultInstanceWarmup`, else 300 s) out of the
aggregated metric. `DisableScaleIn` keeps it from scaling in. `ASGAverageNetworkOut` is the
average over the group's instances of `AWS/EC2` `NetworkOut`, bytes sent in the period;
`ALBRequestCountPerTarget` the target group's requests in the period over its targets.

What is emulated, for every completed lab minute (the emulator evaluates when the lab clock
advances): those two predefined metrics from what the group's instances really answered through
the load balancer that minute (bytes of each answer, and requests); the two alarms' rules; the
proportional capacity, applied with SetDesiredCapacity (moto then launches or terminates
instances, and the group's target groups follow, see instances.py); scale-in by at most a tenth
of the group (at least one instance) a minute while the low alarm holds (AWS publishes no step);
warm-up counted from the lab minute Auto Scaling launched the instance. Each minute's
bytes go to CloudWatch as `AWS/EC2` `NetworkOut` (per `InstanceId`, and per
`AutoScalingGroupName`), at lab time, so `get_metric_statistics` shows the traffic.

Simplified: only answers sent through a load balancer count (no health checks, package
downloads or other traffic); other metrics (`ASGAverageCPUUtilization`, `ASGAverageNetworkIn`,
customized metrics) are not evaluated, which the lab's notes say once per policy; moto does not
keep a group's `DefaultInstanceWarmup`, so offline the warm-up is the policy's
`EstimatedInstanceWarmup`, else 300 s; the alarms
themselves are not created in CloudWatch and no scaling activities are recorded; the policy acts
only while the lab clock moves (`lab.clock.advance`, `lab.settle`).

moto seams (tests/emulator/test_moto_seams.py checks them): read `autoscaling_backends`,
`AutoScalingBackend.policies`/`autoscaling_groups`/`set_desired_capacity`,
`FakeScalingPolicy.policy_type`/`auto_scaling_group_name`/`target_tracking_configuration`/
`estimated_instance_warmup`, `FakeAutoScalingGroup.instance_states`/`min_size`/`max_size`/
`desired_capacity`/`default_instance_warmup`; write `cloudwatch_backends[...].put_metric_data`.
"""

from __future__ import annotations

import math
import threading
from datetime import datetime, timezone
from typing import Any

HIGH_ALARM_MINUTES = 3
LOW_ALARM_MINUTES = 15
LOW_ALARM_SHARE = 0.9
SCALE_IN_SHARE = 10  # at most 1/10 of the instances in service a minute
DEFAULT_WARMUP_S = 300
METRICS = ("ASGAverageNetworkOut", "ALBRequestCountPerTarget")


class TargetTracking:
    """Evaluates the lab's target-tracking policies minute by minute of lab time."""

    def __init__(self, emulator: Any):
        self.emulator = emulator
        self._lock = threading.RLock()
        self._seen: dict[str, int] = {}  # instance -> the minute it was first in service
        self._alarms: dict[str, list[int]] = {}  # policy ARN -> [minutes above, minutes below]
        self._noted: set[str] = set()
        self._done = self._minute() - 1  # the last minute evaluated

    def launched(self, instance_ids: list[str]) -> None:
        """Auto Scaling launched these instances now: their warm-up starts this minute."""
        with self._lock:
            for instance_id in instance_ids:
                self._seen.setdefault(instance_id, self._minute())

    # ---- the clock ----------------------------------------------------------------------------
    def evaluate(self) -> None:
        """Evaluate every minute that has ended since the last evaluation."""
        if self.emulator.closed:
            return
        with self._lock:
            now = self._minute()
            for minute in range(self._done + 1, now):
                self._evaluate_minute(minute)
            self._done = max(self._done, now - 1)

    def _minute(self) -> int:
        return int(self.emulator.clock.now() // 60)

    def _evaluate_minute(self, minute: int) -> None:
        from moto.autoscaling.models import autoscaling_backends

        for region, backend in list(autoscaling_backends[self.emulator.account_id].items()):
            for policy in list(backend.policies.values()):
                if policy.policy_type != "TargetTrackingScaling":
                    continue
                group = backend.autoscaling_groups.get(policy.auto_scaling_group_name)
                if group is not None:
                    self._apply(region, backend, group, policy, minute)

    def _apply(self, region: str, backend: Any, group: Any, policy: Any, minute: int) -> None:
        config = dict(vars(policy.target_tracking_configuration))
        kind = (config.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType")
        if kind not in METRICS:
            self._note(
                policy.arn,
                f"EC2 Auto Scaling: policy {policy.name} tracks "
                f"{kind or 'a customized metric'}, which the emulator does not evaluate "
                f"(only {' and '.join(METRICS)}); offline it does not act",
            )
            return
        in_service = [
            str(state.instance.id)
            for state in group.instance_states
            if getattr(state, "lifecycle_state", "InService") == "InService"
        ]
        for instance_id in in_service:
            self._seen.setdefault(instance_id, minute)
        self._publish(region, group.name, in_service, minute)
        warmup = next(
            (
                float(w)
                for w in (
                    policy.estimated_instance_warmup,
                    getattr(group, "default_instance_warmup", None),
                )
                if w is not None and str(w) != ""
            ),
            DEFAULT_WARMUP_S,
        )
        counted = [i for i in in_service if (minute - self._seen[i]) * 60 >= warmup]
        if not counted:
            return  # every instance is warming up: no datapoint
        warming = len(in_service) > len(counted) or group.desired_capacity > len(in_service)
        traffic = [self.emulator.instances.traffic(i, minute) for i in counted]
        total = sum(n if kind == "ASGAverageNetworkOut" else r for r, n in traffic)
        metric = total / len(counted)
        target = float(config["TargetValue"])
        above, below = self._alarms.setdefault(policy.arn, [0, 0])
        above = above + 1 if metric > target else 0
        below = below + 1 if metric < LOW_ALARM_SHARE * target else 0
        self._alarms[policy.arn] = [above, below]
        wanted = math.ceil(len(counted) * metric / target)
        desired = int(group.desired_capacity or 0)
        if above >= HIGH_ALARM_MINUTES:
            new = min(int(group.max_size), wanted)
            if new > desired:
                self._scale(backend, group, new, policy, "out", metric, target)
        elif below >= LOW_ALARM_MINUTES and not warming and not _disabled(config):
            floor = max(int(group.min_size), wanted)
            if floor < desired:
                new = desired - min(desired - floor, max(1, desired // SCALE_IN_SHARE))
                self._scale(backend, group, new, policy, "in", metric, target)

    def _scale(
        self,
        backend: Any,
        group: Any,
        new: int,
        policy: Any,
        way: str,
        metric: float,
        target: float,
    ) -> None:
        before = group.desired_capacity
        backend.set_desired_capacity(group.name, new)
        self.emulator.note(
            f"EC2 Auto Scaling: {policy.name} scaled {group.name} {way} from {before} to {new} "
            f"(metric {metric:,.0f} against target {target:,.0f})"
        )

    def _publish(self, region: str, group_name: str, instances: list[str], minute: int) -> None:
        """This minute's NetworkOut, per instance and for the group, in moto's CloudWatch."""
        from moto.cloudwatch.models import cloudwatch_backends

        stamp = datetime.fromtimestamp(minute * 60, tz=timezone.utc).replace(tzinfo=None)
        sent = {i: float(self.emulator.instances.traffic(i, minute)[1]) for i in instances}
        data = [
            _datum("NetworkOut", [{"Name": "InstanceId", "Value": i}], [value], stamp)
            for i, value in sent.items()
        ]
        if sent:
            dims = [{"Name": "AutoScalingGroupName", "Value": group_name}]
            data.append(_datum("NetworkOut", dims, list(sent.values()), stamp))
        if data:
            cloudwatch_backends[self.emulator.account_id][region].put_metric_data("AWS/EC2", data)

    def _note(self, key: str, message: str) -> None:
        if key not in self._noted:
            self._noted.add(key)
            self.emulator.note(message)


def _datum(name: str, dims: list[dict[str, str]], values: list[float], stamp: datetime) -> dict:
    return {
        "MetricName": name,
        "Dimensions": dims,
        "Timestamp": stamp,
        "StatisticValues": {
            "Sum": sum(values),
            "Minimum": min(values),
            "Maximum": max(values),
            "SampleCount": len(values),
        },
        "Unit": "Bytes",
    }


def _disabled(config: dict[str, Any]) -> bool:
    value = config.get("DisableScaleIn")
    return value is True or str(value).lower() == "true"


def install(emulator: Any) -> None:
    """Give the emulator `scaling`, evaluated whenever the lab clock advances from the traffic
    instances.py counts (so install it after instances)."""
    scaling = TargetTracking(emulator)
    emulator.scaling = scaling
    emulator.clock.on_advance(scaling.evaluate)
