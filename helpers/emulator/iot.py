"""AWS IoT Core topic rules that really run, offline.

moto stores things and topic rules and accepts `iot-data` Publish, but evaluates no rule. This
piece makes every publish (`iot-data.publish(topic=..., qos=..., payload=...)`, through the SDK
or moto's server, or `POST https://<describe_endpoint host>/topics/<topic>?qos=1` signed with
SigV4 through `requests`) run every enabled rule of the account and Region, as the AWS IoT rules
engine does (developer guide: iot-rules, iot-sql-reference, iot-rule-actions,
rule-error-handling, http):

- **CreateTopicRule / ReplaceTopicRule** parse the SQL (`iot_sql.py`, version 2016-03-23) and
  refuse an invalid statement with `SqlParseException` (400), as AWS does, naming the line,
  column and what was expected.
- **Publish** evaluates, for each enabled rule whose FROM topic filter matches the topic (MQTT
  `+` and `#`), the WHERE clause and then the SELECT on the message; Basic Ingest topics
  (`$aws/rules/<rule>/...`) go to that one rule only, and topic() sees the topic without the
  prefix. `clientid()` is "n/a" (not sent over MQTT) and `timestamp()` is the lab clock in
  milliseconds, one value per message.
- **Actions** (`kinesis`, `firehose`, `lambda`, `sqs`, `sns`, `s3`, `republish`, `dynamoDBv2`)
  write the SELECT's output through moto's backends, so other emulator pieces (Kinesis → Lambda
  mappings, Firehose buffering, S3 notifications) see the records as AWS would. Their
  substitution templates (`${topic(2)}`, `${newuuid()}`, `${device}`) are evaluated on the
  *original* message, as AWS documents (aliases from the SELECT are not visible there).
  An action assumes the rule's `roleArn`: the role must exist, trust `iot.amazonaws.com`, and
  allow the action's API call on the resource in one of its policies (Allow/Deny, `*`/`?`
  wildcards in Action and Resource; conditions are not evaluated). The Lambda action needs
  instead the function's resource policy to let `iot.amazonaws.com` invoke it (from the rule's
  ARN and account when the statement says so); the function then runs asynchronously, as AWS
  invokes it, through the emulator's Lambda runtime (its retries and on-failure destinations are
  the function's, not the rule's).
- **errorAction**: when one or more actions of a rule fail for a message, the error action
  receives one message per rule and message (`ruleName, topic, cloudwatchTraceId, clientId,
  base64OriginalPayload, failures[{failedAction, failedResource, errorMessage}]`).
- A message whose payload is not JSON, for a rule that refers to a JSON attribute, runs no
  action (AWS counts a ParseError); an AWS function this emulator does not evaluate is refused
  at CreateTopicRule with InvalidRequestException saying so.

Accounting: `rule_stats(emulator, rule_name)` answers how many messages matched the rule's topic
filter, how many its WHERE dropped, how many failed (the SQL could not be evaluated, or an action
failed) and how many were delivered to every action: matched = delivered + dropped + failed. On
AWS the same figures are the rule's CloudWatch metrics (AWS/IoT TopicMatch, Success, Failure,
ParseError).

Fidelity: the rules engine runs inside the Publish call here (AWS runs it asynchronously, within
milliseconds), so records are in Kinesis, SQS or S3 when `publish` returns; Lambda actions still
need `settle()`. Ordering across actions is the order of the rule's `actions` list (AWS gives no
ordering guarantee). QoS is accepted and not modelled.

moto seams (tests/emulator/test_moto_seams.py checks them): `IoTBackend.create_topic_rule` and
`replace_topic_rule` (validation), `IoTDataPlaneBackend.publish` (the rules engine), and the
backends the actions write through (`KinesisBackend.put_record`, `FirehoseBackend.put_record` /
`put_record_batch`, `SQSBackend.send_message`, `SNSBackend.publish`, `S3Backend.put_object`,
`DynamoDBBackend.put_item`, `IAMBackend.get_role`). The HTTPS endpoint adds a host pattern to
`http.HOSTS` (the emulator's own front) for the time of the lab.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .iot_sql import (
    UNDEFINED,
    EvaluationError,
    Message,
    PayloadError,
    SqlParseError,
    Statement,
    Template,
    parse,
    template,
    to_json,
)

MAX_REPUBLISH_DEPTH = 8  # a rule that republishes onto its own topic would loop forever
BASIC_INGEST = "$aws/rules/"
_ACTION_NAMES = {
    "kinesis": "KinesisAction",
    "firehose": "FirehoseAction",
    "lambda": "LambdaAction",
    "sqs": "SqsAction",
    "sns": "SnsAction",
    "s3": "S3Action",
    "republish": "RepublishAction",
    "dynamoDBv2": "DynamoDBv2Action",
}
_FIREHOSE_SEPARATORS = {",", "\t", "\n", "\r\n"}


class ActionFailed(Exception):
    """One action could not complete; `resource` names what it wrote to."""

    def __init__(self, resource: str, message: str):
        super().__init__(message)
        self.resource = resource


@dataclass
class RuleStats:
    """A rule's message accounting since it was created (or last replaced)."""

    matched: int = 0
    dropped: int = 0  # the WHERE clause was not true
    failed: int = 0  # the SQL could not be evaluated, or at least one action failed
    delivered: int = 0  # every action succeeded
    errors: list[str] = field(default_factory=list)  # the latest failures, newest last

    def as_dict(self) -> dict[str, Any]:
        return {
            "matched": self.matched,
            "delivered": self.delivered,
            "dropped": self.dropped,
            "failed": self.failed,
            "errors": list(self.errors),
        }


