"""MyBlog's thumbnail function: S3 upload → SNS topic → SQS queue → Lambda (Pillow) → S3.

Contract: S3 sends the topic an s3:TestEvent when the notification is configured, then one
ObjectCreated event per upload, its key URL-encoded as in a form; SNS wraps it in a
Notification envelope (raw delivery off); the queue's mapping reports partial batch failures
by messageId; a message that keeps failing moves to the dead-letter queue after
maxReceiveCount receives. A thumbnail fits 256 × 256 with the aspect ratio kept, upright (EXIF
orientation applied), in the upload's format, under thumbnails/<same name> in another bucket,
with its Content-Type and a Cache-Control; the upload is never changed.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
https://pillow.readthedocs.io/en/stable/reference/Image.html#PIL.Image.open (MAX_IMAGE_PIXELS)
"""

from __future__ import annotations

import io
import json
from urllib.parse import unquote_plus

import pytest
from PIL import Image, ImageChops, ImageStat

from tests.myblog.support import hopper, json_logs, present, sample_event

MAX_RECEIVES = 3
FORMATS = {
    "jpg": ("JPEG", "image/jpeg"),
    "png": ("PNG", "image/png"),
    "webp": ("WEBP", "image/webp"),
    "gif": ("GIF", "image/gif"),
}


@pytest.fixture(scope="module")
def pipeline(lab, deploy_app):
    """Photos bucket → topic → queue (with a dead-letter queue) → thumbnail function."""
    s3, sns, sqs = lab.client("s3"), lab.client("sns"), lab.client("sqs")
    photos, thumbnails = lab.name("photos"), lab.name("thumbnails")
    for bucket in (photos, thumbnails):
        s3.create_bucket(Bucket=bucket)
    dlq = sqs.create_queue(QueueName=lab.name("thumbnail-dlq"))["QueueUrl"]
    dlq_arn = _queue_arn(sqs, dlq)
    queue = sqs.create_queue(
        QueueName=lab.name("thumbnail-jobs"),
        Attributes={
            "VisibilityTimeout": "180",  # 6 × the function's timeout, as AWS advises
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES}
            ),
        },
    )["QueueUrl"]
    queue_arn = _queue_arn(sqs, queue)
    topic = sns.create_topic(Name=lab.name("photo-uploads"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)  # raw delivery off
    name = deploy_app(
        "thumbnail",
        requirements=("pillow",),
        env={"THUMBNAILS_BUCKET": thumbnails},
        Timeout=30,
        MemorySize=1024,
    )
    lab.client("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn,
        FunctionName=name,
        BatchSize=5,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    # S3 sends its s3:TestEvent through the topic as soon as the notification is set
    s3.put_bucket_notification_configuration(
        Bucket=photos,
        NotificationConfiguration={
            "TopicConfigurations": [
                {
                    "TopicArn": topic,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}},
                }
            ]
        },
    )
    lab.settle()
    return {
        "function": name,
        "photos": photos,
        "thumbnails": thumbnails,
        "queue": queue,
        "dlq": dlq,
    }


