import Foundation
import Logging
@testable import streamscore
import Testing

/// Bad configuration stops `streamscore run` before it connects, naming the key: every
/// case in process (`RunCommand.pipeline`, what `run` calls), and the exit status and
/// stderr of the real binary for a few.
@Suite("Configuration errors")
struct ConfigurationTests {
    /// Runs the worker against an address nothing listens on: a bad config must fail
    /// before any connection matters, so the run must end quickly with status 2.
    func run(yaml: String, environment: [String: String] = [:], extraArguments: [String] = []) throws -> (status: Int32?, stderr: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("bad") + ".yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let worker = try WorkerProcess(["run", "--config", path, "--bootstrap", "127.0.0.1:1"] + extraArguments, environment: environment)
        let status = worker.waitForExit(timeout: .seconds(20))
        return (status, worker.stderr)
    }

    static let cases: [(name: String, yaml: String, key: String)] = [
        ("unknown key", "batch:\n  max_rowz: 10\n", "batch.max_rowz"),
        ("unknown section", "bogus:\n  x: 1\n", "bogus"),
        ("wrong type", "batch:\n  max_rows: lots\n", "batch.max_rows"),
        ("below minimum", "pipeline:\n  workers: 0\n", "pipeline.workers"),
        ("list expected", "features:\n  inputs: amount\n", "features.inputs"),
        ("bad input entry", "features:\n  inputs:\n    - amount\n    - {field: distance_km, clip: [10, 1]}\n", "features.inputs[1].clip"),
        ("unknown input key", "features:\n  inputs:\n    - {field: amount, lg1p: true}\n", "features.inputs[0].lg1p"),
        ("transform for another type", "features:\n  inputs:\n    - {field: amount, one_hot: {vocabulary: [a]}}\n", "features.inputs[0].one_hot"),
        ("timestamp without unit", "features:\n  inputs:\n    - {field: timestamp, type: timestamp, extract: hour_of_day}\n", "features.inputs[0].unit"),
        ("nesting limit too deep", "features:\n  max_depth: 100000\n", "features.max_depth"),
        ("bad path", "features:\n  inputs:\n    - {field: \"items[x].price\"}\n", "features.inputs[0].field"),
        ("invalid librdkafka property", "kafka:\n  consumer:\n    fetch.wait.max.ms: \"soon\"\n", "kafka.consumer.fetch.wait.max.ms"),
        ("metrics address without a port", "metrics:\n  listen: \"0.0.0.0\"\n", "metrics.listen"),
        ("unknown librdkafka property", "kafka:\n  producer:\n    no.such.property: \"1\"\n", "kafka.producer.no.such.property"),
        ("managed property", "kafka:\n  consumer:\n    enable.auto.offset.store: \"true\"\n", "kafka.consumer.enable.auto.offset.store"),
        ("missing model file", "model:\n  path: /nonexistent/model.json\n", "model.path"),
        ("resume level above capacity", "pipeline:\n  intake_capacity: 100\n  intake_resume_below: 200\n", "pipeline.intake_resume_below"),
        ("features do not match the model", "features:\n  inputs: [amount, distance_km]\n", "features.inputs"),
        ("feature names do not match the model", Self.swappedChannels, "input 10 is 'channel=pos' in the model but 'channel=ecom'"),
        ("threshold out of range", "model:\n  threshold: 2\n", "model.threshold"),
        ("cache tier too large", "cache:\n  local_capacity: 1000000000\n", "cache.local_capacity"),
        ("not YAML", "batch: [unclosed\n", "not valid YAML"),
        ("dead letters into the input", "topics:\n  input: tx\n  dead_letter: tx\n", "topics.dead_letter"),
        ("outputs into the input", "topics:\n  input: tx\n  output: tx\n", "topics.output"),
        ("dead letters into the outputs", "topics:\n  output: s\n  dead_letter: s\n", "topics.dead_letter"),
        ("instance id as a raw property", "kafka:\n  consumer:\n    group.instance.id: a\n", "kafka.instance_id"),
        ("poll interval below the drain", "kafka:\n  consumer:\n    max.poll.interval.ms: \"5000\"\n", "kafka.consumer.max.poll.interval.ms"),
        ("transactional id as a raw property", "kafka:\n  producer:\n    transactional.id: a\n", "kafka.producer.transactional.id"),
        ("unknown delivery mode", "delivery:\n  mode: exactly-once\n", "delivery.mode"),
        ("isolation level with exactly-once", "delivery:\n  mode: exactly_once\nkafka:\n  consumer:\n    isolation.level: read_uncommitted\n", "kafka.consumer.isolation.level"),
        ("auto commit with exactly-once", "delivery:\n  mode: exactly_once\nkafka:\n  consumer:\n    enable.auto.commit: \"true\"\n", "kafka.consumer.enable.auto.commit"),
        ("transactional id with exactly-once", "delivery:\n  mode: exactly_once\nkafka:\n  producer:\n    transactional.id: a\n", "kafka.producer.transactional.id"),
        ("transaction interval near the timeout", "delivery:\n  mode: exactly_once\n  transaction_interval_ms: 6000\n", "delivery.transaction_interval_ms"),
    ]

