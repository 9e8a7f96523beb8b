"""Logs keep arriving after the lab clock skipped hours (settle() over retries, clock.advance)."""

from __future__ import annotations

import json


def test_logs_written_hours_ahead_in_lab_time_are_kept(lab, deploy, logs_of):
    """GIVEN the lab clock 3 hours ahead of real time (CloudWatch Logs refuses events more than
    2 hours ahead of its now) WHEN a function runs THEN its START, END and REPORT lines are
    readable, because the lab's CloudWatch Logs lives in lab time too."""
    name = deploy("late")
    lab.clock.advance(3 * 3600)
    resp = lab.client("lambda").invoke(FunctionName=name, Payload=json.dumps({}))
    request_id = json.loads(resp["Payload"].read())["request_id"]

    messages = logs_of(name)

    assert any(m.startswith(f"START RequestId: {request_id}") for m in messages), messages
    assert any(m.startswith(f"REPORT RequestId: {request_id}") for m in messages), messages
