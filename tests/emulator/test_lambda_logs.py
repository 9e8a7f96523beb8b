"""Lambda logs in CloudWatch Logs: the group, the stream name, START/END/REPORT, the log tail.

Contract: Lambda developer guide, "Working with Lambda function logs" and "Log and monitor
Python Lambda functions": group `/aws/lambda/<function>`, stream `YYYY/MM/DD/[<version>]<id>`,
`START RequestId: <id> Version: $LATEST`, `END RequestId: <id>`, and
`REPORT RequestId: <id>\tDuration: 2.75 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax
Memory Used: 56 MB\tInit Duration: 113.51 ms` (Init Duration on a cold start only; since
1 August 2025 the INIT phase of ZIP managed runtimes is billed too). Invoke's `LogType=Tail`
returns the last 4 KB of the log, base64, in `LogResult`.
https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html
"""

from __future__ import annotations

import base64
import json
import math
import re
from datetime import timedelta

import pytest

BOTH = ("moto", "moto-server")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
START_RE = re.compile(rf"^START RequestId: (?P<id>{UUID}) Version: \$LATEST\s*$")
END_RE = re.compile(rf"^END RequestId: (?P<id>{UUID})\s*$")
REPORT_RE = re.compile(
    rf"^REPORT RequestId: (?P<id>{UUID})\t"
    r"Duration: (?P<duration>\d+\.\d{2}) ms\t"
    r"Billed Duration: (?P<billed>\d+) ms\t"
    r"Memory Size: (?P<size>\d+) MB\t"
    r"Max Memory Used: (?P<used>\d+) MB"
    r"(?:\tInit Duration: (?P<init>\d+\.\d{2}) ms)?\t?\s*$"
)
STREAM_RE = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")


def _json(resp):
    body = resp["Payload"].read()
    return json.loads(body) if body else None


@pytest.fixture(scope="module")
def logged(lab, deploy):
    """A function invoked twice (cold, then warm); returns (name, [request ids], [responses],
    (lab date before, lab date after) the invocations)."""
    name = deploy("logged")
    lambda_ = lab.client("lambda")
    before = lab.clock.datetime()
    responses = [lambda_.invoke(FunctionName=name, LogType="Tail") for _ in range(2)]
    after = lab.clock.datetime()
    ids = [json.loads(r["Payload"].read())["request_id"] for r in responses]
    return name, ids, responses, (before, after)


@pytest.mark.backends(*BOTH)
def test_logs_go_to_the_functions_log_group_and_a_dated_stream(lab, logged):
    """GIVEN invocations WHEN the logs are listed THEN group /aws/lambda/<name>, stream
    YYYY/MM/DD/[$LATEST]<32 hex>, dated the (UTC) day of the first invocation."""
    name, _, _, (before, after) = logged
    logs = lab.client("logs")

    groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]

    assert [g["logGroupName"] for g in groups] == [f"/aws/lambda/{name}"]
    assert len(streams) == 1  # one environment served both invocations
    stream = streams[0]["logStreamName"]
    assert STREAM_RE.match(stream), stream
    # the environment starts during the invocations, which may straddle midnight (UTC)
    assert after - before < timedelta(days=1)
    assert stream[:10] in {before.strftime("%Y/%m/%d"), after.strftime("%Y/%m/%d")}


@pytest.mark.backends(*BOTH)
def test_start_end_report_lines_follow_awss_format(logs_of, logged):
    """GIVEN two invocations WHEN the log is read THEN each has START, END and REPORT lines in
    that order, in AWS's format; only the cold one has Init Duration."""
    name, ids, _, _ = logged
    messages = logs_of(name)

    for n, request_id in enumerate(ids):
        starts = [
            i for i, m in enumerate(messages) if (s := START_RE.match(m)) and s["id"] == request_id
        ]
        ends = [
            i for i, m in enumerate(messages) if (e := END_RE.match(m)) and e["id"] == request_id
        ]
        reports = [
            (i, r)
            for i, m in enumerate(messages)
            if (r := REPORT_RE.match(m)) and r["id"] == request_id
        ]
        assert len(starts) == len(ends) == len(reports) == 1, messages
        assert starts[0] < ends[0] < reports[0][0]
        report = reports[0][1]
        assert report["size"] == "128"
        assert 1 <= int(report["used"]) <= 128
        assert (report["init"] is not None) == (n == 0)


