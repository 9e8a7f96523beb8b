"""Amazon EFS file systems and the Lambda functions that mount them, offline (efs.py;
FunctionSpec.mounts in lambda_runtime.py; runtime/bootstrap.py's _mount_file_systems).

GIVEN a file system with mount targets in the function's availability zones and an access
point, WHEN functions configured with FileSystemConfigs (Lambda Developer Guide, "Configuring
file system access for Lambda functions") work with files under their LocalMountPath, THEN they
share the access point's directory as clients of one file system do: what one writes, another
function and the lab (emulator.efs) read; the root directory is created on first mount with
CreationInfo's permissions, and mounting fails without it (EFS User Guide, "Enforcing a root
directory with an access point"); everyday Python file code works under /mnt/...; paths outside
the mount are untouched. CreateFunction and UpdateFunctionConfiguration refuse what AWS refuses
(FileSystemConfig's constraints; a function outside a VPC; AZs without a mount target), and
DeleteFileSystem deletes the files.
"""

from __future__ import annotations

import json
import os
import stat
import uuid
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

import helpers
from helpers.emulator import efs as efs_module
from helpers.emulator.efs import FileSystemNotFoundError, MountFailureError
from tests.emulator.conftest import FUNCTIONS

BACKENDS = ("moto", "moto-server")
APP = FUNCTIONS / "efs_files" / "app.py"


@pytest.fixture(scope="module")
def efs(lab: helpers.Lab) -> Any:
    return lab.client("efs")


@pytest.fixture(scope="module")
def lambda_(lab: helpers.Lab) -> Any:
    return lab.client("lambda")


@pytest.fixture(scope="module")
def network(lab: helpers.Lab) -> dict[str, Any]:
    """A VPC with subnets in three AZs (a, b, c) and a security group."""
    ec2 = lab.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnets = {
        zone: ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"10.8.{i}.0/24", AvailabilityZone=f"{lab.region}{zone}"
        )["Subnet"]["SubnetId"]
        for i, zone in enumerate("abc", start=1)
    }
    group = ec2.create_security_group(GroupName=lab.name("nfs"), Description="NFS", VpcId=vpc)
    return {"vpc": vpc, "subnets": subnets, "group": group["GroupId"]}


def make_file_system(efs: Any, network: dict[str, Any], zones: str = "ab") -> str:
    """A file system with a mount target in the subnet of each of `zones`."""
    fs = efs.create_file_system(CreationToken=uuid.uuid4().hex)["FileSystemId"]
    for zone in zones:
        efs.create_mount_target(
            FileSystemId=fs,
            SubnetId=network["subnets"][zone],
            SecurityGroups=[network["group"]],
        )
    return fs


def vpc_config(network: dict[str, Any], zones: str = "ab") -> dict[str, Any]:
    return {
        "SubnetIds": [network["subnets"][z] for z in zones],
        "SecurityGroupIds": [network["group"]],
    }


@pytest.fixture(scope="module")
def file_system(efs: Any, network: dict[str, Any]) -> str:
    return make_file_system(efs, network)


@pytest.fixture(scope="module")
def access_point(efs: Any, file_system: str) -> str:
    """/updates, created on first mount (owner 1000:1000, mode 750); its ARN."""
    return efs.create_access_point(
        FileSystemId=file_system,
        PosixUser={"Uid": 1000, "Gid": 1000},
        RootDirectory={
            "Path": "/updates",
            "CreationInfo": {"OwnerUid": 1000, "OwnerGid": 1000, "Permissions": "750"},
        },
    )["AccessPointArn"]


@pytest.fixture(scope="module")
def mount(deploy: Callable[..., str], network: dict[str, Any]) -> Callable[..., str]:
    """mount(base, access_point_arn, path="/mnt/updates", zones="ab") -> a deployed function
    (efs_files/app.py) that mounts the access point at `path`."""

    def _mount(base: str, arn: str, path: str = "/mnt/updates", zones: str = "ab") -> str:
        code = helpers.package(APP, handler="app.handler")
        return deploy(
            base,
            handler="app.handler",
            code=code,
            Timeout=15,
            VpcConfig=vpc_config(network, zones),
            FileSystemConfigs=[{"Arn": arn, "LocalMountPath": path}],
        )

    return _mount


