import Foundation
import KafkaBridge
import Pipeline
import Testing
import Workload

/// The real binary as users run it: `streamscore broker` and `streamscore run` processes,
/// killed, stopped and restarted.
@Suite("Worker processes", .serialized)
struct WorkerProcessTests {
    struct Topics {
        let input = uniqueName("in")
        let output = uniqueName("out")
        let deadLetter = uniqueName("dlq")
        let group = uniqueName("group")
        var all: [String] { [input, output, deadLetter] }
    }

    /// A broker process with 20,000 events preloaded over 4 partitions, and a worker config
    /// with small queues and batches, so a stop lands while plenty is in flight.
    struct Loaded {
        let topics = Topics()
        let broker: BrokerProcess
        let reader: TopicReader
        let written: [EventWriter.Written]
        let config: String

        init(seed: UInt64) throws {
            broker = try BrokerProcess(partitions: 4, topics: topics.all)
            reader = TopicReader(bootstrap: broker.bootstrap)
            written = try EventWriter(bootstrap: broker.bootstrap)
                .write(20_000, to: topics.input, generator: TransactionGenerator(seed: seed, keys: 2_000))
            config = try writeWorkerConfig(
                input: topics.input, output: topics.output, deadLetter: topics.deadLetter, group: topics.group,
                extra: "batch:\n  max_rows: 32\npipeline:\n  intake_capacity: 500\n  intake_resume_below: 200\n  poll_batch: 100")
        }

        /// Starts a worker and waits until it has written `outputs` outputs.
        func busyWorker(outputs: Int64) throws -> WorkerProcess {
            let worker = try WorkerProcess(["run", "--config", config, "--bootstrap", broker.bootstrap])
            let busy = eventually(timeout: .seconds(60)) { (try? reader.count(topics.output, partitions: 4)) ?? 0 >= outputs }
            try #require(busy, "worker produced no outputs: \(worker.stderr)")
            return worker
        }
    }