def test_billed_duration_is_the_duration_rounded_up_to_the_millisecond(logs_of, logged):
    """Warm: ceil(Duration). Cold: the INIT phase is billed too, ceil(Duration + Init)."""
    name, ids, _, _ = logged
    reports = {r["id"]: r for m in logs_of(name) if (r := REPORT_RE.match(m))}

    cold, warm = reports[ids[0]], reports[ids[1]]
    assert int(warm["billed"]) == max(1, math.ceil(float(warm["duration"])))
    expected_cold = math.ceil(round(float(cold["duration"]) + float(cold["init"]), 2))
    assert int(cold["billed"]) == expected_cold


@pytest.mark.backends(*BOTH)
def test_print_and_logging_output_land_between_start_and_end(logs_of, logged):
    """stdout lines as written; `logging` records in the runtime's format
    `[INFO]\\t<timestamp>\\t<request id>\\t<message>`."""
    name, ids, _, _ = logged
    messages = logs_of(name)
    request_id = ids[1]
    start = next(
        i for i, m in enumerate(messages) if m.startswith(f"START RequestId: {request_id}")
    )
    end = next(i for i, m in enumerate(messages) if m.startswith(f"END RequestId: {request_id}"))
    inside = [m.rstrip("\n") for m in messages[start + 1 : end]]

    assert f"probe print {request_id}" in inside
    assert any(
        re.fullmatch(
            rf"\[INFO\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{request_id}\tprobe logging {request_id}",
            m,
        )
        for m in inside
    ), inside


def test_filter_log_events_finds_an_invocation_by_request_id(lab, logged):
    """A learner finds one invocation's lines with a filter pattern on its request id."""
    name, ids, _, _ = logged
    found = lab.client("logs").filter_log_events(
        logGroupName=f"/aws/lambda/{name}", filterPattern=f'"{ids[0]}"'
    )["events"]
    texts = [e["message"] for e in found]

    assert any(t.startswith(f"START RequestId: {ids[0]}") for t in texts)
    assert any(t.startswith(f"REPORT RequestId: {ids[0]}") for t in texts)
    assert not any(ids[1] in t for t in texts)


@pytest.mark.backends(*BOTH)
def test_log_type_tail_returns_the_base64_log_of_the_invocation(logged):
    """GIVEN LogType=Tail WHEN invoked THEN LogResult decodes to this invocation's log, from
    START to REPORT, at most 4 KB."""
    _, ids, responses, _ = logged

    for request_id, resp in zip(ids, responses, strict=True):
        tail = base64.b64decode(resp["LogResult"]).decode()
        assert len(tail.encode()) <= 4096
        assert f"START RequestId: {request_id} Version: $LATEST" in tail
        assert f"probe print {request_id}" in tail
        assert re.search(rf"^REPORT RequestId: {request_id}\t", tail, re.M)
        other = ids[1 - ids.index(request_id)]
        assert other not in tail


def test_without_log_type_there_is_no_log_result(lab, logged):
    name, _, _, _ = logged
    resp = lab.client("lambda").invoke(FunctionName=name)

    assert "LogResult" not in resp
    assert _json(resp)["function_name"] == name


@pytest.mark.backends(*BOTH)
def test_print_logging_and_stderr_keep_program_order(lab, deploy, logs_of):
    """GIVEN a handler that interleaves print, logging and stderr 20 times WHEN invoked (cold,
    then warm, five times) THEN its log lines are in program order every time, as on AWS."""
    name = deploy("interleave", "interleave.py", handler="interleave.handler")
    lambda_ = lab.client("lambda")
    ids = [_json(lambda_.invoke(FunctionName=name))["request_id"] for _ in range(5)]
    expected = [f"{kind} {i}" for i in range(20) for kind in ("print", "log", "stderr")]

    messages = [m.rstrip("\n") for m in logs_of(name)]
    for request_id in ids:
        start = next(
            i for i, m in enumerate(messages) if m.startswith(f"START RequestId: {request_id}")
        )
        end = messages.index(f"END RequestId: {request_id}")
        inside = messages[start + 1 : end]
        seen = [
            m.rsplit("\t", 1)[-1] if m.startswith("[INFO]") else m
            for m in inside
            if m.startswith(("print ", "stderr ", "[INFO]"))
        ]
        assert seen == expected, inside
