#!/usr/bin/env bash
# Backlog drain with the two back-pressure policies, side by side on one broker:
#   hold  (pipeline.pause_after_ms: 500, the default: a full intake first holds off polling)
#   pause (pipeline.pause_after_ms: 0: pause the partitions as soon as the intake is full)
# Both workers drain the same preloaded topic (separate consumer groups). The figure is the
# worker's own active_seconds (first fetch -> last acknowledgement), so group joins and the
# idle wait are not counted. Usage: scripts/bench_backpressure.sh [events] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-150000}
ROUNDS=${2:-3}
BIN=.build/release/streamscore
[ -x "$BIN" ] || make release >&2
WORK=$(mktemp -d)
trap 'kill $BROKER 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$BIN" broker --partitions 8 --topics bp.in,bp.out,bp.dlq > "$WORK/broker" 2>/dev/null &
BROKER=$!
for _ in $(seq 50); do grep -q BOOTSTRAP= "$WORK/broker" && break; sleep 0.1; done
BOOTSTRAP=$(sed -n 's/^BOOTSTRAP=//p' "$WORK/broker")
"$BIN" produce --bootstrap "$BOOTSTRAP" --topic bp.in --count "$EVENTS" --seed 7 >&2

run() {  # $1 = pause_after_ms, $2 = group
  cat > "$WORK/config.yaml" <<YAML
topics: {input: bp.in, output: bp.out, dead_letter: bp.dlq}
kafka: {group_id: $2}
pipeline: {pause_after_ms: $1}
logging: {level: info}
YAML
  "$BIN" run --config "$WORK/config.yaml" --bootstrap "$BOOTSTRAP" --idle-exit 1 2>&1 \
    | sed -n 's/.*active_seconds=\([0-9.]*\).*consumed=\([0-9]*\).*pauses=\([0-9]*\).*/\1 \2 \3/p'
}

printf '%-6s %-6s %10s %10s %12s %7s\n' round policy events seconds events/s pauses
for round in $(seq "$ROUNDS"); do
  for policy in hold pause; do
    ms=500; [ "$policy" = pause ] && ms=0
    read -r seconds consumed pauses < <(run "$ms" "bp-$policy-$round-$RANDOM")
    rate=$(awk -v n="$consumed" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')
    printf '%-6s %-6s %10s %10s %12s %7s\n' "$round" "$policy" "$consumed" "$seconds" "$rate" "$pauses"
  done
done
