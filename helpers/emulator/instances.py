"""EC2 instances that serve HTTP offline: the part of their user data that the lab can run.

What AWS does: an instance runs its user data once, as root, at its first boot; a user data
that starts with `#!` is a script (it may be gzip-compressed; cloud-init also reads MIME
multi-part user data) (Amazon EC2 User Guide, "Run commands when you launch an EC2 instance
with user data input", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html;
cloud-init, https://cloudinit.readthedocs.io/en/latest/explanation/format.html). A script
commonly mounts an EFS file system with the mount helper, `mount -t efs [-o tls,accesspoint=
fsap-...] fs-ID[:/PATH] DIR`, or with NFS, `mount -t nfs4 -o ... fs-ID.efs.REGION.amazonaws.com:/
DIR`, which needs a mount target in the instance's Availability Zone and VPC (Amazon EFS User
Guide, https://docs.aws.amazon.com/efs/latest/ug/mounting-fs-mount-helper-ec2-linux.html,
https://docs.aws.amazon.com/efs/latest/ug/mounting-fs-mount-cmd-general.html,
https://docs.aws.amazon.com/efs/latest/ug/mounting-access-points.html), then starts a server.
An Auto Scaling group registers the instances it launches with its target groups and
deregisters the instances it terminates ("instances that are terminated by your Auto Scaling
group are automatically deregistered from the load balancer",
https://docs.aws.amazon.com/autoscaling/ec2/userguide/autoscaling-load-balancer.html; detached
instances too, https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DetachInstances.html).

What is emulated. moto launches instances and registers them healthy, but nothing boots. Here
the user data of a running instance is read as a shell script (base64, optionally gzip; the
`text/x-shellscript` parts of a MIME multi-part user data) and a small subset runs:

- `mount -t efs [-o OPTS] fs-ID[:/PATH] DIR` (with `accesspoint=fsap-...` among the options,
  the access point's root directory) and `mount -t nfs4|nfs [-o OPTS]
  fs-ID.efs.REGION.amazonaws.com:/PATH DIR`: DIR is then the file system's directory
  (`emulator.efs`, efs.py). As on AWS the mount fails when the file system does not exist or
  has no mount target in the instance's Availability Zone and VPC, or PATH does not exist;
- `mkdir [-p] DIR...`, `cd DIR`, `set -e` / `set +e` (a failing mount or cd then ends the
  script, as bash does; `&&` and `||` are followed), `exit`, `NAME=value` and `$NAME`;
- `python3 -m http.server [PORT] [--bind ADDR] [--directory DIR] [--protocol VERSION]` (also
  `python`, with `nohup`/`sudo`/`exec` before it, redirections and `&` after it; PORT 8000 by
  default; DIR the current directory by default): a real `http.server` process of this
  machine's Python, bound to 127.0.0.1 on a free port, serving the mapped directory, becomes
  the ALB stand-in for the instance on PORT (alb.py, `StandIns`). A DIR on no mounted file
  system is a folder of the instance's own root volume, empty unless the script made it; its
  standard error (the request log) goes where the script redirects it, else to the
  instance's `/var/log/cloud-init-output.log`, both inside that root.

Every other command does not run offline: each is noted once (`emulator.notes`). An instance
whose user data starts no server has no stand-in, so the load balancer skips it as unhealthy
(503 when no other target serves), and a note says why. The user data of every running
instance runs when a load balancer first forwards to an instance target (`Instances.sync()`,
called from alb.py), at most once per instance, as on AWS: a stopped and restarted instance
serves nothing. A server stops when its instance stops or terminates (its root volume is then
deleted) and every server stops when the lab is torn down; a server also ends by itself when
the process that started it dies (it watches a pipe from it), so none outlives the kernel.
`Instances.usage()` gives, per instance, the requests the load balancers forwarded to it and
the CPU seconds its server processes used. Auto Scaling deregisters from its target groups the
instances that left the group (scale-in, TerminateInstanceInAutoScalingGroup, DetachInstances,
DeleteAutoScalingGroup), which moto does not do.

Simplified (fidelity notes): no boot time, user-data run time or health-check grace period:
an instance serves from the first request that needs it; the user data runs at that moment,
so resources created after the launch are already there offline, while on AWS the script ran
at launch without them; target health is moto's (`healthy` for every running instance), not
the result of health checks; no instance metadata (IMDS); only the subset above runs (no
packages are installed, `/etc/fstab` and `mount -a` are not read, control structures (`if`,
`for`, functions), subshells and `$(...)` do not run; a retry loop `until CMD; do ...; done`
runs CMD once, as its outcome cannot change offline, and `while` loops never end; the access
point's POSIX user
is not applied); the server is this machine's Python (Amazon Linux 2023 ships 3.9), and
the instance's network bandwidth and CPU are this machine's; security groups (the ALB's to
the instances', the instances' to the mount targets') are not enforced.

moto seams (tests/emulator/test_moto_seams.py checks them): `AutoScalingBackend.
update_attached_target_groups` is wrapped; read: `ec2_backends`, `EC2Backend.reservations`,
`Reservation.instances`, `Instance` (`id`, `state`, `user_data`, `ec2_backend`,
`availability_zone`, `vpc_id`, `private_ip`, `autoscaling_group`), `AutoScalingBackend`
(`autoscaling_groups`, `elbv2_backend`, `ec2_backend`), `FakeAutoScalingGroup`
(`instance_states`, `target_group_arns`), `ELBv2Backend.target_groups` and
`deregister_targets`, `FakeTargetGroup.targets`, `efs_backends`,
`EFSBackend.file_systems_by_id`, `FileSystem.iter_mount_targets()` and `MountTarget`
(`availability_zone_name`, `vpc_id`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email
import gzip
import os
import posixpath
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

START_TIMEOUT_S = 10.0  # how long a server may take to say which port it listens on
DEFAULT_PORT = 8000  # python3 -m http.server's
ANY_ADDRESS = ("", "0.0.0.0", "::", "[::]")
LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$")
# the mount helper's and NFS's devices: fs-ID[:/PATH], or the file system's DNS name (one-zone
# file systems' names start with the Availability Zone)
EFS_DEVICE = re.compile(
    r"^(?:[a-z0-9-]+\.)?(?P<fs>fs-[0-9a-f]+)"
    r"(?:\.efs\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?)?(?::(?P<path>/.*)?)?$"
)
PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)=(.*)$", re.DOTALL)
SUPPORTED = "`mount -t efs|nfs4`, `mkdir`, `cd`, `set -e` and `python3 -m http.server`"

# the server process: ends when the pipe from the lab closes (the lab's process died or
# stopped it); ignores SIGINT, which Jupyter sends the kernel's process group on "interrupt";
# then runs http.server exactly as `python -m http.server ARGS` does
_WATCHED_SERVER = (
    "import os, runpy, signal, threading\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "def watch():\n"
    "    while os.read(0, 64):\n"
    "        pass\n"
    "    os._exit(0)\n"
    "threading.Thread(target=watch, daemon=True).start()\n"
    "runpy.run_module('http.server', run_name='__main__', alter_sys=True)\n"
)
_SERVING = re.compile(rb"Serving HTTP on \S+ port (\d+)")


# ---- reading user data --------------------------------------------------------------------
def user_data_script(raw: bytes) -> str | None:
    """The shell script in decoded user data (gzip and MIME multi-part unpacked), or None."""
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            return None
    text = raw.decode("utf-8", errors="replace")
    if text.lstrip().lower().startswith(("content-type:", "mime-version:")):
        message = email.message_from_string(text)
        parts = [
            part.get_payload(decode=True) or b""
            for part in message.walk()
            if part.get_content_type() == "text/x-shellscript"
        ]
        return "\n".join(p.decode("utf-8", errors="replace") for p in parts) or None
    return text if text.startswith("#!") else None


def decoded_user_data(value: Any) -> bytes:
    """moto's stored user data (base64, as the API takes it) as bytes."""
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None:
        return b""
    text = value.decode() if isinstance(value, bytes) else str(value)
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        return text.encode()


