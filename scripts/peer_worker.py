#!/usr/bin/env python3
"""The scoring worker users would otherwise write, for `streamscore bench e2e` to run beside
StreamScore on the same broker and the same events.

A confluent-kafka consumer; each event decoded with orjson and turned into the default
feature spec's row (the demo featurisation, Configs/streamscore.yaml); rows batched by
the same rules as StreamScore (at most --max-rows, or what arrived within --max-wait-ms
of the first); one ONNX Runtime call per batch (one thread); an output record per event
with the same JSON fields and source headers; offsets stored only after the broker
acknowledged the output, committed by the client every second; dead letters for events
that do not decode. Stops after --idle-exit seconds without input.

  scripts/peer_worker.py --bootstrap HOST:PORT --input transactions --output scores \
      --group peer --model Models/bench/fraud-mlp.onnx [--max-rows 256] [--max-wait-ms 2]

Runs in .venv-peer (scripts/requirements-peer.txt), created on first use.
"""
import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

COUNTRIES = ["DE", "FR", "NL", "ES", "IT"]
CHANNELS = ["pos", "ecom"]
WIDTH = 4 + len(COUNTRIES) + 1 + len(CHANNELS) + 1


def featurise(event, row):
    """The default feature spec, as StreamScore computes it; raises on a bad event."""
    row[0] = math.log1p(float(event["amount"]))
    row[1] = math.log1p(float(event["distance_km"]))
    row[2] = float(event["txn_last_hour"])
    row[3] = math.log1p(float(event["card_age_days"]))
    country = event["country"]
    for i, c in enumerate(COUNTRIES):
        row[4 + i] = 1.0 if country == c else 0.0
    row[9] = 0.0 if country in COUNTRIES else 1.0
    channel = event["channel"]
    row[10] = 1.0 if channel == "pos" else 0.0
    row[11] = 1.0 if channel == "ecom" else 0.0
    row[12] = float(int(event["timestamp"]) // 1000 % 86400 // 3600)


def main():
    import pinned_venv
    pinned_venv.ensure(ROOT / ".venv-peer", ROOT / "scripts" / "requirements-peer.txt")
    import numpy as np
    import onnxruntime as ort
    import orjson
    from confluent_kafka import Consumer, KafkaError, Producer

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--dead-letter", default=None)
    p.add_argument("--group", required=True)
    p.add_argument("--model", required=True, help="ONNX model (13 float inputs, probabilities out)")
    p.add_argument("--model-name", default=None, help="name@version written in outputs")
    p.add_argument("--threshold", type=float, default=0.5)
    p.add_argument("--max-rows", type=int, default=256)
    p.add_argument("--max-wait-ms", type=float, default=2.0)
    p.add_argument("--idle-exit", type=float, default=2.0)
    p.add_argument("--fetch-wait-ms", type=int, default=5, help="fetch.wait.max.ms (the bench uses 1, as for every subject)")
    args = p.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    model_name = args.model_name or Path(args.model).stem + "@1"
    dead_letter = args.dead_letter or args.input + ".dlq"

    consumer = Consumer({
        "bootstrap.servers": args.bootstrap, "group.id": args.group, "auto.offset.reset": "earliest",
        "enable.auto.commit": True, "enable.auto.offset.store": False, "auto.commit.interval.ms": 1000,
        "fetch.wait.max.ms": args.fetch_wait_ms,
    })
    producer = Producer({"bootstrap.servers": args.bootstrap, "linger.ms": 1, "enable.idempotence": True})
    failed = []

    def delivered(message):
        def report(err, _):
            if err is not None:
                failed.append(err)
            else:
                consumer.store_offsets(message=message)
        return report

    consumer.subscribe([args.input])
    rows = np.zeros((args.max_rows, WIDTH), dtype=np.float32)
    pending = []  # (message, event or None)
    good_count = 0  # rows filled in `rows`
    first_at = None
    last_input = time.monotonic()
    seen_input = False

    def flush():
        nonlocal pending, first_at, good_count
        scores = None
        if good_count:
            out = session.run(None, {input_name: rows[:good_count]})
            scores = out[-1] if out[-1].ndim == 2 else out[0]
            scores = scores[:, -1] if scores.ndim == 2 else scores
        k = 0
        for message, event in pending:
            ts = message.timestamp()[1]
            headers = [("streamscore.source.topic", message.topic()), ("streamscore.source.partition", str(message.partition())),
                       ("streamscore.source.offset", str(message.offset())), ("streamscore.source.timestamp", str(ts))]
            if event is None:
                value, topic = message.value(), dead_letter
            else:
                score = float(scores[k])
                k += 1
                key = message.key()
                value = orjson.dumps({
                    "id": str(event.get("id")), "key": key.decode() if key is not None else None, "score": score,
                    "decision": "flag" if score >= args.threshold else "pass", "model": model_name, "cached": False})
                topic = args.output
                headers.append(("streamscore.model", model_name))
            while True:
                try:
                    producer.produce(topic, value=value, key=message.key(), headers=headers, on_delivery=delivered(message))
                    break
                except BufferError:
                    producer.poll(0.01)
        producer.poll(0)
        pending = []
        good_count = 0
        first_at = None

    while True:
        timeout = 0.1 if first_at is None else max(0.0, first_at + args.max_wait_ms / 1000 - time.monotonic())
        messages = consumer.consume(num_messages=args.max_rows - len(pending), timeout=timeout)
        now = time.monotonic()
        for message in messages:
            if message.error():
                if message.error().code() != KafkaError._PARTITION_EOF:
                    print(f"peer: consume error: {message.error()}", file=sys.stderr)
                continue
            seen_input = True
            last_input = now
            if first_at is None:
                first_at = now
            try:
                event = orjson.loads(message.value())
                featurise(event, rows[good_count])
                good_count += 1
            except Exception:
                event = None
            pending.append((message, event))
        if pending and (len(pending) >= args.max_rows or now - first_at >= args.max_wait_ms / 1000):
            flush()
        if failed:
            print(f"peer: delivery failed: {failed[0]}", file=sys.stderr)
            sys.exit(1)
        if not pending and seen_input and now - last_input >= args.idle_exit:
            break
    producer.flush(30)
    consumer.commit(asynchronous=False)
    consumer.close()


if __name__ == "__main__":
    main()
