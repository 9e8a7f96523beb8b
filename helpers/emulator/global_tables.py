"""DynamoDB global tables, version 2019.11.21, across the regions of one offline lab.

moto accepts `UpdateTable(ReplicaUpdates=...)` and ignores it. The emulator makes it behave as
AWS documents it ("Global tables: core concepts", "How DynamoDB global tables work"):

- `Create` makes the replica table in the other region's backend (same key schema, attributes,
  indexes, billing mode and stream), copies the items, and enables a `NEW_AND_OLD_IMAGES` stream
  on a table that had none (a stream the table already has is kept as it is). The replica is
  `CREATING` (its table `CREATING`, the table that asked `UPDATING`) for `REPLICA_CREATE_S` of
  lab time, then `ACTIVE`. `Delete` removes a replica: `DELETING` for `REPLICA_DELETE_S`, then
  gone. `DescribeTable` in every region shows `Replicas` and `GlobalTableVersion`.
- AWS's refusals: the table's own region (`Cannot add or delete the local region...`), a region
  that already has the table, a replica that is not part of the global table, provisioned
  capacity without write auto scaling, any change while the table is not `ACTIVE`, disabling
  the stream of a replica, and deleting a table that sourced a new replica in the last 24 hours
  while other replicas remain. `DeleteTable` on a replica removes that replica; the last one left
  is a regional table again (its stream stays enabled, as on AWS).
- Writes (put, update, delete, batch, transactions, PartiQL) in any replica reach the others
  asynchronously, `REPLICATION_DELAY_S` of lab time later (AWS: "usually within a second"), when
  the lab clock passes that time or `lab.settle()` runs. Each replicated write lands in the
  receiving replica's own stream (no `aws:rep:*` attributes, as in version 2019.11.21). Writes to
  the same item in two regions resolve last-writer-wins by write time: every replica converges on
  the later one, and the losing write never reaches the other replica's stream.

Seams (tests/emulator/test_moto_seams.py): `DynamoHandler.update_table`,
`DynamoDBBackend.delete_table`, `DynamoDBBackend.transact_write_items`, `Table.describe` and
`StreamShard.add` are wrapped; `Table.items`, `Table.stream_shard` and `DynamoDBBackend.tables`
are read and written.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any

GLOBAL_TABLE_VERSION = "2019.11.21"
REPLICATION_DELAY_S = 1.0  # AWS: a new write usually reaches every replica within a second
REPLICA_CREATE_S = 120.0  # modelled: AWS takes minutes to add a replica, longer with more data
REPLICA_DELETE_S = 60.0  # modelled: removing a replica also takes minutes on AWS
SOURCE_HOLD_S = 24 * 3600.0  # a table that sourced a new replica cannot be deleted for 24 h
DEFAULT_STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}

LOCAL_REGION = (
    "Cannot add or delete the local region through ReplicaUpdates. "
    "Use CreateTable, DeleteTable, or UpdateTable as required."
)
ALREADY_EXISTS = (
    "Failed to create a the new replica of table with name: '{name}' because one or more "
    "replicas already existed as tables."
)
NOT_A_REPLICA = (
    "Update global table operation failed because one or more replicas were not part of the "
    "global table."
)
CAPACITY = "Table write capacity should either be Pay-Per-Request or AutoScaled."
SOURCE_HELD = (
    "Replica cannot be deleted because it has acted as a source region for new replica(s) being "
    "added to the table in the last 24 hours."
)
IN_USE = "The resource which you are attempting to change is in use."
STREAM_REQUIRED = (
    "One or more parameter values were invalid: Disabling Stream is not allowed for a Global "
    "Table replica."
)

_installed: GlobalTables | None = None
_local = threading.local()  # .replicating: applying a replicated write; .buffer: in a transaction


def install(emulator: Any) -> None:
    """Patch moto so UpdateTable(ReplicaUpdates=...) makes real replicas that replicate."""
    global _installed
    _installed = GlobalTables(emulator)
    _installed.install()


def finish_changes() -> None:
    """Finish every pending replica change and replicated write now (offline teardown)."""
    if _installed is not None and not _installed.em.closed:
        _installed.run_due(float("inf"))


# ---- state --------------------------------------------------------------------------------------
@dataclass
class _Replica:
    """One region's table in a global table."""

    region: str
    status: str = "ACTIVE"  # CREATING | ACTIVE | DELETING
    ready_at: float | None = None  # lab time the current change ends
    initiator: str | None = None  # the region whose UpdateTable started it (shows UPDATING)
    held_until: float = 0.0  # it sourced a new replica: DeleteTable refused until then