class RulesEngine:
    """Evaluates the rules of every account and Region on each publish."""

    def __init__(self, emulator: Any):
        self.emulator = emulator
        self._compiled: dict[str, Statement] = {}
        self._templates: dict[str, Template] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    # ---- control plane ------------------------------------------------------------------------
    def check_rule(self, sql: str, actions: list[Any] | None, error_action: Any) -> None:
        """CreateTopicRule's checks: the SQL parses, and the functions it uses are emulated."""
        from moto.core.exceptions import JsonRESTError
        from moto.iot.exceptions import InvalidRequestException

        try:
            self.statement(sql)
        except SqlParseError as exc:
            error = JsonRESTError("SqlParseException", str(exc))
            error.code = 400
            raise error from exc
        except EvaluationError as exc:
            raise InvalidRequestException(str(exc)) from exc
        for action in list(actions or []) + ([error_action] if error_action else []):
            if isinstance(action, dict) and len(action) != 1:
                raise InvalidRequestException(
                    "each entry of actions (and errorAction) must name exactly one action, e.g. "
                    '{"kinesis": {...}}'
                )

    def statement(self, sql: str) -> Statement:
        compiled = self._compiled.get(sql)
        if compiled is None:
            compiled = parse(sql)
            self._compiled[sql] = compiled
        return compiled

    def template(self, text: str) -> Template:
        compiled = self._templates.get(text)
        if compiled is None:
            compiled = template(text)
            self._templates[text] = compiled
        return compiled

    # ---- data plane ---------------------------------------------------------------------------
    def publish(self, account_id: str, region: str, topic: str, payload: bytes) -> None:
        """Run every enabled rule of the account and Region whose topic filter matches."""
        if self.emulator.closed:
            return
        from moto.iot.models import iot_backends

        depth = getattr(self._local, "depth", 0)
        if depth >= MAX_REPUBLISH_DEPTH:
            self.emulator.note(
                f"IoT: a republish chain reached {MAX_REPUBLISH_DEPTH} levels at topic {topic!r}; "
                "not evaluating further (check for a rule republishing onto its own topic)"
            )
            return
        rules = list(iot_backends[account_id][region].rules.values())
        now_ms = int(self.emulator.clock.now() * 1000)
        direct = None
        if topic.startswith(BASIC_INGEST):
            rest = topic[len(BASIC_INGEST) :]
            direct, _, topic = rest.partition("/")
        self._local.depth = depth + 1
        try:
            for rule in rules:
                if rule.rule_disabled:
                    continue
                if direct is not None and rule.rule_name != direct:
                    continue
                try:
                    statement = self.statement(rule.sql)
                except (SqlParseError, EvaluationError):
                    continue  # stored before the emulator was installed: AWS would have refused it
                if direct is None and not statement.matches(topic):
                    continue
                message = Message(
                    topic=topic,
                    payload=payload,
                    timestamp_ms=now_ms,
                    account_id=account_id,
                    region=region,
                    sql_version=rule.aws_iot_sql_version,
                )
                self._run_rule(rule, statement, message)
        finally:
            self._local.depth = depth

    def _run_rule(self, rule: Any, statement: Statement, message: Message) -> None:
        stats = self._stats(rule)
        with self._lock:
            stats.matched += 1
        try:
            if not statement.accepts(message):
                with self._lock:
                    stats.dropped += 1
                return
            output = statement.select(message)
        except (PayloadError, EvaluationError) as exc:
            self._failed(stats, f"{rule.rule_name}: {exc}")
            return
        except Exception as exc:  # an evaluation the emulator did not foresee: fail the message
            self._failed(stats, f"{rule.rule_name}: could not evaluate the SQL: {exc!r}")
            self.emulator.note(
                f"IoT: rule {rule.rule_name} could not evaluate {rule.sql!r}: {exc!r}"
            )
            return
        failures = []
        for action in rule.actions or []:
            kind, params = next(iter(action.items()))
            try:
                self._run_action(rule, kind, params or {}, message, output)
            except ActionFailed as exc:
                failures.append(
                    {
                        "failedAction": _ACTION_NAMES.get(kind, f"{kind}Action"),
                        "failedResource": exc.resource,
                        "errorMessage": str(exc),
                    }
                )
        if not failures:
            with self._lock:
                stats.delivered += 1
            return
        self._failed(stats, "; ".join(f"{rule.rule_name}: {f['errorMessage']}" for f in failures))
        if rule.error_action:
            self._run_error_action(rule, message, failures)

    def _run_error_action(self, rule: Any, message: Message, failures: list[Any]) -> None:
        body = {
            "ruleName": rule.rule_name,
            "topic": message.topic,
            "cloudwatchTraceId": str(uuid.uuid4()),
            "clientId": message.client_id,
            "base64OriginalPayload": base64.b64encode(message.payload).decode(),
            "failures": failures,
        }
        kind, params = next(iter(rule.error_action.items()))
        try:
            self._run_action(rule, kind, params or {}, message, json.dumps(body).encode())
        except ActionFailed as exc:
            self.emulator.note(
                f"IoT: the error action of rule {rule.rule_name} failed too: {exc} "
                "(AWS logs this to CloudWatch Logs when rule logging is on)"
            )

    def _failed(self, stats: RuleStats, reason: str) -> None:
        with self._lock:
            stats.failed += 1
            stats.errors.append(reason)
            del stats.errors[:-20]

    def _stats(self, rule: Any) -> RuleStats:
        stats = getattr(rule, "labbook_stats", None)
        if stats is None:
            with self._lock:
                stats = getattr(rule, "labbook_stats", None)
                if stats is None:
                    stats = RuleStats()
                    rule.labbook_stats = stats
        return stats

    # ---- actions ------------------------------------------------------------------------------
    def _render(self, text: Any, message: Message, what: str) -> str:
        if not isinstance(text, str):
            raise ActionFailed(str(text), f"the action's {what} is missing")
        try:
            return self.template(text).render(message)
        except SqlParseError as exc:
            raise ActionFailed(text, f"invalid substitution template in {what}: {exc}") from exc
        except (PayloadError, EvaluationError) as exc:
            raise ActionFailed(text, str(exc)) from exc

    def _run_action(
        self, rule: Any, kind: str, params: dict[str, Any], message: Message, output: bytes
    ) -> None:
        runner = getattr(self, f"_action_{kind.lower()}", None)
        if runner is None:
            raise ActionFailed(
                kind,
                f"the {kind} action is not emulated offline (emulated: {', '.join(_ACTION_NAMES)})",
            )
        try:
            runner(rule, params, message, output)
        except ActionFailed:
            raise
        except Exception as exc:  # a backend's error: the action failed, as on AWS
            raise ActionFailed(kind, f"{type(exc).__name__}: {_error_text(exc)}") from exc

    def _assume(self, rule: Any, params: dict[str, Any], api_action: str, resource: str) -> None:
        """The rule assumes roleArn; the role must let it perform `api_action` on `resource`."""
        role_arn = params.get("roleArn") or params.get("roleARN")
        problem = role_problem(rule.account_id, role_arn, api_action, resource)
        if problem:
            raise ActionFailed(resource, problem)

    def _action_kinesis(self, rule: Any, params: dict[str, Any], msg: Message, out: bytes) -> None:
        from moto.kinesis.models import kinesis_backends

        name = self._render(params.get("streamName"), msg, "streamName")
        arn = f"arn:aws:kinesis:{rule.region_name}:{rule.account_id}:stream/{name}"
        key = self._render(params.get("partitionKey") or "${newuuid()}", msg, "partitionKey")
        if not 1 <= len(key) <= 256:
            raise ActionFailed(
                name,
                f"the partition key {params.get('partitionKey')!r} evaluated to {key!r}: Kinesis "
                "needs 1 to 256 characters",
            )
        self._assume(rule, params, "kinesis:PutRecord", arn)
        backend = kinesis_backends[rule.account_id][rule.region_name]
        _call(name, backend.put_record, None, name, key, None, base64.b64encode(out).decode())

    def _action_firehose(self, rule: Any, params: dict[str, Any], msg: Message, out: bytes) -> None:
        from moto.firehose.models import firehose_backends

        name = self._render(params.get("deliveryStreamName"), msg, "deliveryStreamName")
        arn = f"arn:aws:firehose:{rule.region_name}:{rule.account_id}:deliverystream/{name}"
        separator = params.get("separator") or ""
        if separator and separator not in _FIREHOSE_SEPARATORS:
            raise ActionFailed(name, f"separator {separator!r} is not one of , \\t \\n \\r\\n")
        backend = firehose_backends[rule.account_id][rule.region_name]
        records = [out]
        if params.get("batchMode"):
            document = json.loads(out) if out else None
            if not isinstance(document, list):
                raise ActionFailed(name, "batchMode needs the SQL to produce an array")
            if len(document) > 500:
                raise ActionFailed(name, "batchMode: the array has more than 500 records")
            records = [to_json(item).encode() for item in document]
            self._assume(rule, params, "firehose:PutRecordBatch", arn)
            batch = [{"Data": r + separator.encode()} for r in records]
            _call(name, backend.put_record_batch, name, batch)
            return
        self._assume(rule, params, "firehose:PutRecord", arn)
        _call(name, backend.put_record, name, {"Data": out + separator.encode()})

    def _action_lambda(self, rule: Any, params: dict[str, Any], msg: Message, out: bytes) -> None:
        arn = self._render(params.get("functionArn"), msg, "functionArn")
        fn = self.emulator.find_function(arn, None, region=rule.region_name)
        if fn is None:
            raise ActionFailed(arn, f"Function not found: {arn}")
        if not lambda_allows_iot(self.emulator, fn, arn, rule):
            raise ActionFailed(
                arn,
                f"AWS IoT is not authorized to invoke {arn}: add a resource policy with "
                "lambda.add_permission(Principal='iot.amazonaws.com', "
                f"SourceArn='{rule.arn}', Action='lambda:InvokeFunction', ...)",
            )
        try:
            json.loads(out)
        except ValueError as exc:
            raise ActionFailed(
                arn,
                "the Lambda action needs a JSON payload: encode a binary one, e.g. "
                "SELECT encode(*, 'base64') AS data",
            ) from exc
        qualifier = arn.split(":")[7] if len(arn.split(":")) > 7 else None
        self.emulator.enqueue_async(fn.function_arn, out, qualifier=qualifier)

    def _action_sqs(self, rule: Any, params: dict[str, Any], msg: Message, out: bytes) -> None:
        from moto.sqs.models import sqs_backends

        url = self._render(params.get("queueUrl"), msg, "queueUrl")
        account, region, name = _queue_of(url, rule)
        arn = f"arn:aws:sqs:{region}:{account}:{name}"
        if name.endswith(".fifo"):
            raise ActionFailed(url, "the SQS action does not support FIFO queues")
        self._assume(rule, params, "sqs:SendMessage", arn)
        body = base64.b64encode(out).decode() if params.get("useBase64") else out.decode()
        _call(url, sqs_backends[account][region].send_message, name, body)

    def _action_sns(self, rule: Any, params: dict[str, Any], msg: Message, out: bytes) -> None:
        from moto.sns.models import sns_backends

        arn = self._render(params.get("targetArn"), msg, "targetArn")
        parts = arn.split(":")
        if len(parts) < 6:
            raise ActionFailed(arn, f"targetArn {arn!r} is not an SNS ARN")
        self._assume(rule, params, "sns:Publish", arn)
        structure = "json" if (params.get("messageFormat") or "RAW").upper() == "JSON" else None
        backend = sns_backends[parts[4]][parts[3]]
        _call(arn, backend.publish, out.decode(), arn=arn, message_structure=structure)

    def _action_s3(self, rule: Any, params: dict[str, Any], msg: Message, out: bytes) -> None:
        from moto.s3.models import s3_backends

        bucket = self._render(params.get("bucketName"), msg, "bucketName")
        key = self._render(params.get("key"), msg, "key")
        if not key:
            raise ActionFailed(bucket, "the object key evaluated to an empty string")
        self._assume(rule, params, "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}")
        _call(bucket, s3_backends[rule.account_id]["aws"].put_object, bucket, key, out)

    def _action_republish(
        self, rule: Any, params: dict[str, Any], msg: Message, out: bytes
    ) -> None:
        from moto.iotdata.models import iotdata_backends

        topic = self._render(params.get("topic"), msg, "topic")
        if topic.startswith("$$"):
            topic = topic[1:]  # `$$` stands for a reserved topic's `$`
        elif topic.startswith("$"):
            raise ActionFailed(topic, "to republish to a reserved topic, write $$ instead of $")
        if not topic or "+" in topic or "#" in topic:
            raise ActionFailed(topic, f"cannot republish to {topic!r}")
        arn = f"arn:aws:iot:{rule.region_name}:{rule.account_id}:topic/{topic}"
        self._assume(rule, params, "iot:Publish", arn)
        _call(topic, iotdata_backends[rule.account_id][rule.region_name].publish, topic, out)

    def _action_dynamodbv2(
        self, rule: Any, params: dict[str, Any], msg: Message, out: bytes
    ) -> None:
        from moto.dynamodb.models import dynamodb_backends

        put = params.get("putItem") or {}
        table = self._render(put.get("tableName"), msg, "putItem.tableName")
        arn = f"arn:aws:dynamodb:{rule.region_name}:{rule.account_id}:table/{table}"
        try:
            document = json.loads(out)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise ActionFailed(table, "dynamoDBv2 needs the SQL to produce a JSON object")
        self._assume(rule, params, "dynamodb:PutItem", arn)
        item = {k: to_attribute_value(v) for k, v in document.items()}
        _call(table, dynamodb_backends[rule.account_id][rule.region_name].put_item, table, item)


