import Foundation
import Inference
import KafkaBridge
import Pipeline
import Testing
import Workload

/// Records that used to stop the stage: one too large to dead-letter whole, a dead letter
/// the broker refuses, a tombstone; and the headers a record carries through.
@Suite("Poison records", .serialized)
struct PoisonRecordTests {
    /// Sends raw records (values, tombstones, headers) and waits for every acknowledgement.
    func send(_ records: [OutgoingRecord], bootstrap: String) throws {
        let producer = try KafkaProducer(
            config: KafkaConfig(["bootstrap.servers": bootstrap, "linger.ms": "5", "log_level": "3", "message.max.bytes": "2000000"]),
            onDelivery: { #expect($0.error == nil) })
        for (i, record) in records.enumerated() { try producer.send(record, token: UInt64(i + 1)) }
        #expect(producer.flush(timeout: .seconds(60)))
        producer.close()
    }

    func normal(_ count: Int, topic: String) -> [OutgoingRecord] {
        var generator = TransactionGenerator(seed: 5, keys: 50)
        return (0..<count).map { _ in
            let event = generator.next(timestamp: Int64(Date().timeIntervalSince1970 * 1000))
            return OutgoingRecord(topic: topic, partition: 0, key: event.key, value: event.value)
        }
    }

    @Test("A malformed event of 999,800 bytes is dead-lettered cut to fit, and the 100 events after it are scored")
    func oversizedPoison() throws {
        let setup = try PipelineTests.Setup(partitions: 1)
        let poison = [UInt8](repeating: UInt8(ascii: "x"), count: 999_800)
        let trace = KafkaHeader("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        try send(
            [OutgoingRecord(topic: setup.input, partition: 0, key: Array("k".utf8), value: poison, headers: [KafkaHeader("origin", "pos-7")]),
             OutgoingRecord(topic: setup.input, partition: 0, key: Array("gone".utf8), value: [], isTombstone: true)]
                + normal(100, topic: setup.input).map { var r = $0; r.headers = [trace, KafkaHeader("x-private", "no")]; return r },
            bootstrap: setup.bootstrap)
        let pipeline = try setup.pipeline(model: try ModelLoader.load(path: PipelineTests.modelPath))
        try pipeline.start()
        guard case .stopped? = PipelineTests().drain(pipeline, count: 102) else {
            Issue.record("the worker must not stop on an oversized poison record: \(String(describing: pipeline.outcome))")
            return
        }
        let outputs = try setup.reader.readAll(setup.output, partitions: 1)
        #expect(outputs.count == 100)
        #expect(outputs.allSatisfy { $0.header("traceparent") == trace }, "trace context is forwarded")
        #expect(outputs.allSatisfy { $0.header("x-private") == nil }, "only the allow-listed headers are")
        let letters = try setup.reader.readAll(setup.deadLetter, partitions: 1)
        #expect(letters.count == 2)
        let cut = try #require(letters.first { $0.source?.offset == 0 })
        #expect(cut.text(Header.errorReason) == "malformed_json")
        #expect(cut.text(Header.originalValueSize) == "999800")
        #expect(cut.text(Header.deadLetterTruncated) == "value")
        #expect(cut.value.count > 990_000 && poison.starts(with: cut.value))
        #expect(cut.header("origin")?.text == "pos-7", "the original's headers are carried")
        let tombstone = try #require(letters.first { $0.source?.offset == 1 })
        #expect(tombstone.isTombstone, "a tombstone stays null")
        #expect(tombstone.text(Header.errorReason) == "tombstone")
        #expect(pipeline.stats.deadLettersTruncated.load(ordering: .relaxed) == 1)
        #expect(try setup.reader.committed(group: setup.group, topic: setup.input, partitions: 1) == [0: 102])
    }

    @Test("A dead letter the broker refuses for its content is counted and dropped; the stage goes on")
    func refusedDeadLetter() throws {
        let setup = try PipelineTests.Setup(partitions: 1)
        try send([OutgoingRecord(topic: setup.input, partition: 0, key: nil, value: Array("{not json".utf8))], bootstrap: setup.bootstrap)
        let pipeline = try setup.pipeline(model: try ModelLoader.load(path: PipelineTests.modelPath))
        // The next Produce request (the dead letter's, the only record in flight) is refused.
        setup.cluster.failNextRequests(apiKey: 0, count: 1, code: 10)  // MESSAGE_TOO_LARGE
        try pipeline.start()
        #expect(eventually { pipeline.stats.droppedDeadLettersByReason["msg_size_too_large"] == 1 })
        try send(normal(100, topic: setup.input), bootstrap: setup.bootstrap)
        guard case .stopped? = PipelineTests().drain(pipeline, count: 100) else {
            Issue.record("a refused dead letter must not stop the worker: \(String(describing: pipeline.outcome))")
            return
        }
        #expect(try setup.reader.readAll(setup.output, partitions: 1).count == 100)
        #expect(try setup.reader.committed(group: setup.group, topic: setup.input, partitions: 1) == [0: 101])
    }
}