# ---- a small shell reader -----------------------------------------------------------------
@dataclass
class Command:
    """One simple command of the script, as bash would see it (without running expansions)."""

    text: str
    words: list[str]
    redirects: list[tuple[str, str]] = field(default_factory=list)  # ("2>", "/var/log/x")
    separator: str = ""  # what follows it: ; & && || | or "" at the end of the line
    opaque: bool = False  # uses an expansion the emulator does not perform


def commands(script: str, variables: dict[str, str]) -> Any:
    """Yield the script's commands in order; each line is read only when reached, so
    assignments the caller makes to `variables` apply to the lines after them."""
    lines = re.sub(r"\\\n", "", script.replace("\r\n", "\n")).split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        found, heredocs = _scan(line, variables)
        yield from found
        for delimiter, strip_tabs in heredocs:  # a here-document's body is data, not commands
            while index < len(lines):
                body = lines[index].lstrip("\t") if strip_tabs else lines[index]
                index += 1
                if body == delimiter:
                    break


def _scan(line: str, variables: dict[str, str]) -> tuple[list[Command], list[tuple[str, bool]]]:
    """Split one line into commands: quotes, escapes, comments, operators, redirections."""
    out: list[Command] = []
    heredocs: list[tuple[str, bool]] = []
    words: list[str] = []
    redirects: list[tuple[str, str]] = []
    buf: list[str] = []
    state = {"in_word": False, "quoted": False, "opaque": False, "start": 0}
    pending: list[str] = []  # a redirection operator waiting for its target

    def end_word() -> None:
        if state["in_word"]:
            text = "".join(buf)
            if pending:
                op = pending.pop()
                redirects.append((op, text))
                if op.endswith(("<<", "<<-")):
                    heredocs.append((text, op.endswith("<<-")))
            else:
                words.append(text)
        buf.clear()
        state["in_word"] = state["quoted"] = False

    def end_command(separator: str, at: int) -> None:
        end_word()
        if words or redirects:
            text = line[int(state["start"]) : at].strip()
            out.append(
                Command(text, list(words), list(redirects), separator, bool(state["opaque"]))
            )
        words.clear()
        redirects.clear()
        pending.clear()
        state["opaque"] = False
        state["start"] = at + len(separator)

    def expand(i: int) -> int:
        """A `$...` at line[i]: a known variable's value, else opaque; the index after it."""
        match = re.match(r"\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))", line[i:])
        if match:
            name = match.group(1) or match.group(2)
            if name in variables:
                buf.append(variables[name])
            else:
                state["opaque"] = True
                buf.append(match.group(0))
            return i + len(match.group(0))
        state["opaque"] = True
        if line.startswith("$(", i) or line.startswith("${", i):
            close = ")" if line[i + 1] == "(" else "}"
            end = _closing(line, i + 1, line[i + 1], close)
            buf.append(line[i:end])
            return end
        buf.append("$")
        return i + 1

    i = 0
    text_end = len(line)
    while i < len(line):
        c = line[i]
        if c in " \t":
            end_word()
            i += 1
        elif c == "#" and not state["in_word"]:
            text_end = i  # a comment, to the end of the line
            break
        elif c == "'":
            end = line.find("'", i + 1)
            end = len(line) if end < 0 else end
            buf.append(line[i + 1 : end])
            state["in_word"] = state["quoted"] = True
            i = end + 1
        elif c == '"':
            state["in_word"] = state["quoted"] = True
            i += 1
            while i < len(line) and line[i] != '"':
                if line[i] == "\\" and i + 1 < len(line) and line[i + 1] in '$`"\\':
                    buf.append(line[i + 1])
                    i += 2
                elif line[i] == "$":
                    i = expand(i)
                elif line[i] == "`":
                    state["opaque"] = True
                    buf.append("`")
                    i += 1
                else:
                    buf.append(line[i])
                    i += 1
            i += 1
        elif c == "\\":
            buf.append(line[i + 1 : i + 2])
            state["in_word"] = state["quoted"] = True
            i += 2
        elif c == "$":
            state["in_word"] = True
            i = expand(i)
        elif c == "`":
            state["opaque"] = state["in_word"] = True
            end = line.find("`", i + 1)
            end = len(line) if end < 0 else end + 1
            buf.append(line[i:end])
            i = end
        elif c in "<>":
            fd = ""
            if state["in_word"] and not state["quoted"] and "".join(buf).isdigit():
                fd = "".join(buf)
                buf.clear()
                state["in_word"] = False
            else:
                end_word()
            op = next(
                o
                for o in (">>", ">&", ">|", "<<-", "<<<", "<<", "<&", "<>", ">", "<")
                if line.startswith(o, i)
            )
            pending[:] = [fd + op]
            i += len(op)
        elif c == "&":
            if line.startswith("&>", i):
                end_word()
                op = "&>>" if line.startswith("&>>", i) else "&>"
                pending[:] = [op]
                i += len(op)
            else:
                separator = "&&" if line.startswith("&&", i) else "&"
                end_command(separator, i)
                i += len(separator)
        elif c in "|;":
            separator = line[i : i + 2] if line[i : i + 2] in ("||", "|&", ";;") else c
            end_command(separator, i)
            i += len(separator)
        elif c in "(){}" and not state["in_word"]:
            state["opaque"] = True  # subshells and groups: not emulated
            end_word()
            i += 1
        else:
            buf.append(c)
            state["in_word"] = True
            i += 1
    end_command("", text_end)
    return out, heredocs


