"""Returns what its own package's utils.py says: two functions, two different utils."""

import utils


def handler(event, context):
    return {"who": utils.WHO, "file": utils.__file__}