def _queue_arn(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


def _upload(lab, pipeline, files):
    s3 = lab.client("s3")
    for name, data in files.items():
        s3.put_object(Bucket=pipeline["photos"], Key=f"uploads/{name}", Body=data)


def _thumbnail(lab, pipeline, name):
    obj = lab.client("s3").get_object(Bucket=pipeline["thumbnails"], Key=f"thumbnails/{name}")
    data = obj["Body"].read()
    image = Image.open(io.BytesIO(data))
    image.load()
    return obj, image


def _thumbnail_keys(lab, pipeline):
    listed = lab.client("s3").list_objects_v2(Bucket=pipeline["thumbnails"])
    return {o["Key"] for o in listed.get("Contents", [])}


def _reference(image, size=256):
    copy = image.copy()
    copy.thumbnail((size, size), Image.Resampling.LANCZOS)
    return copy


def _difference(a, b):
    """Mean absolute difference per channel, 0-255, of two same-size images. A thumbnail
    decoded at reduced JPEG scale differs from the reference by about 5; a sideways or
    upside-down one by more than 80."""
    assert a.size == b.size, (a.size, b.size)
    return max(ImageStat.Stat(ImageChops.difference(a, b)).mean)


def _on_white(image):
    """What a viewer shows on a white page (the colour under transparent pixels is free)."""
    white = Image.new("RGBA", image.size, "white")
    return Image.alpha_composite(white, image.convert("RGBA")).convert("RGB")


def test_the_s3_test_event_is_ignored(lab, pipeline):
    logs = json_logs(lab, pipeline["function"])

    assert {"level": "INFO", "message": "ignored s3:TestEvent"} in logs
    assert not [line for line in logs if line["level"] == "ERROR"]


@pytest.mark.backends("moto", "moto-server")
def test_every_kind_of_photo_becomes_an_upright_thumbnail(lab, pipeline, photos):
    """GIVEN JPEG, EXIF-rotated JPEG, CMYK JPEG, palette GIF, RGBA PNG and WebP, WebP, 16-bit
    PNG, and a PNG with alpha named .jpg WHEN uploaded THEN each has a thumbnail in its
    format that fits 256 × 256 with its aspect ratio, and the upload is unchanged."""
    _upload(lab, pipeline, photos)

    lab.settle()

    s3 = lab.client("s3")
    for name, data in photos.items():
        fmt, content_type = FORMATS[name.rsplit(".", 1)[1]]
        obj, thumb = _thumbnail(lab, pipeline, name)
        assert thumb.format == fmt, name
        assert obj["ContentType"] == content_type, name
        assert obj["CacheControl"] == "public, max-age=31536000, immutable"
        assert obj["Metadata"] == {"source-key": f"uploads/{name}"}
        with Image.open(io.BytesIO(data)) as source:
            width, height = source.size
        upright = (height, width) if name == "phone.jpg" else (width, height)
        assert max(thumb.size) == min(256, max(upright)), (name, thumb.size)
        assert abs(thumb.size[0] / thumb.size[1] - upright[0] / upright[1]) < 0.01, name
        original = s3.get_object(Bucket=pipeline["photos"], Key=f"uploads/{name}")
        assert original["Body"].read() == data, f"{name}: the upload changed"
    assert _thumbnail_keys(lab, pipeline) == {f"thumbnails/{name}" for name in photos}


def test_each_thumbnail_looks_like_its_photo(lab, pipeline, photos):
    """Orientation applied, CMYK made RGB, 16-bit scaled (not clipped), alpha kept in PNG and
    WebP and flattened on white in JPEG, the first frame of a GIF; no EXIF left."""
    portrait = _reference(hopper())
    box = present()

    _, plain = _thumbnail(lab, pipeline, "hopper.jpg")
    assert (plain.mode, plain.size) == ("RGB", portrait.size)
    assert _difference(plain, portrait) < 10
    _, phone = _thumbnail(lab, pipeline, "phone.jpg")
    assert phone.size == portrait.size  # portrait, not landscape: EXIF orientation applied
    assert _difference(phone, portrait) < 10
    assert dict(phone.getexif()) == {}  # no orientation tag left to apply twice, no GPS
    _, cmyk = _thumbnail(lab, pipeline, "print-cmyk.jpg")
    assert cmyk.mode == "RGB" and _difference(cmyk, portrait) < 12
    _, scan = _thumbnail(lab, pipeline, "scan-16bit.png")
    assert scan.mode == "L"
    assert _difference(scan, portrait.convert("L")) < 10
    for name in ("present.png", "transparent.webp"):
        _, alpha = _thumbnail(lab, pipeline, name)
        assert alpha.mode == "RGBA", name
        assert alpha.getpixel((0, 0))[3] == 0, name  # the transparent corner stays transparent
        assert _difference(_on_white(alpha), _on_white(box)) < 6, name
    _, gif = _thumbnail(lab, pipeline, "palette.gif")
    assert gif.info.get("transparency") is not None
    assert gif.convert("RGBA").getpixel((0, 0))[3] == 0
    _, flat = _thumbnail(lab, pipeline, "alpha-named.jpg")
    assert flat.mode == "RGB"
    assert min(flat.getpixel((0, 0))) >= 250  # transparent became white, not black
    _, spaced = _thumbnail(lab, pipeline, "my holiday.jpg")  # key arrived as my+holiday.jpg
    assert spaced.size == portrait.size


def test_bad_files_end_in_the_dead_letter_queue_with_their_reason_logged(
    lab, pipeline, photos, bad_files
):
    """GIVEN a truncated JPEG, a text file named .png and two decompression bombs uploaded
    with a good photo WHEN settled THEN the good photo gets one thumbnail, each bad file is
    tried maxReceiveCount times with its reason logged, then waits in the dead-letter queue;
    the uploads are unchanged and no thumbnail is written for them."""
    good = {"second-hopper.jpg": photos["hopper.jpg"]}
    _upload(lab, pipeline, {**bad_files, **good})

    lab.settle()

    sqs, s3 = lab.client("sqs"), lab.client("s3")
    dead = sqs.receive_message(QueueUrl=pipeline["dlq"], MaxNumberOfMessages=10)["Messages"]
    dead_keys = sorted(_s3_key(m["Body"]) for m in dead)
    assert dead_keys == sorted(f"uploads/{name}" for name in bad_files)
    assert "Messages" not in sqs.receive_message(QueueUrl=pipeline["queue"])
    errors = [line for line in json_logs(lab, pipeline["function"]) if line["level"] == "ERROR"]
    reasons = {
        "truncated.jpg": "OSError: image file is truncated",
        "notes.png": "UnidentifiedImageError: cannot identify image file",
        "bomb.png": "DecompressionBombError: Image size (400000000 pixels) exceeds limit",
        "bomb-warning.png": "DecompressionBombWarning: Image size (48000000 pixels) exceeds limit",
    }
    for name, reason in reasons.items():
        where = f"s3://{pipeline['photos']}/uploads/{name}"
        mine = [line for line in errors if line["object"] == where]
        assert len(mine) == MAX_RECEIVES, (name, mine)
        assert all(line["reason"].startswith(reason) for line in mine), mine[0]["reason"]
        original = s3.get_object(Bucket=pipeline["photos"], Key=f"uploads/{name}")
        assert original["Body"].read() == bad_files[name]
    keys = _thumbnail_keys(lab, pipeline)
    assert "thumbnails/second-hopper.jpg" in keys
    assert not {f"thumbnails/{name}" for name in bad_files} & keys
    written = [
        line
        for line in json_logs(lab, pipeline["function"])
        if line.get("thumbnail") == "thumbnails/second-hopper.jpg"
    ]
    assert len(written) == 1  # its batch's failures did not make it run again


def _s3_key(sqs_body):
    message = json.loads(json.loads(sqs_body)["Message"])
    return unquote_plus(message["Records"][0]["s3"]["object"]["key"])


def test_the_sample_event_is_a_message_the_function_handles(lab, pipeline, photos):
    """functions/events/thumbnail-sqs.json, pointed at this lab's bucket, makes a thumbnail;
    pointed at a bucket that does not exist, it is reported as the batch's failure."""
    _upload(lab, pipeline, {"sample-event.jpg": photos["hopper.jpg"]})
    lab.settle()
    event = sample_event("thumbnail-sqs.json")
    envelope = json.loads(event["Records"][0]["body"])
    s3_event = json.loads(envelope["Message"])
    s3_event["Records"][0]["s3"]["bucket"]["name"] = pipeline["photos"]
    s3_event["Records"][0]["s3"]["object"]["key"] = "uploads/sample-event.jpg"
    good = dict(event["Records"][0], body=json.dumps(dict(envelope, Message=json.dumps(s3_event))))
    bad = dict(event["Records"][0], messageId="bad-bucket")  # the sample's own bucket: absent
    lambda_ = lab.client("lambda")

    resp = lambda_.invoke(
        FunctionName=pipeline["function"], Payload=json.dumps({"Records": [good, bad]})
    )

    assert json.loads(resp["Payload"].read()) == {
        "batchItemFailures": [{"itemIdentifier": "bad-bucket"}]
    }
    written = [
        line
        for line in json_logs(lab, pipeline["function"])
        if line.get("thumbnail") == "thumbnails/sample-event.jpg"
    ]
    assert len(written) == 2  # once from the upload, once from the sample event
