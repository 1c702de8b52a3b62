#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL server: initdb in a temporary directory,
# listening on 127.0.0.1 on a free port, stopped and removed afterwards, whatever the command
# did. The command sees MEDIA_JANITOR_TEST_POSTGRES=postgres://janitor@127.0.0.1:PORT/postgres.
# Installs Debian's postgresql package when it is missing. As root, the server runs as the
# 'postgres' user (PostgreSQL refuses to run as root).
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "installing: postgresql" >&2
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

as_owner=()
if [ "$(id -u)" -eq 0 ]; then as_owner=(runuser -u postgres --); fi

dir=$(mktemp -d -t media-janitor-pg.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

stop() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U janitor --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; echo "error: initdb failed; the PostgreSQL tests cannot run" >&2; exit 1; }
# Sized for tests: many short-lived databases, several processes at once. Tests do not need
# durability, so commits do not wait for the disk, unless MEDIA_JANITOR_PG_DURABLE=1 (the
# benchmarks set it: a production server flushes every commit).
options="-h 127.0.0.1 -p $port -k $dir -c max_connections=300 -c shared_buffers=256MB"
if [ "${MEDIA_JANITOR_PG_DURABLE:-0}" != 1 ]; then
  options+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o "$options" >/dev/null \
  || { cat "$dir/server.log" >&2; echo "error: PostgreSQL did not start on 127.0.0.1:$port; the PostgreSQL tests cannot run" >&2; exit 1; }

export MEDIA_JANITOR_TEST_POSTGRES="postgres://janitor@127.0.0.1:$port/postgres"
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port for this run" >&2
"$@"
