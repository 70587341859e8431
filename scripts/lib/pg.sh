# scripts/lib/pg.sh - a private PostgreSQL 15 cluster for run-it, under
# $RUNIT_DATA_DIR/pg, listening on 127.0.0.1:$RUNIT_PG_PORT only. Sourced by
# scripts/start, scripts/test and the tests; not run directly.
#
#   pg_ensure   install postgresql-15 if missing, initdb once, start if not
#               running, create role and database `runit`, export
#               RUNIT_DATABASE_URL (unless already set). Idempotent and fast
#               when everything is already there.
#   pg_start    start the existing cluster (no-op if running)
#   pg_stop     stop it (fast shutdown; no-op if not running)
#   pg_restart  stop then start (used by the tests that restart the database)
#   pg_url      print the URL of the runit database
#
# The server runs as root, PostgreSQL refuses to: the cluster belongs to the
# `postgres` system user and every server-side command runs through
# `runuser -u postgres --`. Local (unix socket) connections use peer auth, so
# only the postgres system user (and root through runuser) is superuser; TCP
# on 127.0.0.1 needs the password generated into $RUNIT_DATA_DIR/pg-password.
# Settings that may change between starts (port, addresses, socket dir) live in
# $RUNIT_DATA_DIR/pg/runit.conf, rewritten by every pg_start.

PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}

_pg_say() { printf '%s\n' "run-it: postgres: $*"; }
_pg_err() { printf '%s\n' "run-it: postgres: error: $*" >&2; }

