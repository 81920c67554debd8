#!/usr/bin/env bash
# Start PostgreSQL and Redis on this machine when they are installed but stopped (real-mode tests).
# SeaweedFS is started by the test fixture itself. Under CI=true a service that cannot be
# started fails here, loudly; elsewhere the tests report the skip with the reason.
set -uo pipefail
fail() {
  if [ "${CI:-}" = "true" ]; then echo "错误：$1（CI=true 要求真实服务）" >&2; exit 1; fi
  echo "警告：$1（真实模式测试将被跳过）" >&2
}
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
  pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || fail "PostgreSQL 未在 127.0.0.1:5432 运行"
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || true
    for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || fail "Redis 未在 127.0.0.1:6379 运行"
fi
exit 0
