"""Benchmarks of the offline Lambda runtime, the notebooks and chapters 1, 2 and 5 (see README.md
here)."""

from __future__ import annotations

import argparse
import importlib.util
import io
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDLER = """
import json
def handler(event, context):
    return {"echo": event, "n": len(json.dumps(event))}
"""
EVENT = {
    "Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]
}
MYBLOG = ROOT / "notebooks" / "01-myblog"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
# the thumbnail function's S3 calls, replayed in the same runtime to time them on their own
S3_PROBE = """
import time
import boto3
s3 = boto3.client("s3")
def handler(event, context):
    spent = 0.0
    for job in event["jobs"]:
        t = time.perf_counter()
        data = s3.get_object(Bucket=job["bucket"], Key=job["key"])["Body"].read()
        s3.put_object(
            Bucket=job["to"],
            Key=job["target"],
            Body=data[: job["size"]],
            ContentType="image/jpeg",
            CacheControl="public, max-age=31536000, immutable",
            Metadata={"source-key": job["key"]},
        )
        spent += time.perf_counter() - t
    return {"s3_ms": spent * 1000}
"""


def _spec(code: bytes, name: str = "bench"):
    from helpers.emulator.lambda_runtime import FunctionSpec

    return FunctionSpec(
        name=name,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        version="$LATEST",
        handler="app.handler",
        runtime="python3.12",
        memory_mb=128,
        timeout_s=10,
        environment={},
        code=code,
        region="us-east-1",
        account_id="123456789012",
    )


def bench_runtime(rounds: int) -> list[tuple[str, str, str]]:
    """Warm overhead (ms) and cold-start ratio."""
    from helpers.emulator.lambda_runtime import LambdaRuntime
    from helpers.packaging import package

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp, "app.py")
        app.write_text(HANDLER)
        code = package(app, handler="app.handler")
        spec = importlib.util.spec_from_file_location("bench_app", app)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        payload = json.dumps(EVENT).encode()

        direct = []
        for _ in range(rounds * 10):
            t = time.perf_counter()
            json.dumps(module.handler(json.loads(payload), None)).encode()
            direct.append((time.perf_counter() - t) * 1000)

        runtime = LambdaRuntime(endpoint_url="http://127.0.0.1:9")
        try:
            runtime.invoke(_spec(code), payload)  # warm it up
            warm = []
            for _ in range(rounds * 10):
                t = time.perf_counter()
                runtime.invoke(_spec(code), payload)
                warm.append((time.perf_counter() - t) * 1000)
            cold = []
            for i in range(rounds):
                t = time.perf_counter()
                runtime.invoke(_spec(code, name=f"cold{i}"), payload)
                cold.append((time.perf_counter() - t) * 1000)
        finally:
            runtime.shutdown()

        by_hand = []
        for _ in range(rounds):
            t = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import sys; sys.path.insert(0, sys.argv[1]); "
                    "import awslambdaric.bootstrap, app",
                    tmp,
                ],
                check=True,
            )
            by_hand.append((time.perf_counter() - t) * 1000)

    d, w = statistics.median(direct), statistics.median(warm)
    c, h = statistics.median(cold), statistics.median(by_hand)
    rows.append(
        (
            "warm invocation overhead",
            f"{w - d:.2f} ms (warm {w:.2f} ms, direct call {d:.3f} ms)",
            "≤ 2 ms",
        )
    )
    rows.append(("cold start", f"{c / h:.2f}× (cold {c:.0f} ms, by hand {h:.0f} ms)", "≤ 1.5×"))
    return rows