@pytest.fixture(scope="module")
def publisher(mount: Callable[..., str], access_point: str) -> str:
    return mount("publisher", access_point)


@pytest.fixture(scope="module")
def call(lambda_: Any) -> Callable[..., Any]:
    """call(function, op, **args) -> what the handler answered (no function error allowed)."""

    def _call(function: str, op: str, **args: Any) -> Any:
        resp = lambda_.invoke(
            FunctionName=function, Payload=json.dumps({"op": op, "args": args}).encode()
        )
        out = json.loads(resp["Payload"].read())
        assert "FunctionError" not in resp, out
        return out

    return _call


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---- sharing the file system ---------------------------------------------------------------
def test_what_one_function_writes_another_function_and_the_lab_read(
    lab: helpers.Lab,
    mount: Callable[..., str],
    call: Callable[..., Any],
    publisher: str,
    access_point: str,
    file_system: str,
) -> None:
    reader = mount("reader", access_point, path="/mnt/data")  # same access point, another path

    assert call(publisher, "write", path="/mnt/updates/latest.txt", text="v1.2.3") == {"size": 6}

    assert call(reader, "read", path="/mnt/data/latest.txt") == {"text": "v1.2.3"}
    on_lab = lab.emulator.efs.access_point_directory(access_point) / "latest.txt"
    assert on_lab.read_text() == "v1.2.3"
    # the access point's root is /updates of the file system
    root = lab.emulator.efs.directory(file_system)
    assert (root / "updates" / "latest.txt").read_text() == "v1.2.3"
    # and the lab writes where functions read (as an EC2 instance mounting it would)
    on_lab.write_text("v1.2.4")
    assert call(reader, "read", path="/mnt/data/latest.txt") == {"text": "v1.2.4"}


def test_the_function_configuration_shows_its_file_system(
    lambda_: Any, publisher: str, access_point: str
) -> None:
    config = lambda_.get_function_configuration(FunctionName=publisher)
    assert config["FileSystemConfigs"] == [{"Arn": access_point, "LocalMountPath": "/mnt/updates"}]


# ---- the access point's root directory -----------------------------------------------------
def test_root_directory_is_created_on_first_mount_with_creation_info_permissions(
    lab: helpers.Lab,
    efs: Any,
    mount: Callable[..., str],
    call: Callable[..., Any],
    file_system: str,
) -> None:
    arn = efs.create_access_point(
        FileSystemId=file_system,
        RootDirectory={
            "Path": "/releases/v2",
            "CreationInfo": {"OwnerUid": 1000, "OwnerGid": 1000, "Permissions": "0750"},
        },
    )["AccessPointArn"]
    root = lab.emulator.efs.directory(file_system)
    assert not (root / "releases").exists()  # not before a client mounts it

    function = mount("releases", arn, path="/mnt/releases")
    assert call(function, "stat_of", path="/mnt/releases") == {
        "mode": "0o750",
        "isdir": True,
        "isfile": False,
        "exists": True,
    }
    assert mode(root / "releases" / "v2") == 0o750
    assert lab.emulator.efs.access_point_directory(arn) == (root / "releases" / "v2").resolve()


