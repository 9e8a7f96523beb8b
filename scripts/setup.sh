#!/usr/bin/env bash
# Set up the course: a .venv with the project installed editable (dev extra), and Graphviz.
#
# Idempotent: a stamp in .venv records a hash of pyproject.toml (and of this script, the repo
# path and the Python used); when it matches, the Python part is skipped and a re-run takes
# well under a second. Graphviz is checked on every run (one `command -v`).
#
#   bash scripts/setup.sh                  set up (what `make setup` and `make lab` run)
#   bash scripts/setup.sh --browser        also Chromium, for the browser tests (`make test`)
#   bash scripts/setup.sh --graphviz-hint  print the command that installs Graphviz here
#
# Environment: PYTHON=/path/to/python3.x picks the interpreter (>= 3.10);
#              LABBOOK_VERBOSE=1 shows pip's full output;
#              LABBOOK_SKIP_GRAPHVIZ=1 never installs Graphviz (still says how);
#              LABBOOK_SKIP_BROWSER=1 never installs Chromium (the browser tests then skip).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.labbook-setup"
MIN_MAJOR=3
MIN_MINOR=10

say() { printf 'setup: %s\n' "$*"; }
warn() { printf 'setup: %s\n' "$*" >&2; }
die() {
    printf 'setup: error: %s\n' "$*" >&2
    exit 1
}

# --- Python ---------------------------------------------------------------------------------

# Print "major minor" of the interpreter $1, or nothing when it does not run.
py_version() {
    "$1" -c 'import sys; print(*sys.version_info[:2])' 2>/dev/null || true
}

# True when the interpreter $1 is at least MIN_MAJOR.MIN_MINOR.
py_recent() {
    local v major minor
    v="$(py_version "$1")"
    [ -n "$v" ] || return 1
    read -r major minor <<<"$v"
    [ "$major" -gt "$MIN_MAJOR" ] || { [ "$major" -eq "$MIN_MAJOR" ] && [ "$minor" -ge "$MIN_MINOR" ]; }
}

# Print the path of the first Python >= 3.10: $PYTHON, else python3, python3.13 ... python.
find_python() {
    local candidate path found
    if [ -n "${PYTHON:-}" ]; then
        path="$(command -v "$PYTHON" || true)"
        [ -n "$path" ] || die "PYTHON=$PYTHON is not an executable; point it at a Python >= 3.10."
        py_recent "$path" || die "PYTHON=$PYTHON is Python $(py_version "$path" | tr ' ' .);" \
            "this course needs Python >= 3.10."
        echo "$path"
        return
    fi
    for candidate in python3 python3.13 python3.12 python3.11 python3.10 python; do
        path="$(command -v "$candidate" || true)"
        if [ -n "$path" ] && py_recent "$path"; then
            echo "$path"
            return
        fi
    done
    found="$(command -v python3 || command -v python || true)"
    if [ -n "$found" ]; then
        found="$found is Python $(py_version "$found" | tr ' ' .)"
    else
        found="no python3 on PATH"
    fi
    die "this course needs Python >= 3.10 and found none ($found). Install one" \
        "(Debian/Ubuntu: sudo apt-get install python3 python3-venv; macOS: brew install" \
        "python@3.12; Windows: winget install Python.Python.3.12; conda: conda env create -f" \
        "environment.yml), then run again, or pass it: make test PYTHON=/path/to/python3.12"
}

# Print the stamp key: a hash of pyproject.toml, this script, the repo path and the Python.
stamp_key() {
    local hasher
    if command -v sha256sum >/dev/null 2>&1; then hasher=(sha256sum); else hasher=(shasum -a 256); fi
    { cat "$ROOT/pyproject.toml" "$ROOT/scripts/setup.sh"; echo "$ROOT"; py_version "$1"; } |
        "${hasher[@]}" | cut -d' ' -f1
}

