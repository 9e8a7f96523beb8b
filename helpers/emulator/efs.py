"""Amazon EFS, offline: each file system of the lab is a real directory on this machine, and
Lambda functions with `FileSystemConfigs` see it at their LocalMountPath.

**File systems.** moto stores EFS file systems, mount targets and access points but no file
content. Here every file system gets a directory (its root `/`), made on demand under one
temporary folder per emulator (`labbook-efs-...`, removed when the lab is torn down), and every
client that mounts it offline (Lambda functions here, EC2 instances in instances.py, the
notebook through `emulator.efs`) shares the same files:

- `emulator.efs.directory(file_system_id)`: the file system's root. An id that moto does not
  know in any region of the lab's account raises `FileSystemNotFoundError`.
- `emulator.efs.access_point_directory(arn_or_id)`: the access point's `RootDirectory.Path`
  inside that root, which is all a client mounting through the access point sees. As on AWS, a
  root directory that does not exist is created when a client first connects if the access
  point has `CreationInfo` (with its `Permissions` as the mode), and mounting through the access
  point fails when it has none (`MountFailureError`) (EFS API reference, RootDirectory and
  CreationInfo: https://docs.aws.amazon.com/efs/latest/ug/API_RootDirectory.html,
  https://docs.aws.amazon.com/efs/latest/ug/API_CreationInfo.html). A path with `..`, or one
  that a symbolic link leads out of the file system, is refused the same way.
- DeleteFileSystem (moto: after its mount targets are deleted) deletes the files with it.

**Lambda functions** (Developer Guide, "Configuring file system access for Lambda functions",
https://docs.aws.amazon.com/lambda/latest/dg/configuration-filesystem.html; API reference,
FileSystemConfig, https://docs.aws.amazon.com/lambda/latest/api/API_FileSystemConfig.html).
moto neither checks nor keeps `FileSystemConfigs`; here CreateFunction and
UpdateFunctionConfiguration check them as Lambda does, keep them, and GetFunction(Configuration)
shows them:

- at most one config, `LocalMountPath` matching `^/mnt/[a-zA-Z0-9-_.]+$` (at most 160
  characters) and `Arn` an access point ARN, else `ValidationException` in AWS's "1 validation
  error detected: Value '...' at 'fileSystemConfigs.1.member.localMountPath' failed to satisfy
  constraint: ..." form (access point ids of any length: moto's are shorter than AWS's 17);
- the function must be in a VPC (`VpcConfig` with subnets), else `InvalidParameterValueException`
  "Function must be configured to execute in a VPC to reference access point ARN. Please update
  the function configuration to include VPC subnets and security groups." (AWS's message);
- the access point must exist, and its file system must have a mount target in the VPC of the
  function's subnets in every availability zone of those subnets ("Create a file system in
  Amazon EFS with a mount target in every Availability Zone that your function connects to";
  Lambda verifies mount targets when a file system is configured), else
  `InvalidParameterValueException` (these two messages are the emulator's own wording).

An execution environment mounts the access point's directory when it starts: the worker maps the
paths under LocalMountPath to it (runtime/bootstrap.py lists what Python functions see the
mount). If it cannot, Invoke fails as Lambda's does, before the handler runs:
`EFSMountFailureException` (403) when the access point or file system is gone or the root
directory does not exist and cannot be created, `EFSMountConnectivityException` (408) when a
mount target was deleted from an availability zone of the function's subnets (on AWS only the
environments placed in that zone fail; here every invocation does).

Simplified: the access point's `PosixUser` and `CreationInfo`'s `OwnerUid` / `OwnerGid` are not
enforced (every client reads and writes as this machine's user, and a file's owner is that
user); security groups and NFS port 2049, file system policies and the execution role's
`elasticfilesystem:ClientMount` / `ClientWrite` are not checked; NFS semantics (close-to-open
consistency, locks across clients), throughput and IOPS limits, burst credits, storage classes,
lifecycle policies, backups and replication are not emulated; the size a file system reports is
moto's. The mount is a path mapping in the worker's Python, not a kernel mount (see
runtime/bootstrap.py for what it does not cover).

moto seams (tests/emulator/test_moto_seams.py checks them): `EFSBackend.delete_file_system` and
`LambdaFunction.__init__`, `update_configuration`, `get_configuration` are wrapped (and the
emulator's `spec`, which gives the runtime the mounts); read: `efs_backends`,
`EFSBackend.file_systems_by_id` / `access_points`, `AccessPoint` (`access_point_id`,
`access_point_arn`, `file_system_id`, `root_directory`), `FileSystem.iter_mount_targets`
(`vpc_id`, `availability_zone_name`), `ec2_backends[...].get_subnet` (`vpc_id`,
`availability_zone`), `LambdaFunction._vpc_config`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import posixpath
import re
import shutil
import tempfile
import threading
import weakref
from pathlib import Path
from typing import Any


class EFSError(Exception):
    """A file system or access point the lab cannot serve, with the AWS error code it maps to."""

    code = "BadRequest"
    status = 400


class FileSystemNotFoundError(EFSError, LookupError):
    code = "FileSystemNotFound"
    status = 404


class AccessPointNotFoundError(EFSError, LookupError):
    code = "AccessPointNotFound"
    status = 404


class MountFailureError(EFSError):
    """The file system cannot be mounted as configured (a client's mount fails on AWS)."""

    code = "MountFailure"
    status = 403


class FileSystems:
    """The directories holding the content of one lab's EFS file systems."""

    def __init__(self, account_id: str, folder: str | os.PathLike[str] | None = None):
        self.account_id = account_id
        self.folder = Path(folder or tempfile.mkdtemp(prefix="labbook-efs-")).resolve()
        self._lock = threading.Lock()
        # removed at close(), or at exit if the lab was never torn down
        self._remove = weakref.finalize(self, shutil.rmtree, str(self.folder), True)

    # ---- public -----------------------------------------------------------------------------
    def directory(self, file_system_id: str) -> Path:
        """The file system's root `/` on this machine (made on first use)."""
        file_system = self._file_system(file_system_id)
        root = self._root(file_system.file_system_id)
        root.mkdir(mode=0o755, parents=True, exist_ok=True)
        return root

    def access_point_directory(self, access_point_arn_or_id: str) -> Path:
        """The access point's root directory on this machine, created as AWS does on first mount."""
        access_point = self._access_point(access_point_arn_or_id)
        root = self.directory(access_point.file_system_id)
        root_directory = access_point.root_directory or {}
        parts = _path_parts(root_directory.get("Path") or "/", access_point.access_point_id)
        target = root.joinpath(*parts)
        with self._lock:
            if not target.is_dir():
                creation = root_directory.get("CreationInfo")
                if not creation:
                    raise MountFailureError(
                        f"access point {access_point.access_point_id} has root directory "
                        f"{root_directory.get('Path')!r}, which does not exist in file system "
                        f"{access_point.file_system_id}, and no CreationInfo to create it with: "
                        "create the directory first (through a mount of the file system's root), "
                        "or recreate the access point with RootDirectory.CreationInfo"
                    )
                mode = _mode(creation.get("Permissions"), access_point.access_point_id)
                current = root
                for part in parts:
                    current = current / part
                    if current.is_symlink() or (current.exists() and not current.is_dir()):
                        raise MountFailureError(
                            f"the root directory {root_directory.get('Path')!r} of access point "
                            f"{access_point.access_point_id} is not a directory in file system "
                            f"{access_point.file_system_id}"
                        )
                    if not current.exists():
                        current.mkdir()
                        os.chmod(current, mode)  # the mode as given, whatever this umask is
        resolved = target.resolve()
        if not resolved.is_relative_to(root):  # a symbolic link pointing out of the file system
            raise MountFailureError(
                f"the root directory {root_directory.get('Path')!r} of access point "
                f"{access_point.access_point_id} leads out of file system "
                f"{access_point.file_system_id}"
            )
        return resolved

    def file_system_of(self, access_point_arn_or_id: str) -> str:
        """The id of the file system an access point belongs to."""
        return str(self._access_point(access_point_arn_or_id).file_system_id)

    def remove(self, file_system_id: str) -> None:
        """Delete a file system's content (DeleteFileSystem)."""
        shutil.rmtree(self._root(file_system_id), ignore_errors=True)

    def close(self) -> None:
        """Delete every file system's content and the lab's EFS folder."""
        self._remove()

    # ---- moto's state -----------------------------------------------------------------------
    def _backends(self) -> list[Any]:
        from moto.efs.models import efs_backends

        return list(dict(efs_backends[self.account_id]).values())

    def _file_system(self, file_system_id: str) -> Any:
        for backend in self._backends():
            found = backend.file_systems_by_id.get(file_system_id)
            if found is not None:
                return found
        raise FileSystemNotFoundError(
            f"File system '{file_system_id}' does not exist in account {self.account_id} "
            "(in any region): check the FileSystemId that CreateFileSystem returned, "
            "and that the file system was not deleted"
        )

    def _access_point(self, arn_or_id: str) -> Any:
        access_point_id = (
            arn_or_id.rsplit("/", 1)[-1] if arn_or_id.startswith("arn:") else arn_or_id
        )
        for backend in self._backends():
            found = backend.access_points.get(access_point_id)
            if found is not None:
                if arn_or_id.startswith("arn:") and found.access_point_arn != arn_or_id:
                    continue
                return found
        raise AccessPointNotFoundError(
            f"Access Point {arn_or_id} does not exist in account {self.account_id}: check the "
            "AccessPointArn that CreateAccessPoint returned"
        )

    def _root(self, file_system_id: str) -> Path:
        if not file_system_id or "/" in file_system_id or file_system_id in (".", ".."):
            raise FileSystemNotFoundError(f"File system '{file_system_id}' does not exist.")
        return self.folder / file_system_id


def _path_parts(path: str, access_point_id: str) -> list[str]:
    """The components of an access point's root directory path; never one that climbs out."""
    parts = [p for p in posixpath.normpath("/" + path.lstrip("/")).split("/") if p]
    if ".." in path.split("/") or any(p in (".", "..") for p in parts):
        raise MountFailureError(
            f"access point {access_point_id} has root directory {path!r}: a path with '..' "
            "cannot be a root directory"
        )
    return parts


def _mode(permissions: Any, access_point_id: str) -> int:
    """CreationInfo.Permissions ('755', '0755') as a mode."""
    text = str(permissions or "")
    if not (3 <= len(text) <= 4 and all(c in "01234567" for c in text)):
        raise MountFailureError(
            f"access point {access_point_id} has CreationInfo.Permissions {permissions!r}: "
            "expected an octal mode such as '755'"
        )
    return int(text, 8)


# ---- Lambda functions that mount a file system (FileSystemConfigs) ----------------------------
# FileSystemConfig (API reference): at most one per function; LocalMountPath and Arn patterns
LOCAL_MOUNT_PATH = re.compile(r"^/mnt/[a-zA-Z0-9-_.]+$")
LOCAL_MOUNT_PATH_PATTERN = "^/mnt/[a-zA-Z0-9-_.]+$"
ACCESS_POINT_ARN_PATTERN = (
    "arn:aws[a-zA-Z-]*:elasticfilesystem:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:"
    "access-point/fsap-[a-f0-9]{17}"
)
# AWS's form, with any number of hex digits: moto's access point ids have fewer than AWS's 17
_ACCESS_POINT_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:elasticfilesystem:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d:\d{12}:"
    r"access-point/fsap-[a-f0-9]+$"
)


