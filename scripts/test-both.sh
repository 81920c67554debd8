#!/usr/bin/env bash
# `make test`'s two passes of the whole suite, embedded and real, side by side: each pass runs its
# tests one after another and keeps about one core busy, and a machine with two cores finishes both
# in little more than the time of the longer one. The embedded pass prints here as it goes; the
# real pass writes to test-artifacts/test-real.log, followed here once the embedded pass ends. The exit code is
# non-zero when either pass fails. On one core (or JIXIAO_TEST_SERIAL=1) they run one after the
# other, both on this terminal.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PYTEST=(-m pytest -q -p no:cacheprovider)

bash scripts/ensure-services.sh || exit 1

if [ "${JIXIAO_TEST_SERIAL:-}" = "1" ] || [ "$(nproc 2>/dev/null || echo 1)" -lt 2 ]; then
  JIXIAO_TEST_MODE=embedded "$PY" "${PYTEST[@]}"; embedded=$?
  JIXIAO_TEST_MODE=real "$PY" "${PYTEST[@]}"; real=$?
else
  mkdir -p test-artifacts
  log=test-artifacts/test-real.log
  JIXIAO_TEST_MODE=real "$PY" "${PYTEST[@]}" >"$log" 2>&1 &
  pid=$!
  trap 'kill "$pid" 2>/dev/null' INT TERM
  echo "== 嵌入模式（embedded）；真实模式（real）同时运行，输出见 $log =="
  JIXIAO_TEST_MODE=embedded "$PY" "${PYTEST[@]}"; embedded=$?
  echo "== 真实模式（real）=="
  tail -n +1 -f --pid="$pid" "$log"  # what it wrote so far, then as it goes, until it ends
  wait "$pid"; real=$?
fi
echo "== embedded: exit $embedded · real: exit $real =="
[ "$embedded" -eq 0 ] && [ "$real" -eq 0 ]