# ---- permissions ------------------------------------------------------------------------------
# answers of role_problem by (role ARN, action, resource), each with the policies it read: a rule
# checks the same role on every message, and parsing its policies each time cost more than the
# rest of the rule; any change to the role's policies makes the answer be worked out again
_ROLE_ANSWERS: dict[tuple[str, str, str], tuple[tuple[Any, ...], str | None]] = {}
_ROLE_ANSWERS_MAX = 4096  # templated resources (an S3 key per message) must not grow it forever


def role_problem(account_id: str, role_arn: Any, api_action: str, resource: str) -> str | None:
    """Why the rules engine cannot perform `api_action` on `resource` with `role_arn`, or None."""
    from moto.iam.models import iam_backends

    if not role_arn:
        return f"the action has no roleArn: AWS IoT needs a role allowing {api_action}"
    parts = str(role_arn).split(":")
    if len(parts) < 6 or not parts[5].startswith("role/"):
        return f"roleArn {role_arn!r} is not an IAM role ARN"
    role_account, role_name = parts[4], parts[5].split("/")[-1]
    backend = iam_backends[role_account]["aws"]
    try:
        role = backend.get_role(role_name)
    except Exception:
        return f"AWS IoT could not assume {role_arn}: the role does not exist"
    policies = _role_policies(role)
    key = (str(role_arn), api_action, resource)
    known = _ROLE_ANSWERS.get(key)
    if known is not None and known[0] == policies:
        return known[1]
    problem = _policies_problem(role_arn, role, api_action, resource)
    if len(_ROLE_ANSWERS) >= _ROLE_ANSWERS_MAX:
        _ROLE_ANSWERS.clear()
    _ROLE_ANSWERS[key] = (policies, problem)
    return problem


