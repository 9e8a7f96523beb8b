import base64
import json

FIELDS = ("device_id", "site", "ts", "temperature", "humidity")


def handler(event, context):
    return {"records": [transform(record) for record in event["records"]]}


def transform(record):
    answer = {"recordId": record["recordId"], "data": record["data"]}
    try:
        reading = json.loads(base64.b64decode(record["data"]))
        row = {name: reading[name] for name in FIELDS}
        for name in ("ts", "temperature", "humidity"):
            if isinstance(row[name], bool) or not isinstance(row[name], (int, float)):
                raise ValueError(f"{name} is not a number")
    except (ValueError, KeyError, TypeError):  # not JSON, a field missing, a number as text
        return {**answer, "result": "ProcessingFailed"}
    if not (-40 <= row["temperature"] <= 60 and 0 <= row["humidity"] <= 100):
        return {**answer, "result": "Dropped"}  # a sensor glitch (85.0 after a reset...)
    line = json.dumps(row) + "\n"  # one JSON object a line: Athena reads a row per line
    return {**answer, "result": "Ok", "data": base64.b64encode(line.encode()).decode()}
