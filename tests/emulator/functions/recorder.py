"""Prints every event it receives (`EVENT {json}`) and fails as MODE says.

MODE=ok (default) succeeds; MODE=raise always raises; MODE=raise-first raises when any SQS
record is on its first receive; MODE=partial reports every SQS record whose body contains
"poison" in batchItemFailures; MODE=raise-poison raises when a record's body contains "poison".
"""

import json
import os


def handler(event, context):
    print("EVENT " + json.dumps(event))
    mode = os.environ.get("MODE", "ok")
    records = event.get("Records", []) if isinstance(event, dict) else []
    poison = [r for r in records if "poison" in r.get("body", "")]
    if mode == "raise":
        raise RuntimeError("recorder was told to fail")
    if mode == "raise-first" and any(
        r["attributes"]["ApproximateReceiveCount"] == "1" for r in records
    ):
        raise RuntimeError("first receive fails")
    if mode == "raise-poison" and poison:
        raise RuntimeError("poison in the batch")
    if mode == "partial":
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in poison]}
    return {"records": len(records)}
