"""ElastiCache (Valkey and Redis OSS) endpoints that answer, offline: a Redis-protocol server per cache.

moto stores cache clusters and replication groups (and has no serverless caches) but nothing
answers on their endpoints. This starts one `fakeredis` TCP server (one keyspace) per cache
cluster, replication group and serverless cache whose engine is `redis` or `valkey`, bound to
127.0.0.1 on a free port, when the cache becomes available (at once: moto creates caches
`available`), and stops it when the cache is deleted or the lab ends: a Lambda handler that reads
the endpoint as on AWS and connects with redis-py (`redis.Redis(host=..., port=..., ssl=...)`)
really sets and gets keys (User Guide, "Finding connection endpoints"; API reference:
https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/):

- **Endpoints.** DescribeCacheClusters with `ShowCacheNodeInfo=True` lists `CacheNodes` (node
  `0001`: CacheNodeId, CacheNodeStatus, CacheNodeCreateTime, Endpoint {Address, Port},
  ParameterGroupStatus, CustomerAvailabilityZone), which moto leaves out; without it no
  `CacheNodes`, as on AWS. A replication group's `NodeGroups[].PrimaryEndpoint` and
  `ReaderEndpoint` and each member's `ReadEndpoint` (cluster mode disabled), or its
  `ConfigurationEndpoint` (cluster mode enabled), and a serverless cache's `Endpoint` and
  `ReaderEndpoint` name the server. **Fidelity note:** offline every endpoint's Address is
  `127.0.0.1` and its Port the server's (any free port, not 6379), so the Lambda runtime's
  workers on this machine reach it; on AWS the address is a DNS name inside the cache's VPC, and
  only resources in that VPC (a Lambda function with `VpcConfig` on its subnets and a security
  group the cache allows) can connect.
- **Serverless caches.** CreateServerlessCache (answers `creating`; the cache is `available` at
  once offline), DescribeServerlessCaches and DeleteServerlessCache, which moto lacks, with
  ServerlessCacheAlreadyExistsFault, ServerlessCacheNotFoundFault and
  InvalidServerlessCacheStateFault. A serverless cache always requires TLS, as on AWS.
- **Replicas.** The primary endpoint takes reads and writes; reader endpoints and replica
  members share its keyspace and answer a write with `READONLY You can't write against a read
  only replica.` (no replication lag offline). moto ignores `NumCacheClusters`; the group gets
  that many members (one primary, the rest replicas).
- **Cluster mode enabled** (ClusterMode `enabled`, and serverless caches): the configuration
  endpoint answers `CLUSTER SLOTS` with one shard holding slots 0-16383, so `redis.RedisCluster`
  works; multi-key commands across slots are not refused (no CROSSSLOT) and no MOVED is sent.
  Other caches answer `CLUSTER ...` with `ERR This instance has cluster support disabled`.
- **TLS.** `TransitEncryptionEnabled=True` (and serverless caches) serves TLS only: the lab's
  certificate authority (tls.py, one per lab, shared with the HTTP front) signs a certificate
  for 127.0.0.1, and the Lambda runtime's workers trust it (their `SSL_CERT_FILE` names a bundle
  of the system's authorities and the lab's, unless the function sets SSL_CERT_FILE itself: see
  lambda_runtime.py), so `ssl=True` with redis-py's default certificate checks works; a plaintext client is cut off, and a TLS client of a
  plaintext cache fails its handshake, as on AWS. Simplified: `TransitEncryptionMode`
  `preferred` is served as `required`, and the certificate is the lab's, not Amazon's.
- **AUTH.** With `AuthToken` (which needs `TransitEncryptionEnabled=True`, else
  InvalidParameterCombination; 16-128 printable characters, specials only `!&#$^<>-`, else
  InvalidParameterValue: the codes are the API reference's, the wording is ours), a connection
  must `AUTH <token>` (or `AUTH default <token>`, or `HELLO 3 AUTH default <token>`, as redis-py
  sends `password=`) before anything else: `NOAUTH Authentication required.`, and a wrong token
  `WRONGPASS invalid username-password pair or user is disabled.`. Without a token, `AUTH <x>`
  answers Redis's `ERR AUTH <password> called without any password configured for the default
  user...`. Not emulated: RBAC user groups (`UserGroupIds`, `UserGroupId` are stored, not
  enforced), IAM authentication, rotating tokens (ModifyReplicationGroup AuthTokenUpdateStrategy).
- **Time.** Key expiry (`SET ... EX`, `EXPIRE`, `TTL`) follows the lab clock: advancing the lab
  clock expires keys at once. Hash-field TTLs (HEXPIRE) and stream idle times follow real time.

moto seams (tests/emulator/test_moto_seams.py checks them): `ElastiCacheBackend`
`create_cache_cluster`, `delete_cache_cluster`, `create_replication_group` and
`delete_replication_group` (patched, to start and stop servers and set the endpoints on the
stored `ReplicationGroup.node_groups` / `configuration_endpoint`), `ElastiCacheResponse`
`describe_cache_clusters` (patched, for `CacheNodes`) and three serverless-cache handlers added to
it (moto dispatches an action to the method of that name); it reads the backend's
`cache_clusters` and `replication_groups`, `CacheCluster` attributes (`arn`,
`cache_cluster_id`, `cache_cluster_status`, `cache_cluster_create_time`,
`preferred_availability_zone`, `transit_encryption_enabled`, `replication_group_id`,
`num_cache_nodes`) and `ReplicationGroup` ones (`arn`, `replication_group_id`,
`cluster_enabled`, `member_clusters`, `node_groups`, `transit_encryption_mode`). fakeredis seams
(pinned to a tested range in pyproject.toml): `TcpFakeServer` (its `fake_server`),
`TCPFakeRequestHandler` (`setup`, `finish`, `current_client`), the fake socket's
`_process_command` and `put_response`, `FakeServer(config={b"requirepass": ...})`,
`fakeredis._socket._base.time` (the command loop's clock) and
`fakeredis.model._command_info.is_write_command`.

Out of scope, offline: eviction and `maxmemory` (a cache holds what fits in this process),
memory and ECPU limits of serverless caches, replication lag, failover (TestFailover), backups
and snapshots' data, Global Datastore, memcached (its clusters are stored by moto and not
served; a memcached serverless cache is refused with InvalidParameterValue saying so), data
tiering, engine version differences (fakeredis answers as one Redis-compatible server), and
deletion taking minutes for clusters and replication groups (a deleted one keeps moto's
`deleting` status). A deleted serverless cache answers `deleting` for SERVERLESS_DELETE_S lab
seconds (AWS takes minutes), then ServerlessCacheNotFoundFault; its endpoint refuses
connections at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from moto.elasticache.exceptions import ElastiCacheException

from .tls import Authority

ENGINES = ("redis", "valkey")
HOST = "127.0.0.1"
SERVERLESS_DELETE_S = 120.0  # how long a deleted serverless cache shows `deleting` (lab seconds)
SLOTS = 16384
# CreateServerlessCache without MajorEngineVersion: the engine's current major (User Guide,
# "Supported engines and versions")
DEFAULT_MAJOR = {"valkey": ("8", "8.0"), "redis": ("7", "7.1")}
_TOKEN_RE = re.compile(r"[A-Za-z0-9!&#$^<>\-]{16,128}")
NOAUTH = "NOAUTH Authentication required."
NOAUTH_HELLO = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
    "<proto> AUTH <user> <pass> option can be used to authenticate the client and select the "
    "RESP protocol version at the same time"
)
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NO_PASSWORD = (
    "ERR AUTH <password> called without any password configured for the default user. Are you "
    "sure your configuration is correct?"
)
READONLY = "READONLY You can't write against a read only replica."
NO_CLUSTER = "ERR This instance has cluster support disabled"
_lock = threading.Lock()


class _Fault(ElastiCacheException):
    """An ElastiCache error response (its HTTP status comes from the API model's error shape)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


# ---- the servers ---------------------------------------------------------------------------------
class _LabTime:
    """The `time` module as fakeredis's command loop sees it: `time()` reads the lab clock."""

    def __init__(self, clock: Any):
        self._clock = clock

    def time(self) -> float:
        return float(self._clock.now())

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@dataclass
class _Keyspace:
    """One cache's data: a fakeredis server and how its endpoints admit clients."""

    name: str
    fake: Any  # fakeredis FakeServer
    token: str | None
    tls: bool
    cluster: bool
    listeners: list[_Listener] = field(default_factory=list)

    @property
    def primary(self) -> _Listener:
        return self.listeners[0]


class _Listener:
    """One endpoint: a fakeredis TCP server on 127.0.0.1 (behind a TLS front for TLS caches)."""

    def __init__(self, store: _Store, keyspace: _Keyspace, *, readonly: bool):
        from fakeredis import TcpFakeServer

        self.keyspace, self.readonly, self.store = keyspace, readonly, store
        listener = self

        class Server(TcpFakeServer):
            def __init__(self) -> None:
                super().__init__((HOST, 0), server_type="redis")
                self.fake_server = keyspace.fake  # every endpoint of the cache: one keyspace
                self.daemon_threads = True
                self.block_on_close = False
                self.listener = listener
                self.handlers: set[Any] = set()

        self.server = Server()
        self.server.RequestHandlerClass = _handler_class()
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"elasticache-{keyspace.name}",
            daemon=True,
        )
        self.thread.start()
        self.front: _Front | None = None
        if keyspace.tls:
            self.front = store.tls().open(self.server.server_address[1])

    @property
    def port(self) -> int:
        """The port clients connect to (the TLS front's for a TLS cache)."""
        if self.front is not None:
            return self.front.port
        return int(self.server.server_address[1])

    def endpoint(self) -> dict[str, Any]:
        return {"address": HOST, "port": self.port}

    def node_id(self) -> bytes:
        digest = hashlib.sha1(f"{self.keyspace.name}:{id(self)}".encode()).hexdigest()
        return digest.encode()

    def stop(self) -> None:
        if self.front is not None:
            self.store.tls().close(self.front)
        self.server.shutdown()
        self.server.server_close()
        for handler in list(self.server.handlers):
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=5)


