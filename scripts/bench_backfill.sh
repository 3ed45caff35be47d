#!/usr/bin/env bash
# A backfill is a drain: `streamscore backfill --from beginning --to end` beside
# `streamscore run` on the same preloaded backlog, same model and settings, round by round
# (alternating which goes first), then `backfill --max-rate R` for each rate given.
# The figure is each process's own active_seconds (first fetch -> last acknowledgement, from
# its "stopped" log line), so start-up, group joins and the idle wait are not counted.
# Usage: scripts/bench_backfill.sh [events] [rounds] [max-rates, comma-separated]
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-150000}  # the mock broker keeps ~5 MiB per partition: 8 partitions hold ~170k events
ROUNDS=${2:-3}
RATES=${3:-20000,50000}
BIN=.build/release/streamscore
[ -x "$BIN" ] || make release >&2
WORK=$(mktemp -d)
trap 'kill $BROKER 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$BIN" broker --partitions 8 --topics bf.in,bf.run,bf.backfill,bf.dlq > "$WORK/broker" 2>/dev/null &
BROKER=$!
for _ in $(seq 50); do grep -q BOOTSTRAP= "$WORK/broker" && break; sleep 0.1; done
BOOTSTRAP=$(sed -n 's/^BOOTSTRAP=//p' "$WORK/broker")
"$BIN" produce --bootstrap "$BOOTSTRAP" --topic bf.in --count "$EVENTS" --seed 7 >&2
cat > "$WORK/config.yaml" <<YAML
topics: {input: bf.in, output: bf.run, dead_letter: bf.dlq}
logging: {level: info}
YAML

stopped() {  # the "stopped" line's active seconds and records consumed
  sed -n 's/.*active_seconds=\([0-9.]*\).*consumed=\([0-9]*\).*/\1 \2/p'
}
drain() {  # $1 = run | backfill, $2 = tag; further arguments go to backfill
  local subject=$1 tag=$2; shift 2
  if [ "$subject" = run ]; then
    STREAMSCORE_KAFKA_GROUP_ID="bf-run-$tag" "$BIN" run --config "$WORK/config.yaml" --bootstrap "$BOOTSTRAP" --idle-exit 1 2>&1 | stopped
  else
    "$BIN" backfill --config "$WORK/config.yaml" --bootstrap "$BOOTSTRAP" --from beginning --to end \
      --output-topic bf.backfill --checkpoint "$WORK/checkpoint.$tag.json" "$@" 2>&1 >/dev/null | stopped
  fi
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

echo "drain of $EVENTS events, $ROUNDS rounds"
printf '%-6s %-9s %10s %10s %10s %10s\n' round subject events seconds events/s ratio
for round in $(seq "$ROUNDS"); do
  order="run backfill"; [ $((round % 2)) = 0 ] && order="backfill run"
  declare -A r=()
  for subject in $order; do
    read -r seconds consumed < <(drain "$subject" "$round-$RANDOM")
    r[$subject]=$(rate "$consumed" "$seconds")
    printf '%-6s %-9s %10s %10s %10s\n' "$round" "$subject" "$consumed" "$seconds" "${r[$subject]}"
  done
  printf '%-6s %-9s %43s\n' "$round" "" "backfill/run $(awk -v a="${r[backfill]}" -v b="${r[run]}" 'BEGIN { printf "%.2f", a / b }')"
done

echo
echo "backfill --max-rate"
printf '%-10s %10s %10s %10s %10s\n' max-rate events seconds events/s observed/R
for R in ${RATES//,/ }; do
  read -r seconds consumed < <(drain backfill "rate-$R-$RANDOM" --max-rate "$R")
  observed=$(rate "$consumed" "$seconds")
  printf '%-10s %10s %10s %10s %10s\n' "$R" "$consumed" "$seconds" "$observed" "$(awk -v a="$observed" -v b="$R" 'BEGIN { printf "%.3f", a / b }')"
done
