#!/usr/bin/env python3
"""The fault suite (`make faults`): the real `streamscore` binary against the mock cluster
(`streamscore broker --control`, faults injected through librdkafka's mock API) and a real
`redis-server`, one short scenario per fault. After each, every input offset is accounted
for through the `streamscore.source.partition/offset` headers of the outputs and dead
letters. Prints a table (fault, inputs, lost, duplicated, restarts, time to recover) and
exits 1 on any loss, any crash (a worker killed by a signal it was not sent) or a missed
deadline.

  scripts/faults.py [--binary .build/release/streamscore] [--only sigkill,poison] [--json F]
  scripts/faults.py --restart-bench [--kafka mock|noida]   # restart-to-first-output, with and
                                                           # without static membership

Runs in .venv-peer (scripts/requirements-peer.txt: confluent-kafka reads the topics).
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

IN, OUT, DLQ = "transactions", "scores", "transactions.dlq"
PARTITIONS = 8


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class Broker:
    """`streamscore broker --control`: the mock cluster, with faults fed on stdin."""

    def __init__(self, binary, partitions=PARTITIONS):
        self.proc = subprocess.Popen(
            [binary, "broker", "--control", "--partitions", str(partitions), "--topics", f"{IN},{OUT},{DLQ}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("BOOTSTRAP="):
            raise RuntimeError(f"broker did not start: {line!r}")
        self.bootstrap = line.split("=", 1)[1]

    def inject(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if answer != f"CONTROL ok {command}":
            raise RuntimeError(f"broker refused {command!r}: {answer!r}")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


class NoidaBroker:
    """noida-db (PyPI): a real Kafka-protocol broker process, in a temporary data dir."""

    def __init__(self, partitions=PARTITIONS):
        noida = Path(sys.prefix) / "bin" / "noida-db"
        if not noida.exists():
            subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "noida-db"])
        port = free_port()
        self.data = tempfile.mkdtemp(prefix="faults-noida-")
        self.proc = subprocess.Popen(
            [str(noida), "start", "--only", "kafka", "--kafka-port", str(port), "--data-dir", self.data],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.bootstrap = f"127.0.0.1:{port}"
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": self.bootstrap, "receive.message.max.bytes": 100_000_000})
        deadline = time.monotonic() + 30
        while True:
            try:
                for f in admin.create_topics([NewTopic(t, partitions, 1) for t in (IN, OUT, DLQ)]).values():
                    f.result(10)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.data, ignore_errors=True)


class Worker:
    """One `streamscore run` process."""

    def __init__(self, binary, bootstrap, config, group, extra=(), name="worker"):
        self.log = tempfile.NamedTemporaryFile(prefix=f"faults-{name}-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [binary, "run", "--config", config, "--bootstrap", bootstrap, "--group", group, "--metrics", "127.0.0.1:0", *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.started = time.monotonic()

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def text(self):
        return Path(self.log.name).read_text(errors="replace")


def write_config(directory, **overrides):
    """A worker configuration for the scenarios (short session timeouts, quick commits)."""
    sections = {
        "kafka": {"consumer": {"session.timeout.ms": "6000", "heartbeat.interval.ms": "500"}},
        "topics": {"input": IN, "output": OUT, "dead_letter": DLQ},
        "model": {"path": str(ROOT / "Models/fraud-xgb.json")},
        "commit": {"interval_ms": 200},
        "shutdown": {"timeout_ms": 10000},
    }
    for key, value in overrides.items():
        section, name = key.split("__", 1)
        sections.setdefault(section, {})[name] = value
    path = Path(directory) / f"config-{random.randrange(1 << 30)}.yaml"
    path.write_text(json.dumps(sections))  # JSON is YAML
    return str(path)


def produce(binary, bootstrap, count, seed=1, malformed=0.01, topic=IN, rate=None):
    args = [binary, "produce", "--bootstrap", bootstrap, "--topic", topic, "--count", str(count),
            "--seed", str(seed), "--malformed-ratio", str(malformed)]
    if rate:
        args += ["--rate", str(rate)]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Topics:
    """Reads whole topics with confluent-kafka, as an independent witness."""

    def __init__(self, bootstrap, partitions=PARTITIONS):
        from confluent_kafka import Consumer
        self.bootstrap = bootstrap
        self.partitions = partitions
        self.Consumer = Consumer

    def consumer(self):
        return self.Consumer({
            "bootstrap.servers": self.bootstrap, "group.id": f"faults-reader-{random.randrange(1 << 30)}",
            "enable.auto.commit": False, "log_level": 3, "receive.message.max.bytes": 100_000_000,
        })

    def ends(self, topic):
        from confluent_kafka import TopicPartition
        c = self.consumer()
        try:
            return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in range(self.partitions)}
        finally:
            c.close()

    def total(self, topic):
        return sum(high for _, high in self.ends(topic).values())

    def sources(self, topic):
        """source (partition, offset) → how many records of `topic` name it."""
        from confluent_kafka import TopicPartition, OFFSET_BEGINNING
        ends = self.ends(topic)
        remaining = sum(high - low for low, high in ends.values())
        c = self.consumer()
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        seen = {}
        deadline = time.monotonic() + 120
        try:
            while remaining > 0 and time.monotonic() < deadline:
                for m in c.consume(num_messages=5000, timeout=0.5):
                    if m.error():
                        continue
                    remaining -= 1
                    headers = dict(m.headers() or [])  # the first of each name: this stage's
                    key = (int(headers["streamscore.source.partition"]), int(headers["streamscore.source.offset"]))
                    seen[key] = seen.get(key, 0) + 1
        finally:
            c.close()
        return seen

    def account(self):
        """(inputs, lost, duplicated) over the input topic's whole range."""
        inputs = {(p, o) for p, (low, high) in self.ends(IN).items() for o in range(low, high)}
        seen = self.sources(OUT)
        for key, n in self.sources(DLQ).items():
            seen[key] = seen.get(key, 0) + n
        lost = len(inputs - seen.keys())
        duplicated = sum(n - 1 for key, n in seen.items() if key in inputs)
        return len(inputs), lost, duplicated