_HANDLER: Any = None


def _handler_class() -> Any:
    """fakeredis's request handler, with AUTH, read-only replicas and CLUSTER SLOTS in front."""
    global _HANDLER
    if _HANDLER is not None:
        return _HANDLER
    from fakeredis._clients._tcp_server import TCPFakeRequestHandler

    class Handler(TCPFakeRequestHandler):
        def setup(self) -> None:
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().setup()
            self.server.handlers.add(self)
            sock = self.current_client.get_socket()
            sock._process_command = _Gate(sock, sock._process_command, self.server.listener)

        def finish(self) -> None:
            self.server.handlers.discard(self)
            super().finish()

    _HANDLER = Handler
    return Handler


class _Gate:
    """What a Valkey / Redis OSS node checks before running a command, for one connection."""

    def __init__(self, sock: Any, run: Any, listener: _Listener):
        self.sock, self.run, self.listener = sock, run, listener
        self.authenticated = listener.keyspace.token is None

    def __call__(self, fields: list[bytes]) -> None:
        if not fields:
            return self.run(fields)
        from fakeredis._helpers import SimpleError

        name = fields[0].lower()
        token = self.listener.keyspace.token
        if name == b"auth":
            if token is None and len(fields) == 2:
                return self.sock.put_response(SimpleError(NO_PASSWORD))
            if token is None and len(fields) == 3 and fields[1] == b"default":
                return self.sock.put_response(b"OK")  # the default user has no password
            if token is not None and self._accepts(fields[1:]):
                self.authenticated = True
            return self.run(fields)
        if name == b"hello":
            args = [f.lower() for f in fields]
            if b"auth" in args:
                at = args.index(b"auth")
                if at + 2 >= len(fields):
                    return self.run(fields)  # malformed: fakeredis answers the syntax error
                if token is not None and not self._accepts(fields[at + 1 : at + 3]):
                    return self.sock.put_response(SimpleError(WRONGPASS))
                self.authenticated = True
                return self.run(fields[:at] + fields[at + 3 :])
            if not self.authenticated:
                return self.sock.put_response(SimpleError(NOAUTH_HELLO))
            return self.run(fields)
        if not self.authenticated and name not in (b"quit", b"reset"):
            return self.sock.put_response(SimpleError(NOAUTH))
        if name == b"cluster":
            return self._cluster(fields)
        if name in (b"readonly", b"readwrite"):
            if not self.listener.keyspace.cluster:
                return self.sock.put_response(SimpleError(NO_CLUSTER))
            return self.sock.put_response(b"OK")
        if self.listener.readonly and _writes(fields):
            return self.sock.put_response(SimpleError(READONLY))
        return self.run(fields)

    def _accepts(self, credentials: list[bytes]) -> bool:
        token = (self.listener.keyspace.token or "").encode()
        if len(credentials) == 1:
            return credentials[0] == token
        return len(credentials) == 2 and credentials == [b"default", token]

    def _cluster(self, fields: list[bytes]) -> None:
        from fakeredis._helpers import SimpleError

        keyspace = self.listener.keyspace
        if not keyspace.cluster:
            return self.sock.put_response(SimpleError(NO_CLUSTER))
        sub = fields[1].lower() if len(fields) > 1 else b""
        if sub == b"slots":
            nodes = [[HOST.encode(), ln.port, ln.node_id()] for ln in keyspace.listeners]
            return self.sock.put_response([[0, SLOTS - 1, *nodes]])
        if sub == b"keyslot" and len(fields) == 3:
            return self.sock.put_response(_key_slot(fields[2]))
        return self.sock.put_response(
            SimpleError(f"ERR unknown subcommand '{sub.decode(errors='replace')}'.")
        )