def _closing(line: str, i: int, open_: str, close: str) -> int:
    """The index after the `close` matching the `open_` at line[i]."""
    depth = 0
    for j in range(i, len(line)):
        if line[j] == open_:
            depth += 1
        elif line[j] == close:
            depth -= 1
            if depth == 0:
                return j + 1
    return len(line)


# ---- what the user data does --------------------------------------------------------------
@dataclass
class ServerSpec:
    """A `python3 -m http.server` the user data starts."""

    port: int
    directory: Path  # on this machine
    shown: str  # the directory as the instance names it
    protocol: str | None
    log: Path


@dataclass
class Boot:
    """What an instance's user data did offline: the servers it started, and why none."""

    servers: list[ServerSpec] = field(default_factory=list)
    why_not: str = ""


class UserData:
    """Runs the supported subset of one instance's user data script (see the module doc)."""

    def __init__(self, instances: Instances, instance: Any, root: Path):
        self.instances = instances
        self.instance = instance
        self.instance_id = str(instance.id)
        self.root = root
        self.cwd = "/"
        self.errexit = False
        self.mounts: list[tuple[str, Path]] = []  # (mount point, directory on this machine)
        self.variables: dict[str, str] = {}
        self.boot = Boot()

    def run(self, script: str) -> Boot:
        skipping = in_loop = False
        for command in commands(script, self.variables):
            if in_loop:  # the body of a retry loop whose condition settled at once
                in_loop = command.words[:1] != ["done"]
                continue
            if skipping:  # the rest of an && or || list whose outcome is already decided
                skipping = command.separator in ("&&", "||")
                continue
            if command.words[:1] in (["until"], ["while"]) and len(command.words) > 1:
                # `until CMD; do ...; done` (a retry loop): offline CMD's outcome cannot change
                # between tries, so it runs once; a loop that would never end stops the script
                keyword = command.words[0]
                condition = replace(
                    command, words=command.words[1:], text=command.text[len(keyword) :].strip()
                )
                ok, stop = self._command(condition)
                if stop:
                    break
                if ok == (keyword == "while"):
                    self.boot.why_not = self.boot.why_not or (
                        f"its user data loops for ever on `{command.text}`"
                    )
                    self.instances.note(
                        f"EC2 instance {self.instance_id}: `{command.text}` would loop for ever "
                        "(its condition does not change offline); its user data stops there"
                    )
                    break
                in_loop = True
                continue
            ok, stop = self._command(command)
            if stop:
                break
            separator = command.separator
            # bash's errexit spares a failure before && or ||, and one in the background
            if not ok and self.errexit and separator not in ("&&", "||", "&"):
                self.boot.why_not = self.boot.why_not or (
                    "its user data stopped at a failing command (set -e)"
                )
                self.instances.note(
                    f"EC2 instance {self.instance_id}: `{command.text}` fails, and with set -e "
                    "its user data stops there, as on AWS"
                )
                break
            skipping = (separator == "&&" and not ok) or (separator == "||" and ok)
        if not self.boot.servers and not self.boot.why_not:
            self.boot.why_not = "its user data starts no `python3 -m http.server`"
        return self.boot

    # ---- one command ------------------------------------------------------------------------
    def _command(self, command: Command) -> tuple[bool, bool]:
        """Run it if supported: (succeeded, the script ends here)."""
        words = list(command.words)
        assignments = []
        while words and ASSIGNMENT.match(words[0]):
            assignments.append(words.pop(0))
        if words[:1] == ["export"] and len(words) > 1 and ASSIGNMENT.match(words[1]):
            assignments += words[1:]
            words = []
        if not words:
            for assignment in assignments:
                name, value = ASSIGNMENT.match(assignment).groups()  # type: ignore[union-attr]
                if command.opaque:
                    self.variables.pop(name, None)
                else:
                    self.variables[name] = value
            if command.opaque:
                self._ignored(command)
            return True, False
        while words and words[0] in ("sudo", "nohup", "exec", "env", "setsid", "command"):
            words.pop(0)
            while words and (words[0].startswith("-") or ASSIGNMENT.match(words[0])):
                words.pop(0)
        head = posixpath.basename(words[0]) if words else ""
        handlers = {"mount": self._mount, "cd": self._cd, "mkdir": self._mkdir, "set": self._set}
        if command.opaque and (head in handlers or PYTHON.match(head)):
            self.instances.note(
                f"EC2 user data: `{command.text}` uses shell expansion the emulator does not "
                "perform (only `$NAME` of a `NAME=value` set earlier); it does not run offline"
            )
            return True, False
        if head == "exit":
            return True, True
        if head in handlers:
            return handlers[head](command, words[1:]), False
        if PYTHON.match(head) and self._module(words[1:])[0] == "http.server":
            return self._server(command, self._module(words[1:])[1])
        self._ignored(command)
        return True, False

    def _ignored(self, command: Command) -> None:
        self.instances.note(
            f"EC2 user data: `{command.text}` does not run offline (the emulator runs only "
            f"{SUPPORTED}; helpers/emulator/instances.py)"
        )

    def _set(self, command: Command, args: list[str]) -> bool:
        for i, arg in enumerate(args):
            if arg.startswith(("-", "+")) and arg not in ("-o", "+o", "--"):
                if "e" in arg[1:]:
                    self.errexit = arg[0] == "-"
            elif arg == "errexit" and i and args[i - 1] in ("-o", "+o"):
                self.errexit = args[i - 1] == "-o"
        return True

    def _cd(self, command: Command, args: list[str]) -> bool:
        target = self._absolute(args[0] if args else "/root")
        if not self.map(target).is_dir():
            self.instances.note(
                f"EC2 instance {self.instance_id}: `{command.text}` fails: {target} does not "
                "exist when the user data runs (create it before the instance starts, or use "
                "`--directory`)"
            )
            return False
        self.cwd = target
        return True

    def _mkdir(self, command: Command, args: list[str]) -> bool:
        parents = any(a.startswith("-") and "p" in a for a in args if a != "--")
        ok = True
        skip = False
        for arg in args:
            if skip:
                skip = False
                continue
            if arg in ("-m", "--mode"):
                skip = True
                continue
            if arg.startswith("-"):
                continue
            path = self.map(self._absolute(arg))
            try:
                path.mkdir(parents=parents, exist_ok=parents)
            except OSError:
                ok = False
        return ok

    def _mount(self, command: Command, args: list[str]) -> bool:
        fstype, options, positional = "", "", []
        i = 0
        while i < len(args):
            if args[i] in ("-t", "-o") and i + 1 < len(args):
                if args[i] == "-t":
                    fstype = args[i + 1]
                else:
                    options = args[i + 1]
                i += 2
            elif args[i].startswith("-"):
                i += 1
            else:
                positional.append(args[i])
                i += 1
        if fstype not in ("efs", "nfs4", "nfs") or len(positional) != 2:
            self._ignored(command)
            return True
        device, mount_point = positional
        match = EFS_DEVICE.match(device)
        if match is None or (fstype != "efs" and not match.group("region")):
            self.instances.note(
                f"EC2 instance {self.instance_id}: `{command.text}` does not run offline: the "
                "emulator mounts an EFS file system by its id (`fs-ID:/`) or its DNS name "
                "(`fs-ID.efs.REGION.amazonaws.com:/`), not by a mount target's IP address"
            )
            return True
        access_point = next(
            (o.split("=", 1)[1] for o in options.split(",") if o.startswith("accesspoint=")),
            None,
        )
        try:
            directory = self.instances.mount_directory(
                self.instance, match.group("fs"), match.group("path") or "/", access_point
            )
        except MountError as exc:
            self.instances.note(f"EC2 instance {self.instance_id}: `{command.text}` fails: {exc}")
            return False
        self.mounts.append((self._absolute(mount_point), directory))
        return True

    @staticmethod
    def _module(args: list[str]) -> tuple[str, list[str]]:
        """(the module of `python [options] -m MODULE args`, its args), or ("", [])."""
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "-m" and i + 1 < len(args):
                return args[i + 1], args[i + 2 :]
            if arg.startswith("-m") and len(arg) > 2:
                return arg[2:], args[i + 1 :]
            if arg in ("-X", "-W"):
                i += 2
            elif arg.startswith("-") and arg != "-":
                i += 1
            else:
                return "", []
        return "", []

    def _server(self, command: Command, args: list[str]) -> tuple[bool, bool]:
        options: dict[str, str] = {}
        port: int | None = None
        names = {"-b": "bind", "--bind": "bind", "-d": "directory", "--directory": "directory"}
        names.update({"-p": "protocol", "--protocol": "protocol"})
        problem = ""
        i = 0
        while i < len(args):
            arg = args[i]
            key, _, inline = arg.partition("=")
            if arg == "--cgi":
                self.instances.note(
                    f"EC2 instance {self.instance_id}: `--cgi` is not emulated; the server "
                    "serves its directory's files as they are"
                )
            elif key in names and (inline or i + 1 < len(args)):
                options[names[key]] = inline if inline else args[i + 1]
                i += 0 if inline else 1
            elif arg[:2] in ("-b", "-d", "-p") and len(arg) > 2 and not arg.startswith("--"):
                options[names[arg[:2]]] = arg[2:]
            elif arg.startswith("-"):
                problem = f"http.server does not know the option {arg}"
            elif port is None and arg.isdigit():
                port = int(arg)
            else:
                problem = f"{arg!r} is not a port number"
            i += 1
        background = command.separator == "&"
        bind = options.get("bind", "")
        private_ip = str(getattr(self.instance, "private_ip", "") or "")
        if not problem and bind not in ANY_ADDRESS and not LOOPBACK.match(bind):
            if bind != private_ip:
                problem = f"this instance has no address {bind} to bind to"
        if problem:
            self.instances.note(
                f"EC2 instance {self.instance_id}: `{command.text}` fails to start: {problem}"
            )
            return False, False
        shown = self._absolute(options.get("directory", self.cwd))
        directory = self.map(shown)
        if not any(_under(shown, point) for point, _ in self.mounts):
            self.instances.note(
                f"EC2 instance {self.instance_id}: {shown}, which http.server serves, is on no "
                "mounted EFS file system: offline it is a folder of the instance's own root "
                "volume, empty unless the user data made it"
            )
        if LOOPBACK.match(bind):
            self.instances.note(
                f"EC2 instance {self.instance_id}: http.server listens on {bind} only, so the "
                "load balancer cannot reach it (bind to all addresses: leave out --bind)"
            )
            self.boot.why_not = f"its http.server listens on {bind} only"
            return True, not background
        log = self._log(command)
        self.boot.servers.append(
            ServerSpec(port or DEFAULT_PORT, directory, shown, options.get("protocol"), log)
        )
        return True, not background  # a server in the foreground holds the script there

    def _log(self, command: Command) -> Path:
        """Where the server's standard error goes: its redirection, else cloud-init's log."""
        target = "/var/log/cloud-init-output.log"
        stdout = ""
        for op, path in command.redirects:
            if op in (">", ">>", "1>", "1>>", ">|"):
                stdout = path
            elif op in ("&>", "&>>", "2>", "2>>"):
                target = path
            elif op in ("2>&", "2>&1") and path == "1" and stdout:
                target = stdout
        path = self.map(self._absolute(target)) if target != "/dev/null" else Path(os.devnull)
        if path != Path(os.devnull):
            path.parent.mkdir(parents=True, exist_ok=True)
        return path

    # ---- paths --------------------------------------------------------------------------
    def _absolute(self, path: str) -> str:
        return posixpath.normpath(posixpath.join(self.cwd, path or "."))

    def map(self, path: str) -> Path:
        """The directory on this machine an absolute instance path names (the last mount wins)."""
        for point, directory in reversed(self.mounts):
            if _under(path, point):
                rest = posixpath.relpath(path, point)
                return directory if rest == "." else directory.joinpath(*rest.split("/"))
        return self.root.joinpath(*[p for p in path.split("/") if p])