@dataclass
class _Group:
    """The replicas of one global table and, per region, each item's last write stamp."""

    account: str
    name: str
    replicas: dict[str, _Replica] = field(default_factory=dict)
    stamps: dict[str, dict[str, tuple[float, int]]] = field(default_factory=dict)


@dataclass(order=True)
class _Write:
    """A write made in one replica, on its way to the others."""

    due: float
    seq: int
    account: str = field(compare=False)
    name: str = field(compare=False)
    origin: str = field(compare=False)
    key: str = field(compare=False)
    item: Any = field(compare=False)  # a copy of the new moto Item, or None for a delete
    old: Any = field(compare=False)  # a copy of the old moto Item (for a delete's key)
    stamp: tuple[float, int] = field(compare=False)
    targets: tuple[str, ...] = field(compare=False)


def _client_error(code: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(f"com.amazonaws.dynamodb.v20120810#{code}", message)


def _item_key(item: Any) -> str:
    """A stable id for a moto Item's primary key."""
    range_key = item.range_key.to_json() if item.range_key is not None else None
    return json.dumps([item.hash_key.to_json(), range_key], sort_keys=True, default=str)


def _backend(account: str, region: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[account][region]


class GlobalTables:
    """The global tables of one offline lab: replicas, their status, and replication."""

    def __init__(self, emulator: Any):
        self.em = emulator
        self._lock = threading.RLock()
        self._groups: dict[tuple[str, str], _Group] = {}
        self._writes: list[_Write] = []
        self._seq = itertools.count()
        self._attached = False

    # ---- patches --------------------------------------------------------------------------
    def install(self) -> None:
        """Wrap moto's UpdateTable, DeleteTable, transactions, DescribeTable and stream seam."""
        from moto.dynamodb.models import DynamoDBBackend
        from moto.dynamodb.models import table as table_models
        from moto.dynamodb.responses import DynamoHandler

        patch = self.em._patch
        gt = self
        original_update = DynamoHandler.update_table

        def update_table(handler: Any) -> Any:
            return gt._update_table(handler, original_update)

        patch(DynamoHandler, "update_table", update_table)
        original_delete = DynamoDBBackend.delete_table

        def delete_table(backend: Any, name: str) -> Any:
            gt._check_delete(backend, name)
            table = original_delete(backend, name)
            gt._forget(backend.account_id, backend.region_name, name)
            return table

        patch(DynamoDBBackend, "delete_table", delete_table)
        original_transact = DynamoDBBackend.transact_write_items

        def transact_write_items(backend: Any, transact_items: Any) -> Any:
            return gt._in_transaction(lambda: original_transact(backend, transact_items))

        patch(DynamoDBBackend, "transact_write_items", transact_write_items)
        original_describe = table_models.Table.describe

        def describe(table: Any, base_key: str = "TableDescription") -> dict[str, Any]:
            result = original_describe(table, base_key)
            gt._decorate(table, result[base_key])
            return result

        patch(table_models.Table, "describe", describe)
        original_add = table_models.StreamShard.add

        def stream_add(shard: Any, old: Any, new: Any) -> None:
            original_add(shard, old, new)
            if shard.items:  # moto writes "us-east-1" into every record
                shard.items[-1].record["awsRegion"] = shard.table.region_name
            gt._written(shard.table, old, new)

        patch(table_models.StreamShard, "add", stream_add)
        self.em.clock.on_advance(self._on_clock)

    # ---- UpdateTable ------------------------------------------------------------------------
    def _update_table(self, handler: Any, original: Any) -> Any:
        """UpdateTable with AWS's rules for global tables, then moto's own update."""
        account, region = handler.current_account, handler.region
        body = handler.body
        name = body["TableName"]
        table = handler.dynamodb_backend.get_table(name)  # ResourceNotFoundException as moto's
        updates = body.get("ReplicaUpdates") or []
        with self._lock:
            self.run_due(self.em.clock.now())
            self._check_update(account, region, name, body)
            for update in updates:
                self._check_replica_update(account, region, table, update)
            for update in updates:
                self._apply_replica_update(account, region, table, update)
        return original(handler)

    def _check_update(self, account: str, region: str, name: str, body: dict[str, Any]) -> None:
        group = self._groups.get((account, name))
        if group is None or region not in group.replicas:
            return
        if self._status(group, region) != "ACTIVE":
            raise _client_error("ResourceInUseException", IN_USE)
        stream = body.get("StreamSpecification")
        if stream is not None and not stream.get("StreamEnabled", True):
            raise _client_error("ValidationException", STREAM_REQUIRED)

    def _check_replica_update(
        self, account: str, region: str, table: Any, update: dict[str, Any]
    ) -> None:
        (action, details), *_ = update.items()
        target = details.get("RegionName", "")
        if target == region:
            raise _client_error("ValidationException", LOCAL_REGION)
        group = self._groups.get((account, table.name))
        if action == "Create":
            self._check_create(account, table, target, group)
        elif group is None or target not in group.replicas:
            raise _client_error("ValidationException", NOT_A_REPLICA)
        elif action == "Delete" and group.replicas[target].held_until > self.em.clock.now():
            raise _client_error("ValidationException", SOURCE_HELD)

    def _check_create(self, account: str, table: Any, target: str, group: _Group | None) -> None:
        if target not in _dynamodb_regions():
            raise _client_error(
                "ValidationException",
                f"Invalid region: {target!r} is not a Region where DynamoDB is offered "
                "(for example us-east-1, eu-west-1)",
            )
        exists = group is not None and target in group.replicas
        if exists or table.name in _backend(account, target).tables:
            raise _client_error("ValidationException", ALREADY_EXISTS.format(name=table.name))
        if table.billing_mode != "PAY_PER_REQUEST" and not _write_autoscaled(
            account, table.region_name, table.name
        ):
            raise _client_error("ValidationException", CAPACITY)

    def _apply_replica_update(
        self, account: str, region: str, table: Any, update: dict[str, Any]
    ) -> None:
        (action, details), *_ = update.items()
        target = details["RegionName"]
        now = self.em.clock.now()
        if action == "Create":
            group = self._groups.setdefault((account, table.name), _Group(account, table.name))
            group.replicas.setdefault(region, _Replica(region))
            group.stamps.setdefault(region, {})
            group.replicas[region].held_until = now + SOURCE_HOLD_S
            if not table.stream_specification.get("StreamEnabled"):
                table.set_stream_specification(dict(DEFAULT_STREAM))
            _copy_table(table, _backend(account, target))
            group.replicas[target] = _Replica(target, "CREATING", now + REPLICA_CREATE_S, region)
            group.stamps[target] = dict(group.stamps[region])
            for write in self._writes:  # in flight from elsewhere: the new replica needs it too
                if write.name == table.name and write.account == account:
                    write.targets = tuple(sorted({*write.targets, target} - {write.origin}))
        elif action == "Delete":
            replica = self._groups[(account, table.name)].replicas[target]
            replica.status, replica.ready_at = "DELETING", now + REPLICA_DELETE_S
            replica.initiator = region
        self._attach()

    # ---- DeleteTable and DescribeTable ------------------------------------------------------
    def _check_delete(self, backend: Any, name: str) -> None:
        """DeleteTable on a replica: refused while it changes or holds a new replica's source."""
        with self._lock:
            self.run_due(self.em.clock.now())
            group = self._groups.get((backend.account_id, name))
            region = backend.region_name
            if group is None or region not in group.replicas:
                return
            if self._status(group, region) != "ACTIVE":
                raise _client_error("ResourceInUseException", IN_USE)
            others = [r for r in group.replicas if r != region]
            if others and group.replicas[region].held_until > self.em.clock.now():
                raise _client_error("ValidationException", SOURCE_HELD)

    def _forget(self, account: str, region: str, name: str) -> None:
        """A replica's table is gone: drop it from its global table."""
        with self._lock:
            group = self._groups.get((account, name))
            if group is not None and region in group.replicas:
                self._remove(group, region)

    def _remove(self, group: _Group, region: str) -> None:
        del group.replicas[region]
        group.stamps.pop(region, None)
        if len(group.replicas) <= 1:  # one replica left: a regional table again
            del self._groups[(group.account, group.name)]

    def _decorate(self, table: Any, description: dict[str, Any]) -> None:
        """Add Replicas, GlobalTableVersion and the table's real status to a description."""
        if self.em.closed:
            return
        with self._lock:
            self.run_due(self.em.clock.now())
            group = self._groups.get((table.account_id, table.name))
            region = table.region_name
            if group is None or region not in group.replicas or not self._is_member(table):
                return
            description["TableStatus"] = self._status(group, region)
            # the other regions only: AWS's DescribeTable of a global table (2019.11.21) lists
            # its replicas elsewhere, not the region asked ("Determining the version of a
            # global table", DynamoDB Developer Guide)
            description["Replicas"] = [
                {"RegionName": r.region, "ReplicaStatus": r.status}
                for r in sorted(group.replicas.values(), key=lambda r: r.region)
                if r.region != region
            ]
            description["GlobalTableVersion"] = GLOBAL_TABLE_VERSION

    def _status(self, group: _Group, region: str) -> str:
        replica = group.replicas[region]
        if replica.status != "ACTIVE":
            return replica.status
        busy = any(r.initiator == region for r in group.replicas.values())
        return "UPDATING" if busy else "ACTIVE"

    def _is_member(self, table: Any) -> bool:
        backend = _backend(table.account_id, table.region_name)
        return backend.tables.get(table.name) is table

    # ---- replication ------------------------------------------------------------------------
    def _in_transaction(self, run: Any) -> Any:
        """Replicate a transaction's writes only once it succeeded (moto rolls back otherwise)."""
        outer = getattr(_local, "buffer", None)
        _local.buffer = []
        try:
            result = run()
            writes = _local.buffer
        finally:
            _local.buffer = outer
        for args in writes:
            self._record(*args)
        return result

    def _written(self, table: Any, old: Any, new: Any) -> None:
        """moto recorded a change in a table's stream: queue it for the other replicas."""
        if getattr(_local, "replicating", False) or self.em.closed:
            return
        if (table.account_id, table.name) not in self._groups:
            return
        args = (table, copy.deepcopy(old), copy.deepcopy(new), self.em.clock.now())
        buffer = getattr(_local, "buffer", None)
        if buffer is not None:
            buffer.append(args)
        else:
            self._record(*args)

    def _record(self, table: Any, old: Any, new: Any, when: float) -> None:
        with self._lock:
            group = self._groups.get((table.account_id, table.name))
            region = table.region_name
            if group is None or region not in group.replicas or not self._is_member(table):
                return
            key = _item_key(new if new is not None else old)
            stamp = (when, next(self._seq))
            group.stamps.setdefault(region, {})[key] = stamp
            targets = tuple(
                r.region
                for r in group.replicas.values()
                if r.region != region and r.status != "DELETING"
            )
            if not targets:
                return
            write = _Write(
                when + REPLICATION_DELAY_S,
                stamp[1],
                group.account,
                group.name,
                region,
                key,
                new,
                old,
                stamp,
                targets,
            )
            heapq.heappush(self._writes, write)
        self._attach()

    def _replicate(self, write: _Write) -> None:
        """Apply one write in each target replica, unless a later write there already won."""
        group = self._groups.get((write.account, write.name))
        if group is None:
            return
        for region in write.targets:
            if region not in group.replicas:
                continue
            table = _backend(write.account, region).tables.get(write.name)
            stamps = group.stamps.setdefault(region, {})
            if table is None or stamps.get(write.key, (0.0, -1)) >= write.stamp:
                continue  # last writer wins: this replica already has a later write
            stamps[write.key] = write.stamp
            _apply(table, write)

    # ---- pending work (run by Delivery and by clock advances) ---------------------------------
    def next_due(self) -> float | None:
        """The lab time of the next replicated write or replica status change."""
        with self._lock:
            dues = [w.due for w in self._writes[:1]]
            dues += [
                r.ready_at
                for g in self._groups.values()
                for r in g.replicas.values()
                if r.ready_at is not None
            ]
        return min(dues) if dues else None

    def run_due(self, now: float) -> bool:
        """Apply replicated writes and finish replica changes due by `now`."""
        if self.em.closed:
            return False
        ran = False
        with self._lock:
            outer, _local.replicating = getattr(_local, "replicating", False), True
            try:
                while self._writes and self._writes[0].due <= now:
                    self._replicate(heapq.heappop(self._writes))
                    ran = True
                for group in list(self._groups.values()):
                    ran |= self._finish_changes(group, now)
            finally:
                _local.replicating = outer
        return ran

    def _finish_changes(self, group: _Group, now: float) -> bool:
        ran = False
        for replica in list(group.replicas.values()):
            if replica.ready_at is None or replica.ready_at > now:
                continue
            ran = True
            if replica.status == "DELETING":
                _backend(group.account, replica.region).tables.pop(group.name, None)
                self._remove(group, replica.region)
            else:
                replica.status, replica.ready_at, replica.initiator = "ACTIVE", None, None
        return ran

    def describe_pending(self) -> list[str]:
        """Replicated writes and replica changes still waiting, for the settle report."""
        with self._lock:
            out = [f"{len(self._writes)} replicated DynamoDB write(s)"] if self._writes else []
            for group in self._groups.values():
                for r in group.replicas.values():
                    if r.ready_at is not None:
                        out.append(f"replica {r.region} of table {group.name} {r.status}")
        return out

    def _attach(self) -> None:
        """Hand the pending work to Delivery (which exists once the emulator is installed)."""
        delivery = self.em.delivery
        if delivery is not None and not self._attached:
            delivery.add_work(self)
            self._attached = True
        self.em.wake()

    def _on_clock(self) -> None:
        """The lab clock moved: what fell due has happened by the time advance() returns."""
        if not self.em.closed:
            self.run_due(self.em.clock.now())


# ---- moto helpers ---------------------------------------------------------------------------
def _copy_table(source: Any, backend: Any) -> None:
    """Create the replica table in `backend`: same schema, indexes, billing, stream and items."""
    throughput = None
    if source.billing_mode != "PAY_PER_REQUEST":
        throughput = {
            "ReadCapacityUnits": source.throughput["ReadCapacityUnits"],
            "WriteCapacityUnits": source.throughput["WriteCapacityUnits"],
        }
    replica = backend.create_table(
        source.name,
        schema=copy.deepcopy(source.schema),
        throughput=throughput,
        attr=copy.deepcopy(source.attr),
        global_indexes=[_index_spec(i.describe()) for i in source.global_indexes] or None,
        indexes=[_index_spec(i.describe()) for i in source.indexes] or None,
        streams=copy.deepcopy(source.stream_specification),
        billing_mode=source.billing_mode,
        sse_specification=copy.deepcopy(source.sse_specification),
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    replica.ttl = copy.deepcopy(source.ttl)
    replica.items = copy.deepcopy(source.items)  # the copy is not a write: no stream records


def _index_spec(description: dict[str, Any]) -> dict[str, Any]:
    keep = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
    return {k: copy.deepcopy(v) for k, v in description.items() if k in keep}


def _apply(table: Any, write: _Write) -> None:
    """Store a replicated item (or delete it) as a local write would, stream record included."""
    if write.item is None:
        table.delete_item(write.old.hash_key, write.old.range_key)
        return
    item = copy.deepcopy(write.item)
    current = table.get_item(item.hash_key, item.range_key)
    if item.range_key is not None:
        table.items[item.hash_key][item.range_key] = item
    else:
        table.items[item.hash_key] = item
    if table.stream_shard is not None:
        table.stream_shard.add(current, item)


def _write_autoscaled(account: str, region: str, name: str) -> bool:
    """True when Application Auto Scaling manages the table's write capacity."""
    from moto.applicationautoscaling.models import applicationautoscaling_backends

    targets = applicationautoscaling_backends[account][region].describe_scalable_targets(
        "dynamodb", [f"table/{name}"], "dynamodb:table:WriteCapacityUnits"
    )
    return bool(targets)


def _dynamodb_regions() -> set[str]:
    import boto3

    session = boto3.session.Session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("dynamodb", partition))
    return regions