def feed(binary, bootstrap, rate=2000, seed=1):
    """A live stream into the input topic until killed (the input's final range is what
    `Topics.account` reads)."""
    return subprocess.Popen(
        [binary, "produce", "--bootstrap", bootstrap, "--topic", IN, "--count", "10000000",
         "--rate", str(rate), "--malformed-ratio", "0.01", "--seed", str(seed)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_feeding(feeder):
    feeder.kill()
    feeder.wait()


def wait_for_growth(topics, topic, before, timeout=60):
    """Seconds until `topic` holds more than `before` records (None after `timeout`)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if topics.total(topic) > before:
            return time.monotonic() - start
        time.sleep(0.05)
    return None


def drain(binary, broker, config, group, extra=(), idle=3, timeout=300):
    """Runs a worker until it has been idle `idle` seconds; returns its exit status."""
    w = Worker(binary, broker.bootstrap, config, group, extra=(*extra, "--idle-exit", str(idle)), name="drain")
    status = w.wait(timeout)
    if status != 0:
        log(w.text()[-3000:])
    return status


def settle(ctx, broker, topics, config, group, worker, feeder=None):
    """Ends a scenario: stops the stream, stops the worker with SIGTERM, drains what is left
    with a fresh worker, and accounts. Returns (alive, exit, drain exit, inputs, lost, dup)."""
    if feeder:
        stop_feeding(feeder)
    alive = worker.proc.poll() is None
    worker.kill(signal.SIGTERM)
    status = worker.wait(30)
    drained = drain(ctx.binary, broker, config, group)
    return (alive, status, drained, *topics.account())


def result(fault, inputs, lost, duplicated, restarts, recover, ok, note=""):
    return {"fault": fault, "inputs": inputs, "lost": lost, "duplicated": duplicated, "restarts": restarts,
            "recover_s": recover, "ok": ok and lost == 0, "note": note}


# --- Scenarios -------------------------------------------------------------------------------

def sigkill_loop(ctx, kills=12):
    """SIGKILL at random moments of a live stream (2,000 events/s), restart each time."""
    broker = Broker(ctx.binary)
    # A slow stream: each restart waits ~11 s for the mock cluster's rebalance, and a backlog
    # written a record at a time drains slowly there (one producer batch per fetch).
    feeder = feed(ctx.binary, broker.bootstrap, rate=300, seed=7)
    try:
        topics = Topics(broker.bootstrap)
        config = write_config(ctx.tmp)
        recoveries = []
        rng = random.Random(11)
        for k in range(kills):
            before = topics.total(OUT)
            w = Worker(ctx.binary, broker.bootstrap, config, "g-kill", extra=("--instance", "w0"), name=f"kill{k}")
            if wait_for_growth(topics, OUT, before, timeout=60) is not None:
                recoveries.append(time.monotonic() - w.started)
            time.sleep(rng.uniform(0.1, 1.5))
            w.kill()
            w.wait(10)
        stop_feeding(feeder)
        status = drain(ctx.binary, broker, config, "g-kill", extra=("--instance", "w0"))
        inputs, lost, dup = topics.account()
        recover = max(recoveries) if recoveries else None
        return result(f"SIGKILL x{kills} in a live stream, restart", inputs, lost, dup, kills, recover,
                      status == 0 and len(recoveries) == kills, "recover: the slowest restart to first output")
    finally:
        feeder.kill()
        broker.stop()


def brokers_down(ctx):
    """Every broker down for 10 s under a live stream: librdkafka retries, the worker stays up."""
    broker = Broker(ctx.binary)
    feeder = feed(ctx.binary, broker.bootstrap, seed=8)
    try:
        topics = Topics(broker.bootstrap)
        config = write_config(ctx.tmp)
        w = Worker(ctx.binary, broker.bootstrap, config, "g-down", name="down")
        wait_for_growth(topics, OUT, 0)
        time.sleep(2)
        broker.inject("down")
        time.sleep(10)
        broker.inject("up")
        before = topics.total(OUT)
        recover = wait_for_growth(topics, OUT, before, timeout=60)
        time.sleep(2)
        alive, status, status2, inputs, lost, dup = settle(ctx, broker, topics, config, "g-down", w, feeder)
        return result("all brokers down 10 s under a live stream", inputs, lost, dup, 0, recover,
                      alive and status == 0 and status2 == 0 and recover is not None, "recover: from brokers up")
    finally:
        stop_feeding(feeder)
        broker.stop()


def produce_errors(ctx, code, label, fatal, events=10_000, count=5):
    """`count` Produce requests fail with `code`. A retriable error is retried inside
    librdkafka; a fatal one stops the worker with exit 1 before its offsets pass the refused
    outputs, and the worker is restarted (as a supervisor would) until it drains."""
    broker = Broker(ctx.binary)
    try:
        topics = Topics(broker.bootstrap)
        produce(ctx.binary, broker.bootstrap, events, seed=9)
        config = write_config(ctx.tmp)
        restarts, statuses = 0, []
        broker.inject(f"errors 0 {count} {code}")
        for _ in range(count + 3):
            w = Worker(ctx.binary, broker.bootstrap, config, "g-prod", extra=("--idle-exit", "3"), name="prod")
            status = w.wait(180)
            statuses.append(status)
            if status == 0:
                break
            restarts += 1
        inputs, lost, dup = topics.account()
        ok = statuses[-1] == 0 and (restarts > 0) == fatal and all(s in (0, 1) for s in statuses)
        return result(f"produce errors: {label}", inputs, lost, dup, restarts, None, ok,
                      f"exit 1 each time, nothing committed past a refused output; exits {statuses}" if fatal
                      else "retried inside librdkafka")
    finally:
        broker.stop()


def rewind(ctx):
    """One Fetch answered OFFSET_OUT_OF_RANGE while every reply is held back 3 s (outputs in
    flight): librdkafka resets the position to the earliest offset, below them."""
    broker = Broker(ctx.binary)
    feeder = feed(ctx.binary, broker.bootstrap, seed=10)
    try:
        topics = Topics(broker.bootstrap)
        config = write_config(ctx.tmp, batch__max_rows=64)
        w = Worker(ctx.binary, broker.bootstrap, config, "g-rewind", name="rewind")
        wait_for_growth(topics, OUT, 0)
        time.sleep(2)
        broker.inject("rtt 3000")
        broker.inject("errors 1 1 1")  # Fetch: OFFSET_OUT_OF_RANGE
        time.sleep(8)
        broker.inject("rtt 0")
        time.sleep(3)
        alive, status, status2, inputs, lost, dup = settle(ctx, broker, topics, config, "g-rewind", w, feeder)
        rewound = "partition position moved backwards" in w.text()
        return result("fetch OFFSET_OUT_OF_RANGE with outputs in flight", inputs, lost, dup, 0, None,
                      alive and status == 0 and status2 == 0 and rewound,
                      "rewound: a new epoch, the partition scored again" if rewound else "no rewind seen")
    finally:
        stop_feeding(feeder)
        broker.stop()


def churn(ctx, events=6_000):
    broker = Broker(ctx.binary)
    try:
        topics = Topics(broker.bootstrap)
        produce(ctx.binary, broker.bootstrap, events, seed=12)
        config = write_config(ctx.tmp, pipeline__intake_capacity=64, pipeline__intake_resume_below=16,
                              pipeline__pause_after_ms=0, pipeline__poll_batch=32, pipeline__chunk_records=8,
                              batch__max_rows=16)
        a = Worker(ctx.binary, broker.bootstrap, config, "g-churn", name="churn-a")
        wait_for_growth(topics, OUT, 0)
        b = Worker(ctx.binary, broker.bootstrap, config, "g-churn", name="churn-b")
        time.sleep(8)
        b.kill(signal.SIGTERM)
        sb = b.wait(30)
        time.sleep(2)
        a.kill(signal.SIGTERM)
        sa = a.wait(30)
        status = drain(ctx.binary, broker, config, "g-churn")
        inputs, lost, dup = topics.account()
        return result("pause/resume churn, a worker joining and leaving", inputs, lost, dup, 0, None,
                      sa == 0 and sb == 0 and status == 0)
    finally:
        broker.stop()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_faults(ctx, events=20_000):
    if not shutil.which("redis-server"):
        return result("Redis killed and frozen", 0, 0, 0, 0, None, False, "redis-server not installed")
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    broker = Broker(ctx.binary)
    try:
        time.sleep(0.5)
        topics = Topics(broker.bootstrap)
        config = write_config(ctx.tmp, cache__redis_url=f"redis://127.0.0.1:{port}")
        w = Worker(ctx.binary, broker.bootstrap, config, "g-redis", name="redis")
        feeder = threading.Thread(target=produce, args=(ctx.binary, broker.bootstrap, events), kwargs={"seed": 13, "rate": 4000})
        feeder.start()
        time.sleep(1.5)
        redis.send_signal(signal.SIGSTOP)  # frozen: every call times out
        time.sleep(2)
        redis.send_signal(signal.SIGCONT)
        time.sleep(1)
        redis.kill()  # gone
        feeder.join()
        time.sleep(2)
        alive = w.proc.poll() is None
        w.kill(signal.SIGTERM)
        status = w.wait(30)
        inputs, lost, dup = topics.account()
        return result("Redis frozen 2 s, then killed", inputs, lost, dup, 0, None, alive and status == 0)
    finally:
        broker.stop()
        redis.kill()


def poison(ctx):
    broker = Broker(ctx.binary, partitions=1)
    try:
        topics = Topics(broker.bootstrap, partitions=1)
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": broker.bootstrap, "message.max.bytes": 2_000_000, "log_level": 3})
        p.produce(IN, value=b"x" * 999_800, key=b"poison", partition=0)
        p.flush(30)
        produce(ctx.binary, broker.bootstrap, 100, seed=14, malformed=0)
        config = write_config(ctx.tmp)
        status = drain(ctx.binary, broker, config, "g-poison")
        inputs, lost, dup = topics.account()
        return result("malformed event of 999,800 bytes, then 100 normal", inputs, lost, dup, 0, None, status == 0,
                      "dead letter cut to fit")
    finally:
        broker.stop()


def sigterm_brokers_down(ctx, events=5_000, timeout_ms=5000):
    broker = Broker(ctx.binary)
    try:
        topics = Topics(broker.bootstrap)
        produce(ctx.binary, broker.bootstrap, events, seed=15)
        config = write_config(ctx.tmp, shutdown__timeout_ms=timeout_ms)
        w = Worker(ctx.binary, broker.bootstrap, config, "g-term", name="term")
        wait_for_growth(topics, OUT, 0)
        time.sleep(1)
        broker.inject("down")
        time.sleep(1)
        start = time.monotonic()
        w.kill(signal.SIGTERM)
        status = w.wait(60)
        took = time.monotonic() - start
        broker.inject("up")
        status2 = drain(ctx.binary, broker, config, "g-term")
        inputs, lost, dup = topics.account()
        within = took <= timeout_ms / 1000
        return result(f"SIGTERM with brokers down (shutdown.timeout_ms {timeout_ms})", inputs, lost, dup, 0, None,
                      within and status is not None and status2 == 0,
                      f"exited {status} after {took:.1f} s")
    finally:
        broker.stop()


SCENARIOS = {
    "sigkill": sigkill_loop,
    "down": brokers_down,
    "retriable": lambda ctx: produce_errors(ctx, 6, "retriable (NOT_LEADER_FOR_PARTITION x5)", False),
    "fatal": lambda ctx: produce_errors(ctx, 29, "fatal (TOPIC_AUTHORIZATION_FAILED x5)", True),
    "rewind": rewind,
    "churn": churn,
    "redis": redis_faults,
    "poison": poison,
    "sigterm": sigterm_brokers_down,
}


def restart_bench(ctx, rounds=3, kafka="mock"):
    """Restart-to-first-output after SIGKILL, with and without static membership, on a live
    stream (2,000 events/s): the time from the new process's start to its first output."""
    rows = []
    for static in (False, True):
        broker = Broker(ctx.binary) if kafka == "mock" else NoidaBroker()
        feeder = subprocess.Popen(
            [ctx.binary, "produce", "--bootstrap", broker.bootstrap, "--topic", IN, "--count", "10000000", "--rate", "2000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            topics = Topics(broker.bootstrap)
            config = write_config(ctx.tmp, kafka__consumer={
                "session.timeout.ms": "6000", "heartbeat.interval.ms": "500", "receive.message.max.bytes": "100000000"})
            extra = ("--instance", "w0") if static else ()
            first = Worker(ctx.binary, broker.bootstrap, config, "g-restart", extra=extra, name="restart")
            wait_for_growth(topics, OUT, 0, timeout=60)
            times = []
            for _ in range(rounds):
                time.sleep(2)
                first.kill()
                first.wait(10)
                time.sleep(1)  # what the killed process had on the wire lands first
                before = topics.total(OUT)
                first = Worker(ctx.binary, broker.bootstrap, config, "g-restart", extra=extra, name="restart")
                started = first.started
                grown = wait_for_growth(topics, OUT, before, timeout=90)
                times.append(round(time.monotonic() - started, 2) if grown is not None else None)
            first.kill()
            first.wait(10)
            rows.append({"kafka": kafka, "membership": "static (--instance w0)" if static else "dynamic",
                         "session_timeout_ms": 6000, "restart_to_first_output_s": times})
        finally:
            feeder.kill()
            broker.stop()
    return rows


def print_table(rows):
    head = f"{'fault':<55} {'inputs':>7} {'lost':>5} {'dup':>6} {'restarts':>8} {'recover':>8}  result"
    print(head)
    print("-" * len(head))
    for r in rows:
        recover = f"{r['recover_s']:.1f} s" if r["recover_s"] is not None else "-"
        print(f"{r['fault']:<55} {r['inputs']:>7} {r['lost']:>5} {r['duplicated']:>6} {r['restarts']:>8} {recover:>8}  "
              f"{'ok' if r['ok'] else 'FAIL'}{'  (' + r['note'] + ')' if r['note'] else ''}")
    failed = sum(not r["ok"] for r in rows)
    print(f"\n{len(rows) - failed} passed, {failed} failed")


def main():
    import pinned_venv
    pinned_venv.ensure(ROOT / ".venv-peer", ROOT / "scripts" / "requirements-peer.txt")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=str(ROOT / ".build/release/streamscore"))
    p.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated: " + ",".join(SCENARIOS))
    p.add_argument("--json", help="also write the rows to this file")
    p.add_argument("--restart-bench", action="store_true", help="measure restart-to-first-output instead")
    p.add_argument("--kafka", choices=["mock", "noida"], default="mock", help="the broker of --restart-bench")
    args = p.parse_args()
    ctx = argparse.Namespace(binary=args.binary, tmp=tempfile.mkdtemp(prefix="faults-"))
    if args.restart_bench:
        print(json.dumps(restart_bench(ctx, kafka=args.kafka), indent=2))
        return 0
    rows = []
    for name in args.only.split(","):
        log(f"fault: {name} ...")
        started = time.monotonic()
        try:
            row = SCENARIOS[name](ctx)
        except Exception as e:  # a scenario that could not run is a failure, with the reason
            row = result(name, 0, 0, 0, 0, None, False, f"error: {e}")
        log(f"  {name}: {'ok' if row['ok'] else 'FAIL'} in {time.monotonic() - started:.0f} s")
        rows.append(row)
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