def _role_policies(role: Any) -> tuple[Any, ...]:
    """Every policy document the answer depends on, as stored (compared, not parsed)."""
    managed = []
    for arn, policy in (role.managed_policies or {}).items():
        version = next((v for v in policy.versions if v.is_default), None)
        managed.append((arn, None if version is None else version.document))
    inline = tuple((role.policies or {}).items())
    return (role.assume_role_policy_document, inline, tuple(managed))


def _policies_problem(role_arn: Any, role: Any, api_action: str, resource: str) -> str | None:
    trust = _document(role.assume_role_policy_document)
    if not _allows(trust, "sts:AssumeRole", None, principal="iot.amazonaws.com"):
        return (
            f"AWS IoT could not assume {role_arn}: its trust policy does not let "
            "iot.amazonaws.com call sts:AssumeRole"
        )
    documents = [_document(doc) for doc in (role.policies or {}).values()]
    for policy in (role.managed_policies or {}).values():
        version = next((v for v in policy.versions if v.is_default), None)
        if version is not None:
            documents.append(_document(version.document))
    statements = [s for doc in documents for s in _statements(doc)]
    if any(_statement_matches(s, api_action, resource, "Deny") for s in statements):
        return f"{role_arn} is explicitly denied {api_action} on {resource}"
    if not any(_statement_matches(s, api_action, resource, "Allow") for s in statements):
        return (
            f"{role_arn} is not authorized to perform: {api_action} on resource: {resource} "
            "(add it to the role's policy)"
        )
    return None


