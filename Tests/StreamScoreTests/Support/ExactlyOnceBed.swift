import Foundation
import KafkaBridge
import Pipeline
import Testing

/// A noida-db broker with an 8-partition input, output and dead-letter topic, a worker
/// configuration for them, and readers that count what each isolation level sees.
final class ExactlyOnceBed {
    let broker: NoidaBroker
    let (input, output, deadLetter) = ("payments", "payments.scores", "payments.dlq")
    let group = uniqueName("fraud")
    let partitions = 8
    let config: String

    init(delivery: String, extra: String = "") throws {
        broker = try NoidaBroker()
        let admin = try KafkaAdmin(config: KafkaConfig(["bootstrap.servers": broker.bootstrap, "log_level": "3"].merging(NoidaBroker.clientProperties) { $1 }))
        for topic in [input, output, deadLetter] { try admin.createTopic(topic, partitions: partitions, timeout: .seconds(20)) }
        config = broker.dataDirectory.appendingPathComponent("worker.yaml").path
        try """
            kafka:
              group_id: \(group)
              consumer: {receive.message.max.bytes: "200000000", session.timeout.ms: "6000", heartbeat.interval.ms: "500"}
              producer: {receive.message.max.bytes: "200000000"}
            topics: {input: \(input), output: \(output), dead_letter: \(deadLetter)}
            delivery: {mode: \(delivery)}
            cache: {mode: bypass}
            commit: {interval_ms: 1000}
            shutdown: {timeout_ms: 20000}
            \(extra)
            """.write(toFile: config, atomically: true, encoding: .utf8)
    }

    /// `streamscore produce` into the input (1% malformed), at `rate` events/s (nil: at once).
    func produce(_ count: Int, rate: Int? = nil, seed: Int = 21) throws -> WorkerProcess {
        try WorkerProcess(
            ["produce", "--bootstrap", broker.bootstrap, "--topic", input, "--count", "\(count)", "--malformed-ratio", "0.01",
             "--seed", "\(seed)", "-X", "receive.message.max.bytes=200000000"] + (rate.map { ["--rate", "\($0)"] } ?? []))
    }

    func worker(instance: String, _ more: [String] = [], environment: [String: String] = [:]) throws -> WorkerProcess {
        try WorkerProcess(
            ["run", "--config", config, "--bootstrap", broker.bootstrap, "--instance", instance, "--log-level", "info"] + more,
            environment: environment)
    }

    /// How many outputs and dead letters each input (partition, offset) has, as a reader
    /// with this isolation level sees the two topics (read to their ends).
    func sources(isolation: String) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for topic in [output, deadLetter] {
            let consumer = try KafkaConsumer(config: KafkaConfig([
                "bootstrap.servers": broker.bootstrap, "group.id": uniqueName("witness"), "enable.auto.commit": "false",
                "isolation.level": isolation, "log_level": "3",
            ].merging(NoidaBroker.clientProperties) { $1 }))
            defer { consumer.close() }
            try consumer.assign(Dictionary(uniqueKeysWithValues: (0..<Int32(partitions)).map { (TopicPartition(topic, $0), KafkaConsumer.beginning) }))
            // Aborted records and transaction markers are never handed over, so the end is
            // "nothing new for a while", not a count.
            var quiet = ContinuousClock.now
            while ContinuousClock.now - quiet < .seconds(3) {
                let records = consumer.poll(maxRecords: 1000, timeout: .milliseconds(200))
                if !records.isEmpty { quiet = .now }
                for record in records {
                    let source = try #require(record.source, "a record without source headers in \(topic)")
                    counts["\(source.partition)/\(source.offset)", default: 0] += 1
                }
            }
        }
        return counts
    }

    /// Expects a read_committed reader to see one output or dead letter for every input
    /// and nothing else; returns what it saw.
    @discardableResult
    func expectExactlyOnce(_ inputs: Set<String>, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Int] {
        let committed = try sources(isolation: "read_committed")
        let lost = inputs.subtracting(committed.keys)
        let duplicated = committed.filter { $0.value > 1 }.keys
        let foreign = Set(committed.keys).subtracting(inputs)
        #expect(lost.isEmpty, "\(lost.count) inputs without an output, e.g. \(lost.sorted().prefix(5))", sourceLocation: sourceLocation)
        #expect(duplicated.isEmpty, "\(duplicated.count) inputs with more than one output, e.g. \(duplicated.sorted().prefix(5))", sourceLocation: sourceLocation)
        #expect(foreign.isEmpty, "\(foreign.count) outputs of no input, e.g. \(foreign.sorted().prefix(5))", sourceLocation: sourceLocation)
        return committed
    }

    /// Every input (partition, offset).
    func inputs() throws -> Set<String> {
        let reader = TopicReader(bootstrap: broker.bootstrap, properties: NoidaBroker.clientProperties)
        let ends = try reader.endOffsets(input, partitions: partitions)
        return Set(ends.flatMap { partition, end in (0..<end).map { "\(partition)/\($0)" } })
    }

    /// Kills `worker` with SIGKILL `kills` times at random moments (0.3 to 1.5 s after each
    /// start, or after it was given partitions, waiting 30 s at most, when `whileAssigned`) while the producer
    /// writes, restarting it each time.
    func killRepeatedly(_ kills: Int, instance: String, whileAssigned: Bool = false) throws -> Int {
        var done = 0
        for _ in 0..<kills {
            let worker = try worker(instance: instance)
            // noida-db can take long to finish a cooperative rebalance for a newcomer (the
            // first one waited more than 30 s): kill it then anyway.
            if whileAssigned { _ = eventually(timeout: .seconds(30)) { Self.hasPartitions(worker) } }
            Thread.sleep(forTimeInterval: Double.random(in: 0.3...1.5))
            #expect(worker.process.isRunning, "the worker stopped by itself: \(worker.stderr.suffix(2000))")
            worker.signal(SIGKILL)
            _ = worker.waitForExit(timeout: .seconds(10))
            done += 1
        }
        return done
    }

    /// Whether the worker has logged an assignment of some partitions.
    static func hasPartitions(_ worker: WorkerProcess) -> Bool {
        worker.stderr.split(separator: "\n").contains { $0.contains("partitions assigned") && $0.contains("[payments[") }
    }

    /// Runs a worker until it has been idle 4 s (everything consumed), and returns it.
    func finish(instance: String) throws -> WorkerProcess {
        let last = try worker(instance: instance, ["--idle-exit", "4"])
        #expect(last.waitForExit(timeout: .seconds(120)) == 0, "\(last.stderr.suffix(3000))")
        return last
    }
}