    /// Every input offset, grouped by partition, that has at least one output; and how many.
    func outputsBySource(_ reader: TopicReader, _ topics: Topics, partitions: Int) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for record in try reader.readAll(topics.output, partitions: partitions) {
            let source = try #require(record.source)
            counts["\(source.partition)/\(source.offset)", default: 0] += 1
        }
        return counts
    }

    @Test("SIGKILL mid-stream and restart: every input has an output; duplicates only after the last commit")
    func killAndRestart() throws {
        let loaded = try Loaded(seed: 21)
        let (topics, broker, reader, written, config) = (loaded.topics, loaded.broker, loaded.reader, loaded.written, loaded.config)
        let first = try loaded.busyWorker(outputs: 3_000)
        first.signal(SIGKILL)
        #expect(first.waitForExit(timeout: .seconds(10)) != 0)
        let committedAtKill = try reader.committed(group: topics.group, topic: topics.input, partitions: 4)
        let outputsAtKill = try reader.count(topics.output, partitions: 4)
        #expect(outputsAtKill < 20_000, "the kill must land mid-stream")

        let second = try WorkerProcess(["run", "--config", config, "--bootstrap", broker.bootstrap, "--idle-exit", "2"])
        try #require(second.waitForExit(timeout: .seconds(120)) == 0, "restarted worker: \(second.stderr)")

        let counts = try outputsBySource(reader, topics, partitions: 4)
        for input in written {
            let key = "\(input.partition)/\(input.offset)"
            let n = counts[key, default: 0]
            try #require(n >= 1, "input \(key) has no output")
            if n > 1 {
                #expect(input.offset >= committedAtKill[input.partition, default: 0], "duplicate of \(key) before the committed offset")
            }
        }
        #expect(counts.count == 20_000)
        #expect(try reader.committed(group: topics.group, topic: topics.input, partitions: 4)
            == reader.endOffsets(topics.input, partitions: 4))
    }

    @Test("Two workers in one group split the partitions; stopping one hands them to the other")
    func twoWorkersOneGroup() throws {
        let topics = Topics()
        let broker = try BrokerProcess(partitions: 6, topics: topics.all)
        let reader = TopicReader(bootstrap: broker.bootstrap)
        let writer = EventWriter(bootstrap: broker.bootstrap)
        var written = try writer.write(6_000, to: topics.input, generator: TransactionGenerator(seed: 31, keys: 3_000))
        let config = try writeWorkerConfig(input: topics.input, output: topics.output, deadLetter: topics.deadLetter, group: topics.group)

        let a = try WorkerProcess(["run", "--config", config, "--bootstrap", broker.bootstrap], name: "a")
        let b = try WorkerProcess(["run", "--config", config, "--bootstrap", broker.bootstrap], name: "b")
        let split = eventually(timeout: .seconds(60)) {
            !Self.assigned(a.stderr).isEmpty && !Self.assigned(b.stderr).isEmpty
        }
        try #require(split, "both workers must get partitions:\nA: \(a.stderr)\nB: \(b.stderr)")
        let fromA = Self.assigned(a.stderr)
        let fromB = Self.assigned(b.stderr)
        #expect(fromA.isDisjoint(with: fromB))
        #expect(fromA.union(fromB).count == 6)

        a.signal(SIGTERM)
        try #require(a.waitForExit(timeout: .seconds(60)) == 0, "A: \(a.stderr)")
        let takenOver = eventually(timeout: .seconds(60)) { Self.assigned(b.stderr).count == 6 }
        #expect(takenOver, "B must take over A's partitions: \(b.stderr)")
        written += try writer.write(3_000, to: topics.input, generator: TransactionGenerator(seed: 32, keys: 3_000))
        let caughtUp = eventually(timeout: .seconds(120)) {
            (try? reader.count(topics.output, partitions: 6)) ?? 0 >= Int64(written.count)
        }
        #expect(caughtUp, "B: \(b.stderr)")
        b.signal(SIGTERM)
        try #require(b.waitForExit(timeout: .seconds(60)) == 0, "B: \(b.stderr)")

        let counts = try outputsBySource(reader, topics, partitions: 6)
        for input in written {
            try #require(counts["\(input.partition)/\(input.offset)", default: 0] >= 1, "input \(input.partition)/\(input.offset) has no output")
        }
    }

    /// Partitions a worker was ever assigned, from its info log.
    static func assigned(_ log: String) -> Set<String> {
        var result = Set<String>()
        let entry = /[A-Za-z0-9._-]+\[\d+\]/
        for line in log.split(separator: "\n") where line.contains("partitions assigned") {
            guard let list = line.split(separator: "partitions=").last else { continue }
            for match in list.matches(of: entry) { result.insert(String(match.output)) }
        }
        return result
    }

    @Test("SIGTERM under load: exit 0, and every output written has its input offset committed")
    func gracefulStop() throws {
        let loaded = try Loaded(seed: 41)
        let (topics, reader) = (loaded.topics, loaded.reader)
        let worker = try loaded.busyWorker(outputs: 2_000)
        worker.signal(SIGTERM)
        try #require(worker.waitForExit(timeout: .seconds(40)) == 0, "worker: \(worker.stderr)")

        let committed = try reader.committed(group: topics.group, topic: topics.input, partitions: 4)
        let outputs = try reader.readAll(topics.output, partitions: 4)
        #expect(outputs.count < 20_000, "the stop must land mid-stream")
        for record in outputs {
            let source = try #require(record.source)
            #expect(source.offset < committed[source.partition, default: -1], "output for \(source.partition)/\(source.offset) not committed")
        }
        // And nothing committed lacks an output: committed offsets cover exactly the outputs.
        let produced = Dictionary(grouping: outputs, by: { $0.source!.partition }).mapValues { $0.map { $0.source!.offset }.max()! + 1 }
        for (partition, next) in committed where next > 0 {
            #expect(produced[partition] == next, "partition \(partition): committed \(next), outputs up to \(produced[partition] ?? 0)")
        }
    }
}