def check_file_system_configs(
    file_systems: FileSystems,
    configs: Any,
    vpc_config: dict[str, Any] | None,
    *,
    account_id: str,
    region: str,
) -> list[dict[str, str]]:
    """Refuse FileSystemConfigs as CreateFunction and UpdateFunctionConfiguration do; the
    configuration as GetFunctionConfiguration shows it."""
    from moto.awslambda.exceptions import InvalidParameterValueException, LambdaClientError

    configs = list(configs or [])
    problems = []
    if len(configs) > 1:
        shown = ", ".join(
            f"{{Arn: {c.get('Arn')},LocalMountPath: {c.get('LocalMountPath')}}}" for c in configs
        )
        problems.append(
            f"Value '[{shown}]' at 'fileSystemConfigs' failed to satisfy constraint: "
            "Member must have length less than or equal to 1"
        )
    for i, config in enumerate(configs, start=1):
        path, arn = str(config.get("LocalMountPath", "")), str(config.get("Arn", ""))
        if len(path) > 160 or not LOCAL_MOUNT_PATH.match(path):
            problems.append(
                f"Value '{path}' at 'fileSystemConfigs.{i}.member.localMountPath' failed to "
                f"satisfy constraint: Member must satisfy regular expression pattern: "
                f"{LOCAL_MOUNT_PATH_PATTERN}"
            )
        if len(arn) > 200 or not _ACCESS_POINT_ARN.match(arn):
            problems.append(
                f"Value '{arn}' at 'fileSystemConfigs.{i}.member.arn' failed to satisfy "
                f"constraint: Member must satisfy regular expression pattern: "
                f"{ACCESS_POINT_ARN_PATTERN}"
            )
    if problems:
        count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''}"
        raise LambdaClientError("ValidationException", f"{count} detected: " + "; ".join(problems))
    stored = [{"Arn": c["Arn"], "LocalMountPath": c["LocalMountPath"]} for c in configs]
    for config in stored:
        arn = config["Arn"]
        if not (vpc_config or {}).get("SubnetIds"):
            raise InvalidParameterValueException(
                f"Function must be configured to execute in a VPC to reference access point "
                f"{arn}. Please update the function configuration to include VPC subnets and "
                "security groups."
            )
        try:
            access_point = file_systems._access_point(arn)
            file_system = file_systems._file_system(access_point.file_system_id)
        except EFSError as exc:
            raise InvalidParameterValueException(str(exc)) from exc
        missing = _zones_without_mount_target(
            file_system, vpc_config, account_id=account_id, region=region
        )
        if missing:
            raise InvalidParameterValueException(
                f"EFS file system {file_system.file_system_arn} referenced by access point {arn} "
                "does not have a mount target in every availability zone the function will "
                f"execute in (none in {', '.join(sorted(missing))}). Create a mount target in "
                "each availability zone of the function's subnets and try the request again."
            )
    return stored


