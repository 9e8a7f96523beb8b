"""Works with files under the function's Amazon EFS mount (its LocalMountPath), as a release
publisher would; event["op"] names what to do and event["args"] its paths. Answers what Python
saw, with OSErrors reported rather than raised."""

import os
import pathlib
import shutil
import stat
import tempfile


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return {"size": os.path.getsize(path)}


def read(path):
    with open(path) as f:
        return {"text": f.read()}


def publish(directory, name, text, how="mkstemp"):
    """Write a whole file, then rename it into place: readers see the old or the new file."""
    os.makedirs(directory, exist_ok=True)
    if how == "mkstemp":
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".part-")
        with os.fdopen(fd, "w") as f:
            f.write(text)
    else:
        with tempfile.NamedTemporaryFile("w", dir=directory, prefix=".part-", delete=False) as f:
            f.write(text)
        temporary = f.name
    os.replace(temporary, os.path.join(directory, name))
    return {"temporary": temporary, "listing": sorted(os.listdir(directory))}


def tree(top):
    return {
        "walk": [[d, sorted(dirs), sorted(files)] for d, dirs, files in os.walk(top)],
        "scandir": sorted([e.path, e.is_dir()] for e in os.scandir(top)),
        "listdir": sorted(os.listdir(top)),
    }


def paths(top, text):
    p = pathlib.Path(top) / "notes" / "readme.txt"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    out = {
        "read": p.read_text(),
        "exists": p.exists(),
        "is_file": p.is_file(),
        "parent_is_dir": p.parent.is_dir(),
        "size": p.stat().st_size,
        "iterdir": sorted(str(c) for c in p.parent.iterdir()),
        "glob": sorted(str(c) for c in pathlib.Path(top).glob("**/*.txt")),
        "resolve": str(p.resolve()),
    }
    moved = p.rename(p.with_suffix(".old"))
    out["renamed"] = [str(moved), moved.exists(), p.exists()]
    moved.unlink()
    out["after_unlink"] = sorted(os.listdir(p.parent))
    return out


def scratch(directory):
    """A temporary directory inside the mount, removed with its files afterwards."""
    with tempfile.TemporaryDirectory(dir=directory) as work:
        with open(os.path.join(work, "part"), "w") as f:
            f.write("x")
        inside = sorted(os.listdir(work))
        during = any(name == os.path.basename(work) for name in os.listdir(directory))
    return {"inside": inside, "during": during, "after": os.path.exists(work)}


def stat_of(path):
    st = os.stat(path)
    return {
        "mode": oct(stat.S_IMODE(st.st_mode)),
        "isdir": os.path.isdir(path),
        "isfile": os.path.isfile(path),
        "exists": os.path.exists(path),
    }


def cwd(path):
    os.chdir(path)
    with open("relative.txt", "w") as f:
        f.write("here")
    return {"cwd": os.getcwd(), "listing": sorted(os.listdir("."))}


def remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    else:
        os.remove(path)
    return {"exists": os.path.exists(path)}


OPS = {f.__name__: f for f in (write, read, publish, tree, paths, scratch, stat_of, cwd, remove)}


def handler(event, context):
    try:
        return OPS[event["op"]](**event.get("args", {}))
    except OSError as exc:
        return {"error": type(exc).__name__, "filename": exc.filename, "message": str(exc)}
