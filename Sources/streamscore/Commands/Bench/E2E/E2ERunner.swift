import Concurrency
import Foundation
import KafkaBridge
import Pipeline
import Workload

/// Runs the plan's configurations one at a time against one broker: starts what drains
/// the input as its own process(es), measures its output with an `OutputMeter`, reads its
/// CPU time and peak RSS from /proc and (StreamScore) its per-stage times from `/metrics`.
struct E2ERunner {
    struct Measurement {
        var expected = 0
        var meter = OutputMeter.Snapshot()
        var complete = false
        var cpuSeconds = 0.0
        /// CPU seconds by thread kind (`ThreadKind`), summed over the subject's processes.
        var threadCPUSeconds: [String: Double] = [:]
        var rssMiB = 0.0
        /// Seconds per stage, from the worker's `streamscore_stage_seconds_total`.
        var stages: [String: Double] = [:]
        /// Cache requests by result and Redis round trips, from the worker's metrics.
        var cache: [String: Double] = [:]
        var targetRate: Double?
        /// Events the rate run actually produced per second.
        var producedRate: Double?
        /// A drain's events/s in every round, when it ran more than once (this is the median one).
        var roundRates: [Double] = []
    }

    let bootstrap: String
    let partitions: Int
    let ratePartitions: Int
    let binary: String
    let root: URL
    let logs: URL
    let redisURL: String?
    let workers: Int
    let stall: Duration
    /// librdkafka properties for every client the bench starts (`-X`).
    var properties: [String: String] = [:]

    /// Produces `count` generated transactions into `topic` as fast as the client goes,
    /// batched by `lingerMs` (`--backlog-linger-ms`).
    func preload(topic: String, count: Int, repeatRatio: Double, seed: UInt64, lingerMs: Int = 20) throws {
        let producer = try LoadProducer(
            bootstrapServers: bootstrap, properties: ["linger.ms": String(lingerMs), "batch.num.messages": "10000"].merging(properties) { $1 })
        defer { producer.close() }
        let summary = try producer.produce(
            topic: topic, count: count, rate: nil, generator: Self.generator(seed: seed, repeatRatio: repeatRatio)
        ) { sent in
            Terminal.progress("preloading \(topic) \(Terminal.bar(sent, of: count))  \(sent)/\(count)")
        }
        Terminal.endProgress()
        guard summary.acknowledged == count else {
            throw E2EError("preloading \(topic): \(summary.acknowledged) of \(count) events acknowledged (\(summary.failed) failed)")
        }
    }

    static func generator(seed: UInt64, repeatRatio: Double) -> TransactionGenerator {
        TransactionGenerator(seed: seed, keys: 50_000, repeatRatio: repeatRatio, malformedRatio: 0)
    }

    /// Drains `drain.input` (holding `count` events) with the subject, until every output arrived.
    func drain(_ drain: E2EPlan.Drain, round: Int, count: Int, label: String) throws -> Measurement {
        let output = drain.outputs[round]
        let meter = try OutputMeter(bootstrap: bootstrap, topic: output, partitions: partitions, properties: properties)
        defer { meter.stop() }
        let started = try start(drain.subject, input: drain.input, output: output, group: "bench.\(output)")
        var m = Measurement(expected: count)
        // Stage times count from the first output: not the group join before it.
        var baseline: Metrics?
        // Scraped every second while it drains, as a Prometheus would (5 s is usual): the
        // scrape's own work (librdkafka's statistics parsed, the series written) counts.
        var lastScrape = ContinuousClock.now
        m.complete = meter.wait(for: count, stall: stall) { n in
            for process in started.processes { process.sample() }
            if baseline == nil && n > 0 { baseline = started.metricsPort.map(Self.scrape) }
            if let port = started.metricsPort, lastScrape.duration(to: .now) >= .seconds(1) {
                _ = try? httpGet(port: port, path: "/metrics")
                lastScrape = .now
            }
            Terminal.progress("\(label) \(Terminal.bar(n, of: count))  \(n)/\(count)")
        }
        Terminal.endProgress()
        finish(started, into: &m, meter: meter, baseline: baseline)
        if !m.complete { Terminal.err("bench: \(label): \(m.meter.records) of \(count) outputs arrived; last log lines:\n\(started.logTail)") }
        return m
    }

