#!/usr/bin/env bash
# Backlog drain with the score cache off, on with the in-process tier alone, and on with
# Redis behind it, at 0%, 50% and 90% repeated keys, on one broker and one redis-server,
# in one run.
# Each worker drains the same preloaded topic in its own consumer group; the figure is the
# worker's own active_seconds (first fetch -> last acknowledgement), and the Redis traffic
# is its own count of reads (MGET) and writes (pipelined SET) per batch.
#   scripts/bench_cache.sh [events] [model]      (defaults: 100000, Models/fraud-xgb.json)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-100000}
MODEL=${2:-Models/fraud-xgb.json}
BIN=.build/release/streamscore
[ -x "$BIN" ] || make release >&2
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap 'kill $BROKER $REDIS 2>/dev/null || true; rm -rf "$WORK"' EXIT

redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no > /dev/null &
REDIS=$!
"$BIN" broker --partitions 8 --topics c0.in,c50.in,c90.in,c.out,c.dlq > "$WORK/broker" 2>/dev/null &
BROKER=$!
for _ in $(seq 50); do grep -q BOOTSTRAP= "$WORK/broker" && break; sleep 0.1; done
BOOTSTRAP=$(sed -n 's/^BOOTSTRAP=//p' "$WORK/broker")
for r in 0 50 90; do
  "$BIN" produce --bootstrap "$BOOTSTRAP" --topic "c$r.in" --count "$EVENTS" --seed 7 --repeat-ratio "0.$r" >&2
done

run() {  # $1 = topic, $2 = cache mode, $3 = group, $4 = redis url ("" for the local tier alone)
  cat > "$WORK/config.yaml" <<YAML
topics: {input: $1, output: c.out, dead_letter: c.dlq}
kafka: {group_id: $3}
model: {path: $MODEL}
cache: {mode: $2, redis_url: "$4"}
logging: {level: info}
YAML
  "$BIN" run --config "$WORK/config.yaml" --bootstrap "$BOOTSTRAP" --idle-exit 1 2>&1 | grep '"stopped"\|stopped' | tail -1 \
    | sed -n 's/.*active_seconds=\([0-9.]*\).*batches=\([0-9]*\).*cache_errors=\([0-9]*\).*cache_hits=\([0-9]*\).*consumed=\([0-9]*\).*redis_reads=\([0-9]*\).*redis_writes=\([0-9]*\).*/\1 \2 \3 \4 \5 \6 \7/p'
}

printf '%-8s %-7s %9s %9s %11s %9s %8s %8s %13s %14s\n' repeats cache events seconds events/s hits errors batches reads/batch writes/batch
for r in 0 50 90; do
 for setting in off local redis; do
    mode=read_write; url="redis://127.0.0.1:$PORT"
    [ "$setting" = off ] && mode=bypass
    [ "$setting" = local ] && url=""
    read -r seconds batches errors hits consumed reads writes < <(run "c$r.in" "$mode" "g-$r-$setting-$RANDOM" "$url")
    awk -v r="$r%" -v m="$setting" -v n="$consumed" -v s="$seconds" -v h="$hits" -v e="$errors" -v b="$batches" -v rd="$reads" -v w="$writes" \
      'BEGIN { printf "%-8s %-7s %9d %9.2f %11.0f %9d %8d %8d %13.2f %14.2f\n", r, m, n, s, n / s, h, e, b, rd / b, w / b }'
  done
done
