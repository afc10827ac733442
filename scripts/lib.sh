# shellcheck shell=bash
#
# lib.sh: what scripts/run, scripts/test, scripts/pg-local and the benchmark
# scripts share: the one list of Debian packages the project needs,
# installing the missing ones, finding PostgreSQL's programs, running them
# as the right user, and reading pgbench's latency logs.
#
# Sourced, never run. Not for: anything project-specific beyond that (the
# scripts themselves say what they do with it).

# ---- the packages (Debian 12 names); the only place they are listed ----
#
# To build and run: compiler, meson/ninja, the three libraries, python3 (the
# build embeds sql/ with scripts/embed_sql.py) and the PostgreSQL server and
# client (the `postgresql` metapackage pulls postgresql-15 and its client).
# tzdata: baobaod computes "today" in Asia/Shanghai from the zone files.
# libcmocka-dev is here too, not only with the test packages, because
# tests/meson.build asks for cmocka at configure time in every build.
# shellcheck disable=SC2034  # used by the scripts that source this file
BB_PACKAGES_RUN=(
    build-essential meson ninja-build pkg-config python3
    libuv1-dev libmsgpack-dev libpq-dev libsodium-dev libssl-dev openssl libxlsxwriter-dev
    postgresql postgresql-contrib tzdata
    gettext       # msgfmt, xgettext: the CLI's translations (po/, meson's i18n module)
    libcmocka-dev
    libedit-dev   # the CLI's guided entry: line editing and history (libedit)
    libsqlite3-dev # the CLI's outbox of writes kept offline (client/journal.c)
    libhttp-parser-dev # baobaod's /live /ready /metrics listener (server/engine/health.c)
)
# Only for scripts/test.
# shellcheck disable=SC2034
BB_PACKAGES_TEST=(
    libcmocka-dev python3 python3-openpyxl
    pgbouncer     # issue 14: the pooler tests and the topology (transaction and session mode)
    haproxy       # issue 14: the topology's balancer, sending the PROXY protocol
    systemd       # issue 14: systemd-analyze verify of the installed unit
    man-db        # `man`: systemd-analyze verify --man=yes looks the unit's man page up
    groff-base    # groff: the man pages checked with groff -ww (man-db pulls it too)
)

bb_say() { printf '%s: %s\n' "${BB_PROG:-baobao}" "$*" >&2; }
bb_die() { bb_say "error: $*"; exit 1; }

bb_is_root() { [ "$(id -u)" -eq 0 ]; }

# Prints the packages of "$@" that dpkg does not have installed.
bb_missing_packages() {
    local p st
    for p in "$@"; do
        st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        [ "$st" = installed ] || printf '%s\n' "$p"
    done
}

# Installs the packages of "$@" that are missing: apt-get update first (once,
# and only when something is missing), then apt-get install. Uses sudo when
# not root. Does nothing at all when everything is there.
bb_ensure_packages() {
    local missing sudo=()
    command -v dpkg-query >/dev/null 2>&1 ||
        bb_die "dpkg-query not found: these scripts expect Debian 12 (install by hand: $*)"
    mapfile -t missing < <(bb_missing_packages "$@" | sort -u)
    [ "${#missing[@]}" -eq 0 ] && return 0
    bb_say "installing missing Debian packages: ${missing[*]}"
    if ! bb_is_root; then
        command -v sudo >/dev/null 2>&1 ||
            bb_die "not root and no sudo: as root, run: apt-get update && apt-get install -y ${missing[*]}"
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
        bb_die "apt-get update failed"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        bb_die "apt-get install failed (${missing[*]})"
}

# Prints the folder holding initdb/pg_ctl/postgres: pg_config --bindir when
# it has them, else the highest /usr/lib/postgresql/N/bin.
bb_pg_bindir() {
    local d best="" v bestv=-1
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            printf '%s\n' "$d"
            return 0
        fi
    fi
    for d in /usr/lib/postgresql/*/bin; do
        if [ ! -x "$d/initdb" ] || [ ! -x "$d/pg_ctl" ]; then continue; fi
        v=${d#/usr/lib/postgresql/}
        v=${v%%/*}
        v=${v%%.*}
        case $v in (*[!0-9]*|'') continue ;; esac
        if [ "$v" -gt "$bestv" ]; then bestv=$v; best=$d; fi
    done
    [ -n "$best" ] || return 1
    printf '%s\n' "$best"
}

# Prints the psql to use (the server's own, else the one on PATH).
bb_psql() {
    local d
    d=$(bb_pg_bindir 2>/dev/null || true)
    if [ -n "$d" ] && [ -x "$d/psql" ]; then printf '%s\n' "$d/psql"; return 0; fi
    command -v psql || return 1
}

# The user PostgreSQL's programs run as: PostgreSQL refuses to run as root,
# so as root it is `postgres` (created by Debian's postgresql package).
BB_PG_OS_USER=postgres

# Runs "$@" as the PostgreSQL OS user when root, else as ourselves.
bb_as_pg() {
    if bb_is_root; then
        id "$BB_PG_OS_USER" >/dev/null 2>&1 ||
            bb_die "running as root, but there is no '$BB_PG_OS_USER' user to run PostgreSQL as (install the postgresql package)"
        # From /: the caller's folder may be one the user cannot enter.
        (cd / && runuser -u "$BB_PG_OS_USER" -- "$@")
    else
        "$@"
    fi
}

# Is a database configured: BAOBAO_DB, or a libpq variable that picks a
# server or database (PGUSER or PGPORT alone do not: they only refine the
# default, and the embedded cluster passes its own values explicitly)?
bb_db_configured() {
    local v
    [ -n "${BAOBAO_DB:-}" ] && return 0
    for v in PGHOST PGHOSTADDR PGDATABASE PGSERVICE; do
        [ -n "${!v:-}" ] && return 0
    done
    return 1
}

# bb_pgbench_quantiles LOG...: "p50 p99 p999" in ms (3 decimals) of the
# transactions in pgbench's per-transaction logs (-l; column 3 is the
# latency in microseconds), exact (every sample sorted), "- - -" when there
# are none. For scripts/bench and scripts/bench-ab.
bb_pgbench_quantiles() {
    cat "$@" | awk '{ print $3 }' | sort -n |
        awk '{ v[NR] = $1 }
             function q(p,  i) { i = int(p * NR); if (i < p * NR) i++; if (i < 1) i = 1; return v[i] / 1000 }
             END { if (NR == 0) print "- - -"; else printf "%.3f %.3f %.3f\n", q(0.5), q(0.99), q(0.999) }'
}
