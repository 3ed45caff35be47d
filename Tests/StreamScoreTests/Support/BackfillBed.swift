import Foundation
import KafkaBridge
import Pipeline
import Testing
import Workload

/// A history to backfill: a mock cluster with an input topic of generated events (some
/// malformed), a worker configuration, and helpers to run `streamscore backfill` and
/// `compare` on it and to count what they wrote by source offset.
final class BackfillBed {
    let cluster: MockCluster
    let input = uniqueName("tx")
    let deadLetter = uniqueName("dlq")
    let partitions: Int
    let reader: TopicReader
    let config: String
    let directory: URL
    /// Each partition's end offset after the history was written.
    let ends: [Int32: Int64]
    /// Records in the whole history.
    var total: Int64 { ends.values.reduce(0, +) }

    init(partitions: Int = 3, events: Int, seed: UInt64, malformedRatio: Double = 0.02, outputs: [String] = []) throws {
        self.partitions = partitions
        cluster = try MockCluster(brokers: 1)
        for topic in [input, deadLetter] + outputs { try cluster.createTopic(topic, partitions: partitions) }
        reader = TopicReader(bootstrap: cluster.bootstrapServers)
        let written = try EventWriter(bootstrap: cluster.bootstrapServers)
            .write(events, to: input, generator: TransactionGenerator(seed: seed, keys: 500, malformedRatio: malformedRatio))
        ends = Dictionary(grouping: written, by: \.partition).mapValues { Int64($0.count) }
        config = try writeWorkerConfig(input: input, output: uniqueName("live"), deadLetter: deadLetter, group: uniqueName("live-group"))
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("backfill"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func checkpointPath(_ name: String) -> String { directory.appendingPathComponent(name + ".json").path }

    /// Starts `streamscore backfill` on the bed's input (no cache; `--log-level warning`).
    func start(_ arguments: [String], environment: [String: String] = [:]) throws -> WorkerProcess {
        try WorkerProcess(
            ["backfill", "--config", config, "--bootstrap", cluster.bootstrapServers, "--log-level", "warning"] + arguments,
            environment: environment)
    }

    /// Runs a backfill to its end: its exit status, stdout and stderr.
    func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(120)) throws -> (status: Int32?, stdout: String, stderr: String) {
        let process = try start(arguments, environment: environment)
        let status = process.waitForExit(timeout: timeout)
        return (status, process.stdout, process.stderr)
    }

    /// `streamscore compare` of two topics.
    func compare(_ left: String, _ right: String, _ extra: [String] = []) throws -> (status: Int32?, stdout: String, stderr: String) {
        let process = try WorkerProcess(["compare", "--bootstrap", cluster.bootstrapServers, "--left", left, "--right", right] + extra)
        let status = process.waitForExit(timeout: .seconds(60))
        return (status, process.stdout, process.stderr)
    }

    /// Every record of a topic.
    func records(_ topic: String) throws -> [KafkaRecord] {
        try reader.readAll(topic, partitions: partitions)
    }

    /// How many outputs (of `output`) and dead letters of the run name each source offset,
    /// as "partition/offset". Every output must carry the run id.
    func sources(_ output: String, run: String) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        let outputs = try records(output)
        for record in outputs { #expect(record.text(Header.backfillRun) == run, "an output of another run in \(output)") }
        for record in try outputs + records(deadLetter).filter({ $0.text(Header.backfillRun) == run }) {
            let source = try #require(record.source, "a record without source headers in \(record.topic)")
            counts["\(source.partition)/\(source.offset)", default: 0] += 1
        }
        return counts
    }

    /// Every source offset of `[from, to)` per partition, as "partition/offset".
    static func offsets(_ ranges: [Int32: Range<Int64>]) -> Set<String> {
        Set(ranges.flatMap { p, range in range.map { "\(p)/\($0)" } })
    }

    /// The checkpoint file, parsed.
    func checkpoint(_ path: String) throws -> BackfillCheckpoint {
        try BackfillCheckpoint.load(path: path)
    }
}