    /// The demo spec with the channel vocabulary in the wrong order: the right input count,
    /// the wrong names.
    static let swappedChannels = """
        features:
          inputs:
            - {field: amount, log1p: true}
            - {field: distance_km, log1p: true}
            - txn_last_hour
            - {field: card_age_days, log1p: true}
            - {field: country, type: string, one_hot: {vocabulary: [DE, FR, NL, ES, IT], other: true}}
            - {field: channel, type: string, one_hot: {vocabulary: [ecom, pos]}}
            - {field: timestamp, name: hour_of_day, type: timestamp, unit: epoch_ms, extract: hour_of_day}

        """

    /// What `run` would print for `yaml` after `streamscore: ` (nil: it would start).
    static func startupError(yaml: String, environment: [String: String] = [:]) throws -> String? {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("bad") + ".yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            var loader = try ConfigLoader(path: path, environment: environment)
            loader.set("kafka.bootstrap_servers", "127.0.0.1:1", flag: "--bootstrap")
            let settings = try Settings(loader)
            let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            _ = try RunCommand.pipeline(settings, idleExit: nil, logger: logger)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("Bad configuration is refused before anything connects, naming the key", arguments: cases.indices)
    func badConfiguration(_ index: Int) throws {
        let c = Self.cases[index]
        let message = try Self.startupError(yaml: c.yaml)
        #expect(message?.contains(c.key) == true, "\(c.name): the error must name \(c.key): \(message ?? "none")")
    }

    @Test("The binary exits 2 with the key on stderr, before starting", arguments: [0, 11, 15, 17, 27, 29])
    func badConfigurationExit(_ index: Int) throws {
        let c = Self.cases[index]
        let result = try run(yaml: c.yaml)
        #expect(result.status == 2, "\(c.name): status \(String(describing: result.status)), stderr: \(result.stderr)")
        #expect(result.stderr.contains(c.key), "\(c.name): stderr must name \(c.key): \(result.stderr)")
        #expect(!result.stderr.contains("pipeline started"), "\(c.name): must fail before starting")
    }

    @Test("An unreachable cluster at start-up: exit 1, and stderr names the address and what to check")
    func unreachable() throws {
        let worker = try WorkerProcess(["run", "--bootstrap", "127.0.0.1:1"])
        let status = worker.waitForExit(timeout: .seconds(60))
        #expect(status == 1)
        let final = worker.stderr.split(separator: "\n").last { $0.hasPrefix("streamscore: ") } ?? ""
        #expect(final.contains("127.0.0.1:1"), "\(final)")
        #expect(final.contains("check kafka.bootstrap_servers"), "\(final)")
        #expect(!worker.stdout.contains("streamscore:"), "errors go to stderr")
    }

    @Test("Environment variables override the file, and an unknown STREAMSCORE_ variable is an error")
    func environment() throws {
        let wrong = try Self.startupError(yaml: "", environment: ["STREAMSCORE_BATCH_MAX_ROWS": "many"]) ?? ""
        #expect(wrong.contains("batch.max_rows") && wrong.contains("environment STREAMSCORE_BATCH_MAX_ROWS"), "\(wrong)")
        let unknown = try Self.startupError(yaml: "", environment: ["STREAMSCORE_NOPE": "1"]) ?? ""
        #expect(unknown.contains("STREAMSCORE_NOPE"), "\(unknown)")
        let redis = try Self.startupError(yaml: "", environment: ["STREAMSCORE_REDIS_URL": "redis://:hunter2@cache:99999"]) ?? ""
        #expect(redis.contains("cache.redis_url") && redis.contains("environment STREAMSCORE_REDIS_URL"), "\(redis)")
        #expect(redis.contains("redis://:***@cache:99999") && !redis.contains("hunter2"), "the password stays hidden: \(redis)")
        // And through the real binary's environment.
        let process = try run(yaml: "", environment: ["STREAMSCORE_NOPE": "1"])
        #expect(process.status == 2 && process.stderr.contains("STREAMSCORE_NOPE"), "\(process.stderr)")
    }

    @Test("A bad model file names the field at fault")
    func badModelFile() throws {
        let model = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("model") + ".json").path
        try #"{"format_version": 1, "kind": "logistic", "name": "m", "version": "1", "weights": [1, 2, "x", 4], "bias": 0}"#
            .write(toFile: model, atomically: true, encoding: .utf8)
        let message = try Self.startupError(yaml: "model:\n  path: \(model)\n") ?? ""
        #expect(message.contains("weights[2]"), "\(message)")
    }
}