    /// Runs the subject on an empty topic while producing into it at `rate` events/s for
    /// `seconds` (open loop: events are stamped when sent, whatever the worker does).
    func rate(_ run: E2EPlan.RateRun, subject: E2EPlan.Subject, repeatRatio: Double, rate: Double, seconds: Double, label: String) throws -> Measurement {
        let meter = try OutputMeter(bootstrap: bootstrap, topic: run.output, partitions: ratePartitions, properties: properties)
        defer { meter.stop() }
        let started = try start(subject, input: run.input, output: run.output, group: "bench.\(run.output)", following: true)
        try started.waitUntilAssigned(timeout: .seconds(60))
        let count = max(1, Int(rate * seconds))
        // The kcat pipe holds its latest lines until more come (measured: one to three
        // records): it gets 16 more records than are counted, and the meter counts the
        // first `count` to arrive.
        let extra: Int = if case .kcat = subject { 16 } else { 0 }
        let producer = try LoadProducer(bootstrapServers: bootstrap, properties: properties)
        let summary = try producer.produce(
            topic: run.input, count: count + extra, rate: rate, generator: Self.generator(seed: 7, repeatRatio: repeatRatio)
        ) { sent in
            Terminal.progress("\(label) producing \(Terminal.bar(sent, of: count))  \(meter.count)/\(sent) scored")
        }
        producer.close()
        var m = Measurement(expected: count)
        m.targetRate = rate
        m.producedRate = Double(summary.sent) / summary.elapsed.inSeconds
        m.complete = meter.wait(for: count, stall: stall) { _ in
            for process in started.processes { process.sample() }
        }
        Terminal.endProgress()
        finish(started, into: &m, meter: meter)
        if !m.complete { Terminal.err("bench: \(label): \(m.meter.records) of \(count) outputs arrived; last log lines:\n\(started.logTail)") }
        return m
    }

    /// Stage seconds and cache counters read from a worker's `/metrics`.
    struct Metrics {
        var stages: [String: Double] = [:]
        var cache: [String: Double] = [:]

        static func - (a: Metrics, b: Metrics) -> Metrics {
            Metrics(stages: a.stages.merging(b.stages.mapValues { -$0 }, uniquingKeysWith: +), cache: a.cache)
        }
    }