# True when .venv exists, runs a Python >= 3.10, and its stamp matches.
venv_current() {
    [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && py_recent "$VENV/bin/python" &&
        [ "$(cat "$STAMP")" = "$(stamp_key "$VENV/bin/python")" ]
}

# True when apt-get can be run here without a password (root, or sudo -n).
apt_usable() {
    command -v apt-get >/dev/null 2>&1 || return 1
    [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null
}

# Run a command as root: directly when root, else through sudo -n.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

# True when .venv was made for this folder (a moved or copied venv has stale absolute paths).
venv_here() {
    local marker
    marker="$(cat "$VENV/.labbook-root" 2>/dev/null || true)"
    if [ -n "$marker" ]; then
        [ "$marker" = "$ROOT" ]
    else
        head -n1 "$VENV/bin/pip" 2>/dev/null | grep -q "^#!$VENV/bin/python"
    fi
}

# True when $1 is the distribution's own Python (the one apt's pythonX.Y-venv completes).
is_system_python() {
    case "$1" in
        /usr/bin/* | /bin/*) return 0 ;;
    esac
    return 1
}

# Create .venv with $1; on Debian without python3-venv, install it with apt and retry.
make_venv() {
    local python="$1" v err
    [ -d "$VENV" ] && say "recreating .venv (it was made elsewhere or with another Python)"
    if err="$("$python" -m venv --clear "$VENV" 2>&1)"; then
        return
    fi
    v="$(py_version "$python" | tr ' ' .)"
    if apt_usable && is_system_python "$python"; then
        say "installing python${v}-venv with apt-get (Debian's python3 ships without venv)"
        apt_install "python${v}-venv" || apt_install python3-venv
        "$python" -m venv --clear "$VENV" && return
    fi
    warn "$err"
    die "'$python -m venv' failed. On Debian/Ubuntu: sudo apt-get install python${v}-venv;" \
        "elsewhere use a Python from python.org, brew or conda, then run again."
}

# Create/refresh .venv and pip-install the project (dev extra) unless the stamp is current.
setup_python() {
    local python
    if venv_current; then
        say ".venv is up to date ($("$VENV/bin/python" --version))"
        return
    fi
    if [ ! -x "$VENV/bin/python" ] || ! py_recent "$VENV/bin/python" || ! venv_here; then
        python="$(find_python)"
        say "creating .venv with $python ($("$python" --version 2>&1))"
        make_venv "$python"
    fi
    echo "$ROOT" >"$VENV/.labbook-root"
    # pip >= 21.3 installs a pyproject-only project editable (PEP 660); older ones cannot.
    if ! "$VENV/bin/python" -c 'import pip, sys; sys.exit(int(pip.__version__.split(".")[0]) < 22)'; then
        "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip
    fi
    say "installing the project and its dev tools into .venv (a few minutes the first time;" \
        "LABBOOK_VERBOSE=1 shows pip's output)"
    local quiet=--quiet start=$SECONDS
    if [ "${LABBOOK_VERBOSE:-}" = 1 ]; then quiet=""; fi
    (cd "$ROOT" && "$VENV/bin/python" -m pip install ${quiet:+"$quiet"} --disable-pip-version-check \
        -e '.[dev]')
    stamp_key "$VENV/bin/python" >"$STAMP"
    say ".venv ready ($("$VENV/bin/python" --version), $((SECONDS - start)) s)"
}

# --- Graphviz -------------------------------------------------------------------------------

# Print the command that installs Graphviz on this platform.
graphviz_hint() {
    local id="" like="" os_release="${OS_RELEASE_FILE:-/etc/os-release}"
    if [ -n "${CONDA_PREFIX:-}" ]; then
        echo "conda install -c conda-forge graphviz"
        return
    fi
    case "$(uname -s 2>/dev/null || echo unknown)" in
        Darwin)
            echo "brew install graphviz"
            return
            ;;
        MINGW* | MSYS* | CYGWIN* | Windows_NT)
            echo "winget install graphviz   (or: choco install graphviz)"
            return
            ;;
    esac
    if [ -r "$os_release" ]; then
        # shellcheck source=/dev/null
        id="$(. "$os_release" && echo "${ID:-}")"
        # shellcheck source=/dev/null
        like="$(. "$os_release" && echo "${ID_LIKE:-}")"
    fi
    case " $id $like " in
        *" debian "* | *" ubuntu "*) echo "sudo apt-get install -y graphviz" ;;
        *" fedora "* | *" rhel "* | *" centos "*) echo "sudo dnf install -y graphviz" ;;
        *" arch "*) echo "sudo pacman -S --noconfirm graphviz" ;;
        *" opensuse"* | *" suse "*) echo "sudo zypper install -y graphviz" ;;
        *" alpine "*) echo "sudo apk add graphviz" ;;
        *) echo "install Graphviz from https://graphviz.org/download/ (or: conda install -c conda-forge graphviz)" ;;
    esac
}

# Run apt-get as root, without questions.
apt_get() {
    as_root env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get "$@"
}

# apt-get install the packages, running apt-get update first only when the index lacks them.
apt_install() {
    if apt-cache policy "$@" 2>/dev/null | grep -q 'Candidate: (none)' ||
        [ -z "$(apt-cache policy "$@" 2>/dev/null)" ]; then
        apt_get update -qq
    fi
    apt_get install -y -qq "$@" >/dev/null || { apt_get update -qq && apt_get install -y -qq "$@" >/dev/null; }
}

# Make sure Graphviz's dot is on PATH: apt-get where usable, else say the exact command.
setup_graphviz() {
    if command -v dot >/dev/null 2>&1; then
        return
    fi
    if [ "${LABBOOK_SKIP_GRAPHVIZ:-}" != 1 ] && apt_usable; then
        say "installing Graphviz with apt-get (needed to render the architecture diagrams)"
        if apt_install graphviz && command -v dot >/dev/null 2>&1; then
            say "Graphviz ready ($(dot -V 2>&1))"
            return
        fi
        warn "apt-get could not install Graphviz."
    fi
    warn "Graphviz (dot) is not installed: the committed diagrams still show, but re-rendering"
    warn "them needs it. Install it with:  $(graphviz_hint)"
}

# --- Chromium (browser tests) ---------------------------------------------------------------

# Print the path of an installed Chromium, or nothing.
find_chromium() {
    command -v chromium || command -v chromium-browser || true
}

# Make sure Chromium is installed for the browser tests: apt-get where usable, else say how.
setup_browser() {
    if [ -n "$(find_chromium)" ]; then
        return
    fi
    if [ "${LABBOOK_SKIP_BROWSER:-}" != 1 ] && apt_usable; then
        say "installing Chromium with apt-get (the browser tests drive it with Playwright)"
        if { apt_install chromium || apt_install chromium-browser; } && [ -n "$(find_chromium)" ]; then
            say "Chromium ready ($("$(find_chromium)" --version 2>/dev/null || echo installed))"
            return
        fi
        warn "apt-get could not install Chromium."
    fi
    warn "Chromium is not installed: the browser tests will be skipped. Install it with your"
    warn "package manager (Debian/Ubuntu: sudo apt-get install -y chromium) and run again."
}

main() {
    local browser=0
    case "${1:-}" in
        --graphviz-hint)
            graphviz_hint
            return
            ;;
        --browser) browser=1 ;;
        "") ;;
        *) die "unknown option '$1' (use no option, --browser or --graphviz-hint)" ;;
    esac
    setup_python
    setup_graphviz
    if [ "$browser" = 1 ]; then setup_browser; fi
}

main "$@"