def test_mount_fails_when_the_root_directory_is_missing_and_no_creation_info(
    lab: helpers.Lab,
    efs: Any,
    lambda_: Any,
    mount: Callable[..., str],
    call: Callable[..., Any],
    file_system: str,
) -> None:
    arn = efs.create_access_point(FileSystemId=file_system, RootDirectory={"Path": "/manual"})[
        "AccessPointArn"
    ]
    with pytest.raises(MountFailureError, match="/manual"):
        lab.emulator.efs.access_point_directory(arn)
    function = mount("manual", arn, path="/mnt/manual")

    with pytest.raises(ClientError) as caught:
        lambda_.invoke(FunctionName=function, Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "EFSMountFailureException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    (lab.emulator.efs.directory(file_system) / "manual").mkdir()  # made through the fs root
    assert call(function, "stat_of", path="/mnt/manual")["isdir"] is True


def test_an_access_point_path_never_leads_out_of_its_file_system(
    lab: helpers.Lab, efs: Any, file_system: str, tmp_path: Path
) -> None:
    climbing = efs.create_access_point(
        FileSystemId=file_system,
        RootDirectory={
            "Path": "/../../outside",
            "CreationInfo": {"OwnerUid": 0, "OwnerGid": 0, "Permissions": "755"},
        },
    )["AccessPointArn"]
    with pytest.raises(MountFailureError, match="'..'"):
        lab.emulator.efs.access_point_directory(climbing)

    (lab.emulator.efs.directory(file_system) / "elsewhere").symlink_to(tmp_path)
    linked = efs.create_access_point(
        FileSystemId=file_system, RootDirectory={"Path": "/elsewhere"}
    )["AccessPointArn"]
    with pytest.raises(MountFailureError, match="out of file system"):
        lab.emulator.efs.access_point_directory(linked)
    assert not (lab.emulator.efs.folder.parent / "outside").exists()


def test_an_unknown_file_system_is_named_in_the_error(lab: helpers.Lab) -> None:
    with pytest.raises(FileSystemNotFoundError, match="fs-0123456789abcdef0"):
        lab.emulator.efs.directory("fs-0123456789abcdef0")
    with pytest.raises(FileSystemNotFoundError):
        lab.emulator.efs.directory("../..")


# ---- Python's file functions under the mount path ------------------------------------------
@pytest.mark.parametrize("how", ["mkstemp", "NamedTemporaryFile"])
def test_atomic_publish_with_a_temporary_file_and_os_replace(
    lab: helpers.Lab, call: Callable[..., Any], publisher: str, access_point: str, how: str
) -> None:
    out = call(
        publisher, "publish", directory=f"/mnt/updates/{how}", name="app.zip", text="zip", how=how
    )

    assert out["temporary"].startswith(f"/mnt/updates/{how}/.part-")  # the path as the code gave
    assert out["listing"] == ["app.zip"]  # renamed into place, nothing left behind
    published = lab.emulator.efs.access_point_directory(access_point) / how / "app.zip"
    assert published.read_text() == "zip"


def test_makedirs_listdir_scandir_and_walk(
    lab: helpers.Lab, call: Callable[..., Any], publisher: str, access_point: str
) -> None:
    lab_side = lab.emulator.efs.access_point_directory(access_point) / "tree"
    (lab_side / "v1" / "linux").mkdir(parents=True)
    (lab_side / "v1" / "linux" / "app.bin").write_text("1")
    (lab_side / "index.json").write_text("{}")

    out = call(publisher, "tree", top="/mnt/updates/tree")

    assert out["listdir"] == ["index.json", "v1"]
    assert out["scandir"] == [
        ["/mnt/updates/tree/index.json", False],
        ["/mnt/updates/tree/v1", True],
    ]
    assert out["walk"] == [
        ["/mnt/updates/tree", ["v1"], ["index.json"]],
        ["/mnt/updates/tree/v1", ["linux"], []],
        ["/mnt/updates/tree/v1/linux", [], ["app.bin"]],
    ]


def test_pathlib_reads_writes_globs_and_renames(
    lab: helpers.Lab, call: Callable[..., Any], publisher: str, access_point: str
) -> None:
    out = call(publisher, "paths", top="/mnt/updates/docs", text="hello")

    assert out == {
        "read": "hello",
        "exists": True,
        "is_file": True,
        "parent_is_dir": True,
        "size": 5,
        "iterdir": ["/mnt/updates/docs/notes/readme.txt"],
        "glob": ["/mnt/updates/docs/notes/readme.txt"],
        "resolve": "/mnt/updates/docs/notes/readme.txt",
        "renamed": ["/mnt/updates/docs/notes/readme.old", True, False],
        "after_unlink": [],
    }
    assert (lab.emulator.efs.access_point_directory(access_point) / "docs" / "notes").is_dir()


def test_temporary_directories_and_the_working_directory_in_the_mount(
    lab: helpers.Lab, call: Callable[..., Any], publisher: str, access_point: str
) -> None:
    call(publisher, "stat_of", path="/mnt/updates")  # mounted
    (lab.emulator.efs.access_point_directory(access_point) / "work").mkdir(exist_ok=True)

    assert call(publisher, "scratch", directory="/mnt/updates/work") == {
        "inside": ["part"],
        "during": True,
        "after": False,  # TemporaryDirectory removed it (shutil.rmtree) in the mount
    }
    assert call(publisher, "cwd", path="/mnt/updates/work") == {
        "cwd": "/mnt/updates/work",
        "listing": ["relative.txt"],
    }
    work = lab.emulator.efs.access_point_directory(access_point) / "work"
    assert (work / "relative.txt").read_text() == "here"
    assert call(publisher, "remove", path="/mnt/updates/work") == {"exists": False}
    assert not work.exists()


def test_errors_name_the_path_under_the_mount(
    call: Callable[..., Any], publisher: str, lab: helpers.Lab
) -> None:
    out = call(publisher, "read", path="/mnt/updates/missing/app.zip")

    assert out["error"] == "FileNotFoundError"
    assert out["filename"] == "/mnt/updates/missing/app.zip"
    assert str(lab.emulator.efs.folder) not in out["message"]


def test_paths_outside_the_mount_are_not_rewritten(
    lab: helpers.Lab, call: Callable[..., Any], publisher: str, access_point: str
) -> None:
    scratch = f"/tmp/labbook-efs-test-{uuid.uuid4().hex}.txt"
    try:
        call(publisher, "write", path=scratch, text="local")
        assert Path(scratch).read_text() == "local"  # the function's own /tmp
    finally:
        Path(scratch).unlink(missing_ok=True)
    mounted = lab.emulator.efs.access_point_directory(access_point)
    assert not (mounted / Path(scratch).name).exists()
    # '..' from the mount path leaves the mount, never into the file system above the access point
    (mounted.parent / "other").mkdir(exist_ok=True)
    (mounted.parent / "other" / "app.zip").write_text("not for this access point")

    for outside in ("/mnt/updatesX/app.zip", "/mnt/updates/../other/app.zip", "mnt/updates/a"):
        out = call(publisher, "read", path=outside)
        assert out["error"] == "FileNotFoundError"
        assert out["filename"] == outside  # the kernel looked it up as given


# ---- CreateFunction / UpdateFunctionConfiguration checks -----------------------------------
@pytest.mark.parametrize("path", ["/data", "/mnt/a/b", "/mnt/", "/mnt/sp ace", "mnt/x"])
def test_a_local_mount_path_outside_mnt_is_refused(
    mount: Callable[..., str], access_point: str, path: str
) -> None:
    with pytest.raises(ClientError) as caught:
        mount("bad-path", access_point, path=path)

    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        f"1 validation error detected: Value '{path}' at "
        "'fileSystemConfigs.1.member.localMountPath' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: ^/mnt/[a-zA-Z0-9-_.]+$"
    )
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_more_than_one_file_system_is_refused(
    lab: helpers.Lab, lambda_: Any, role_arn: str, network: dict[str, Any], access_point: str
) -> None:
    configs = [
        {"Arn": access_point, "LocalMountPath": "/mnt/one"},
        {"Arn": access_point, "LocalMountPath": "/mnt/two"},
    ]
    with pytest.raises(ClientError) as caught:
        lambda_.create_function(
            FunctionName=lab.name("two-mounts"),
            Runtime="python3.12",
            Role=role_arn,
            Handler="app.handler",
            Code={"ZipFile": helpers.package(APP, handler="app.handler")},
            VpcConfig=vpc_config(network),
            FileSystemConfigs=configs,
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert (
        "at 'fileSystemConfigs' failed to satisfy constraint: Member must have length "
        in (error["Message"])
    )


def test_a_function_outside_a_vpc_cannot_mount_a_file_system(
    deploy: Callable[..., str], lambda_: Any, access_point: str
) -> None:
    code = helpers.package(APP, handler="app.handler")
    expected = (
        f"Function must be configured to execute in a VPC to reference access point "
        f"{access_point}. Please update the function configuration to include VPC subnets and "
        "security groups."
    )
    mounts = [{"Arn": access_point, "LocalMountPath": "/mnt/updates"}]
    with pytest.raises(ClientError) as caught:
        deploy("no-vpc", handler="app.handler", code=code, FileSystemConfigs=mounts)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert caught.value.response["Error"]["Message"] == expected

    # nor can one added later, with UpdateFunctionConfiguration
    function = deploy("no-vpc-later", handler="app.handler", code=code)
    with pytest.raises(ClientError) as caught:
        lambda_.update_function_configuration(FunctionName=function, FileSystemConfigs=mounts)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert caught.value.response["Error"]["Message"] == expected
    assert "FileSystemConfigs" not in lambda_.get_function_configuration(FunctionName=function)


def test_every_availability_zone_of_the_function_needs_a_mount_target(
    mount: Callable[..., str], access_point: str
) -> None:
    with pytest.raises(ClientError) as caught:
        mount("zone-c", access_point, zones="abc")  # the file system has none in zone c

    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert "does not have a mount target in every availability zone" in error["Message"]
    assert error["Message"].count("c)") == 1


def test_update_function_configuration_mounts_and_unmounts(
    deploy: Callable[..., str],
    lambda_: Any,
    call: Callable[..., Any],
    network: dict[str, Any],
    access_point: str,
) -> None:
    function = deploy(
        "later",
        handler="app.handler",
        code=helpers.package(APP, handler="app.handler"),
        VpcConfig=vpc_config(network),
    )
    assert call(function, "stat_of", path="/mnt/later") == {
        "error": "FileNotFoundError",
        "filename": "/mnt/later",
        "message": "[Errno 2] No such file or directory: '/mnt/later'",
    }
    mounts = [{"Arn": access_point, "LocalMountPath": "/mnt/later"}]
    lambda_.update_function_configuration(FunctionName=function, FileSystemConfigs=mounts)
    assert call(function, "stat_of", path="/mnt/later")["isdir"] is True

    lambda_.update_function_configuration(FunctionName=function, FileSystemConfigs=[])
    assert "FileSystemConfigs" not in lambda_.get_function_configuration(FunctionName=function)
    assert call(function, "stat_of", path="/mnt/later")["error"] == "FileNotFoundError"


# ---- the file system's life ----------------------------------------------------------------
def test_losing_the_mount_targets_and_deleting_the_file_system(
    lab: helpers.Lab,
    efs: Any,
    lambda_: Any,
    mount: Callable[..., str],
    call: Callable[..., Any],
    network: dict[str, Any],
) -> None:
    fs = make_file_system(efs, network)
    arn = efs.create_access_point(
        FileSystemId=fs,
        RootDirectory={
            "Path": "/cache",
            "CreationInfo": {"OwnerUid": 0, "OwnerGid": 0, "Permissions": "755"},
        },
    )["AccessPointArn"]
    function = mount("doomed", arn, path="/mnt/cache")
    call(function, "write", path="/mnt/cache/app.zip", text="zip")
    root = lab.emulator.efs.directory(fs)
    assert (root / "cache" / "app.zip").exists()

    for target in efs.describe_mount_targets(FileSystemId=fs)["MountTargets"]:
        efs.delete_mount_target(MountTargetId=target["MountTargetId"])
    lambda_.update_function_configuration(FunctionName=function, Timeout=14)  # a new environment
    with pytest.raises(ClientError) as caught:
        lambda_.invoke(FunctionName=function, Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "EFSMountConnectivityException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 408

    efs.delete_access_point(AccessPointId=arn.rsplit("/", 1)[1])
    efs.delete_file_system(FileSystemId=fs)
    assert not root.exists()
    assert not os.path.lexists(root)
    with pytest.raises(FileSystemNotFoundError, match=fs):
        lab.emulator.efs.directory(fs)


def test_the_labs_file_systems_live_in_one_folder_removed_at_uninstall(
    lab: helpers.Lab, file_system: str
) -> None:
    folder = lab.emulator.efs.folder
    assert folder.name.startswith("labbook-efs-")
    assert lab.emulator.efs.directory(file_system).parent == folder

    # what Emulator.uninstall() runs (this module's lab is uninstalled after its last test)
    other = efs_module.FileSystems(lab.account_id)
    (other.folder / "fs-12345678" / "updates").mkdir(parents=True)
    efs_module.uninstall(SimpleNamespace(efs=other))
    assert not other.folder.exists()
    assert folder.exists()
