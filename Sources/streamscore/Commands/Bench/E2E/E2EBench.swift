import ArgumentParser
import Foundation
import KafkaBridge

/// `streamscore bench e2e`: topic-to-topic throughput and latency, beside the passthrough
/// and kcat ceilings and a Python peer, in one run on one broker.
struct E2EBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "End-to-end benchmark: drain rate and latency beside passthrough, kcat and a Python peer.",
        discussion: """
            Starts a broker process (`streamscore broker`) unless --bootstrap is given, creates \
            the topics and preloads --events generated transactions per repeat ratio. Then, \
            one at a time, each configuration drains the same backlog as its own process while \
            a measuring consumer reads the output topic:
              passthrough  this binary with pipeline.mode passthrough (no decode, no model)
              kcat         kcat -C ... | kcat -P ... (the client's and broker's own ceiling)
              peer         scripts/peer_worker.py: Python, confluent-kafka, orjson, ONNX
                           Runtime, the same model as ONNX (Models/bench/*.onnx)
              streamscore  this binary with each model, cache mode, delivery mode, repeat
                           ratio and batch
            Drain: events/s between the first and the last output's arrival, the worker's CPU \
            seconds per million events and peak RSS (from /proc). Rate: each StreamScore \
            configuration and passthrough again on an empty topic (--rate-partitions), fed at \
            a fixed fraction of its drain rate (open loop, stamped at send) for \
            --rate-seconds; latency = output arrival - input timestamp (ms resolution), in an \
            HDR histogram. Stage times come from the worker's own /metrics. Every run checks \
            that each input produced an output, and counts duplicates. The measuring consumer \
            reads with isolation.level=read_committed, so an exactly-once output counts when \
            its transaction commits, as a downstream reader sees it.

            The mock broker keeps about 5 MiB per partition: the default partition count \
            scales with --events. It also answers an empty fetch only after the full \
            fetch.wait.max.ms, so every subject fetches with a 1 ms wait. With --bootstrap, \
            the bench creates the topics it needs (an existing topic is used as it is).

            Examples:
              streamscore bench e2e                                  # 1M events, the full matrix
              streamscore bench e2e --events 200000 --models mlp --rates 0.5 --json
              streamscore bench e2e --batch 256/2,1024/5 --repeats 0,0.5,0.9 --cache off,redis
              streamscore bench e2e --models xgboost --cache off --delivery at_least_once,exactly_once/25,exactly_once,exactly_once/500 --rounds 3
              streamscore bench e2e --bootstrap 127.0.0.1:9092 --no-kcat --no-peer -X receive.message.max.bytes=200000000 --delivery at_least_once,exactly_once
              streamscore bench e2e --models xgboost --cache off --metrics on,off --rounds 5 --rates none --no-kcat --no-peer
            """
    )

    @Option(help: ArgumentHelp("Use this Kafka cluster instead of starting a broker process.", valueName: "host:port"))
    var bootstrap: String?

    @Option(help: "Events preloaded per input (the drain backlog).")
    var events = 1_000_000

    @Option(help: ArgumentHelp("Partitions per topic (default: enough for the mock broker's ~5 MiB per partition, at least 8).", valueName: "n"))
    var partitions: Int?

    @Option(help: ArgumentHelp("Models, comma-separated: logistic, mlp, xgboost (Models/bench/fraud-*.json and .onnx), mlp-large, xgboost-large (scripts/make_bench_models.py --large).", valueName: "names"))
    var models = "logistic,mlp,xgboost"

    @Option(help: ArgumentHelp("Score cache settings, comma-separated: off, local (in-process tier), redis. Default: off,redis with redis-server installed, else off,local.", valueName: "modes"))
    var cache: String?

    @Option(help: ArgumentHelp(
        "Delivery modes, comma-separated: at_least_once, exactly_once (transactions every 100 ms), exactly_once/MS (every MS ms). Each exactly-once drain is compared with its at-least-once twin round by round.",
        valueName: "modes"))
    var delivery = "at_least_once"

    @Option(help: ArgumentHelp(
        "Whether each StreamScore configuration serves /metrics, comma-separated: on, off. With on,off each drain with metrics is compared with its twin without them round by round (what the histograms and librdkafka's statistics cost). Example: --metrics on,off",
        valueName: "on,off"))
    var metrics = "on"

    @OptionGroup var kafka: KafkaPropertyOptions

    @Option(help: ArgumentHelp("Repeated-key ratios of the preloaded inputs, comma-separated (the first one also feeds the ceilings and the peer).", valueName: "r,r"))
    var repeats = "0.9"

    @Option(help: ArgumentHelp("Batch settings max_rows/max_wait_ms, comma-separated.", valueName: "rows/ms,..."))
    var batch = "256/2"

    @Option(help: ArgumentHelp("Rate runs as fractions of each configuration's drain rate, comma-separated; 'none' for none.", valueName: "f,f"))
    var rates = "0.25,0.5,0.75"

    @Option(name: .customLong("backlog-linger-ms"), help: ArgumentHelp(
        "The preloading producer's linger.ms: how the backlog is batched, which decides how fast a consumer can fetch it (librdkafka's mock cluster hands out one producer batch per partition per fetch). 20 (default) writes batches of up to 10,000 as a bulk loader would; 5 writes them as `streamscore produce` does by default; 1 as a producer sending a few records at a time. Example: --backlog-linger-ms 5",
        valueName: "ms"))
    var backlogLingerMs = 20

    @Option(name: .customLong("rate-seconds"), help: "How long each rate run produces.")
    var rateSeconds = 10.0

    @Option(name: .customLong("rate-partitions"), help: "Partitions of the rate runs' topics (the backlog needs many on the mock broker; a live topic does not).")
    var ratePartitions = 8

    @Flag(inversion: .prefixedNo, help: "Run the kcat pipe ceiling (needs kcat).")
    var kcat = true

    @Flag(inversion: .prefixedNo, help: "Run the Python peer (creates .venv-peer on first use).")
    var peer = true

    @Option(help: ArgumentHelp("Redis for --cache redis (default: a redis-server started on a free loopback port).", valueName: "redis://host:port"))
    var redis: String?

    @Option(help: ArgumentHelp(
        "Drain every configuration this many times, round-robin, and report each one's median round (its events/s, CPU, stages) with the range of all: on a shared machine one run can be off by 20%.",
        valueName: "n"))
    var rounds = 1

    @Option(help: "The worker's preprocessing threads (pipeline.workers).")
    var workers = 2

    @Option(name: .customLong("stall-seconds"), help: "Give up on a run when no output arrives for this long.")
    var stallSeconds = 60.0

    @Option(name: .customLong("logs"), help: ArgumentHelp("Directory for the processes' logs and configs (default: a new temporary one).", valueName: "dir"))
    var logDirectory: String?

    @Flag(help: "Print one JSON object per configuration instead of the tables.")
    var json = false

    @Option(name: .customLong("json-file"), help: ArgumentHelp("Also write the JSON report to this file.", valueName: "file"))
    var jsonFile: String?

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be positive") }
        guard partitions.map({ $0 > 0 }) ?? true else { throw ValidationError("--partitions must be positive") }
        guard backlogLingerMs >= 0 else { throw ValidationError("--backlog-linger-ms must not be negative") }
        guard rateSeconds > 0, stallSeconds > 0, workers > 0, ratePartitions > 0 else {
            throw ValidationError("--rate-seconds, --rate-partitions, --stall-seconds and --workers must be positive")
        }
        _ = try parsedModels()
        _ = try parsedCaches()
        _ = try parsedDeliveries()
        _ = try parsedRepeats()
        _ = try parsedBatches()
        _ = try parsedRates()
        _ = try parsedMetrics()
        guard rounds >= 1 else { throw ValidationError("--rounds: at least 1") }
    }

    func run() throws {
        let root = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let models = try parsedModels()
        for model in models where !FileManager.default.fileExists(atPath: model.path) {
            throw ValidationError("\(model.path) not found: run from the StreamScore checkout; scripts/make_bench_models.py [--large] writes the models")
        }
        let kcatPresent = ChildProcess.find("kcat") != nil
        if kcat && !kcatPresent { Terminal.err("bench: kcat not found (apt install kcat): no kcat ceiling") }
        let plan = E2EPlan(
            models: models, caches: try parsedCaches(), repeats: try parsedRepeats(), batches: try parsedBatches(),
            rates: try parsedRates(), kcat: kcat && kcatPresent, peer: peer, rounds: rounds, deliveries: try parsedDeliveries(),
            metrics: try parsedMetrics())
        let partitionCount = partitions ?? max(8, (events * 400 + 4 * 1_048_576 - 1) / (4 * 1_048_576))
        let logs = URL(fileURLWithPath: logDirectory ?? NSTemporaryDirectory() + "streamscore-bench-\(getpid())")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let binary = try Self.ownExecutable()

        var processes: [ChildProcess] = []
        defer { for p in processes.reversed() { p.stop(grace: .seconds(5)) } }
        let servers: String
        if let bootstrap {
            servers = bootstrap
            // A real cluster: the topics with the partition counts the plan needs (an
            // existing one is kept as it is).
            let admin = try KafkaAdmin(config: KafkaConfig(["bootstrap.servers": bootstrap, "log_level": "3"].merging(kafka.properties) { $1 }))
            for topic in plan.topics(ratePartitions: ratePartitions) {
                try admin.createTopic(topic.name, partitions: topic.partitions ?? partitionCount, timeout: .seconds(30))
            }
        } else {
            let broker = try ChildProcess(
                name: "broker", executable: binary,
                arguments: [
                    "broker", "--partitions", String(partitionCount),
                    "--topics", plan.topics(ratePartitions: ratePartitions).map { $0.name + ($0.partitions.map { ":\($0)" } ?? "") }.joined(separator: ","),
                ],
                captureStdout: true, logDirectory: logs)
            processes.append(broker)
            guard let line = broker.readLine(prefix: "BOOTSTRAP=") else { throw E2EError("the broker did not start: \(broker.logTail)") }
            servers = line
        }
        var redisURL = redis
        if redisURL == nil, plan.drains.contains(where: { if case .streamscore(_, .redis, _, _, _) = $0.subject { true } else { false } }) {
            let port = try freeLoopbackPort()
            let server = try ChildProcess(
                name: "redis", executable: try Self.program("redis-server"),
                arguments: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], logDirectory: logs)
            processes.append(server)
            redisURL = "redis://127.0.0.1:\(port)"
            Thread.sleep(forTimeInterval: 0.3)
        }
        if peer {
            // Creates .venv-peer on first use, outside any timed run.
            let check = try ChildProcess(
                name: "peer-setup", executable: try Self.program("python3"),
                arguments: [root.appendingPathComponent("scripts/peer_worker.py").path, "--help"], logDirectory: logs)
            guard check.waitForExit(timeout: .seconds(900)) == 0 else { throw E2EError("the Python peer's venv could not be set up: \(check.logTail)") }
        }
        Terminal.err("bench e2e: broker \(servers), \(partitionCount) partitions, \(events) events per input; logs in \(logs.path)")

        let runner = E2ERunner(
            bootstrap: servers, partitions: partitionCount, ratePartitions: ratePartitions, binary: binary, root: root, logs: logs, redisURL: redisURL,
            workers: workers, stall: .seconds(stallSeconds), properties: kafka.properties)
        for (i, input) in plan.preloadedInputs.enumerated() {
            try runner.preload(topic: input.topic, count: events, repeatRatio: input.repeatRatio, seed: UInt64(11 + i), lingerMs: backlogLingerMs)
        }
        var report = E2EReport(events: events, partitions: partitionCount, ratePartitions: ratePartitions)
        report.backlogLingerMs = backlogLingerMs
        // Round-robin: every configuration once per round, so drift on a shared machine
        // falls on all of them alike; each keeps its median round. Every other round runs
        // them in reverse order: a configuration that follows another (measured: ±5% on
        // the mock cluster, by position alone) does not always follow it.
        var rounds = [[E2ERunner.Measurement]](repeating: [], count: plan.drains.count)
        for round in 0..<plan.rounds {
            for i in Self.order(round: round, count: plan.drains.count) {
                let drain = plan.drains[i]
                let of = plan.rounds > 1 ? " round \(round + 1)/\(plan.rounds)" : ""
                let label = "[\(i + 1)/\(plan.drains.count)\(of)] drain \(Self.describe(drain.subject, repeats: drain.repeatRatio))"
                let m = try runner.drain(drain, round: round, count: events, label: label)
                Terminal.err("\(label): \(Int(m.meter.eventsPerSecond)) events/s\(m.complete ? "" : " (INCOMPLETE)")")
                rounds[i].append(m)
            }
        }
        let drained = rounds.map(Self.median)
        // Ceilings and peers beside each StreamScore configuration.
        func rate(_ where: (E2EPlan.Subject) -> Bool) -> Double? {
            plan.drains.indices.first { `where`(plan.drains[$0].subject) }.map { drained[$0].meter.eventsPerSecond }
        }
        func row(_ mode: String, _ subject: E2EPlan.Subject, _ repeatRatio: Double, _ m: E2ERunner.Measurement) -> E2EReport.Row {
            var r = E2EReport.Row(mode: mode, subject: subject, repeatRatio: repeatRatio, measurement: m)
            if case .streamscore(let model, _, let batch, _, _) = subject {
                r.passthrough = rate { if case .passthrough(let b) = $0 { b.maxRows == batch.maxRows && b.maxWaitMs == batch.maxWaitMs } else { false } }
                r.kcat = rate { if case .kcat = $0 { true } else { false } }
                r.peer = rate {
                    if case .peer(let m, let b) = $0 { m.name == model.name && b.maxRows == batch.maxRows && b.maxWaitMs == batch.maxWaitMs } else { false }
                }
            }
            return r
        }
        for (drain, m) in zip(plan.drains, drained) { report.rows.append(row("drain", drain.subject, drain.repeatRatio, m)) }
        for (i, run) in plan.rateRuns.enumerated() {
            let drain = plan.drains[run.drain]
            let subject = run.subject ?? drain.subject
            let target = run.fraction * drained[run.drain].meter.eventsPerSecond
            let beside = run.subject == nil ? "" : " at the rate of \(Self.describe(drain.subject, repeats: drain.repeatRatio))"
            let label = "[\(i + 1)/\(plan.rateRuns.count)] rate \(Int(run.fraction * 100))% \(Self.describe(subject, repeats: drain.repeatRatio))\(beside)"
            guard target >= 1 else {
                Terminal.err("\(label): skipped (no drain rate)")
                continue
            }
            let m = try runner.rate(run, subject: subject, repeatRatio: drain.repeatRatio, rate: target, seconds: rateSeconds, label: label)
            Terminal.err("\(label): p50 \(m.meter.latencyMilliseconds(percentile: 50)) ms, p99 \(m.meter.latencyMilliseconds(percentile: 99)) ms")
            report.rows.append(row("rate", subject, drain.repeatRatio, m))
        }
        Terminal.out(json ? report.json : report.table)
        if let jsonFile { try report.json.write(toFile: jsonFile, atomically: true, encoding: .utf8) }
        if report.rows.contains(where: { !$0.measurement.complete }) {
            throw E2EError("some runs did not account for every input (see above)")
        }
    }

    /// The round with the median events/s (the lower middle of an even count), carrying
    /// every round's rate; an incomplete round makes the whole drain incomplete.
    static func median(_ rounds: [E2ERunner.Measurement]) -> E2ERunner.Measurement {
        guard rounds.count > 1 else { return rounds[0] }
        let sorted = rounds.sorted { $0.meter.eventsPerSecond < $1.meter.eventsPerSecond }
        var m = sorted[(sorted.count - 1) / 2]
        m.roundRates = rounds.map(\.meter.eventsPerSecond)
        if rounds.contains(where: { !$0.complete }) { m.complete = false }
        return m
    }

    private static func describe(_ s: E2EPlan.Subject, repeats: Double) -> String {
        switch s {
        case .streamscore(let m, let c, let b, let d, let served):
            "streamscore \(m.name) cache=\(c.rawValue) delivery=\(d) repeats=\(Int(repeats * 100))% batch=\(b)" + (served ? "" : " metrics=off")
        case .passthrough(let b): "passthrough batch=\(b)"
        case .kcat: "kcat pipe"
        case .peer(let m, let b): "peer \(m.name) batch=\(b)"
        }
    }

    static func program(_ name: String) throws -> String {
        guard let path = ChildProcess.find(name) else { throw E2EError("\(name) not found on PATH") }
        return path
    }

    private static func ownExecutable() throws -> String {
        let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return path
    }

    private static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Bench model names and their files: the committed ones in Models/bench, the large ones
    /// (`scripts/make_bench_models.py --large`) in .build/bench-models.
    static let modelFiles = [
        "logistic": "Models/bench/fraud-logistic", "mlp": "Models/bench/fraud-mlp", "xgboost": "Models/bench/fraud-xgb",
        "mlp-large": ".build/bench-models/fraud-mlp-large", "xgboost-large": ".build/bench-models/fraud-xgb-large",
    ]

    func parsedModels() throws -> [E2EPlan.Model] {
        let names = Self.list(models)
        let known = Self.modelFiles.keys.sorted().joined(separator: ", ")
        guard !names.isEmpty else { throw ValidationError("--models: at least one of \(known)") }
        return try names.map { name in
            guard let file = Self.modelFiles[name] else { throw ValidationError("--models: unknown model '\(name)' (\(known))") }
            return E2EPlan.Model(name: name, path: file + ".json", onnxPath: file + ".onnx")
        }
    }

    func parsedCaches() throws -> [E2EPlan.Cache] {
        let text = cache ?? (ChildProcess.find("redis-server") != nil || redis != nil ? "off,redis" : "off,local")
        let modes = try Self.list(text).map { name in
            guard let mode = E2EPlan.Cache(rawValue: name) else { throw ValidationError("--cache: unknown mode '\(name)' (off, local, redis)") }
            return mode
        }
        guard !modes.isEmpty else { throw ValidationError("--cache: at least one of off, local, redis") }
        return modes
    }

    func parsedDeliveries() throws -> [E2EPlan.Delivery] {
        let modes = try Self.list(delivery).map { item -> E2EPlan.Delivery in
            let parts = item.split(separator: "/", maxSplits: 1).map(String.init)
            switch (parts[0], parts.count > 1 ? Int(parts[1].replacingOccurrences(of: "ms", with: "")) : 100) {
            case ("at_least_once", _) where parts.count == 1: return .atLeastOnce
            case ("exactly_once", let ms?) where ms > 0: return .exactlyOnce(intervalMs: ms)
            default: throw ValidationError("--delivery: at_least_once, exactly_once or exactly_once/MS (a transaction interval in ms); got '\(item)'")
            }
        }
        guard !modes.isEmpty else { throw ValidationError("--delivery: at least one of at_least_once, exactly_once") }
        return modes
    }

    /// The drains' order in a round: as planned in even rounds, reversed in odd ones.
    static func order(round: Int, count: Int) -> [Int] {
        round % 2 == 0 ? Array(0..<count) : Array((0..<count).reversed())
    }

    func parsedMetrics() throws -> [Bool] {
        let modes = try Self.list(metrics).map { item -> Bool in
            switch item {
            case "on": return true
            case "off": return false
            default: throw ValidationError("--metrics: on or off, comma-separated; got '\(item)'")
            }
        }
        guard !modes.isEmpty else { throw ValidationError("--metrics: on, off or on,off") }
        return modes
    }

    func parsedRepeats() throws -> [Double] {
        let values = Self.list(repeats).compactMap(Double.init)
        guard !values.isEmpty, values.count == Self.list(repeats).count, values.allSatisfy({ (0...1).contains($0) }) else {
            throw ValidationError("--repeats: ratios within 0...1, comma-separated")
        }
        return values
    }

    func parsedBatches() throws -> [E2EPlan.Batch] {
        let batches = try Self.list(batch).map { item in
            let parts = item.split(separator: "/")
            guard parts.count == 2, let rows = Int(parts[0]), let wait = Int(parts[1]), rows > 0, wait >= 0 else {
                throw ValidationError("--batch: max_rows/max_wait_ms, e.g. 256/2; got '\(item)'")
            }
            return E2EPlan.Batch(maxRows: rows, maxWaitMs: wait)
        }
        guard !batches.isEmpty else { throw ValidationError("--batch: at least one max_rows/max_wait_ms") }
        return batches
    }

    func parsedRates() throws -> [Double] {
        if rates == "none" { return [] }
        let values = Self.list(rates).compactMap(Double.init)
        guard values.count == Self.list(rates).count, values.allSatisfy({ $0 > 0 && $0 <= 2 }) else {
            throw ValidationError("--rates: fractions of the drain rate (0 < f <= 2), comma-separated, or 'none'")
        }
        return values
    }
}