def _zones_without_mount_target(
    file_system: Any, vpc_config: dict[str, Any] | None, *, account_id: str, region: str
) -> set[str]:
    """The availability zones of the function's subnets where the file system has no mount
    target in the subnet's VPC (subnets this lab does not know are not checked)."""
    from moto.ec2.exceptions import InvalidSubnetIdError
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[account_id][region]
    reachable = {(t.vpc_id, t.availability_zone_name) for t in file_system.iter_mount_targets()}
    missing = set()
    for subnet_id in (vpc_config or {}).get("SubnetIds") or []:
        try:
            subnet = ec2.get_subnet(subnet_id)
        except InvalidSubnetIdError:  # not a subnet of the lab: CreateFunction's VPC check's
            continue
        if (subnet.vpc_id, subnet.availability_zone) not in reachable:
            missing.add(subnet.availability_zone)
    return missing


def mounts_of(file_systems: FileSystems, fn: Any) -> tuple[tuple[str, str], ...]:
    """(LocalMountPath, directory) for each file system a function mounts, as its execution
    environment mounts them when it starts; Lambda's Invoke errors when it cannot."""
    from .lambda_runtime import RuntimeConfigError

    out = []
    for config in getattr(fn, "file_system_configs", None) or []:
        arn = config["Arn"]
        try:
            access_point = file_systems._access_point(arn)
            file_system = file_systems._file_system(access_point.file_system_id)
            missing = _zones_without_mount_target(
                file_system, fn._vpc_config, account_id=fn.account_id, region=fn.region
            )
            if missing:
                raise RuntimeConfigError(
                    f"The function couldn't connect to the Amazon EFS file system "
                    f"{file_system.file_system_id} with access point {arn}: it has no mount "
                    f"target in availability zone {', '.join(sorted(missing))} of the "
                    "function's subnets. Create one, then invoke again.",
                    "EFSMountConnectivityException",
                    408,
                )
            directory = file_systems.access_point_directory(arn)
        except EFSError as exc:
            raise RuntimeConfigError(
                f"The function couldn't mount the Amazon EFS file system with access point "
                f"{arn}: {exc}",
                "EFSMountFailureException",
                403,
            ) from exc
        out.append((config["LocalMountPath"], str(directory)))
    return tuple(out)


