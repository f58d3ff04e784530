# shellcheck shell=bash
# Shared by scripts/test, scripts/bench and scripts/serve (sourced, not executed).
#
# ledger_venv [EXTRAS]
#   Creates (or reuses) the project's virtualenv at .venv with the python3.11 or python3 found
#   on PATH, and installs the project into it in editable mode with the given extras
#   (e.g. "test"). The install is skipped while a stamp file for those extras is newer than
#   pyproject.toml, so re-runs are fast; delete .venv to start over.
#   Sets LEDGER_ROOT, LEDGER_VENV and LEDGER_PYTHON.

LEDGER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LEDGER_VENV="$LEDGER_ROOT/.venv"
LEDGER_PYTHON="$LEDGER_VENV/bin/python"

ledger_die() {
    echo "error: $*" >&2
    exit 1
}

# Prints the first Python >= 3.11 on PATH.
ledger_find_python() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

ledger_venv() {
    local extras="${1-}"
    local spec="$LEDGER_ROOT"
    local stamp="$LEDGER_VENV/.installed"
    if [[ -n "$extras" ]]; then
        spec="${LEDGER_ROOT}[${extras}]"
        stamp="$LEDGER_VENV/.installed-${extras//,/-}"
    fi

    # A venv whose interpreter no longer runs (moved, or its base Python removed) is rebuilt.
    if [[ -d "$LEDGER_VENV" ]] && ! "$LEDGER_PYTHON" -c 'import sys' >/dev/null 2>&1; then
        echo "Recreating the broken virtualenv at .venv" >&2
        rm -rf "$LEDGER_VENV"
    fi
    if [[ ! -x "$LEDGER_PYTHON" ]]; then
        local python
        python="$(ledger_find_python)" ||
            ledger_die "Python 3.11 or newer is needed (python3.11 or python3 on PATH)"
        echo "Creating virtualenv .venv with $python ($("$python" -V 2>&1))" >&2
        "$python" -m venv "$LEDGER_VENV" || ledger_die "could not create the virtualenv at .venv"
    fi

    if [[ -f "$stamp" && "$stamp" -nt "$LEDGER_ROOT/pyproject.toml" ]]; then
        return 0
    fi
    echo "Installing the project into .venv (pip install -e '.${extras:+[$extras]}')" >&2
    rm -f "$stamp"
    "$LEDGER_PYTHON" -m pip install --quiet --quiet --disable-pip-version-check -e "$spec" ||
        ledger_die "pip install -e '.${extras:+[$extras]}' failed"
    touch "$stamp"
}