def _writes(fields: list[bytes]) -> bool:
    from fakeredis.model._command_info import is_write_command

    name = fields[0].lower()
    if len(fields) > 1 and is_write_command(name + b" " + fields[1].lower()):
        return True
    return is_write_command(name)


def _key_slot(key: bytes) -> int:
    """CLUSTER KEYSLOT: CRC16 (XMODEM) of the key or its {hash tag}, modulo 16384."""
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1 : end]
    crc = 0
    for byte in key:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc % SLOTS


# ---- TLS -----------------------------------------------------------------------------------------
class _Front:
    """A TLS listener that passes each connection's plaintext to a fakeredis server."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = 0
        self.server: asyncio.base_events.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(HOST, self.target_port)
        except OSError:
            writer.close()
            self.writers.discard(writer)
            return
        self.writers.add(up_writer)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except Exception:  # a reset, a TLS error: the connection ends
                pass
            finally:
                dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self.writers.discard(writer)
        self.writers.discard(up_writer)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in list(self.writers):
            writer.close()
        if self.server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2)


class _Tls:
    """The server certificate for 127.0.0.1, signed by the lab's certificate authority, and the
    TLS fronts (one event loop thread for all of them)."""

    def __init__(self, authority: Authority) -> None:
        self.context = authority.server_context([HOST, "localhost"])
        self.loop: asyncio.AbstractEventLoop | None = None  # started by the first TLS cache
        self.thread: threading.Thread | None = None

    def open(self, target_port: int) -> _Front:
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
            self.loop.set_exception_handler(lambda loop, ctx: None)  # failed handshakes: quiet
            self.thread = threading.Thread(
                target=self.loop.run_forever, name="elasticache-tls", daemon=True
            )
            self.thread.start()
        front = _Front(target_port)

        async def start() -> None:
            front.server = await asyncio.start_server(
                front.handle, HOST, 0, ssl=self.context, ssl_handshake_timeout=10
            )
            front.port = front.server.sockets[0].getsockname()[1]

        asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        return front

    def close(self, front: _Front) -> None:
        if self.loop is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(front.close(), self.loop).result(5)

    def stop(self) -> None:
        if self.loop is not None and self.thread is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
            if not self.thread.is_alive():
                self.loop.close()


# ---- the store -----------------------------------------------------------------------------------
class _Store:
    """Every served cache of one lab, by ARN, and the serverless caches moto lacks."""

    def __init__(self, emulator: Any):
        self.emulator = emulator
        self.lock = threading.RLock()
        self.keyspaces: dict[str, _Keyspace] = {}
        self.node_ports: dict[str, int] = {}  # a cache cluster's node port (kept once deleted)
        self.serverless: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self._tls: _Tls | None = None
        self.closed = False

    def tls(self) -> _Tls:
        with self.lock:
            if self._tls is None:
                self._tls = _Tls(self.emulator.front.authority)
            return self._tls

    def serve(
        self, arn: str, name: str, *, token: str | None, tls: bool, cluster: bool, readers: bool
    ) -> _Keyspace:
        from fakeredis import FakeServer

        self._use_lab_clock()
        fake = FakeServer(
            server_type="redis", config={b"requirepass": token.encode()} if token else None
        )
        keyspace = _Keyspace(name, fake, token, tls, cluster)
        self.add_listeners(keyspace, readers)
        with self.lock:
            self.keyspaces[arn] = keyspace
        return keyspace

    def _use_lab_clock(self) -> None:
        """Key expiry in lab time: fakeredis's command loop reads `time.time()` of its module
        (imported on the first cache, so a lab without one does not pay for fakeredis)."""
        import fakeredis._socket._base as fakeredis_base

        with self.lock:
            if not isinstance(fakeredis_base.time, _LabTime):
                self.emulator._patch(fakeredis_base, "time", _LabTime(self.emulator.clock))

    def add_listeners(self, keyspace: _Keyspace, readers: bool) -> None:
        keyspace.listeners.append(_Listener(self, keyspace, readonly=False))
        if readers:
            keyspace.listeners.append(_Listener(self, keyspace, readonly=True))

    def drop(self, arn: str) -> None:
        with self.lock:
            keyspace = self.keyspaces.pop(arn, None)
        if keyspace is not None:
            for listener in keyspace.listeners:
                listener.stop()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            arns = list(self.keyspaces)
        for arn in arns:
            self.drop(arn)
        with self.lock:
            tls, self._tls = self._tls, None
        if tls is not None:
            tls.stop()


def _store(emulator: Any) -> _Store:
    with _lock:
        store = getattr(emulator, "labbook_elasticache", None)
        if store is None:
            store = _Store(emulator)
            emulator.labbook_elasticache = store
        return store


# ---- installation --------------------------------------------------------------------------------
def install(emulator: Any) -> None:
    """Serve the Redis-protocol endpoints of ElastiCache caches and add serverless caches."""
    from moto.elasticache.models import ElastiCacheBackend
    from moto.elasticache.responses import ElastiCacheResponse

    store = _store(emulator)
    patch = emulator._patch

    original_create = ElastiCacheBackend.create_cache_cluster

    def create_cache_cluster(backend: Any, *args: Any, **kwargs: Any) -> Any:
        engine = (kwargs.get("engine") or "redis").lower()
        tls = bool(kwargs.get("transit_encryption_enabled"))
        if engine in ENGINES:
            _check_token(kwargs.get("auth_token"), tls)
        cluster = original_create(backend, *args, **kwargs)
        if engine not in ENGINES:
            return cluster  # memcached: stored by moto, not served
        cluster.transit_encryption_enabled = tls
        if getattr(cluster, "num_cache_nodes", None) is None:  # moto sets it for redis only
            cluster.num_cache_nodes = 1
        if not getattr(cluster, "replication_group_id", None):
            cluster.replication_group_id = kwargs.get("replication_group_id")
        if not cluster.preferred_availability_zone:
            cluster.preferred_availability_zone = f"{backend.region_name}a"
        group = _group(backend, cluster.replication_group_id)
        if group is not None and group.arn in store.keyspaces:
            # a read replica added to a replication group: it serves the group's keyspace
            with store.lock:
                store.node_ports[cluster.arn] = store.keyspaces[group.arn].listeners[-1].port
            return cluster
        keyspace = store.serve(
            cluster.arn,
            cluster.cache_cluster_id,
            token=kwargs.get("auth_token"),
            tls=tls,
            cluster=False,
            readers=False,
        )
        with store.lock:
            store.node_ports[cluster.arn] = keyspace.primary.port
        return cluster

    patch(ElastiCacheBackend, "create_cache_cluster", create_cache_cluster)

    original_delete = ElastiCacheBackend.delete_cache_cluster

    def delete_cache_cluster(backend: Any, cache_cluster_id: str, *args: Any, **kwargs: Any) -> Any:
        cluster = original_delete(backend, cache_cluster_id, *args, **kwargs)
        store.drop(cluster.arn)
        return cluster

    patch(ElastiCacheBackend, "delete_cache_cluster", delete_cache_cluster)

    original_create_group = ElastiCacheBackend.create_replication_group

    def create_replication_group(backend: Any, *args: Any, **kwargs: Any) -> Any:
        engine = (kwargs.get("engine") or "redis").lower()
        tls = bool(kwargs.get("transit_encryption_enabled"))
        _check_token(kwargs.get("auth_token"), tls)
        group = original_create_group(backend, *args, **kwargs)
        if engine not in ENGINES:
            return group
        group.transit_encryption_enabled = tls
        if tls and not group.transit_encryption_mode:
            group.transit_encryption_mode = "required"
        if not group.cluster_enabled:
            _add_members(group, kwargs, backend.region_name)
        primary = backend.cache_clusters.get(kwargs.get("primary_cluster_id") or "")
        existing = store.keyspaces.get(primary.arn) if primary is not None else None
        if existing is not None:  # PrimaryClusterId: the group starts from that cluster's data
            keyspace = _Keyspace(
                group.replication_group_id, existing.fake, existing.token, tls, False
            )
            store.add_listeners(keyspace, readers=True)
            with store.lock:
                store.keyspaces[group.arn] = keyspace
        else:
            keyspace = store.serve(
                group.arn,
                group.replication_group_id,
                token=kwargs.get("auth_token"),
                tls=tls,
                cluster=bool(group.cluster_enabled),
                readers=True,
            )
        _set_group_endpoints(group, keyspace)
        return group

    patch(ElastiCacheBackend, "create_replication_group", create_replication_group)

    original_delete_group = ElastiCacheBackend.delete_replication_group

    def delete_replication_group(
        backend: Any, replication_group_id: str, *args: Any, **kwargs: Any
    ) -> Any:
        group = original_delete_group(backend, replication_group_id, *args, **kwargs)
        store.drop(group.arn)
        return group

    patch(ElastiCacheBackend, "delete_replication_group", delete_replication_group)

    original_describe = ElastiCacheResponse.describe_cache_clusters

    def describe_cache_clusters(response: Any) -> Any:
        result = original_describe(response)
        if response._get_bool_param("ShowCacheNodeInfo"):
            clusters = result.result["CacheClusters"]
            result.result["CacheClusters"] = [_with_nodes(store, c) for c in clusters]
        return result

    patch(ElastiCacheResponse, "describe_cache_clusters", describe_cache_clusters)
    api = _Serverless(store)
    for name in (
        "create_serverless_cache",
        "describe_serverless_caches",
        "delete_serverless_cache",
    ):
        patch(ElastiCacheResponse, name, _handler(getattr(api, name)))


def stop(emulator: Any) -> None:
    """Stop every cache server of the lab (its endpoints refuse connections from now on)."""
    store = getattr(emulator, "labbook_elasticache", None)
    if store is not None:
        store.close()


def _check_token(token: str | None, tls: bool) -> None:
    """AuthToken's constraints (API reference, CreateReplicationGroup / CreateCacheCluster)."""
    from moto.elasticache.exceptions import (
        InvalidParameterCombinationException,
        InvalidParameterValueException,
    )

    if token is None:
        return
    if not _TOKEN_RE.fullmatch(token):
        raise InvalidParameterValueException(
            "Invalid AuthToken: it must be 16 to 128 printable characters, letters, digits and "
            "only the special characters !, &, #, $, ^, <, > and -."
        )
    if not tls:
        raise InvalidParameterCombinationException(
            "AuthToken can be used only when TransitEncryptionEnabled is true."
        )


