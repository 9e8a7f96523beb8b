"""Makes a JPEG thumbnail of the image in the event with Pillow, which the function must bundle:
AWS's Python runtime does not provide it."""

import base64
import io

from PIL import Image

SIZE = (128, 128)


def handler(event, context):
    image = Image.open(io.BytesIO(base64.b64decode(event["image"])))
    image.thumbnail(SIZE)
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=85)
    return {"thumbnail": base64.b64encode(out.getvalue()).decode(), "size": list(image.size)}