# _pg_vars: derive every path from RUNIT_DATA_DIR and RUNIT_PG_PORT.
_pg_vars() {
	if [ -z "${RUNIT_DATA_DIR:-}" ]; then
		RUNIT_DATA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/var"
	fi
	case "$RUNIT_DATA_DIR" in /*) ;; *) RUNIT_DATA_DIR=$PWD/$RUNIT_DATA_DIR ;; esac
	export RUNIT_DATA_DIR
	: "${RUNIT_PG_PORT:=5433}"
	export RUNIT_PG_PORT
	PG_DATA=$RUNIT_DATA_DIR/pg
	PG_SOCKDIR=$RUNIT_DATA_DIR/pg/sock
	# a unix socket path has at most 107 bytes: a deep data dir gets a short one
	if [ $((${#PG_SOCKDIR} + 17)) -gt 107 ]; then
		PG_SOCKDIR=/tmp/runit-pg-$(printf '%s' "$PG_DATA" | md5sum | cut -c1-12)
	fi
	PG_PWFILE=$RUNIT_DATA_DIR/pg-password
	PG_LOGFILE=$RUNIT_DATA_DIR/log/postgres.log
}

_pg_as() { runuser -u postgres -- "$@"; }

PG_MALLOC_TUNABLES=glibc.malloc.trim_threshold=16777216:glibc.malloc.top_pad=4194304:glibc.malloc.mmap_threshold=16777216

# _pg_psql SQL...: run SQL as the superuser over the unix socket (peer auth).
_pg_psql() {
	_pg_as "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKDIR" -p "$RUNIT_PG_PORT" \
		-U postgres -d postgres "$@"
}

_pg_apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
		>>"$RUNIT_DATA_DIR/log/apt.log" 2>&1
}

# _pg_install: postgresql-15 from Debian when its binaries are missing.
_pg_install() {
	[ -x "$PG_BINDIR/initdb" ] && id postgres >/dev/null 2>&1 && return 0
	[ "$(id -u)" -eq 0 ] || { _pg_err "postgresql-15 is missing; run as root to install it"; return 1; }
	_pg_say "installing postgresql-15 (apt-get)"
	mkdir -p "$RUNIT_DATA_DIR/log"
	# try without an update first (fast when the lists are fresh)
	if ! _pg_apt_install; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$RUNIT_DATA_DIR/log/apt.log" 2>&1
		if ! _pg_apt_install; then
			_pg_err "apt-get install postgresql-15 failed (see $RUNIT_DATA_DIR/log/apt.log)"
			return 1
		fi
	fi
	[ -x "$PG_BINDIR/initdb" ] || { _pg_err "$PG_BINDIR/initdb still missing after install"; return 1; }
}

# _pg_traversable: the postgres user must be able to reach $PG_DATA. Add the
# search bit (o+x, not read) to any ancestor that lacks it, and say so.
_pg_traversable() {
	local d=$RUNIT_DATA_DIR
	while [ "$d" != "/" ] && [ -n "$d" ]; do
		if ! _pg_as test -x "$d"; then
			_pg_say "adding search permission (o+x) to $d so the postgres user can reach its data"
			chmod o+x "$d" || return 1
		fi
		d=$(dirname "$d")
	done
}

# _pg_password: read the generated password, creating it (mode 0600) once.
_pg_password() {
	if [ ! -s "$PG_PWFILE" ]; then
		(umask 077 && head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | cut -c1-32 >"$PG_PWFILE") ||
			{ _pg_err "cannot write $PG_PWFILE"; return 1; }
	fi
	chmod 0600 "$PG_PWFILE"
	PG_PASSWORD=$(cat "$PG_PWFILE")
	[ -n "$PG_PASSWORD" ] || { _pg_err "$PG_PWFILE is empty"; return 1; }
}

# _pg_initdb: create the cluster once.
_pg_initdb() {
	[ -f "$PG_DATA/PG_VERSION" ] && return 0
	_pg_say "creating a cluster in $PG_DATA"
	mkdir -p "$PG_DATA" || return 1
	chown postgres:postgres "$PG_DATA" && chmod 0700 "$PG_DATA" || return 1
	_pg_as "$PG_BINDIR/initdb" -D "$PG_DATA" -U postgres --encoding=UTF8 --no-locale \
		--auth-local=peer --auth-host=scram-sha-256 >"$RUNIT_DATA_DIR/log/initdb.log" 2>&1 ||
		{ _pg_err "initdb failed (see $RUNIT_DATA_DIR/log/initdb.log)"; return 1; }
	printf '\n# run-it: per-start settings (port, addresses), written by scripts/lib/pg.sh\ninclude_if_exists = '"'"'runit.conf'"'"'\n' |
		_pg_as tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

_pg_running() {
	[ -f "$PG_DATA/PG_VERSION" ] && _pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

# pg_start: start the cluster if it is not running. The port and addresses are
# written fresh each time so a changed RUNIT_PG_PORT takes effect.
pg_start() {
	_pg_vars
	[ -f "$PG_DATA/PG_VERSION" ] || { _pg_err "no cluster in $PG_DATA (run pg_ensure)"; return 1; }
	if _pg_running; then
		return 0
	fi
	mkdir -p "$RUNIT_DATA_DIR/log" "$PG_SOCKDIR" || return 1
	chown postgres:postgres "$PG_SOCKDIR" && chmod 0700 "$PG_SOCKDIR" || return 1
	touch "$PG_LOGFILE" && chown postgres:postgres "$PG_LOGFILE" && chmod 0640 "$PG_LOGFILE" || return 1
	printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\n" \
		"$RUNIT_PG_PORT" "$PG_SOCKDIR" | _pg_as tee "$PG_DATA/runit.conf" >/dev/null || return 1
	_pg_say "starting on 127.0.0.1:$RUNIT_PG_PORT (log: $PG_LOGFILE)"
	# glibc gives the top of a backend's heap back to the kernel whenever
	# more than 128 KB of it is free, so each transaction that allocates a
	# few hundred KB (a 10 KB file/save does) ended in a brk shrink and a
	# TLB flush on every CPU: 10 % of a saving backend's time in perf. A
	# backend keeps up to 16 MB free instead (docs/decisions.md, "Saves").
	if ! GLIBC_TUNABLES=${GLIBC_TUNABLES:-$PG_MALLOC_TUNABLES} \
		_pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -l "$PG_LOGFILE" -w -t 60 start >/dev/null 2>&1; then
		_pg_err "could not start (is port $RUNIT_PG_PORT in use?); last lines of $PG_LOGFILE:"
		tail -n 5 "$PG_LOGFILE" >&2
		return 1
	fi
}

# pg_stop: fast shutdown (open sessions are ended, nothing is lost).
pg_stop() {
	_pg_vars
	_pg_running || return 0
	_pg_say "stopping"
	_pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null ||
		{ _pg_err "pg_ctl stop failed"; return 1; }
}

pg_restart() {
	pg_stop && pg_start
}

# pg_url: the URL the server uses (password from $RUNIT_DATA_DIR/pg-password).
pg_url() {
	_pg_vars
	_pg_password || return 1
	printf 'postgresql://runit:%s@127.0.0.1:%s/runit\n' "$PG_PASSWORD" "$RUNIT_PG_PORT"
}

# _pg_roles: role runit (password login, may create databases for the tests'
# scratch databases) and database runit, created when missing; the role's
# password is set every time so it always matches pg-password.
_pg_roles() {
	_pg_psql -v pw="$PG_PASSWORD" <<-'SQL' || { _pg_err "could not create role/database runit"; return 1; }
		SELECT 'CREATE ROLE runit LOGIN CREATEDB'
		 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'runit') \gexec
		SELECT format('ALTER ROLE runit PASSWORD %L', :'pw') \gexec
		SELECT 'CREATE DATABASE runit OWNER runit ENCODING ''UTF8'' TEMPLATE template0'
		 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'runit') \gexec
	SQL
}

# pg_ensure: everything above, in order; fast when already done.
pg_ensure() {
	_pg_vars
	mkdir -p "$RUNIT_DATA_DIR/log" || return 1
	_pg_install || return 1
	_pg_password || return 1
	if ! _pg_running; then
		_pg_traversable || return 1
		_pg_initdb || return 1
		pg_start || return 1
	fi
	_pg_roles || return 1
	if [ -z "${RUNIT_DATABASE_URL:-}" ]; then
		RUNIT_DATABASE_URL=$(pg_url) || return 1
		export RUNIT_DATABASE_URL
	fi
	_pg_say "ready on 127.0.0.1:$RUNIT_PG_PORT (database runit)"
}