def bench_notebooks() -> list[tuple[str, str, str]]:
    """Wall time of each notebook on the moto backend."""
    import nbformat
    from nbclient import NotebookClient

    rows = []
    for path in sorted(ROOT.glob("notebooks/*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        t = time.perf_counter()
        NotebookClient(
            nb, timeout=600, resources={"metadata": {"path": str(path.parent)}}
        ).execute()
        rows.append((f"notebook {path.name}", f"{time.perf_counter() - t:.1f} s", "reported"))
    return rows


def _module(path: Path, name: str, **env: str):
    """Import a file of the course as a module (with `env` set while it imports)."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return module


def _role(lab) -> str:
    iam = lab.client("iam")
    name = lab.name("fn-role")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    iam.attach_role_policy(
        RoleName=name, PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    )
    return arn["Role"]["Arn"]


def _deploy(lab, base: str, folder: Path, role: str, env: dict[str, str], **extra) -> str:
    """Deploy as the notebook does: lab.package(folder), Runtime=lab.runtime."""
    lambda_ = lab.client("lambda")
    code = lab.package(folder, handler="app.handler", requirements=extra.pop("requirements", ()))
    name = lambda_.create_function(
        FunctionName=lab.name(base),
        Runtime=lab.runtime,
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": code},
        Environment={"Variables": env},
        **{"Timeout": 10, "MemorySize": 256, **extra},
    )["FunctionName"]
    lambda_.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def _invocations(lab, function_name: str) -> dict[str, tuple[float, float, str]]:
    """RequestId -> (START time, REPORT time, REPORT line), from CloudWatch Logs (lab time, s)."""
    pages = (
        lab.client("logs")
        .get_paginator("filter_log_events")
        .paginate(logGroupName=f"/aws/lambda/{function_name}")
    )
    starts, out = {}, {}
    for event in (e for page in pages for e in page["events"]):
        words = event["message"].split()
        if words and words[0] == "START":
            starts[words[2]] = event["timestamp"] / 1000
        elif words and words[0] == "REPORT":
            rid = words[2]
            out[rid] = (starts.get(rid, event["timestamp"] / 1000), event["timestamp"] / 1000)
            out[rid] += (event["message"],)
    return out


def _covered(spans: list[tuple[float, float]], lo: float, hi: float) -> float:
    """Seconds of [lo, hi] inside at least one of `spans`."""
    total, reach = 0.0, lo
    for a, b in sorted(spans):
        a, b = max(a, reach), min(b, hi)
        if b > a:
            total += b - a
            reach = b
    return total


def _ms(report: str, field: str) -> float:
    match = re.search(rf"\t{field}: ([\d.]+) ms", report)
    return float(match.group(1)) if match else 0.0


def _bare_thumbnails(app, uploads: list[tuple[str, bytes]]) -> dict[str, int]:
    """The handler's Pillow steps on the same bytes, no S3: thumbnail key -> size in bytes."""
    from PIL import Image, ImageOps

    sizes = {}
    for key, data in uploads:
        name = key.removeprefix(app.UPLOAD_PREFIX)
        fmt = app.FORMATS[os.path.splitext(name)[1].lower()][0]
        with Image.open(io.BytesIO(data), formats=["JPEG", "PNG", "WEBP", "GIF"]) as original:
            original.draft(None, (app.SIZE, app.SIZE))
            image = ImageOps.exif_transpose(original)
            image = app.to_web_mode(image)
            image.thumbnail((app.SIZE, app.SIZE), Image.Resampling.LANCZOS)
        if fmt == "JPEG" and image.mode in ("RGBA", "LA"):
            image = app.flatten(image)
        out = io.BytesIO()
        options = {"JPEG": {"quality": 85, "optimize": True}, "PNG": {"optimize": True}}
        image.save(out, fmt, **options.get(fmt, {}))
        sizes[app.THUMBNAIL_PREFIX + name] = len(out.getvalue())
    return sizes


def bench_myblog_thumbnails(photos: int) -> list[tuple[str, str, str]]:
    """S3 → SNS → SQS → Lambda thumbnails of `photos` uploads over a bare Pillow loop."""
    import helpers

    sample = _module(MYBLOG / "sample_photos.py", "bench_sample_photos")
    app = _module(MYBLOG / "functions/thumbnail/app.py", "bench_thumbnail", THUMBNAILS_BUCKET="-")
    cycle = itertools.islice(itertools.cycle(sample.good_photos().items()), photos)
    uploads = [(f"uploads/{i:03d}-{name}", data) for i, (name, data) in enumerate(cycle)]

    # the bare loop runs before and after the pipeline (the mean is the reference), so a
    # machine that gets busier or quieter meanwhile moves both sides of the ratio alike
    t = time.perf_counter()
    bare_sizes = _bare_thumbnails(app, uploads)
    bare_runs = [time.perf_counter() - t]

    lab = helpers.start("bench-myblog", "moto")
    try:
        s3, sns, sqs = lab.client("s3"), lab.client("sns"), lab.client("sqs")
        lambda_ = lab.client("lambda")
        photos_bucket, thumbs_bucket = lab.name("photos"), lab.name("thumbnails")
        for name in (photos_bucket, thumbs_bucket):
            s3.create_bucket(Bucket=name)
        topic_arn = sns.create_topic(Name=lab.name("photo-uploaded"))["TopicArn"]
        s3_may_publish = {
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{photos_bucket}"}},
        }
        sns.set_topic_attributes(
            TopicArn=topic_arn,
            AttributeName="Policy",
            AttributeValue=json.dumps({"Version": "2012-10-17", "Statement": [s3_may_publish]}),
        )
        dlq_url = sqs.create_queue(QueueName=lab.name("thumbnail-dlq"))["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
        redrive = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": "3"}
        queue_url = sqs.create_queue(
            QueueName=lab.name("thumbnail-jobs"),
            Attributes={"VisibilityTimeout": "180", "RedrivePolicy": json.dumps(redrive)},
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns_may_send = {
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
        }
        sqs.set_queue_attributes(
            QueueUrl=queue_url,
            Attributes={
                "Policy": json.dumps({"Version": "2012-10-17", "Statement": [sns_may_send]})
            },
        )
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        uploads_only = {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}}
        s3.put_bucket_notification_configuration(
            Bucket=photos_bucket,
            NotificationConfiguration={
                "TopicConfigurations": [
                    {
                        "TopicArn": topic_arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": uploads_only,
                    }
                ]
            },
        )
        role = _role(lab)
        thumb_fn = _deploy(
            lab,
            "thumbnail",
            MYBLOG / "functions/thumbnail",
            role,
            {"THUMBNAILS_BUCKET": thumbs_bucket},
            requirements=["pillow"],
            Timeout=30,
            MemorySize=1024,
        )
        lambda_.create_event_source_mapping(
            EventSourceArn=queue_arn,
            FunctionName=thumb_fn,
            BatchSize=5,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
        lab.settle()  # the s3:TestEvent of the new notification, if any, before the clock runs
        before = set(_invocations(lab, thumb_fn))

        def thumbnails() -> dict[str, int]:
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=thumbs_bucket)
            return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}

        put_s = 0.0
        skipped = lab.clock.skipped
        t0, epoch0 = time.perf_counter(), time.time()
        for key, data in uploads:
            t = time.perf_counter()
            s3.put_object(Bucket=photos_bucket, Key=key, Body=data)
            put_s += time.perf_counter() - t
        uploaded = time.perf_counter() - t0
        lab.settle(until=lambda: len(thumbnails()) >= photos, timeout=300)
        wall = time.perf_counter() - t0

        made = thumbnails()
        timed = [v for rid, v in _invocations(lab, thumb_fn).items() if rid not in before]
        reports = [report for _, _, report in timed]
        duration_s = sum(_ms(r, "Duration") for r in reports) / 1000
        init_s = sum(_ms(r, "Init Duration") for r in reports) / 1000
        cold = sum("Init Duration" in r for r in reports)
        # invocations as spans of seconds since the first upload (logs are in lab time)
        lab_t0 = epoch0 + skipped
        spans = [(start - lab_t0, end - lab_t0) for start, end, _ in timed]
        busy_s = _covered(spans, 0.0, wall)
        # the uploads lengthen the wall time only where no invocation ran meanwhile
        exposed_put_s = min(put_s, uploaded - _covered(spans, 0.0, uploaded))
        clock_jumped = lab.clock.skipped != skipped
        same = sum(made.get(k) == size for k, size in bare_sizes.items())

        # the function's own S3 calls (a get and a put per photo, inside its Duration), timed
        # by a probe that makes the same calls from the same runtime, in batches of 5
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "app.py").write_text(S3_PROBE)
            probe_fn = _deploy(lab, "s3-probe", Path(tmp), role, {}, Timeout=30, MemorySize=1024)
        jobs = [
            {
                "bucket": photos_bucket,
                "key": key,
                "to": thumbs_bucket,
                "target": "probe/" + key,
                "size": made.get(app.THUMBNAIL_PREFIX + key.removeprefix(app.UPLOAD_PREFIX), 0),
            }
            for key, _ in uploads
        ]
        lambda_.invoke(FunctionName=probe_fn, Payload=json.dumps({"jobs": jobs[:1]}))  # cold
        s3_fn_s = 0.0
        for i in range(0, len(jobs), 5):
            resp = lambda_.invoke(
                FunctionName=probe_fn, Payload=json.dumps({"jobs": jobs[i : i + 5]})
            )
            s3_fn_s += json.loads(resp["Payload"].read())["s3_ms"] / 1000
    finally:
        report = lab.teardown()
        if not report.clean:
            print(f"bench-myblog: teardown left {report!r}", file=sys.stderr)

    t = time.perf_counter()
    _bare_thumbnails(app, uploads)
    bare_runs.append(time.perf_counter() - t)
    bare = statistics.mean(bare_runs)

    pillow_s = duration_s - s3_fn_s
    s3_s = s3_fn_s + exposed_put_s
    overhead_s = wall - duration_s - exposed_put_s
    shares = {
        "Pillow and handler code in the function": pillow_s,
        "S3 puts/gets": s3_s,
        "runtime/delivery overhead": overhead_s,
    }
    top = max(shares, key=shares.get)
    jumped = "; the lab clock jumped during the run, spans are off" if clock_jumped else ""
    return [
        (
            "myblog thumbnails vs bare Pillow",
            f"{wall / bare:.2f}× (pipeline {wall:.2f} s, bare loop {bare:.2f} s: "
            f"{bare_runs[0]:.2f} s before, {bare_runs[1]:.2f} s after; {len(made)}/{photos} "
            f"thumbnails, {same} the size the loop made)",
            "≤ 3×",
        ),
        (
            "  (a) function time, Σ Duration",
            f"{duration_s:.2f} s = {duration_s / wall:.0%} ({len(reports)} invocations, {cold} "
            f"cold; of it {s3_fn_s:.2f} s its S3 calls, {pillow_s:.2f} s Pillow and code)",
            "reported",
        ),
        (
            "  (b) S3 puts/gets",
            f"{s3_s:.2f} s = {s3_s / wall:.0%} (the function's {photos} gets + puts "
            f"{s3_fn_s:.2f} s, inside (a); the {photos} uploads {put_s:.2f} s, of it "
            f"{exposed_put_s:.2f} s while no invocation ran)",
            "reported",
        ),
        (
            "  (c) runtime/delivery overhead",
            f"{overhead_s:.2f} s = {overhead_s / wall:.0%} (wall − (a) − uploads alone: "
            f"{busy_s - duration_s:.2f} s inside invocations beyond Duration, init {init_s:.2f} s; "
            f"{wall - busy_s - exposed_put_s:.2f} s between them{jumped})",
            "reported",
        ),
        (
            "  largest share",
            f"{top}: {shares[top]:.2f} s = {shares[top] / wall:.0%} of the wall time",
            "reported",
        ),
    ]


def _rps(url: str, n: int, limit_s: float) -> tuple[float, int, dict[int, int]]:
    """Requests per second of requests.get(url), n times or until limit_s, whichever first."""
    import requests

    statuses: dict[int, int] = {}
    count = 0
    t0 = time.perf_counter()
    while count < n and time.perf_counter() - t0 < limit_s:
        status = requests.get(url).status_code
        statuses[status] = statuses.get(status, 0) + 1
        count += 1
    return count / (time.perf_counter() - t0), count, statuses


def bench_myblog_api(n: int) -> list[tuple[str, str, str]]:
    """GET /posts/{id} through the gateway, stage cache off and then on."""
    import requests
    from boto3.dynamodb.types import TypeSerializer

    import helpers

    lab = helpers.start("bench-myblog", "moto")
    try:
        ddb, apigw, lambda_ = lab.client("dynamodb"), lab.client("apigateway"), lab.client("lambda")
        posts_table = lab.name("posts")
        ddb.create_table(
            TableName=posts_table,
            AttributeDefinitions=[
                {"AttributeName": "id", "AttributeType": "S"},
                {"AttributeName": "kind", "AttributeType": "S"},
                {"AttributeName": "published_at", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-date",
                    "KeySchema": [
                        {"AttributeName": "kind", "KeyType": "HASH"},
                        {"AttributeName": "published_at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.get_waiter("table_exists").wait(TableName=posts_table)
        posts = json.loads((MYBLOG / "site/posts.json").read_text())
        to_dynamodb = TypeSerializer().serialize
        for post in posts:
            ddb.put_item(TableName=posts_table, Item={k: to_dynamodb(v) for k, v in post.items()})
        env = {
            "POSTS_TABLE": posts_table,
            # GET /posts/{id} reads neither: names only, as the function needs them at init
            "SUBSCRIBERS_TABLE": lab.name("subscribers"),
            "PHOTOS_BUCKET": lab.name("photos"),
        }
        api_fn = _deploy(lab, "api", MYBLOG / "functions/api", _role(lab), env)
        api_fn_arn = lambda_.get_function(FunctionName=api_fn)["Configuration"]["FunctionArn"]

        api_id = apigw.create_rest_api(
            name=lab.name("api"), endpointConfiguration={"types": ["REGIONAL"]}
        )["id"]
        root_id = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
        posts_id = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="posts")
        post_id = apigw.create_resource(restApiId=api_id, parentId=posts_id["id"], pathPart="{id}")
        apigw.put_method(
            restApiId=api_id,
            resourceId=post_id["id"],
            httpMethod="GET",
            authorizationType="NONE",
            requestParameters={"method.request.path.id": True},
        )
        apigw.put_integration(
            restApiId=api_id,
            resourceId=post_id["id"],
            httpMethod="GET",
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:{lab.region}:lambda:path/2015-03-31/functions/"
            f"{api_fn_arn}/invocations",
            cacheKeyParameters=["method.request.path.id"],
        )
        lambda_.add_permission(
            FunctionName=api_fn,
            StatementId="apigateway-invoke",
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
            SourceArn=f"arn:aws:execute-api:{lab.region}:{lab.account_id}:{api_id}/*/*/*",
        )
        apigw.create_deployment(restApiId=api_id, stageName="api")
        url = f"https://{api_id}.execute-api.{lab.region}.amazonaws.com/api/posts/{posts[0]['id']}"
        requests.get(url).raise_for_status()  # cold start, not timed
        before = set(_invocations(lab, api_fn))
        uncached, n_uncached, s_uncached = _rps(url, n, limit_s=30)
        durations = [
            _ms(report, "Duration")
            for rid, (_, _, report) in _invocations(lab, api_fn).items()
            if rid not in before
        ]

        apigw.update_stage(
            restApiId=api_id,
            stageName="api",
            patchOperations=[
                {"op": "replace", "path": "/cacheClusterEnabled", "value": "true"},
                {"op": "replace", "path": "/cacheClusterSize", "value": "0.5"},
                {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
            ],
        )
        lab.settle(
            until=lambda: (
                apigw.get_stage(restApiId=api_id, stageName="api").get("cacheClusterStatus")
                == "AVAILABLE"
            )
        )
        requests.get(url).raise_for_status()  # the miss that fills the cache, not timed
        calls = len(_invocations(lab, api_fn))
        cached, n_cached, s_cached = _rps(url, n, limit_s=30)
        reached = len(_invocations(lab, api_fn)) - calls
    finally:
        report = lab.teardown()
        if not report.clean:
            print(f"bench-myblog: teardown left {report!r}", file=sys.stderr)

    return [
        (
            "myblog API GET /posts/{id}, uncached",
            f"{uncached:.0f} req/s ({n_uncached} requests, statuses {s_uncached}; "
            f"function Duration {statistics.mean(durations):.1f} ms of "
            f"{1000 / uncached:.1f} ms a request)",
            "reported",
        ),
        (
            "myblog API GET /posts/{id}, cached",
            f"{cached:.0f} req/s ({n_cached} requests, statuses {s_cached}, "
            f"{reached} reached Lambda)",
            "reported",
        ),
        ("myblog API cached / uncached", f"{cached / uncached:.2f}×", "reported"),
    ]


def bench_myblog_nbval() -> list[tuple[str, str, str]]:
    """Wall time of pytest --nbval on notebooks/01-myblog, as `make test` runs it."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "notebooks/01-myblog",
        "--nbval",
        "--nbval-current-env",
        "--nbval-sanitize-with",
        "tests/nbval_sanitize.cfg",
        "-p",
        "no:cacheprovider",
        "-q",
    ]
    t = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t
    last = (done.stdout.strip().splitlines() or ["no output"])[-1].strip("= ")
    failed = re.findall(r"^FAILED \S+::(Cell \d+)", done.stdout, re.M)
    if failed:
        last += f"; failed: {', '.join(failed)}"
    return [("myblog notebook under nbval", f"{wall:.1f} s (pytest: {last})", "< 30 s")]


def bench_myblog(photos: int, requests_n: int) -> list[tuple[str, str, str]]:
    """Chapter 1: thumbnail pipeline, API stage cache, the notebook under nbval."""
    return [
        *bench_myblog_thumbnails(photos),
        *bench_myblog_api(requests_n),
        *bench_myblog_nbval(),
    ]


# one invocation: function name, payload, wall ms of the runtime's invoke, Duration ms, init ms
_Run = tuple[str, bytes, float, float, float | None]


class _Runs:
    """Every invocation the lab runs while installed (API Gateway, the ALB, lambda.invoke, event
    source mappings all go through Emulator.run): function, payload, wall ms of the runtime's
    invoke, the invocation's Duration ms and its init ms (a cold start)."""

    def __init__(self, emulator) -> None:
        self.emulator = emulator
        self.calls: list[_Run] = []

    def __enter__(self) -> _Runs:
        original = self.emulator.run

        def run(fn, payload, **kwargs):
            t = time.perf_counter()
            outcome = original(fn, payload, **kwargs)
            wall = (time.perf_counter() - t) * 1000
            self.calls.append(
                (fn.function_name, payload, wall, outcome.duration_ms, outcome.init_ms)
            )
            return outcome

        self.emulator.run = run
        return self

    def __exit__(self, *exc) -> None:
        del self.emulator.run  # the class's method again

    def since(self, mark: int, function: str) -> list[_Run]:
        """The invocations of `function` since calls[mark]."""
        return [c for c in self.calls[mark:] if c[0] == function]


# the orders function's users call, timed in the same runtime: urllib makes a default SSL
# context (parsing the trust store) for every HTTPS connection; the same GET with one context
TLS_PROBE = """
import ssl
import time
import urllib.request

def median_ms(call, n):
    spent = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        spent.append((time.perf_counter() - t) * 1000)
    return sorted(spent)[n // 2]

def handler(event, context):
    url, n, shared = event["url"], event["n"], ssl.create_default_context()
    return {
        "context_ms": median_ms(ssl.create_default_context, n),
        "new_context_ms": median_ms(lambda: urllib.request.urlopen(url, timeout=2).read(), n),
        "shared_context_ms": median_ms(
            lambda: urllib.request.urlopen(url, timeout=2, context=shared).read(), n
        ),
    }
"""


def _median(values) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def bench_microservices(calls: int, backlog: int) -> list[tuple[str, str, str]]:
    """Chapter 2: the hops of a users GET, the orders sync path, the async path."""
    import contextlib
    import types
    from collections import Counter

    import requests

    import helpers

    # the chapter's tests build the whole stack as the notebook does: their builders, reused
    # (support.py holds dataclasses: its module must be in sys.modules while it runs)
    spec = importlib.util.spec_from_file_location(
        "bench_ms_support", ROOT / "tests/microservices/support.py"
    )
    ms = sys.modules["bench_ms_support"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ms)
    warm = 20

    lab = helpers.start("bench-ms", "moto")
    try:
        lambda_, sqs, sns, ddb = (lab.client(s) for s in ("lambda", "sqs", "sns", "dynamodb"))
        role = _role(lab)

        def deploy_app(folder, *, base=None, env=None, requirements=(), **kwargs) -> str:
            """The builders' deploy_app: functions/<folder> deployed as the notebook does."""
            return _deploy(
                lab,
                base or folder,
                ms.FUNCTIONS / folder,
                role,
                env or {},
                requirements=requirements,
                **kwargs,
            )

        t = time.perf_counter()
        users = ms.build_users(lab, deploy_app)
        events = ms.build_notifications(lab, deploy_app)
        orders = ms.build_orders(
            lab, deploy_app, users_url=users.url(), topic=events.topic, stream=events.stream
        )
        customers = [
            ms.register(users, name, f"{name.split()[0].lower()}@example.com")
            for name in ("Ada Lovelace", "Alan Turing", "Grace Hopper")
        ]
        built_s = time.perf_counter() - t
        placed: set[str] = set()

        def place(i: int) -> requests.Response:
            items = [{"sku": f"sku-{i % 7}", "quantity": 1 + i % 3, "unit_price": 9.5 + i % 50}]
            resp = requests.post(
                f"{orders.url}/orders",
                json={"user_id": customers[i % len(customers)], "items": items},
            )
            if resp.status_code == 201:
                placed.add(resp.json()["order_id"])
            return resp

        def delivered() -> int:
            return ddb.scan(TableName=events.deliveries, Select="COUNT")["Count"]  # < 1 MB

        with _Runs(lab.emulator) as runs:
            # cold starts, not timed: users (by register), orders and the notifier
            assert place(0).status_code == 201
            lab.settle()

            # 1. GET /users/{id}: API Gateway, lambda.invoke with the event it passes, in-process
            url = f"{users.url()}/users/{customers[0]}"
            mark = len(runs.calls)
            requests.get(url).raise_for_status()
            event = runs.since(mark, users.function)[0][1]
            app = ms.load(
                "bench_ms_users",
                ms.FUNCTIONS / "users" / "app.py",
                {"USERS_TABLE": users.table, "API_VERSION": "1", "AWS_DEFAULT_REGION": lab.region},
            )  # its table client is moto's, in this process: no HTTP
            context = types.SimpleNamespace(function_version=users.versions["live"])
            sink = io.StringIO()  # what the handler prints (the runtime captures it too)

            def via_gateway() -> int:
                return requests.get(url).status_code

            def via_invoke() -> int:
                resp = lambda_.invoke(FunctionName=users.function, Qualifier="live", Payload=event)
                return json.loads(resp["Payload"].read())["statusCode"]

            def in_process() -> int:
                with contextlib.redirect_stdout(sink):
                    out = json.dumps(app.handler(json.loads(event), context))
                return json.loads(out)["statusCode"]

            hops = {"gateway": via_gateway, "invoke": via_invoke, "direct": in_process}
            took: dict[str, list[float]] = {k: [] for k in hops}
            inside: dict[str, list[tuple[float, float]]] = {"gateway": [], "invoke": []}
            hop_status: Counter = Counter()
            for i in range(warm + calls):  # interleaved: a machine that slows down slows all
                for kind, call in hops.items():
                    mark = len(runs.calls)
                    t = time.perf_counter()
                    status = call()
                    spent = (time.perf_counter() - t) * 1000
                    if i >= warm:
                        took[kind].append(spent)
                        hop_status[status] += 1
                    if i >= warm and kind in inside:
                        run = runs.since(mark, users.function)[0]
                        inside[kind].append((run[2], run[3]))
                sink.seek(0)
                sink.truncate()

            # 2. POST /orders through the ALB, the consumer stopped (its messages wait)
            lambda_.update_event_source_mapping(UUID=events.mapping, Enabled=False)
            lab.settle()
            for i in range(warm // 2):
                place(i)
            sync: list[dict[str, float]] = []
            sync_status: Counter = Counter()
            t0 = time.perf_counter()
            for i in range(calls):
                mark = len(runs.calls)
                t = time.perf_counter()
                resp = place(i)
                wall = (time.perf_counter() - t) * 1000
                sync_status[resp.status_code] += 1
                if resp.status_code != 201:
                    continue
                timing = ms.server_timing(resp.headers.get("Server-Timing", ""))
                orders_run = runs.since(mark, orders.function)[0]
                users_run = runs.since(mark, users.function)[0]
                sync.append(
                    {
                        "wall": wall,
                        **timing,
                        "run": orders_run[2],
                        "duration": orders_run[3],
                        "users_run": users_run[2],
                    }
                )
            sync_rate = calls / (time.perf_counter() - t0)

            # 3b. the backlog: what waits in the queue, topped up to `backlog` with OrderPlaced
            lab.settle()
            queued = ms.queue_depth(sqs, events.queue)
            for i in range(max(0, backlog - queued)):
                total = f"{10 + i % 150}.00"
                sns.publish(
                    TopicArn=events.topic,
                    Message=json.dumps(ms.order_placed(f"backlog-{i:04d}", total)),
                    MessageAttributes=ms.order_attributes(total),
                )
                placed.add(f"backlog-{i:04d}")
            lab.settle()
            waiting = ms.queue_depth(sqs, events.queue)
            mark = len(runs.calls)
            t0 = time.perf_counter()
            lambda_.update_event_source_mapping(UUID=events.mapping, Enabled=True)
            drain_settle = lab.settle()
            drain_s = time.perf_counter() - t0
            drained = runs.since(mark, events.notifier)

            # 3a. orders placed with the consumer running, then until the last is notified
            mark = len(runs.calls)
            live: list[float] = []
            live_status: Counter = Counter()
            t0 = time.perf_counter()
            for i in range(calls):
                t = time.perf_counter()
                live_status[place(i).status_code] += 1
                live.append((time.perf_counter() - t) * 1000)
            last_post = time.perf_counter()
            live_rate = calls / (last_post - t0)
            notified_meanwhile = len(runs.since(mark, events.notifier))
            settled = lab.settle()
            settle_s = time.perf_counter() - last_post
            live_notifier = runs.since(mark, events.notifier)

        # where the users call's time goes, by a probe in the same runtime (not timed above)
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "app.py").write_text(TLS_PROBE)
            probe_fn = _deploy(lab, "tls-probe", Path(tmp), role, {})
        lambda_.invoke(FunctionName=probe_fn, Payload=json.dumps({"url": url, "n": 1}))  # cold
        resp = lambda_.invoke(FunctionName=probe_fn, Payload=json.dumps({"url": url, "n": 20}))
        tls = json.loads(resp["Payload"].read())

        log = {item["order_id"]["S"] for item in ms.scan_all(ddb, events.deliveries)}
        left = (ms.queue_depth(sqs, events.queue), ms.queue_depth(sqs, events.dlq))
        errors = [
            n for n in lab.emulator.notes if n.startswith(("delivery error", "could not deliver"))
        ]
        count = delivered()
    finally:
        report = lab.teardown()
        if not report.clean:
            print(f"bench-ms: teardown left {report!r}", file=sys.stderr)

    g, i, d = (_median(took[k]) for k in ("gateway", "invoke", "direct"))
    g_run, g_dur = (_median(x[j] for x in inside["gateway"]) for j in (0, 1))
    i_run, i_dur = (_median(x[j] for x in inside["invoke"]) for j in (0, 1))
    p = _median(s["wall"] for s in sync)
    parts = {k: _median(s.get(k, 0.0) for s in sync) for k in ("users", "db", "publish")}
    rest = [s["wall"] - s.get("users", 0) - s.get("db", 0) - s.get("publish", 0) for s in sync]
    remainder = _median(rest)
    outside = _median(s["wall"] - s["run"] for s in sync)
    runtime = _median(s["run"] - s["duration"] for s in sync)
    beyond = _median(
        s["duration"] - s.get("users", 0) - s.get("db", 0) - s.get("publish", 0) for s in sync
    )
    nested = _median(s.get("users", 0) - s["users_run"] for s in sync)
    per_batch = _median(len(json.loads(c[1])["Records"]) for c in live_notifier)
    drain_duration = sum(c[3] for c in drained) / 1000
    drain_wall = sum(c[2] for c in drained) / 1000
    ok = (
        log == placed
        and count == len(placed)
        and left == (0, 0)
        and not errors
        and set(hop_status) == {200}
        and set(sync_status) == set(live_status) == {201}
        and waiting == max(backlog, queued)
    )
    pending = settled.pending + drain_settle.pending
    return [
        (
            "microservices: GET /users/{id} via API Gateway / in-process",
            f"{g / d:.1f}× (median of {calls}: `requests.get` {g:.1f} ms, the handler called "
            f"in-process {d:.2f} ms)",
            "reported",
        ),
        (
            "  lambda.invoke (the proxy event) / in-process",
            f"{i / d:.1f}× ({i:.1f} ms; the runtime's invoke {i_run:.1f} ms of it, Duration "
            f"{i_dur:.1f} ms; boto3 + moto's Invoke {i - i_run:.1f} ms)",
            "reported",
        ),
        (
            "  API Gateway hop: via API Gateway − lambda.invoke",
            f"{g - i:.1f} ms ({g / i:.2f}×; a gateway GET: the runtime's invoke {g_run:.1f} ms, "
            f"Duration {g_dur:.1f} ms; requests + front + API Gateway {g - g_run:.1f} ms)",
            "reported",
        ),
        (
            "  Lambda hop: lambda.invoke − in-process",
            f"{i - d:.1f} ms (runtime beyond Duration {i_run - i_dur:.1f} ms; Duration over "
            f"the in-process call {i_dur - d:.1f} ms: the table read over HTTP)",
            "reported",
        ),
        (
            "microservices: POST /orders via the ALB (sync path)",
            f"{p:.1f} ms median ({calls} orders, statuses {dict(sync_status)}, consumer "
            f"stopped; {sync_rate:.1f} orders/s)",
            "reported",
        ),
        (
            "  Server-Timing: users call, db, publish",
            f"users {parts['users']:.1f} ms ({parts['users'] / p:.0%}), db {parts['db']:.1f} ms "
            f"({parts['db'] / p:.0%}), publish {parts['publish']:.1f} ms "
            f"({parts['publish'] / p:.0%}); the users call {parts['users'] / g:.2f}× a GET "
            f"from here (its invocation {parts['users'] - nested:.1f} ms, TLS + front + API "
            f"Gateway from the function {nested:.1f} ms)",
            "reported",
        ),
        (
            "  the users call, probed in the same runtime",
            f"{tls['new_context_ms']:.1f} ms with a new SSL context per call (`urlopen` without "
            f"`context=`: the trust store parsed each time, {tls['context_ms']:.1f} ms); "
            f"{tls['shared_context_ms']:.1f} ms with one context reused, as orders does "
            f"(medians of 20)",
            "reported",
        ),
        (
            "  remainder (ALB + Lambda runtime)",
            f"{remainder:.1f} ms = {remainder / p:.0%} (requests + front + ALB {outside:.1f} ms; "
            f"runtime beyond Duration {runtime:.1f} ms; the handler beyond the three "
            f"{beyond:.1f} ms)",
            "reported",
        ),
        (
            "microservices: orders/s with the consumer running",
            f"{live_rate:.1f} orders/s = {live_rate / sync_rate:.2f}× stopped ({calls} orders, "
            f"statuses {dict(live_status)}; POST median {_median(live):.1f} ms; "
            f"{notified_meanwhile} notifier invocations meanwhile, median batch {per_batch:.0f} "
            "message(s), the mapping's window 1 s)",
            "reported",
        ),
        (
            "  settle: last POST → last notification stored",
            f"{settle_s:.2f} s ({len(live_notifier) - notified_meanwhile} more invocation(s); lab "
            f"clock advanced {settled.advanced_s:.1f} s)",
            "reported",
        ),
        (
            f"microservices: drain of {waiting} waiting messages",
            f"{waiting / drain_s:.0f} messages/s ({drain_s:.2f} s from enabling the mapping; "
            f"{len(drained)} invocations, runtime's invoke Σ {drain_wall:.2f} s = "
            f"{drain_wall / drain_s:.0%}, Σ Duration {drain_duration:.2f} s)",
            "reported",
        ),
        (
            "  accounting",
            f"{'ok' if ok else 'MISMATCH'}: {len(placed)} orders and backlog messages = {count} "
            f"in the delivery log ({len(log ^ placed)} differ); queue, DLQ {left}; "
            f"{len(errors)} delivery errors; stack built in {built_s:.1f} s"
            + (f"; settle left: {'; '.join(pending)}" if pending else ""),
            "reported",
        ),
    ]


ATHENA_SQL = (
    "SELECT hour, count(*) AS readings, round(avg(temp), 3) AS avg_temp, max(temp) AS max_temp, "
    "approx_percentile(temp, 0.9) AS p90 FROM {table} GROUP BY hour ORDER BY hour"
)


def bench_athena(rows_n: int, rounds: int) -> list[tuple[str, str, str]]:
    """The same aggregate over partitioned Parquet: offline Athena vs DuckDB on the same files."""
    import boto3  # noqa: F401  (the lab's clients)
    import duckdb
    import sqlglot

    import helpers

    hours = 24
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect()
        con.execute(
            f"CREATE TABLE t AS SELECT 'sensor-' || (i % 50) AS device, "
            f"20 + (i % 997) / 100.0 AS temp, i AS reading, i % {hours} AS hour "
            f"FROM range({rows_n}) r(i)"
        )
        for hour in range(hours):
            folder = Path(tmp, "dt=2024-05-01", f"hour={hour}")
            folder.mkdir(parents=True)
            con.execute(
                f"COPY (SELECT device, temp, reading FROM t WHERE hour = {hour}) "
                f"TO '{folder / 'part-0.parquet'}' (FORMAT parquet)"
            )
        files = sorted(Path(tmp).rglob("*.parquet"))
        direct_sql = sqlglot.transpile(
            ATHENA_SQL.format(table=f"read_parquet('{tmp}/**/*.parquet', hive_partitioning=true)"),
            read="athena",
            write="duckdb",
        )[0]

        baseline = duckdb.connect()  # one warm connection: the fastest DuckDB can do it
        baseline.execute("SET threads=2")

        def direct() -> list:
            return baseline.sql(direct_sql).fetchall()

        lab = helpers.start("bench-athena")
        try:
            s3, glue, athena = lab.client("s3"), lab.client("glue"), lab.client("athena")
            bucket = lab.name("athena-bench")
            s3.create_bucket(Bucket=bucket)
            for f in files:
                s3.put_object(Bucket=bucket, Key=str(f.relative_to(tmp)), Body=f.read_bytes())
            glue.create_database(DatabaseInput={"Name": "bench"})
            glue.create_table(
                DatabaseName="bench",
                TableInput={
                    "Name": "readings",
                    "PartitionKeys": [
                        {"Name": "dt", "Type": "string"},
                        {"Name": "hour", "Type": "int"},
                    ],
                    "Parameters": {
                        "projection.enabled": "true",
                        "projection.dt.type": "date",
                        "projection.dt.format": "yyyy-MM-dd",
                        "projection.dt.range": "2024-05-01,2024-05-01",
                        "projection.hour.type": "integer",
                        "projection.hour.range": f"0,{hours - 1}",
                    },
                    "StorageDescriptor": {
                        "Columns": [
                            {"Name": "device", "Type": "string"},
                            {"Name": "temp", "Type": "double"},
                            {"Name": "reading", "Type": "bigint"},
                        ],
                        "Location": f"s3://{bucket}/",
                        "SerdeInfo": {
                            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet."
                            "serde.ParquetHiveSerDe"
                        },
                    },
                },
            )

            def offline() -> list:
                qid = athena.start_query_execution(
                    QueryString=ATHENA_SQL.format(table="bench.readings"),
                    ResultConfiguration={"OutputLocation": f"s3://{bucket}/results/"},
                )["QueryExecutionId"]
                while True:
                    state = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
                    if state["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                        break
                assert state["Status"]["State"] == "SUCCEEDED", state["Status"]
                return athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]

            assert len(offline()) == hours + 1 and len(direct()) == hours  # warm both up
            times: dict[str, list[float]] = {"athena": [], "direct": []}
            for _ in range(rounds):
                for name, fn in (("athena", offline), ("direct", direct)):
                    t = time.perf_counter()
                    fn()
                    times[name].append((time.perf_counter() - t) * 1000)
        finally:
            lab.teardown()
    a, d = statistics.median(times["athena"]), statistics.median(times["direct"])
    return [
        (
            f"athena: aggregate over {rows_n:,} rows of Parquet ({hours} partitions)",
            f"{a / d:.2f}× (offline Athena {a:.0f} ms, DuckDB on the files {d:.0f} ms)",
            "≤ 1.3×",
        )
    ]


INGESTION = ROOT / "notebooks" / "05-ingestion-pipeline"
INGESTION_SQL = (
    "SELECT *, topic(2) AS device_id, timestamp() AS received_at "
    "FROM 'sensors/+/telemetry' WHERE kind = 'reading'"
)
TELEMETRY_COLUMNS = (
    ("device_id", "string"),
    ("site", "string"),
    ("event_time", "timestamp"),
    ("temperature", "double"),
    ("humidity", "double"),
    ("battery", "double"),
    ("firmware", "string"),
    ("received_at", "timestamp"),
)


def _service_role(lab, base: str, service: str, actions: list[str]) -> str:
    """A role `service` may assume, allowed `actions` on every resource."""
    iam = lab.client("iam")
    name = lab.name(base)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    allow = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    iam.put_role_policy(
        RoleName=name,
        PolicyName="pipeline",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [allow]}),
    )
    return arn


def _telemetry(devices, readings: int) -> list[tuple[str, dict]]:
    """The first `readings` readings of the chapter's fleet, copied until it is big enough to
    send them within a week (and the heartbeats sent meanwhile), oldest first."""
    import dataclasses
    import math
    from datetime import timedelta

    per_device_day = int(timedelta(days=1) / devices.READING_EVERY)
    copies = max(1, math.ceil(readings / (per_device_day * 7 * len(devices.FLEET))))
    fleet = [
        dataclasses.replace(d, device_id=f"{d.device_id}-{i:02d}")
        for i in range(copies)
        for d in devices.FLEET
    ]
    days = math.ceil(readings / (per_device_day * len(fleet)))
    start, end = devices.recorded_days(days=days)
    out, n = [], 0
    for topic, payload in devices.messages(start, end, fleet=fleet):
        if payload["kind"] == "reading":
            if n == readings:
                break
            n += 1
        out.append((topic, payload))
    return out


class _Timer:
    """Wall and thread CPU time spent in wrapped methods of one object (Firehose's work, on the
    delivery thread or in settle(); CPU is what it takes from the publishing thread, as they
    share the GIL)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.last_end: dict[str, float] = {}

    def wrap(self, owner, name: str) -> None:
        method = getattr(owner, name)

        def timed(*args, **kwargs):
            t, cpu = time.perf_counter(), time.thread_time()
            try:
                return method(*args, **kwargs)
            finally:
                end = time.perf_counter()
                self.wall[name] = self.wall.get(name, 0.0) + end - t
                self.cpu[name] = self.cpu.get(name, 0.0) + time.thread_time() - cpu
                self.last_end[name] = end

        setattr(owner, name, timed)


# Firehose's steps, timed: reading Kinesis, the transform (its invocation inside), delivery
# (Parquet and the S3 put inside; error records are S3 puts too)
_FIREHOSE_STEPS = (
    "_read_source",
    "_transform",
    "_invoke",
    "_deliver",
    "_to_parquet",
    "_put_object",
)


def bench_ingestion(readings: int) -> list[tuple[str, str, str]]:
    """Chapter 5: IoT rule → Kinesis → Firehose (transform, Parquet, partitions) → S3."""
    import duckdb

    import helpers
    from helpers.emulator import firehose, iot, streams

    # devices.py holds dataclasses: its module must be in sys.modules while it runs
    spec = importlib.util.spec_from_file_location("bench_devices", INGESTION / "devices.py")
    devices = sys.modules["bench_devices"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(devices)
    sent = _telemetry(devices, readings)
    heartbeats = len(sent) - readings

    lab = helpers.start("bench-ingestion", "moto")
    try:
        iot_, iot_data = lab.client("iot"), lab.client("iot-data")
        kinesis, fh, s3, glue = (lab.client(s) for s in ("kinesis", "firehose", "s3", "glue"))

        # the floor: boto3 + moto's Publish alone, with no rule to run (mean of before and after)
        floor_n = min(len(sent), 2000)

        def floor() -> tuple[float, float]:
            """Seconds a publish: wall, and CPU of this process (robust to a busy machine)."""
            t, cpu = time.perf_counter(), time.process_time()
            for topic, payload in sent[:floor_n]:
                iot_data.publish(topic="floor/" + topic, qos=1, payload=json.dumps(payload))
            return (time.perf_counter() - t) / floor_n, (time.process_time() - cpu) / floor_n

        floor()  # warms boto3 and moto up (the first thousand calls are slower): not counted
        floors = [floor()]

        bucket = lab.name("telemetry")
        s3.create_bucket(Bucket=bucket)
        stream = lab.name("telemetry")
        shards = 8  # 1,000 records/s each; 150 devices' keys spread over them
        kinesis.create_stream(StreamName=stream, ShardCount=shards)
        kinesis.get_waiter("stream_exists").wait(StreamName=stream)
        summary = kinesis.describe_stream_summary(StreamName=stream)
        stream_arn = summary["StreamDescriptionSummary"]["StreamARN"]

        database = lab.name("telemetry").replace("-", "_")
        glue.create_database(DatabaseInput={"Name": database})
        glue.create_table(
            DatabaseName=database,
            TableInput={
                "Name": "telemetry",
                "TableType": "EXTERNAL_TABLE",
                "PartitionKeys": [{"Name": "dt", "Type": "string"}],
                "StorageDescriptor": {
                    "Columns": [{"Name": n, "Type": t} for n, t in TELEMETRY_COLUMNS],
                    "Location": f"s3://{bucket}/telemetry/",
                    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet."
                    "MapredParquetOutputFormat",
                    "SerdeInfo": {
                        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet."
                        "serde.ParquetHiveSerDe"
                    },
                },
            },
        )

        transform_fn = _deploy(
            lab, "transform", INGESTION / "functions/transform", _role(lab), {}, Timeout=60
        )
        transform_arn = lab.client("lambda").get_function(FunctionName=transform_fn)[
            "Configuration"
        ]["FunctionArn"]
        firehose_role = _service_role(
            lab,
            "firehose",
            "firehose.amazonaws.com",
            [
                "kinesis:DescribeStream",
                "kinesis:GetShardIterator",
                "kinesis:GetRecords",
                "kinesis:ListShards",
                "s3:PutObject",
                "s3:GetBucketLocation",
                "s3:ListBucket",
                "lambda:InvokeFunction",
                "lambda:GetFunctionConfiguration",
                "glue:GetTable",
                "glue:GetTableVersion",
                "glue:GetTableVersions",
            ],
        )
        delivery_stream = lab.name("telemetry")
        fh.create_delivery_stream(
            DeliveryStreamName=delivery_stream,
            DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={
                "KinesisStreamARN": stream_arn,
                "RoleARN": firehose_role,
            },
            ExtendedS3DestinationConfiguration={
                "RoleARN": firehose_role,
                "BucketARN": f"arn:aws:s3:::{bucket}",
                "Prefix": "telemetry/dt=!{partitionKeyFromLambda:dt}/",
                "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
                "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
                "DynamicPartitioningConfiguration": {"Enabled": True},
                "ProcessingConfiguration": {
                    "Enabled": True,
                    "Processors": [
                        {
                            "Type": "Lambda",
                            "Parameters": [
                                {"ParameterName": "LambdaArn", "ParameterValue": transform_arn}
                            ],
                        }
                    ],
                },
                "DataFormatConversionConfiguration": {
                    "Enabled": True,
                    "SchemaConfiguration": {
                        "RoleARN": firehose_role,
                        "DatabaseName": database,
                        "TableName": "telemetry",
                        "Region": lab.region,
                    },
                    "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
                    "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {}}},
                },
            },
        )
        rule = lab.name("telemetry").replace("-", "_")
        iot_.create_topic_rule(
            ruleName=rule,
            topicRulePayload={
                "sql": INGESTION_SQL,
                "awsIotSqlVersion": "2016-03-23",
                "actions": [
                    {
                        "kinesis": {
                            "streamName": stream,
                            "partitionKey": "${topic(2)}",
                            "roleArn": _service_role(
                                lab, "iot-rule", "iot.amazonaws.com", ["kinesis:PutRecord"]
                            ),
                        }
                    }
                ],
            },
        )
        lab.settle()  # the function's cold start is not timed
        lab.client("lambda").invoke(FunctionName=transform_fn, Payload=b'{"records": []}')

        # the delivery thread's work, timed where it happens
        timer = _Timer()
        for name in _FIREHOSE_STEPS:
            timer.wrap(firehose._installed, name)

        publish_s = 0.0
        t0, cpu0 = time.perf_counter(), time.process_time()
        for topic, payload in sent:
            t = time.perf_counter()
            iot_data.publish(topic=topic, qos=1, payload=json.dumps(payload))
            publish_s += time.perf_counter() - t
        published, publish_cpu = time.perf_counter(), time.process_time() - cpu0
        settled = lab.settle(timeout=600)
        wall = timer.last_end.get("_put_object", published) - t0
        tail = wall - (published - t0)

        floors.append(floor())
        floor_s = statistics.mean(f[0] for f in floors)
        floor_cpu = statistics.mean(f[1] for f in floors)
        counts = firehose.metrics(delivery_stream)
        by_rule = iot.rule_stats(lab.emulator, rule)
        throttled = streams.throttled(stream)
        invocations = [report for _, _, report in _invocations(lab, transform_fn).values()]
        duration_s = sum(_ms(r, "Duration") for r in invocations) / 1000

        # what landed in S3: rows in the Parquet objects, lines in the error objects
        keys = [
            o["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])
        ]
        rows = error_lines = 0
        partitions = set()
        with tempfile.TemporaryDirectory() as tmp:
            con = duckdb.connect()
            for i, key in enumerate(keys):
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                if key.startswith("telemetry/"):
                    partitions.add(key.split("/")[1])
                    path = Path(tmp, f"{i}.parquet")
                    path.write_bytes(body)
                    rows += con.execute(f"SELECT count(*) FROM '{path}'").fetchone()[0]
                else:
                    error_lines += len(body.splitlines())
    finally:
        report = lab.teardown()
        if not report.clean:
            print(f"bench-ingestion: teardown left {report!r}", file=sys.stderr)

    per_publish, per_cpu = publish_s / len(sent), publish_cpu / len(sent)
    cpu = {name: timer.cpu.get(name, 0.0) for name in _FIREHOSE_STEPS}
    firehose_cpu = cpu["_read_source"] + cpu["_transform"] + cpu["_deliver"]
    invoke_s = timer.wall.get("_invoke", 0.0)
    accounted = counts["delivered"] + counts["dropped"] + counts["failed"]
    ok = (
        readings == accounted == counts["records_in"] == by_rule["delivered"]
        and by_rule["matched"] == by_rule["delivered"] + by_rule["dropped"] + by_rule["failed"]
        and counts["buffered"] == 0
        and rows == counts["delivered"]
        and error_lines == counts["failed"]
    )
    pending = f"; settle left: {'; '.join(settled.pending)}" if settled.pending else ""
    return [
        (
            f"ingestion: {readings:,} telemetry records end to end",
            f"{readings / wall:,.0f} records/s ({readings:,} readings + {heartbeats:,} heartbeats "
            f"published; {wall:.1f} s from the first publish to the last of "
            f"{counts['objects']} objects)",
            "reported",
        ),
        (
            "  publish calls (rule + Kinesis PutRecord)",
            f"{publish_s:.1f} s = {publish_s / wall:.0%} ({per_publish * 1000:.2f} ms a publish "
            f"= {per_publish / floor_s:.2f}× a bare publish to a topic with no rule, "
            f"{floor_s * 1000:.2f} ms; in CPU {per_cpu / floor_cpu:.2f}×, "
            f"{per_cpu * 1000:.2f} / {floor_cpu * 1000:.2f} ms, the Firehose thread's included; "
            f"{len(sent) / publish_s:,.0f} publishes/s)",
            "reported",
        ),
        (
            "  Firehose in this process (CPU; overlaps publishing)",
            f"{firehose_cpu:.1f} s = {firehose_cpu / wall:.0%}: Kinesis reads "
            f"{cpu['_read_source']:.1f} s, transform events and answers "
            f"{cpu['_transform'] - cpu['_invoke']:.1f} s, delivery {cpu['_deliver']:.1f} s "
            f"(Parquet {cpu['_to_parquet']:.1f} s; S3 puts, error records' too, "
            f"{cpu['_put_object']:.1f} s)",
            "reported",
        ),
        (
            "  transform invocations (the function's worker process)",
            f"{invoke_s:.1f} s wall = {invoke_s / wall:.0%} ({counts['transform_invocations']} "
            f"invocations, batches of up to 1 MiB; Σ Duration {duration_s:.1f} s)",
            "reported",
        ),
        (
            "  after the last publish",
            f"{tail:.1f} s = {tail / wall:.0%} (settle: buffers due, last transform and "
            f"objects{pending})",
            "reported",
        ),
        (
            "  accounting",
            f"{'ok' if ok else 'MISMATCH'}: {readings:,} readings published = "
            f"{counts['delivered']:,} delivered + {counts['dropped']:,} dropped + "
            f"{counts['failed']:,} failed ({counts['buffered']} buffered; "
            f"{rows:,} Parquet rows in {len(partitions)} dt partitions, {error_lines} error "
            f"records); rule: {by_rule['matched']:,} matched = {by_rule['delivered']:,} to "
            f"Kinesis + {by_rule['dropped']:,} dropped by WHERE + {by_rule['failed']} failed; "
            f"{throttled} throttled",
            "reported",
        ),
    ]


def bench_software_updates(downloads: int) -> list[tuple[str, str, str]]:
    """Chapter 4: downloads through the ALB to the instances' servers and through CloudFront."""
    import tracemalloc
    from concurrent.futures import ThreadPoolExecutor

    import requests

    import helpers

    if str(ROOT) not in sys.path:  # support.py imports the tests package
        sys.path.insert(0, str(ROOT))
    from tests.emulator.chapter_support import load
    from tests.software_updates import support as su

    storm = load("bench_storm", ROOT / "notebooks/04-software-updates/storm.py")
    size = 5_000_000
    rows: list[tuple[str, str, str]] = []
    lab = helpers.start("bench-su", "moto")
    try:
        cdn, origin, www = su.build_site(lab)
        (www / "updates" / "bench.bin").write_bytes(os.urandom(size))
        usage = lab.emulator.instances.usage
        requests.get(f"{origin}/latest.json", timeout=30).raise_for_status()  # boots both
        servers = [url for urls in lab.emulator.instances.server_urls().values() for url in urls]

        def fetch(url):
            t = time.perf_counter()
            r = requests.get(url, timeout=60)
            r.raise_for_status()
            return time.perf_counter() - t, len(r.content)

        def timed(url, n):
            spent = [fetch(url)[0] for _ in range(n)]
            return statistics.median(spent)

        n = max(5, downloads // 4)
        direct = timed(f"{servers[0]}/updates/bench.bin", n)
        via_alb = timed(f"{origin}/updates/bench.bin", n)
        fetch(f"{cdn}/updates/bench.bin")  # the miss that fills the cache
        via_edge = timed(f"{cdn}/updates/bench.bin", n)
        rows.append(
            (
                "software-updates: 5 MB download via ALB / direct",
                f"{via_alb / direct:.1f}x ({via_alb * 1000:.0f} ms / {direct * 1000:.0f} ms, "
                f"{size / via_alb / 1e6:.0f} MB/s via the ALB)",
                "reported",
            )
        )
        rows.append(
            (
                "software-updates: 5 MB download, edge hit / via ALB",
                f"{via_edge / via_alb:.2f}x ({via_edge * 1000:.0f} ms / {via_alb * 1000:.0f} ms)",
                "reported",
            )
        )
        poll_direct = timed(f"{servers[0]}/latest.json", 50)
        poll_alb = timed(f"{origin}/latest.json", 50)
        poll_edge = timed(f"{cdn}/latest.json", 50)
        rows.append(
            (
                "software-updates: manifest poll direct / ALB / edge hit",
                f"{poll_direct * 1000:.1f} / {poll_alb * 1000:.1f} / {poll_edge * 1000:.1f} ms",
                "reported",
            )
        )

        # a storm of concurrent downloads of a new file, without and with the edge
        def storm_run(base, name):
            (www / "updates" / name).write_bytes(os.urandom(size))
            before = sum(u["requests"] for u in usage().values())
            t = time.perf_counter()
            with ThreadPoolExecutor(10) as pool:
                results = list(pool.map(fetch, [f"{base}/updates/{name}"] * downloads))
            wall = time.perf_counter() - t
            reached = sum(u["requests"] for u in usage().values()) - before
            return wall, sum(b for _, b in results), reached

        wall_alb, bytes_alb, reached_alb = storm_run(origin, "storm-a.bin")
        wall_edge, bytes_edge, reached_edge = storm_run(cdn, "storm-b.bin")
        rows.append(
            (
                f"software-updates: storm of {downloads} x 5 MB, edge / ALB",
                f"{wall_edge / wall_alb:.2f}x ({wall_edge:.2f} s / {wall_alb:.2f} s; "
                f"{bytes_alb / wall_alb / 1e6:.0f} vs {bytes_edge / wall_edge / 1e6:.0f} MB/s)",
                "reported",
            )
        )
        rows.append(
            (
                "software-updates: storm requests reaching the instances",
                f"{reached_alb} without the edge, {reached_edge} with it "
                f"(of {downloads} each; collapsing makes it 1)",
                "reported",
            )
        )

        tracemalloc.start()
        fetch(f"{origin}/updates/bench.bin")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append(
            (
                "software-updates: memory held per 5 MB download via the ALB",
                f"{peak / size:.1f}x the file ({peak / 1e6:.0f} MB peak, Python allocations)",
                "reported",
            )
        )
    finally:
        lab.teardown()

    release = storm.Release()
    fleet = storm.Fleet()
    t = time.perf_counter()
    day = storm.simulate(release, fleet)
    sim_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    storm.hit_ratio(storm.Release(files=1000), storm.Edge(update_ttl_s=3600))
    grid_ms = (time.perf_counter() - t) * 1000
    rows.append(
        (
            "software-updates: model of a release day",
            f"{sim_ms:.0f} ms for {len(day.requests)} minutes, no CDN; hit ratio with 1000 "
            f"files {grid_ms:.0f} ms",
            "reported",
        )
    )
    return rows


def bench_labs() -> list[tuple[str, str, str]]:
    """Each lab: its solution headless, its untouched student notebook graded; the quiz bank."""
    import nbformat
    from nbclient import NotebookClient

    from helpers import labs, quiz

    rows = []
    for solution in labs.solutions(ROOT):
        with tempfile.TemporaryDirectory() as work:  # a copy: the solution writes its handlers
            lab = solution.parent.parent
            shutil.copytree(
                lab, Path(work) / lab.name, ignore=shutil.ignore_patterns("__pycache__")
            )
            nb = nbformat.read(solution, as_version=4)
            t = time.perf_counter()
            NotebookClient(
                nb, timeout=600, resources={"metadata": {"path": f"{work}/{lab.name}/solution"}}
            ).execute()
            solved = time.perf_counter() - t
        t = time.perf_counter()
        results = labs.grade(labs.student_path(solution), ROOT)
        graded = time.perf_counter() - t
        failed = sum(not r.passed for r in results)
        rows.append(
            (
                f"lab {lab.name}: student graded / solution",
                f"{graded / solved:.2f}× ({graded:.1f} s / {solved:.1f} s; "
                f"{failed} of {len(results)} checks fail untouched)",
                "reported",
            )
        )
    quiz._files.cache_clear()
    t = time.perf_counter()
    bank = quiz.load_bank()
    loaded = time.perf_counter() - t
    t = time.perf_counter()
    for arch in quiz.architectures():
        quiz.checkpoint_html(arch.key)
    rendered = time.perf_counter() - t
    rows.append(
        (
            "quiz: bank read and checked / 5 checkpoints as HTML",
            f"{loaded * 1000:.0f} ms ({len(bank)} questions) / {rendered * 1000:.0f} ms",
            "reported",
        )
    )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "groups",
        nargs="*",
        help="runtime, notebooks, myblog, microservices, athena, ingestion, software-updates "
        "and/or labs (default: all)",
    )
    parser.add_argument("--rounds", type=int, default=10, help="cold starts to time (x10 warm)")
    parser.add_argument("--photos", type=int, default=200, help="myblog: photos to upload")
    parser.add_argument("--requests", type=int, default=300, help="myblog: API requests per run")
    parser.add_argument(
        "--calls", type=int, default=200, help="microservices: timed calls of each kind"
    )
    parser.add_argument(
        "--backlog", type=int, default=500, help="microservices: messages waiting to drain"
    )
    parser.add_argument("--athena-rows", type=int, default=100_000, help="athena: rows queried")
    parser.add_argument(
        "--records", type=int, default=100_000, help="ingestion: telemetry readings published"
    )
    parser.add_argument(
        "--downloads", type=int, default=40, help="software-updates: downloads in a storm"
    )
    args = parser.parse_args()
    groups = [
        "runtime",
        "notebooks",
        "myblog",
        "microservices",
        "athena",
        "ingestion",
        "software-updates",
        "labs",
    ]
    args.groups = args.groups or groups
    unknown = set(args.groups) - set(groups)
    if unknown:
        parser.error(f"unknown group(s) {sorted(unknown)}: choose from {', '.join(groups)}")
    rows = []
    if "runtime" in args.groups:
        rows += bench_runtime(args.rounds)
    if "notebooks" in args.groups:
        rows += bench_notebooks()
    if "myblog" in args.groups:
        rows += bench_myblog(args.photos, args.requests)
    if "microservices" in args.groups:
        rows += bench_microservices(args.calls, args.backlog)
    if "athena" in args.groups:
        rows += bench_athena(args.athena_rows, args.rounds)
    if "ingestion" in args.groups:
        rows += bench_ingestion(args.records)
    if "software-updates" in args.groups:
        rows += bench_software_updates(args.downloads)
    if "labs" in args.groups:
        rows += bench_labs()
    width = max(len(r[0]) for r in rows)
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<60}  target {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