def _group(backend: Any, group_id: str | None) -> Any:
    return backend.replication_groups.get(group_id) if group_id else None


def _add_members(group: Any, kwargs: dict[str, Any], region: str) -> None:
    """The members NumCacheClusters asks for (moto makes one per ReplicasPerNodeGroup + 1)."""
    wanted = kwargs.get("num_cache_clusters") or 0
    node_group = group.node_groups[0]
    members = node_group["node_group_members"]
    azs = kwargs.get("preferred_cache_cluster_azs") or []
    for i in range(len(members), wanted):
        member_id = f"{group.replication_group_id}-{i + 1:0>3}"
        members.append(
            {
                "cache_cluster_id": member_id,
                "cache_node_id": "0001",
                "read_endpoint": {},
                "preferred_availability_zone": azs[i]
                if i < len(azs)
                else f"{region}{'abc'[i % 3]}",
                "current_role": "replica",
            }
        )
        group.member_clusters.append(member_id)


def _set_group_endpoints(group: Any, keyspace: _Keyspace) -> None:
    """Point the stored group's endpoints at its servers (moto keeps them as dicts)."""
    primary, reader = keyspace.listeners[0], keyspace.listeners[-1]
    if group.cluster_enabled:
        group.configuration_endpoint = primary.endpoint()
        return
    for node_group in group.node_groups:
        node_group["primary_endpoint"] = primary.endpoint()
        node_group["reader_endpoint"] = reader.endpoint()
        node_group["primary_endpoint_address"] = HOST
        node_group["reader_endpoint_address"] = HOST
        node_group["port"] = primary.port
        for member in node_group["node_group_members"]:
            role = member.get("current_role")
            member["read_endpoint"] = (primary if role == "primary" else reader).endpoint()


