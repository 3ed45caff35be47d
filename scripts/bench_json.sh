#!/usr/bin/env bash
# StreamScore's event decoder beside simdjson (Debian's libsimdjson-dev) and Foundation,
# on the same reference transactions, in one run; then which valid JSON each one accepts.
#
#   scripts/bench_json.sh [EVENTS]        (default 100000)
#
# Needs a release build (make release); installs libsimdjson-dev and g++ when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-100000}
BIN=.build/release/streamscore
WORK=.build/bench-json
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
for p in libsimdjson-dev g++; do
  dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q "install ok installed" || { $SUDO apt-get update -qq; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $p; }
done
[ -x "$BIN" ] || make release
mkdir -p "$WORK"
g++ -O3 -march=haswell -std=c++17 scripts/simdjson_harness.cpp -lsimdjson -o "$WORK/simdjson_harness"
"$BIN" bench features --events "$EVENTS" --write-events "$WORK/events.jsonl"

echo "== throughput: $EVENTS reference transactions, the default feature spec (13 inputs), one thread"
ours=$("$BIN" bench features --input "$WORK/events.jsonl" --json)
dom=$("$WORK/simdjson_harness" "$WORK/events.jsonl" dom)
ondemand=$("$WORK/simdjson_harness" "$WORK/events.jsonl" ondemand)
python3 - "$ours" "$dom" "$ondemand" <<'PY'
import json, sys
rows = json.loads(sys.argv[1]) + [json.loads(sys.argv[2]), json.loads(sys.argv[3])]
base = rows[0]["events_per_s"]
print(f"{'decoder':36} {'events/s':>10} {'ns/event':>9} {'vs streamscore':>15}  checksum")
for r in rows:
    rate = r["events_per_s"]
    print(f"{r['decoder']:36} {rate:10.0f} {1e9 / rate:9.1f} {base / rate:14.2f}x  {r.get('checksum', '')}")
PY

echo "== valid JSON that each accepts (streamscore: a row or a typed reason; simdjson: parsed or its error)"
cat > "$WORK/probe.jsonl" <<'JSON'
{"id":"big-integer","amount":123456789012345678901234567890,"distance_km":1,"txn_last_hour":1,"card_age_days":1,"country":"DE","channel":"pos","timestamp":0}
{"id":"exponent-overflow","amount":1e999,"distance_km":1,"txn_last_hour":1,"card_age_days":1,"country":"DE","channel":"pos","timestamp":0}
{"id":"lone-surrogate","amount":1,"distance_km":1,"txn_last_hour":1,"card_age_days":1,"country":"\ud83d","channel":"pos","timestamp":0}
{"id":"duplicate-key","amount":1,"amount":2,"distance_km":1,"txn_last_hour":1,"card_age_days":1,"country":"DE","channel":"pos","timestamp":0}
JSON
"$WORK/simdjson_harness" "$WORK/probe.jsonl" probe
"$BIN" bench features --input "$WORK/probe.jsonl" --explain
