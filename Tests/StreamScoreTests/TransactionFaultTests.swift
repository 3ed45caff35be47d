import Foundation
import KafkaBridge
import Testing
import Workload

/// Exactly-once's client-side error paths, with errors injected on the transactional
/// requests of librdkafka's mock cluster (which speaks the transaction protocol but keeps
/// no transaction semantics: aborted records stay visible, sent offsets are dropped).
@Suite("Transaction faults (mock cluster)", .serialized)
struct TransactionFaultTests {
    struct Bed {
        let cluster: MockCluster
        let input = uniqueName("in")
        let output = uniqueName("out")
        let deadLetter = uniqueName("dlq")
        let config: String
        let written: [EventWriter.Written]

        init(events: Int) throws {
            cluster = try MockCluster(brokers: 1)
            for topic in [input, output, deadLetter] { try cluster.createTopic(topic, partitions: 4) }
            written = try EventWriter(bootstrap: cluster.bootstrapServers)
                .write(events, to: input, generator: TransactionGenerator(seed: 41, malformedRatio: 0.01))
            config = try writeWorkerConfig(
                input: input, output: output, deadLetter: deadLetter, group: uniqueName("group"),
                extra: "delivery:\n  mode: exactly_once\ncache:\n  mode: bypass")
        }

        func worker() throws -> WorkerProcess {
            try WorkerProcess(["run", "--config", config, "--bootstrap", cluster.bootstrapServers, "--instance", "w0"])
        }

        /// Input (partition, offset)s without an output or dead letter yet.
        func unscored() throws -> Set<String> {
            let reader = TopicReader(bootstrap: cluster.bootstrapServers)
            var seen = Set<String>()
            for topic in [output, deadLetter] {
                for record in try reader.readAll(topic, partitions: 4, timeout: .seconds(10)) {
                    if let source = record.source { seen.insert("\(source.partition)/\(source.offset)") }
                }
            }
            return Set(written.map { "\($0.partition)/\($0.offset)" }).subtracting(seen)
        }
    }

    @Test("Abortable errors (ILLEGAL_GENERATION on TxnOffsetCommit, TOPIC_AUTHORIZATION_FAILED on AddPartitionsToTxn): abort, rewind, go on; every input scored")
    func abortAndRewind() throws {
        let bed = try Bed(events: 2_000)
        // TxnOffsetCommit (28): ILLEGAL_GENERATION (22), a commit from a stale generation.
        bed.cluster.failNextRequests(apiKey: 28, count: 2, code: 22)
        let worker = try bed.worker()
        defer { worker.terminate() }
        #expect(eventually(timeout: .seconds(60)) { worker.stderr.components(separatedBy: "rewound to the last committed offsets").count > 2 },
                "two aborts, two rewinds: \(worker.stderr.suffix(3000))")
        #expect(worker.stderr.contains("transaction aborted"))
        // AddPartitionsToTxn (24): TOPIC_AUTHORIZATION_FAILED (29), abortable too.
        bed.cluster.failNextRequests(apiKey: 24, count: 1, code: 29)
        _ = try EventWriter(bootstrap: bed.cluster.bootstrapServers).write(200, to: bed.input, generator: TransactionGenerator(seed: 42))
        #expect(eventually(timeout: .seconds(60)) { worker.stderr.components(separatedBy: "rewound to the last committed offsets").count > 3 },
                "\(worker.stderr.suffix(3000))")
        let all = try #require(eventually(timeout: .seconds(60)) { (try? bed.unscored().isEmpty) ?? false } ? true : nil,
                               "inputs left unscored after the aborts: \(worker.stderr.suffix(2000))")
        #expect(all)
        #expect(worker.process.isRunning, "aborts do not stop the worker")
        worker.signal(SIGTERM)
        #expect(worker.waitForExit(timeout: .seconds(30)) == 0, "\(worker.stderr.suffix(2000))")
    }

    @Test("A fatal error (PRODUCER_FENCED on EndTxn): the worker stops with exit 1 and says it was fenced")
    func fatalStops() throws {
        let bed = try Bed(events: 500)
        // EndTxn (26): PRODUCER_FENCED (90).
        bed.cluster.failNextRequests(apiKey: 26, count: 1, code: 90)
        let worker = try bed.worker()
        defer { worker.terminate() }
        #expect(worker.waitForExit(timeout: .seconds(60)) == 1, "\(worker.stderr.suffix(3000))")
        #expect(worker.stderr.contains("fenced"), "\(worker.stderr.suffix(3000))")
    }
}