class CacheCluster:
    """A stored cache cluster as DescribeCacheClusters(ShowCacheNodeInfo=True) shows it: moto's
    attributes and its `cache_nodes` (named as moto's model, so moto serializes it the same)."""

    def __init__(self, model: Any, nodes: list[dict[str, Any]]):
        self._model = model
        self.cache_nodes = nodes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def _with_nodes(store: _Store, cluster: Any) -> Any:
    with store.lock:
        port = store.node_ports.get(cluster.arn)
    if port is None:
        return cluster  # memcached: not served
    status = "deleting" if cluster.cache_cluster_status == "deleting" else "available"
    node = {
        "CacheNodeId": "0001",
        "CacheNodeStatus": status,
        "CacheNodeCreateTime": cluster.cache_cluster_create_time,
        "Endpoint": {"Address": HOST, "Port": port},
        "ParameterGroupStatus": "in-sync",
        "CustomerAvailabilityZone": cluster.preferred_availability_zone,
    }
    return CacheCluster(cluster, [node])


# ---- serverless caches ---------------------------------------------------------------------------
def _handler(method: Any) -> Any:
    def handle(response: Any) -> Any:
        from moto.core.responses import ActionResult

        return ActionResult(method(response._get_param, response.current_account, response.region))

    return handle


class _Serverless:
    """CreateServerlessCache, DescribeServerlessCaches, DeleteServerlessCache."""

    def __init__(self, store: _Store):
        self.store = store

    def _caches(self, account: str, region: str) -> dict[str, dict[str, Any]]:
        """The region's serverless caches; a deleted one is gone SERVERLESS_DELETE_S after."""
        now = float(self.store.emulator.clock.now())
        with self.store.lock:
            caches = self.store.serverless.setdefault((account, region), {})
            for name, cache in list(caches.items()):
                if cache.get("_deleted_at", now + 1) + SERVERLESS_DELETE_S <= now:
                    del caches[name]
            return caches

    def create_serverless_cache(self, param: Any, account: str, region: str) -> dict[str, Any]:
        name = param("ServerlessCacheName")
        engine = (param("Engine") or "").lower()
        if engine == "memcached":
            # AWS serves it; the emulator does not: refused as a 400 that says so, as the
            # other pieces refuse what they do not emulate
            raise _Fault(
                "InvalidParameterValue",
                "ElastiCache Serverless for Memcached is not emulated offline (labbook): use "
                "engine 'valkey' or 'redis', or run this lab on a real account",
            )
        if engine not in ENGINES:
            raise _Fault(
                "InvalidParameterValue",
                f"Invalid Engine {param('Engine')!r}: valid values are valkey, redis and memcached.",
            )
        caches = self._caches(account, region)
        if name in caches:
            raise _Fault(
                "ServerlessCacheAlreadyExistsFault", f"Serverless cache {name} already exists."
            )
        major = param("MajorEngineVersion") or DEFAULT_MAJOR[engine][0]
        full = DEFAULT_MAJOR[engine][1] if major == DEFAULT_MAJOR[engine][0] else f"{major}.0"
        arn = f"arn:aws:elasticache:{region}:{account}:serverlesscache:{name}"
        keyspace = self.store.serve(arn, name, token=None, tls=True, cluster=True, readers=True)
        created = datetime.fromtimestamp(float(self.store.emulator.clock.now()), timezone.utc)
        cache: dict[str, Any] = {
            "ServerlessCacheName": name,
            "CreateTime": created,
            "Status": "available",
            "Engine": engine,
            "MajorEngineVersion": major,
            "FullEngineVersion": full,
            "SecurityGroupIds": param("SecurityGroupIds") or [],
            "Endpoint": {"Address": HOST, "Port": keyspace.listeners[0].port},
            "ReaderEndpoint": {"Address": HOST, "Port": keyspace.listeners[1].port},
            "ARN": arn,
            "SubnetIds": param("SubnetIds") or [],
            "SnapshotRetentionLimit": int(param("SnapshotRetentionLimit") or 0),
            "NetworkType": param("NetworkType") or "ipv4",
        }
        for key in (
            "Description",
            "CacheUsageLimits",
            "KmsKeyId",
            "UserGroupId",
            "DailySnapshotTime",
        ):
            if param(key):
                cache[key] = param(key)
        with self.store.lock:
            caches[name] = cache
        return {"ServerlessCache": {**cache, "Status": "creating"}}

    def describe_serverless_caches(self, param: Any, account: str, region: str) -> dict[str, Any]:
        caches = self._caches(account, region)
        name = param("ServerlessCacheName")
        with self.store.lock:
            if name:
                if name not in caches:
                    raise _not_found(name)
                found = [caches[name]]
            else:
                found = list(caches.values())
        return {"ServerlessCaches": [_shown(c) for c in found]}

    def delete_serverless_cache(self, param: Any, account: str, region: str) -> dict[str, Any]:
        name = param("ServerlessCacheName")
        caches = self._caches(account, region)
        with self.store.lock:
            cache = caches.get(name)
            if cache is None:
                raise _not_found(name)
            if cache["Status"] != "available":
                raise _Fault(
                    "InvalidServerlessCacheStateFault",
                    f"Serverless cache {name} is not in available state (it is {cache['Status']}).",
                )
            cache["Status"] = "deleting"
            cache["_deleted_at"] = float(self.store.emulator.clock.now())
        self.store.drop(cache["ARN"])
        return {"ServerlessCache": _shown(cache)}


def _shown(cache: dict[str, Any]) -> dict[str, Any]:
    """A serverless cache as the API shows it (without the emulator's own bookkeeping)."""
    return {k: v for k, v in cache.items() if not k.startswith("_")}


def _not_found(name: str) -> _Fault:
    return _Fault("ServerlessCacheNotFoundFault", f"Serverless cache {name} not found.")