def _under(path: str, point: str) -> bool:
    return path == point or path.startswith(point.rstrip("/") + "/")


class MountError(Exception):
    """A mount that fails on AWS; the message says why."""


# ---- the server processes -----------------------------------------------------------------
@dataclass
class Server:
    """One running http.server: the instance's port, its process and loopback URL."""

    port: int
    process: subprocess.Popen[bytes]
    url: str


def start_server(
    directory: Path, *, log: Path, cwd: Path, protocol: str | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """Start `python -m http.server` serving `directory` on 127.0.0.1 (a free port):
    (the process, its port). It ends when this process dies or closes its stdin."""
    args = [sys.executable, "-I", "-S", "-u", "-c", _WATCHED_SERVER]
    args += ["--bind", "127.0.0.1", "--directory", str(directory)]
    if protocol:
        args += ["--protocol", protocol]
    with open(log, "ab") as errors:
        process = subprocess.Popen(
            [*args, "0"],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            start_new_session=False,
        )
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([process.stdout], [], [], max(left, 0))
        chunk = os.read(process.stdout.fileno(), 256) if ready else b""
        if not chunk:
            stop_process(process)
            raise OSError(f"http.server did not start (see {log})")
        line += chunk
    found = _SERVING.search(line)
    if found is None:
        stop_process(process)
        raise OSError(f"http.server said {line!r} instead of its port")
    return process, int(found.group(1))


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """End a server process and wait for it."""
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a live process (its threads included), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        pass
    try:
        import psutil  # type: ignore[import-untyped]

        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    except Exception:  # no psutil, or the process is gone
        return None


@dataclass
class _Instance:
    """What the emulator keeps of one instance it booted."""

    instance_id: str
    root: Path
    servers: list[Server] = field(default_factory=list)
    why_not: str = ""
    state: str = "running"  # running | stopped | terminated, as the emulator last saw it
    requests: int = 0
    bytes_sent: int = 0
    cpu_s: float = 0.0  # of server processes that ended


# ---- the instances --------------------------------------------------------------------------
class Instances:
    """The server processes of the lab's EC2 instances, following the instances' states."""

    def __init__(self, emulator: Any):
        self.emulator = emulator
        self.folder = Path(tempfile.mkdtemp(prefix="labbook-ec2-"))
        self._booted: dict[str, _Instance] = {}
        self._lock = threading.RLock()
        self._noted: set[str] = set()
        self._minutes: dict[
            tuple[str, int], list[int]
        ] = {}  # (instance, minute): [requests, bytes]
        self.closed = False

    def note(self, message: str) -> None:
        """Tell the notebook once (the same message is not repeated)."""
        with self._lock:
            if message in self._noted:
                return
            self._noted.add(message)
        self.emulator.note(message)

    @property
    def stand_ins(self) -> Any:
        balancers = getattr(self.emulator, "alb", None)
        return balancers.stand_ins if balancers is not None else None

    # ---- public -----------------------------------------------------------------------------
    def sync(self) -> None:
        """Boot every running instance not booted yet; stop the servers of the instances that
        are no longer running."""
        with self._lock:
            if self.closed:
                return
            running = self._running()
            self.stop_gone(running)
            for instance_id, instance in running.items():
                if instance_id not in self._booted:
                    self._boot(instance)

    def boot(self, instance_id: str, port: int) -> Any:
        """The stand-in serving `instance_id` on `port` after its user data ran (None if
        nothing serves there, with a note saying why)."""
        if not instance_id.startswith("i-"):
            return None
        with self._lock:
            if self.closed:
                return None
            record = self._booted.get(instance_id)
            if record is None:
                instance = self._running().get(instance_id)
                if instance is None:
                    return None
                record = self._boot(instance)
            if record.state != "running":
                return None
        if not any(s.port == port for s in record.servers):
            served = sorted(s.port for s in record.servers)
            why = record.why_not or (
                f"its user data's http.server listens on port {served[0]}, not {port}"
                if served
                else "nothing listens on it"
            )
            self.note(
                f"EC2 instance {instance_id}: {why}, so nothing answers on port {port} offline; "
                "the load balancer skips it as unhealthy"
            )
            return None
        return self.stand_ins.find(instance_id, port) if self.stand_ins is not None else None

    def answered(self, instance_id: str, nbytes: int) -> None:
        """A load balancer got an answer of `nbytes` (body) from the instance, now."""
        minute = int(self.emulator.clock.now() // 60)
        with self._lock:
            record = self._booted.get(instance_id)
            if record is not None:
                record.requests += 1
                record.bytes_sent += nbytes
            tally = self._minutes.setdefault((instance_id, minute), [0, 0])
            tally[0] += 1
            tally[1] += nbytes

    def traffic(self, instance_id: str, minute: int) -> tuple[int, int]:
        """(requests, bytes) the instance answered through load balancers in lab minute
        `minute` (seconds since the epoch // 60)."""
        with self._lock:
            requests, nbytes = self._minutes.get((instance_id, minute), (0, 0))
            return requests, nbytes

    def server_urls(self) -> dict[str, list[str]]:
        """The loopback URLs of each booted instance's running servers."""
        with self._lock:
            return {i: [s.url for s in r.servers] for i, r in self._booted.items()}

    def usage(self) -> dict[str, dict[str, float | int]]:
        """Per instance booted: `requests` the load balancers forwarded to it, the `bytes` of
        its answers, and `cpu_s`, the CPU seconds (user + system) its server processes used,
        the ended ones included."""
        with self._lock:
            out: dict[str, dict[str, float | int]] = {}
            for instance_id, record in self._booted.items():
                cpu = record.cpu_s + sum(cpu_seconds(s.process.pid) or 0.0 for s in record.servers)
                out[instance_id] = {
                    "requests": record.requests,
                    "bytes": record.bytes_sent,
                    "cpu_s": round(cpu, 3),
                }
            return out

    def stop_gone(self, running: dict[str, Any] | None = None) -> None:
        """Stop the servers of the booted instances that are no longer running."""
        with self._lock:
            running = self._running() if running is None else running
            for instance_id, record in self._booted.items():
                if instance_id in running:
                    if record.state == "stopped":
                        record.state = "running"  # started again: user data does not rerun
                        record.why_not = "it was stopped and started again, and user data runs only at first boot"
                    continue
                if record.state == "terminated":
                    continue
                if record.state == "running":
                    self._stop(record)
                record.state = self._state_of(instance_id)
                if record.state == "terminated":
                    shutil.rmtree(record.root, ignore_errors=True)  # its root volume

    def stop(self) -> None:
        """Stop every server (the lab's end)."""
        with self._lock:
            self.closed = True
            for record in self._booted.values():
                self._stop(record)
            shutil.rmtree(self.folder, ignore_errors=True)

    def mount_directory(
        self, instance: Any, file_system_id: str, path: str, access_point: str | None
    ) -> Path:
        """The directory on this machine that a mount of the file system shows the instance."""
        from moto.efs.models import efs_backends

        region = instance.ec2_backend.region_name
        account = instance.ec2_backend.account_id
        backend = efs_backends[account][region]
        file_system = backend.file_systems_by_id.get(file_system_id)
        file_systems = getattr(self.emulator, "efs", None)
        if file_system is None or file_systems is None:
            raise MountError(
                f"Failed to resolve {file_system_id}.efs.{region}.amazonaws.com: file system "
                f"{file_system_id} does not exist in {region}"
            )
        zone = instance.availability_zone
        if not any(
            target.availability_zone_name == zone
            and (not instance.vpc_id or target.vpc_id == instance.vpc_id)
            for target in list(file_system.iter_mount_targets())
        ):
            raise MountError(
                f"file system {file_system_id} has no mount target in {zone} in the instance's "
                "VPC (create_mount_target in each Availability Zone of the Auto Scaling group)"
            )
        from .efs import EFSError

        try:
            if access_point:
                if file_systems.file_system_of(access_point) != file_system_id:
                    raise MountError(
                        f"access point {access_point} does not belong to {file_system_id}"
                    )
                base = file_systems.access_point_directory(access_point)
            else:
                base = file_systems.directory(file_system_id)
        except EFSError as exc:
            raise MountError(str(exc)) from exc
        parts = [p for p in posixpath.normpath(path).split("/") if p and p != "."]
        if ".." in parts:
            raise MountError(f"{path} is not a path in the file system")
        directory = base.joinpath(*parts)
        if not directory.is_dir():
            raise MountError(f"{path} does not exist in file system {file_system_id}")
        return directory

    # ---- moto's instances ---------------------------------------------------------------
    def _running(self) -> dict[str, Any]:
        from moto.ec2.models import ec2_backends

        found = {}
        for backend in list(dict(ec2_backends[self.emulator.account_id]).values()):
            for reservation in list(backend.reservations.values()):
                for instance in list(reservation.instances):
                    if instance.state == "running":
                        found[str(instance.id)] = instance
        return found

    def _state_of(self, instance_id: str) -> str:
        from moto.ec2.models import ec2_backends

        for backend in list(dict(ec2_backends[self.emulator.account_id]).values()):
            for reservation in list(backend.reservations.values()):
                for instance in list(reservation.instances):
                    if instance.id == instance_id:
                        return "terminated" if instance.state == "terminated" else "stopped"
        return "terminated"

    def _boot(self, instance: Any) -> _Instance:
        """Run the instance's user data (the supported subset) and start its servers."""
        instance_id = str(instance.id)
        root = self.folder / instance_id
        root.mkdir(parents=True, exist_ok=True)
        record = _Instance(instance_id, root)
        self._booted[instance_id] = record
        raw = decoded_user_data(getattr(instance, "user_data", None))
        script = user_data_script(raw) if raw else None
        if script is None:
            record.why_not = (
                "it has no user data" if not raw else "its user data is not a shell script"
            )
            return record
        boot = UserData(self, instance, root).run(script)
        record.why_not = boot.why_not
        stand_ins = self.stand_ins
        for spec in boot.servers:
            if stand_ins is not None and stand_ins.find(instance_id, spec.port) is not None:
                continue  # something else already answers for it (registered by hand)
            try:
                process, port = start_server(
                    spec.directory, log=spec.log, cwd=root, protocol=spec.protocol
                )
            except OSError as exc:
                self.note(f"EC2 instance {instance_id}: its http.server did not start: {exc}")
                continue
            url = f"http://127.0.0.1:{port}"
            record.servers.append(Server(spec.port, process, url))
            if stand_ins is not None:
                stand_ins.serve(instance_id, url, port=spec.port)
        return record

    def _stop(self, record: _Instance) -> None:
        stand_ins = self.stand_ins
        for server in record.servers:
            record.cpu_s += cpu_seconds(server.process.pid) or 0.0
            if stand_ins is not None and stand_ins.find(record.instance_id, server.port) == (
                server.url
            ):
                stand_ins.forget(record.instance_id, server.port)
            stop_process(server.process)
        record.servers.clear()


# ---- Auto Scaling ---------------------------------------------------------------------------
def _deregister_departed(backend: Any, group_name: str, done: set[tuple[str, str]]) -> None:
    """Deregister from the group's target groups the instances it launched or attached that are
    no longer in it (terminated on scale-in, or detached), once: `done` holds (target group,
    instance) pairs already deregistered, so an instance registered again by hand stays."""
    group = backend.autoscaling_groups.get(group_name)
    if group is None:
        return
    members = {state.instance.id for state in group.instance_states}
    elbv2 = backend.elbv2_backend
    for arn in list(group.target_group_arns):
        target_group = elbv2.target_groups.get(arn)
        if target_group is None:
            continue
        departed = []
        for target_id in list(target_group.targets):
            if target_id in members or (arn, target_id) in done:
                continue
            instance = backend.ec2_backend.get_instance_by_id(target_id)
            owner = getattr(getattr(instance, "autoscaling_group", None), "name", None)
            if owner == group_name:
                departed.append({"Id": target_id})
                done.add((arn, target_id))
        if departed:
            elbv2.deregister_targets(arn, departed)


def install(emulator: Any) -> None:
    """Give the emulator `instances` (Instances), hook it into the load balancers, and make
    Auto Scaling deregister the instances that leave a group."""
    from moto.autoscaling.models import AutoScalingBackend

    instances = Instances(emulator)
    emulator.instances = instances
    balancers = getattr(emulator, "alb", None)
    if balancers is not None:
        balancers.instances = instances
    original = AutoScalingBackend.update_attached_target_groups
    deregistered: set[tuple[str, str]] = set()

    def update_attached_target_groups(backend: Any, group_name: str) -> None:
        original(backend, group_name)
        _deregister_departed(backend, group_name, deregistered)
        instances.stop_gone()

    emulator._patch(
        AutoScalingBackend, "update_attached_target_groups", update_attached_target_groups
    )

    from moto.autoscaling.models import FakeAutoScalingGroup

    launch = FakeAutoScalingGroup.replace_autoscaling_group_instances

    def replace_autoscaling_group_instances(group: Any, count_needed: int, tags: Any) -> None:
        """Launch one instance at a time into the enabled Availability Zone that has the
        fewest, as Auto Scaling balances a group (moto puts all in the first subnet)."""
        before = {str(state.instance.id) for state in group.instance_states}
        try:
            _launch_balanced(group, count_needed, tags)
        finally:
            scaling = getattr(emulator, "scaling", None)
            if scaling is not None:  # target tracking warms new instances up from now
                now = {str(state.instance.id) for state in group.instance_states}
                scaling.launched(sorted(now - before))

    def _launch_balanced(group: Any, count_needed: int, tags: Any) -> None:
        subnets = [s for s in (group.vpc_zone_identifier or "").split(",") if s]
        if len(subnets) < 2:
            return launch(group, count_needed, tags)
        zone_of = {
            s: group.autoscaling_backend.ec2_backend.get_subnet(s).availability_zone
            for s in subnets
        }
        saved = group.vpc_zone_identifier
        try:
            for _ in range(count_needed):
                counts = Counter(
                    state.instance.availability_zone for state in group.instance_states
                )
                chosen = min(subnets, key=lambda s: (counts[zone_of[s]], subnets.index(s)))
                group.vpc_zone_identifier = ",".join([chosen, *(s for s in subnets if s != chosen)])
                launch(group, 1, dict(tags))
        finally:
            group.vpc_zone_identifier = saved

    emulator._patch(
        FakeAutoScalingGroup,
        "replace_autoscaling_group_instances",
        replace_autoscaling_group_instances,
    )


def stop(emulator: Any) -> None:
    """Stop every instance's servers (the lab's teardown)."""
    instances = getattr(emulator, "instances", None)
    if isinstance(instances, Instances):
        instances.stop()