    private static func scrape(port: Int) -> Metrics {
        var metrics = Metrics()
        guard let text = try? httpGet(port: port, path: "/metrics").body else { return metrics }
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            let name = String(parts[0])
            if let stage = label(name, metric: "streamscore_stage_seconds_total", key: "stage") {
                metrics.stages[stage] = value
            } else if let result = label(name, metric: "streamscore_cache_requests_total", key: "result") {
                metrics.cache[result] = value
            } else if let kind = label(name, metric: "streamscore_redis_round_trips_total", key: "kind") {
                metrics.cache["redis_" + kind + "s"] = value
            } else if name == "streamscore_batches_total" || name == "streamscore_cache_batch_duplicates_total" {
                metrics.cache[name.replacingOccurrences(of: "streamscore_", with: "").replacingOccurrences(of: "_total", with: "")] = value
            }
        }
        return metrics
    }

    private func finish(_ started: Started, into m: inout Measurement, meter: OutputMeter, baseline: Metrics? = nil) {
        m.cpuSeconds = started.processes.map(\.cpuSeconds).reduce(0, +)
        for process in started.processes {
            m.threadCPUSeconds.merge(process.cpuSecondsByThread, uniquingKeysWith: +)
        }
        m.rssMiB = started.processes.map(\.peakRSSMiB).reduce(0, +)
        if let port = started.metricsPort {
            let end = Self.scrape(port: port)
            let window = baseline.map { end - $0 } ?? end
            (m.stages, m.cache) = (window.stages, window.cache)
        }
        // Read before stopping: what a stopped kcat pipe lets go at the end is not counted.
        m.meter = meter.snapshot
        for process in started.processes { process.stop() }
    }

    /// `metric{key="value"}` → value.
    private static func label(_ sample: String, metric: String, key: String) -> String? {
        let prefix = "\(metric){\(key)=\""
        guard sample.hasPrefix(prefix), sample.hasSuffix("\"}") else { return nil }
        return String(sample.dropFirst(prefix.count).dropLast(2))
    }

    /// The processes draining one input.
    struct Started {
        var processes: [ChildProcess]
        /// StreamScore's `/metrics` port.
        var metricsPort: Int?

        var logTail: String { processes.map { "[\($0.name)] \($0.logTail)" }.joined(separator: "\n") }

        /// Waits until the worker has joined its group and been given partitions (StreamScore:
        /// from `/metrics`; others: a fixed 5 s, longer than the mock cluster's 3 s join delay).
        func waitUntilAssigned(timeout: Duration) throws {
            guard let port = metricsPort else {
                Thread.sleep(forTimeInterval: 5)
                return
            }
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if let text = try? httpGet(port: port, path: "/metrics").body,
                    let line = text.split(separator: "\n").first(where: { $0.hasPrefix("streamscore_rebalances_total{kind=\"assign\"}") }),
                    let n = Double(line.split(separator: " ").last ?? ""), n >= 1
                {
                    return
                }
                if processes.contains(where: { !$0.isRunning }) { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
            throw E2EError("the worker did not join its group: \(logTail)")
        }
    }

    /// - Parameter following: the input is still being written (a rate run): the kcat pipe
    ///   must not stop at its end.
    private func start(_ subject: E2EPlan.Subject, input: String, output: String, group: String, following: Bool = false) throws -> Started {
        switch subject {
        case .streamscore(let model, let cache, let batch, let delivery, let metrics):
            return try startWorker(
                mode: "score", model: model.path, cache: cache, delivery: delivery, batch: batch, input: input, output: output, group: group,
                metrics: metrics)
        case .passthrough(let batch):
            return try startWorker(
                mode: "passthrough", model: nil, cache: .off, delivery: .atLeastOnce, batch: batch, input: input, output: output, group: group)
        case .kcat:
            let pipe = Pipe()
            let consume = try ChildProcess(
                name: "kcat-consume-\(output)", executable: try E2EBench.program("kcat"),
                // Following a live input (a rate run): unbuffered (-u), or the pipe holds the
                // latest records back until its buffer fills; draining: exit at the end (-e).
                arguments: ["-C", "-b", bootstrap, "-t", input, "-o", "beginning"] + (following ? ["-u"] : ["-e"])
                    + ["-q", "-K", "\t", "-D", "\n", "-X", "log_level=3", "-X", "fetch.wait.max.ms=1"] + kcatProperties,
                stdout: pipe, logDirectory: logs)
            let produce = try ChildProcess(
                name: "kcat-produce-\(output)", executable: try E2EBench.program("kcat"),
                arguments: ["-P", "-b", bootstrap, "-t", output, "-K", "\t", "-D", "\n", "-X", "linger.ms=2", "-X", "log_level=3"] + kcatProperties,
                stdin: pipe, logDirectory: logs)
            return Started(processes: [consume, produce])
        case .peer(let model, let batch):
            let peer = try ChildProcess(
                name: "peer-\(output)", executable: try E2EBench.program("python3"),
                arguments: [
                    root.appendingPathComponent("scripts/peer_worker.py").path, "--bootstrap", bootstrap, "--input", input,
                    "--output", output, "--dead-letter", "bench.dlq", "--group", group, "--model", model.onnxPath,
                    "--max-rows", String(batch.maxRows), "--max-wait-ms", String(batch.maxWaitMs), "--idle-exit", "30", "--fetch-wait-ms", "1",
                ],
                logDirectory: logs)
            return Started(processes: [peer])
        }
    }

    private var kcatProperties: [String] { properties.sorted { $0.key < $1.key }.flatMap { ["-X", "\($0.key)=\($0.value)"] } }

    /// `properties` (-X) as YAML mapping entries, indented for `kafka.consumer` and `kafka.producer`.
    private var yamlProperties: String {
        properties.sorted { $0.key < $1.key }.map { "    \($0.key): \"\($0.value)\"\n" }.joined()
    }

    private func startWorker(
        mode: String, model: String?, cache: E2EPlan.Cache, delivery: E2EPlan.Delivery, batch: E2EPlan.Batch,
        input: String, output: String, group: String, metrics: Bool = true
    ) throws -> Started {
        let port = try freeLoopbackPort()
        let extra = yamlProperties
        var yaml = """
            kafka:
              group_id: \(group)
              consumer:
                # Every subject fetches with a 1 ms wait (see OutputMeter).
                fetch.wait.max.ms: "1"
            \(extra.isEmpty ? "" : extra + "  producer:\n" + extra)topics:
              input: \(input)
              output: \(output)
              dead_letter: bench.dlq
            pipeline:
              mode: \(mode)
              workers: \(workers)
            batch:
              max_rows: \(batch.maxRows)
              max_wait_ms: \(batch.maxWaitMs)
            metrics:
              listen: \(metrics ? "127.0.0.1:\(port)" : "\"\"")
            logging:
              level: warning

            """
        if let model { yaml += "model:\n  path: \(model)\n" }
        if case .exactlyOnce(let ms) = delivery {
            yaml += "delivery:\n  mode: exactly_once\n  transaction_interval_ms: \(ms)\n"
        }
        switch cache {
        case .off: yaml += "cache:\n  mode: bypass\n"
        case .local: yaml += "cache:\n  mode: read_write\n"
        case .redis:
            guard let redisURL else { throw E2EError("--cache redis needs a Redis (redis-server on PATH, or --redis URL)") }
            // A prefix of its own (the run's output topic): every run starts with a cold
            // Redis, as the first one does, even when an earlier run scored the same input.
            yaml += "cache:\n  mode: read_write\n  redis_url: \(redisURL)\n  prefix: \(output)\n"
        }
        let config = logs.appendingPathComponent("\(output).yaml")
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        let worker = try ChildProcess(
            name: "worker-\(output)", executable: binary,
            arguments: ["run", "--config", config.path, "--bootstrap", bootstrap], logDirectory: logs)
        return Started(processes: [worker], metricsPort: metrics ? port : nil)
    }
}

struct E2EError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