def _document(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    text = unquote(raw) if isinstance(raw, str) and raw.startswith("%7B") else raw
    try:
        return json.loads(text or "{}")
    except (TypeError, ValueError):
        return {}


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement") or []
    return [statements] if isinstance(statements, dict) else list(statements)


def _listify(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _statement_matches(statement: dict[str, Any], action: str, resource: str, effect: str) -> bool:
    if statement.get("Effect", "Allow") != effect:
        return False
    if "NotAction" in statement:
        if any(
            fnmatchcase(action.lower(), str(a).lower()) for a in _listify(statement["NotAction"])
        ):
            return False
    elif not any(
        fnmatchcase(action.lower(), str(a).lower()) for a in _listify(statement.get("Action"))
    ):
        return False
    if "NotResource" in statement:
        return not any(fnmatchcase(resource, str(r)) for r in _listify(statement["NotResource"]))
    return any(fnmatchcase(resource, str(r)) for r in _listify(statement.get("Resource")))


def _allows(document: dict[str, Any], action: str, resource: str | None, *, principal: str) -> bool:
    for statement in _statements(document):
        if statement.get("Effect", "Allow") != "Allow":
            continue
        who = statement.get("Principal")
        services = _listify(who.get("Service")) if isinstance(who, dict) else []
        if who != "*" and principal not in services:
            continue
        if any(
            fnmatchcase(action.lower(), str(a).lower()) for a in _listify(statement.get("Action"))
        ):
            return True
    return False


def lambda_allows_iot(emulator: Any, fn: Any, function_arn: str, rule: Any) -> bool:
    """Does the function's resource policy let iot.amazonaws.com invoke it for this rule?"""
    from .gateway import _action_invokes, _conditions_hold, _resource_matches

    statements = list(getattr(getattr(fn, "policy", None), "statements", None) or [])
    if not function_arn.startswith("arn:"):
        function_arn = fn.function_arn
    context = {"aws:sourcearn": rule.arn, "aws:sourceaccount": rule.account_id}
    for statement in statements:
        who = statement.get("Principal")
        services = _listify(who.get("Service")) if isinstance(who, dict) else []
        if not (who == "*" or who == "iot.amazonaws.com" or "iot.amazonaws.com" in services):
            continue
        if (
            statement.get("Effect", "Allow") == "Allow"
            and _action_invokes(statement.get("Action"))
            and _resource_matches(statement.get("Resource"), function_arn)
            and _conditions_hold(statement.get("Condition") or {}, context)
        ):
            return True
    return False


# ---- helpers ----------------------------------------------------------------------------------
def _queue_of(url: str, rule: Any) -> tuple[str, str, str]:
    """(account, region, queue name) of an SQS queue URL."""
    parts = urlsplit(url)
    path = [p for p in parts.path.split("/") if p]
    if len(path) < 2:
        raise ActionFailed(url, f"queueUrl {url!r} is not an SQS queue URL")
    host = (parts.hostname or "").split(".")
    region = rule.region_name
    if len(host) >= 3 and host[0] == "sqs" and host[1] != "amazonaws":
        region = host[1]
    elif len(host) >= 3 and host[1] == "queue":
        region = host[0]
    return path[-2], region, path[-1]


def to_attribute_value(value: Any) -> dict[str, Any]:
    """A JSON value as a DynamoDB attribute value (what the dynamoDBv2 action writes)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": repr(value) if isinstance(value, float) else str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [to_attribute_value(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {k: to_attribute_value(v) for k, v in value.items()}}
    return {"S": str(value)}


def _call(resource: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """A backend call; its error fails the action on `resource`, with the service's message."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        code = getattr(exc, "error_type", None) or type(exc).__name__
        raise ActionFailed(resource, f"{code}: {_error_text(exc)}") from exc


def _error_text(exc: Exception) -> str:
    message = getattr(exc, "message", None) or getattr(exc, "description", None) or str(exc)
    return str(message)


def rule_stats(emulator: Any, rule_name: str, *, region: str | None = None) -> dict[str, Any]:
    """A rule's accounting: matched = delivered + dropped + failed (and the latest errors)."""
    from moto.iot.models import iot_backends

    if emulator is None:
        raise ValueError("rule_stats needs an offline lab's emulator (lab.emulator)")
    regions = [region] if region else list(iot_backends[emulator.account_id].keys())
    for name in regions:
        rule = iot_backends[emulator.account_id][name].rules.get(rule_name)
        if rule is not None:
            stats = getattr(rule, "labbook_stats", None) or RuleStats()
            return stats.as_dict()
    raise KeyError(
        f"no topic rule named {rule_name!r} in account {emulator.account_id}: "
        "check the name you gave create_topic_rule"
    )


# ---- the HTTPS data endpoint -----------------------------------------------------------------
_DATA_HOST = re.compile(r"^[a-z0-9-]+\.iot\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")


def data_endpoint(emulator: Any, request: Any, parts: dict[str, str]) -> Any:
    """`POST /topics/{topic}?qos=0|1` on the account's data endpoint, as AWS IoT's HTTPS
    Publish (https://docs.aws.amazon.com/iot/latest/developerguide/http.html). AWS needs a
    SigV4-signed request (or a client certificate on port 8443): an unsigned one is refused with
    403 here too; the signature itself is not checked offline."""
    from moto.iotdata.models import iotdata_backends

    from .http import Response

    def answer(status: int, body: dict[str, Any]) -> Any:
        return Response(status, [("Content-Type", "application/json")], json.dumps(body).encode())

    if not request.path.startswith("/topics/") or request.path == "/topics/":
        return answer(404, {"message": "Not Found: publish with POST /topics/<topic>"})
    if request.method != "POST":
        return answer(405, {"message": f"{request.method} is not allowed: publish with POST"})
    if not (request.headers.get("Authorization") or "").startswith("AWS4-HMAC-SHA256"):
        return answer(
            403,
            {
                "message": "Missing Authentication Token: sign the request with SigV4 (e.g. "
                "botocore's SigV4Auth, service 'iotdevicegateway'), or publish with boto3's "
                "iot-data client"
            },
        )
    qos = parse_qs(request.query).get("qos", ["0"])[-1]
    if qos not in ("0", "1"):
        return answer(400, {"message": f"qos must be 0 or 1, got {qos!r}"})
    topic = unquote(request.path[len("/topics/") :])
    if "+" in topic or "#" in topic:
        return answer(400, {"message": f"cannot publish to a topic filter: {topic!r}"})
    iotdata_backends[emulator.account_id][parts["region"]].publish(topic, request.body or b"")
    return answer(200, {"message": "OK", "traceId": str(uuid.uuid4())})


# ---- installation ----------------------------------------------------------------------------
def install(emulator: Any) -> None:
    """Validate rules at creation and run them on every publish, until teardown."""
    from moto.iot.models import IoTBackend
    from moto.iotdata.models import IoTDataPlaneBackend

    engine = RulesEngine(emulator)
    patch = emulator._patch
    patch(emulator, "iot_rules", engine)
    original_create = IoTBackend.create_topic_rule

    def create_topic_rule(backend: Any, rule_name: str, sql: str, **kwargs: Any) -> None:
        engine.check_rule(sql, kwargs.get("actions"), kwargs.get("error_action"))
        original_create(backend, rule_name, sql, **kwargs)

    patch(IoTBackend, "create_topic_rule", create_topic_rule)
    original_replace = IoTBackend.replace_topic_rule

    def replace_topic_rule(backend: Any, rule_name: str, **kwargs: Any) -> None:
        engine.check_rule(
            kwargs.get("sql") or "", kwargs.get("actions"), kwargs.get("error_action")
        )
        original_replace(backend, rule_name, **kwargs)

    patch(IoTBackend, "replace_topic_rule", replace_topic_rule)
    original_publish = IoTDataPlaneBackend.publish

    def publish(backend: Any, topic: str, payload: bytes) -> None:
        original_publish(backend, topic, payload)
        data = payload.encode() if isinstance(payload, str) else bytes(payload or b"")
        engine.publish(backend.account_id, backend.region_name, topic, data)

    patch(IoTDataPlaneBackend, "publish", publish)

    # the HTTPS data endpoint (describe_endpoint's host, or data[-ats].iot.<region>...): a
    # plain `requests.post(f"https://{endpoint}/topics/{topic}?qos=1", ...)` reaches the front
    from . import http

    patch(http, "HOSTS", (*http.HOSTS, ("iot-data", _DATA_HOST)))
    emulator.front.register(
        "iot-data", lambda request, parts: data_endpoint(emulator, request, parts)
    )


__all__ = ["RuleStats", "RulesEngine", "install", "role_problem", "rule_stats", "UNDEFINED"]
