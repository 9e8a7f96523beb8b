"""Make a thumbnail of each uploaded photo: S3 event → SNS topic → SQS queue → this function.

Event: SQS records whose body is an SNS notification (raw message delivery off) whose Message
is an S3 event (ObjectCreated records, or the s3:TestEvent S3 sends when the notification is
configured). The event source mapping should set FunctionResponseTypes=
["ReportBatchItemFailures"]; the queue a redrive policy to a dead-letter queue.

Environment: THUMBNAILS_BUCKET; optional UPLOAD_PREFIX (`uploads/`), THUMBNAIL_PREFIX
(`thumbnails/`), THUMBNAIL_SIZE (256), MAX_PIXELS (40 million), MAX_BYTES (20 MB).
Deployed with Pillow in the package: the Python runtime has only the standard library and boto3.
"""

import io
import json
import os
import warnings
from urllib.parse import unquote_plus

import boto3
from PIL import Image, ImageOps

s3 = boto3.client("s3")
THUMBNAILS_BUCKET = os.environ["THUMBNAILS_BUCKET"]
UPLOAD_PREFIX = os.environ.get("UPLOAD_PREFIX", "uploads/")
THUMBNAIL_PREFIX = os.environ.get("THUMBNAIL_PREFIX", "thumbnails/")
SIZE = int(os.environ.get("THUMBNAIL_SIZE", "256"))
MAX_BYTES = int(os.environ.get("MAX_BYTES", str(20 * 1024 * 1024)))

# Decompression bombs: a few KB of PNG can declare a 20,000 × 20,000 image that takes GBs to
# decode. Pillow checks the declared size when it opens a file: above MAX_IMAGE_PIXELS it warns,
# above twice that it raises. Make the warning an error too.
Image.MAX_IMAGE_PIXELS = int(os.environ.get("MAX_PIXELS", "40000000"))
warnings.simplefilter("error", Image.DecompressionBombWarning)

# the output keeps the upload's name, so its extension chooses the format
FORMATS = {
    ".jpg": ("JPEG", "image/jpeg"),
    ".jpeg": ("JPEG", "image/jpeg"),
    ".png": ("PNG", "image/png"),
    ".webp": ("WEBP", "image/webp"),
    ".gif": ("GIF", "image/gif"),
}
# thumbnails are named after uploads that are never replaced (a new upload gets a new uuid):
# browsers and CloudFront may keep them for a year
CACHE_CONTROL = "public, max-age=31536000, immutable"

# The recursive-invocation trap: if thumbnails were written where uploads are watched (the
# same bucket and prefix), every thumbnail would fire the notification again, and the function
# would thumbnail its own thumbnails forever, billing each round. Lambda's recursive loop
# detection stops only some loops, and only after several rounds. So thumbnails go to another
# bucket (or prefix), and the function refuses a destination inside the uploads location.


class Rejected(Exception):
    """This object cannot become a thumbnail; retrying will not change that."""


def handler(event, context):
    failures = []
    for record in event["Records"]:  # SQS records
        current = None
        try:
            for current in uploaded_objects(record):
                make_thumbnail(*current)
        except Exception as exc:
            # the message becomes visible again after the queue's visibility timeout and is
            # retried; after maxReceiveCount receives SQS moves it to the dead-letter queue.
            # The upload itself is never changed.
            where = f"s3://{current[0]}/{current[1]}" if current else None
            log("ERROR", "no thumbnail", object=where, reason=f"{type(exc).__name__}: {exc}")
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def uploaded_objects(record):
    """(bucket, key) of each object an SQS record's S3 event (inside SNS) announces."""
    body = json.loads(record["body"])
    message = json.loads(body["Message"]) if body.get("Type") == "Notification" else body
    if message.get("Event") == "s3:TestEvent":  # sent once when the notification is set up
        log("INFO", "ignored s3:TestEvent")
        return []
    return [
        # keys arrive URL-encoded as in a form: "my photo.jpg" is "my+photo.jpg"
        (r["s3"]["bucket"]["name"], unquote_plus(r["s3"]["object"]["key"]))
        for r in message.get("Records", [])
        if r.get("eventName", "").startswith("ObjectCreated:")
    ]


def make_thumbnail(bucket, key):
    if not key.startswith(UPLOAD_PREFIX):
        raise Rejected(f"{key} is not under {UPLOAD_PREFIX}")
    name = key[len(UPLOAD_PREFIX) :]
    target = THUMBNAIL_PREFIX + name
    if THUMBNAILS_BUCKET == bucket and target.startswith(UPLOAD_PREFIX):
        raise Rejected(f"refusing to write {target} into the uploads location (a loop)")
    extension = os.path.splitext(name)[1].lower()
    if extension not in FORMATS:
        raise Rejected(f"{key}: unsupported extension {extension!r}")
    fmt, content_type = FORMATS[extension]

    obj = s3.get_object(Bucket=bucket, Key=key)
    if obj["ContentLength"] > MAX_BYTES:
        raise Rejected(f"{key} is {obj['ContentLength']} bytes, more than {MAX_BYTES}")
    data = obj["Body"].read()

    # only the four web formats are decoded: Pillow's other decoders never see user files
    with Image.open(io.BytesIO(data), formats=["JPEG", "PNG", "WEBP", "GIF"]) as original:
        original.draft(None, (SIZE, SIZE))  # JPEG: decode at 1/2, 1/4 or 1/8 scale if enough
        image = ImageOps.exif_transpose(original)  # phones store pixels sideways + EXIF tag
        image = to_web_mode(image)
        image.thumbnail((SIZE, SIZE), Image.Resampling.LANCZOS)  # keeps the aspect ratio
    if fmt == "JPEG" and image.mode in ("RGBA", "LA"):
        image = flatten(image)  # JPEG has no alpha: transparent areas become white

    out = io.BytesIO()
    # no EXIF is written: a thumbnail must not publish the camera's GPS position
    options = {"JPEG": {"quality": 85, "optimize": True}, "PNG": {"optimize": True}}
    image.save(out, fmt, **options.get(fmt, {}))
    s3.put_object(
        Bucket=THUMBNAILS_BUCKET,
        Key=target,
        Body=out.getvalue(),
        ContentType=content_type,
        CacheControl=CACHE_CONTROL,
        Metadata={"source-key": key},
    )
    log("INFO", "thumbnail written", source=key, thumbnail=target, size=list(image.size))


def to_web_mode(image):
    """L, LA, RGB or RGBA: the modes every output format can take, with alpha kept."""
    if image.mode in ("P", "PA"):  # palette (GIF, some PNGs): resize real colours, not indexes
        return image.convert("RGBA" if image.has_transparency_data else "RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit greyscale: scale, don't clip
        return image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if image.mode == "1":
        return image.convert("L")
    if image.mode not in ("L", "LA", "RGB", "RGBA"):  # CMYK (print JPEGs), YCbCr, LAB...
        return image.convert("RGBA" if image.has_transparency_data else "RGB")
    return image


def flatten(image):
    background = Image.new("RGB", image.size, "white")
    background.paste(image.convert("RGBA"), mask=image.getchannel("A"))
    return background


def log(level, message, **fields):
    print(json.dumps({"level": level, "message": message, **fields}))