def install(emulator: Any) -> None:
    """Give the emulator `efs` (FileSystems), remove a file system's files when it is deleted,
    and let Lambda functions mount file systems (FileSystemConfigs)."""
    from moto.awslambda.models import LambdaFunction
    from moto.efs.models import EFSBackend

    file_systems = FileSystems(emulator.account_id)
    emulator.efs = file_systems
    patch = emulator._patch
    original_delete = EFSBackend.delete_file_system

    def delete_file_system(backend: Any, file_system_id: str) -> None:
        original_delete(backend, file_system_id)
        file_systems.remove(file_system_id)

    patch(EFSBackend, "delete_file_system", delete_file_system)

    # CreateFunction: moto neither checks nor keeps FileSystemConfigs
    original_init = LambdaFunction.__init__

    def init(fn: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        region = args[0] if args else kwargs.get("region", "")
        stored = []
        if spec.get("FileSystemConfigs"):
            stored = check_file_system_configs(
                file_systems,
                spec["FileSystemConfigs"],
                spec.get("VpcConfig"),
                account_id=account_id,
                region=region,
            )
        original_init(fn, account_id, spec, *args, **kwargs)
        fn.file_system_configs = stored

    patch(LambdaFunction, "__init__", init)
    original_update = LambdaFunction.update_configuration

    def update_configuration(fn: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        before = list(getattr(fn, "file_system_configs", None) or [])
        configs = config_updates.get("FileSystemConfigs", before)
        if "FileSystemConfigs" in config_updates or ("VpcConfig" in config_updates and before):
            fn.file_system_configs = check_file_system_configs(
                file_systems,
                configs,
                config_updates.get("VpcConfig", fn._vpc_config),
                account_id=fn.account_id,
                region=fn.region,
            )
        try:
            return original_update(fn, config_updates)
        except BaseException:
            fn.file_system_configs = before
            raise

    patch(LambdaFunction, "update_configuration", update_configuration)
    original_get_configuration = LambdaFunction.get_configuration

    def get_configuration(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = original_get_configuration(fn, *args, **kwargs)
        if getattr(fn, "file_system_configs", None):
            config["FileSystemConfigs"] = [dict(c) for c in fn.file_system_configs]
        return config

    patch(LambdaFunction, "get_configuration", get_configuration)

    # the runtime: each file system at its LocalMountPath in the function's environments
    emulator_cls = type(emulator)
    original_spec = emulator_cls.spec

    def spec(em: Any, fn: Any) -> Any:
        base = original_spec(em, fn)
        if not getattr(fn, "file_system_configs", None):
            return base
        return dataclasses.replace(base, mounts=mounts_of(em.efs, fn))

    patch(emulator_cls, "spec", spec)


def uninstall(emulator: Any) -> None:
    """Remove the lab's file system content (the folder made at install)."""
    file_systems = getattr(emulator, "efs", None)
    if isinstance(file_systems, FileSystems):
        with contextlib.suppress(OSError):
            file_systems.close()
