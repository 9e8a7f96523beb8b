"""A DynamoDB Accelerator (DAX) cluster's caches, modelled over any DynamoDB client.

A real DAX cluster runs inside a VPC and speaks its own binary protocol, so a laptop cannot reach
one; moto only stores `CreateCluster`. `DaxClient` offers the DynamoDB operations DAX serves, with
the semantics AWS documents ("DAX and DynamoDB consistency models", "DAX: how it works"), on top
of a plain boto3 DynamoDB client (moto, moto's server, or a real account):

- item cache: GetItem and BatchGetItem results, by primary key (and projection), for
  `record-ttl-millis` (default 5 minutes); a missing item is cached too (negative caching);
- query cache: Query and Scan result sets, by their exact parameters, for `query-ttl-millis`
  (default 5 minutes); writes never touch it, so a Query after a write is stale until its TTL;
- write-through: PutItem, UpdateItem, DeleteItem and BatchWriteItem go to DynamoDB first, then
  update the item cache whatever its TTL; TransactWriteItems goes to DynamoDB and drops the keys
  it wrote from the item cache (modelled: AWS refreshes them in the background);
- `ConsistentRead=True` and TransactGetItems go to DynamoDB and are never cached;
- least-recently-used eviction when a cache holds more than `cache_bytes`.

It returns what DynamoDB returns and counts hits and misses per cache, the read capacity units
DynamoDB reports for the reads DAX sends it (`ReturnConsumedCapacity="TOTAL"`), and a *modelled*
latency per request: AWS says DAX reduces eventually consistent read times "by an order of
magnitude from single-digit milliseconds to microseconds" (DynamoDB Developer Guide, "In-memory
acceleration with DynamoDB Accelerator"), so a hit costs `HIT_MS` and anything that reaches the
table costs `HIT_MS + TABLE_MS`. Nothing is measured: the figures only illustrate that ratio.
"""

from __future__ import annotations

import copy
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

HIT_MS = 0.4  # modelled: hundreds of microseconds for a cache hit
TABLE_MS = 4.0  # modelled: DynamoDB's "single-digit milliseconds", ten times a hit
DEFAULT_TTL_S = 300.0  # record-ttl-millis and query-ttl-millis default to 5 minutes
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024  # modelled: per cache; a node has gigabytes
_MISSING = object()
_PROJECTION = ("ProjectionExpression", "ExpressionAttributeNames", "AttributesToGet")


@dataclass
class CacheStats:
    """Hits, misses and evictions of one DAX cache."""

    hits: int = 0
    misses: int = 0
    expired: int = 0  # misses because the entry outlived its TTL
    evicted: int = 0  # entries dropped by LRU to stay within cache_bytes
    entries: int = 0
    bytes: int = 0

    @property
    def hit_ratio(self) -> float:
        """Hits over lookups (0.0 before the first lookup)."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


@dataclass
class DaxRequest:
    """One request DAX served: how, what it cost at the table, and its modelled latency."""

    operation: str
    outcome: str  # "hit", "miss", "partial" (BatchGetItem), "pass-through" or "write"
    read_units: float
    latency_ms: float


@dataclass
class DaxStats:
    """What a DaxClient did: per-cache counters, table capacity and modelled latency."""

    item_cache: CacheStats = field(default_factory=CacheStats)
    query_cache: CacheStats = field(default_factory=CacheStats)
    pass_through: int = 0  # strongly consistent and transactional reads, never cached
    writes: int = 0
    read_units: float = 0.0  # RCUs DynamoDB reported for the reads DAX sent it
    write_units: float = 0.0  # WCUs DynamoDB reported for the writes DAX sent it
    requests: list[DaxRequest] = field(default_factory=list)

    @property
    def latency_ms(self) -> float:
        """Total modelled latency of every request so far."""
        return sum(r.latency_ms for r in self.requests)

    def __repr__(self) -> str:
        item, query = self.item_cache, self.query_cache
        return (
            f"DAX: item cache {item.hits} hit(s) / {item.misses} miss(es), query cache "
            f"{query.hits} hit(s) / {query.misses} miss(es), {self.pass_through} pass-through, "
            f"{self.writes} write(s); table read units {self.read_units:g}; modelled latency "
            f"{self.latency_ms:.1f} ms over {len(self.requests)} request(s)"
        )


class _LruCache:
    """Entries with an expiry time, evicted least-recently-used beyond max_bytes."""

    def __init__(self, max_bytes: int, stats: CacheStats):
        self.max_bytes = max_bytes
        self.stats = stats
        self._entries: OrderedDict[str, tuple[Any, float | None, int]] = OrderedDict()

    def get(self, key: str, now: float) -> Any:
        """The cached value, or _MISSING (counted as a miss; an expired entry is dropped)."""
        entry = self._entries.get(key)
        if entry is not None and entry[1] is not None and entry[1] <= now:
            self._drop(key)
            self.stats.expired += 1
            entry = None
        if entry is None:
            self.stats.misses += 1
            return _MISSING
        self._entries.move_to_end(key)
        self.stats.hits += 1
        return copy.deepcopy(entry[0])

    def put(self, key: str, value: Any, expires_at: float | None) -> None:
        """Store a value (replacing any), then evict the least recently used beyond max_bytes."""
        self._drop(key)
        size = len(key) + len(json.dumps(value, sort_keys=True, default=str))
        self._entries[key] = (copy.deepcopy(value), expires_at, size)
        self.stats.bytes += size
        while self.stats.bytes > self.max_bytes and len(self._entries) > 1:
            self._drop(next(iter(self._entries)))
            self.stats.evicted += 1
        self.stats.entries = len(self._entries)

    def drop_prefix(self, prefix: str) -> None:
        """Forget every entry whose key starts with `prefix`."""
        for key in [k for k in self._entries if k.startswith(prefix)]:
            self._drop(key)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.stats.bytes -= entry[2]
        self.stats.entries = len(self._entries)


def _now_source(now: Callable[[], float] | Any) -> Callable[[], float]:
    if callable(now):
        return now
    if hasattr(now, "now"):
        return now.now
    raise TypeError(
        f"now must be a callable returning epoch seconds or a clock with .now(), got {now!r}: "
        "pass lab.clock"
    )


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _parameter_ttls(parameters: Any) -> dict[str, float]:
    """record-ttl-millis and query-ttl-millis (as seconds) from DescribeParameters output."""
    if parameters is None:
        return {}
    if isinstance(parameters, dict):
        pairs = parameters.items()
    else:
        pairs = ((p["ParameterName"], p.get("ParameterValue")) for p in parameters)
    out = {}
    for name, value in pairs:
        if name in ("record-ttl-millis", "query-ttl-millis") and value not in (None, ""):
            out[name] = int(value) / 1000.0
    return out


class DaxClient:
    """The DynamoDB operations a DAX cluster serves, with its item and query caches."""

    def __init__(
        self,
        dynamodb: Any,
        *,
        now: Callable[[], float] | Any,
        cluster: dict[str, Any] | None = None,
        parameters: Iterable[dict[str, Any]] | dict[str, Any] | None = None,
        item_ttl_s: float | None = None,
        query_ttl_s: float | None = None,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ):
        """`dynamodb` is a boto3 DynamoDB client; `now` the lab clock (or a callable);
        `cluster` a DescribeClusters entry and `parameters` its parameter group's
        DescribeParameters output (record-ttl-millis, query-ttl-millis); explicit TTLs win.
        A TTL of 0 keeps entries until LRU or a write replaces them."""
        self.ddb = dynamodb
        self.now = _now_source(now)
        self.cluster = cluster or {}
        ttls = _parameter_ttls(parameters)
        self.item_ttl_s = item_ttl_s if item_ttl_s is not None else ttls.get("record-ttl-millis")
        self.query_ttl_s = query_ttl_s if query_ttl_s is not None else ttls.get("query-ttl-millis")
        self.item_ttl_s = DEFAULT_TTL_S if self.item_ttl_s is None else float(self.item_ttl_s)
        self.query_ttl_s = DEFAULT_TTL_S if self.query_ttl_s is None else float(self.query_ttl_s)
        self.stats = DaxStats()
        self._items = _LruCache(cache_bytes, self.stats.item_cache)
        self._queries = _LruCache(cache_bytes, self.stats.query_cache)
        self._key_names: dict[str, list[str]] = {}
        self._lock = threading.RLock()

    @classmethod
    def for_cluster(
        cls, dynamodb: Any, dax: Any, cluster_name: str, *, now: Callable[[], float] | Any
    ) -> DaxClient:
        """A client for a cluster made with CreateCluster: its parameter group sets the TTLs."""
        (cluster,) = dax.describe_clusters(ClusterNames=[cluster_name])["Clusters"]
        group = (cluster.get("ParameterGroup") or {}).get("ParameterGroupName")
        parameters = None
        if group:
            try:
                parameters = dax.describe_parameters(ParameterGroupName=group)["Parameters"]
            except (ClientError, BotoCoreError, NotImplementedError):
                parameters = None  # offline moto keeps no parameter groups: AWS's defaults
        return cls(dynamodb, now=now, cluster=cluster, parameters=parameters)

    # ---- reads ------------------------------------------------------------------------------
    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        """GetItem from the item cache; a miss reads DynamoDB (eventually consistent) and caches."""
        if kwargs.get("ConsistentRead"):
            return self._pass_through("GetItem", self.ddb.get_item, kwargs)
        key = self._item_key(kwargs["TableName"], kwargs["Key"], kwargs)
        with self._lock:
            cached = self._items.get(key, self.now())
        if cached is not _MISSING:
            response = {"Item": cached} if cached is not None else {}
            return self._hit("GetItem", response, kwargs)
        response, units = self._call(self.ddb.get_item, kwargs)
        with self._lock:
            self._items.put(key, response.get("Item"), self._expiry(self.item_ttl_s))
        self._log("GetItem", "miss", units)
        return response

    def batch_get_item(self, **kwargs: Any) -> dict[str, Any]:
        """BatchGetItem: each key is a GetItem against the item cache; misses go in one batch."""
        found: dict[str, list[Any]] = {}
        ask: dict[str, Any] = {}
        now = self.now()
        with self._lock:
            for table, spec in kwargs["RequestItems"].items():
                if spec.get("ConsistentRead"):
                    ask[table] = spec
                    self.stats.pass_through += 1
                    continue
                missing = []
                for key in spec["Keys"]:
                    cached = self._items.get(self._item_key(table, key, spec), now)
                    if cached is _MISSING:
                        missing.append(key)
                    elif cached is not None:
                        found.setdefault(table, []).append(cached)
                if missing:
                    ask[table] = {**spec, "Keys": missing}
        if not ask:
            return self._hit("BatchGetItem", {"Responses": found, "UnprocessedKeys": {}}, kwargs)
        response, units = self._call(self.ddb.batch_get_item, {**kwargs, "RequestItems": ask})
        self._cache_batch(ask, response)
        for table, items in found.items():
            response.setdefault("Responses", {}).setdefault(table, []).extend(items)
        self._log("BatchGetItem", "partial" if found else "miss", units)
        return response

    def query(self, **kwargs: Any) -> dict[str, Any]:
        """Query from the query cache, keyed by its exact parameters."""
        return self._cached_result("Query", self.ddb.query, kwargs)

    def scan(self, **kwargs: Any) -> dict[str, Any]:
        """Scan from the query cache, keyed by its exact parameters."""
        return self._cached_result("Scan", self.ddb.scan, kwargs)

    def transact_get_items(self, **kwargs: Any) -> dict[str, Any]:
        """TransactGetItems goes to DynamoDB and is never cached."""
        return self._pass_through("TransactGetItems", self.ddb.transact_get_items, kwargs)

    # ---- writes (write-through) -------------------------------------------------------------
    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        """PutItem to DynamoDB, then the item into the item cache."""
        response = self._write("PutItem", self.ddb.put_item, kwargs)
        self._cache_item(kwargs["TableName"], kwargs["Item"])
        return response

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        """UpdateItem to DynamoDB, then the updated item into the item cache."""
        asked = kwargs.get("ReturnValues", "NONE")
        if asked not in ("NONE", "ALL_NEW"):
            response = self._write("UpdateItem", self.ddb.update_item, kwargs)
            self._forget_item(kwargs["TableName"], kwargs["Key"])
            return response
        response = self._write(
            "UpdateItem", self.ddb.update_item, {**kwargs, "ReturnValues": "ALL_NEW"}
        )
        self._cache_item(kwargs["TableName"], response.get("Attributes", kwargs["Key"]))
        if asked == "NONE":
            response.pop("Attributes", None)
        return response

    def delete_item(self, **kwargs: Any) -> dict[str, Any]:
        """DeleteItem to DynamoDB, then a negative entry for the key in the item cache."""
        response = self._write("DeleteItem", self.ddb.delete_item, kwargs)
        self._cache_item(kwargs["TableName"], None, key=kwargs["Key"])
        return response

    def batch_write_item(self, **kwargs: Any) -> dict[str, Any]:
        """BatchWriteItem to DynamoDB, then every processed put or delete into the item cache."""
        response = self._write("BatchWriteItem", self.ddb.batch_write_item, kwargs)
        unprocessed = {
            table: {_canonical(r) for r in requests}
            for table, requests in (response.get("UnprocessedItems") or {}).items()
        }
        for table, requests in kwargs["RequestItems"].items():
            for request in requests:
                if _canonical(request) in unprocessed.get(table, set()):
                    continue
                if "PutRequest" in request:
                    self._cache_item(table, request["PutRequest"]["Item"])
                else:
                    self._cache_item(table, None, key=request["DeleteRequest"]["Key"])
        return response

    def transact_write_items(self, **kwargs: Any) -> dict[str, Any]:
        """TransactWriteItems to DynamoDB; the keys it wrote leave the item cache."""
        response = self._write("TransactWriteItems", self.ddb.transact_write_items, kwargs)
        for entry in kwargs["TransactItems"]:
            for action in ("Put", "Update", "Delete"):
                if action in entry:
                    op = entry[action]
                    key = op.get("Key") or self._key_of(op["TableName"], op["Item"])
                    self._forget_item(op["TableName"], key)
        return response

    # ---- internals --------------------------------------------------------------------------
    def _cached_result(self, operation: str, call: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        if kwargs.get("ConsistentRead"):
            return self._pass_through(operation, call, kwargs)
        params = {k: v for k, v in kwargs.items() if k != "ReturnConsumedCapacity"}
        key = f"{operation}|{_canonical(params)}"
        with self._lock:
            cached = self._queries.get(key, self.now())
        if cached is not _MISSING:
            return self._hit(operation, cached, kwargs)
        response, units = self._call(call, kwargs)
        result = {
            k: v for k, v in response.items() if k not in ("ResponseMetadata", "ConsumedCapacity")
        }
        with self._lock:
            self._queries.put(key, result, self._expiry(self.query_ttl_s))
        self._log(operation, "miss", units)
        return response

    def _pass_through(self, operation: str, call: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        response, units = self._call(call, kwargs)
        with self._lock:
            self.stats.pass_through += 1
        self._log(operation, "pass-through", units)
        return response

    def _call(self, call: Any, kwargs: dict[str, Any]) -> tuple[dict[str, Any], float]:
        """Read from DynamoDB and count the read units; return the caller's view and the units."""
        response, units = _ask(call, kwargs)
        with self._lock:
            self.stats.read_units += units
        return response, units

    def _write(self, operation: str, call: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        response, units = _ask(call, kwargs)
        with self._lock:
            self.stats.writes += 1
            self.stats.write_units += units
            self.stats.requests.append(DaxRequest(operation, "write", 0.0, HIT_MS + TABLE_MS))
        return response

    def _hit(
        self, operation: str, response: dict[str, Any], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """A response served from a cache: DynamoDB's shape, no capacity used at the table."""
        response = dict(response)
        if kwargs.get("ReturnConsumedCapacity", "NONE") != "NONE" and "TableName" in kwargs:
            response["ConsumedCapacity"] = {"TableName": kwargs["TableName"], "CapacityUnits": 0.0}
        response["ResponseMetadata"] = {
            "HTTPStatusCode": 200,
            "HTTPHeaders": {},
            "RetryAttempts": 0,
        }
        with self._lock:
            self.stats.requests.append(DaxRequest(operation, "hit", 0.0, HIT_MS))
        return response

    def _log(self, operation: str, outcome: str, units: float) -> None:
        with self._lock:
            self.stats.requests.append(DaxRequest(operation, outcome, units, HIT_MS + TABLE_MS))

    def _expiry(self, ttl_s: float) -> float | None:
        return self.now() + ttl_s if ttl_s > 0 else None

    def _item_key(self, table: str, key: dict[str, Any], spec: dict[str, Any]) -> str:
        """Cache key: table, primary key, and the projection asked for (if any)."""
        projection = {k: spec[k] for k in _PROJECTION if k in spec}
        return f"{table}|{_canonical(key)}|{_canonical(projection) if projection else ''}"

    def _cache_item(self, table: str, item: dict[str, Any] | None, *, key: Any = None) -> None:
        """Write-through: the item (None: known missing) replaces every entry for its key."""
        key = key if key is not None else self._key_of(table, item or {})
        self._forget_item(table, key)
        with self._lock:
            self._items.put(self._item_key(table, key, {}), item, self._expiry(self.item_ttl_s))

    def _forget_item(self, table: str, key: dict[str, Any]) -> None:
        with self._lock:
            self._items.drop_prefix(f"{table}|{_canonical(key)}|")

    def _cache_batch(self, asked: dict[str, Any], response: dict[str, Any]) -> None:
        """Cache what a BatchGetItem returned, and the processed keys it did not find."""
        for table, spec in asked.items():
            if spec.get("ConsistentRead"):
                continue
            names = self._names(table)
            items = response.get("Responses", {}).get(table, [])
            if any(n not in item for item in items for n in names):
                continue  # the projection left out the key: cannot tell which key is which
            by_key = {_canonical({n: item[n] for n in names}): item for item in items}
            unprocessed = {
                _canonical(k)
                for k in (response.get("UnprocessedKeys", {}).get(table) or {}).get("Keys", [])
            }
            with self._lock:
                for key in spec["Keys"]:
                    if _canonical(key) in unprocessed:
                        continue
                    item = by_key.get(_canonical(key))
                    self._items.put(
                        self._item_key(table, key, spec), item, self._expiry(self.item_ttl_s)
                    )

    def _key_of(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        return {n: item[n] for n in self._names(table) if n in item}

    def _names(self, table: str) -> list[str]:
        """The table's key attribute names (asked of DynamoDB once)."""
        if table not in self._key_names:
            schema = self.ddb.describe_table(TableName=table)["Table"]["KeySchema"]
            self._key_names[table] = [k["AttributeName"] for k in schema]
        return self._key_names[table]


def _ask(call: Any, kwargs: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """Ask DynamoDB (with the capacity it consumed); return the caller's view and the units."""
    asked = kwargs.get("ReturnConsumedCapacity", "NONE")
    response = call(**{**kwargs, "ReturnConsumedCapacity": "TOTAL" if asked == "NONE" else asked})
    units = _capacity_units(response.get("ConsumedCapacity"))
    if asked == "NONE":
        response.pop("ConsumedCapacity", None)
    return response, units


def _capacity_units(consumed: Any) -> float:
    """CapacityUnits from one ConsumedCapacity entry or a list of them."""
    if consumed is None:
        return 0.0
    if isinstance(consumed, dict):
        consumed = [consumed]
    return float(sum(c.get("CapacityUnits", 0.0) for c in consumed))
