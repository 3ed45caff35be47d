import Foundation
import Inference
import KafkaBridge
import Pipeline
import Testing
import Workload

/// What happens when the output side cannot keep up or refuses records.
@Suite("Delivery", .serialized)
struct DeliveryTests {
    @Test("A full producer queue slows scoring down and drops nothing")
    func fullQueue() throws {
        let setup = try PipelineTests.Setup(partitions: 4)
        _ = try EventWriter(bootstrap: setup.bootstrap).write(5_000, to: setup.input, generator: TransactionGenerator(seed: 5))
        let pipeline = try setup.pipeline(model: try ModelLoader.load(path: PipelineTests.modelPath)) { c in
            c.producerProperties["queue.buffering.max.messages"] = "50"
            c.producerProperties["linger.ms"] = "20"
        }
        try pipeline.start()
        let done = eventually(timeout: .seconds(120)) { pipeline.stats.outputsAcknowledged.load(ordering: .relaxed) >= 5_000 }
        #expect(done)
        pipeline.requestStop()
        guard case .stopped? = pipeline.waitForOutcome(until: .now + .seconds(60)) else {
            Issue.record("pipeline did not stop cleanly")
            return
        }
        #expect(pipeline.producerQueueFullWaits > 0, "the queue must actually have been full")
        #expect(try setup.reader.count(setup.output, partitions: 4) == 5_000)
        let ends = try setup.reader.endOffsets(setup.input, partitions: 4)
        #expect(try setup.reader.committed(group: setup.group, topic: setup.input, partitions: 4) == ends)
    }

    @Test("A delivery the broker refuses stops the worker with the error; its offset is never committed")
    func refusedDelivery() throws {
        let setup = try PipelineTests.Setup(partitions: 2)
        _ = try EventWriter(bootstrap: setup.bootstrap).write(2_000, to: setup.input, generator: TransactionGenerator(seed: 6))
        let pipeline = try setup.pipeline(model: try ModelLoader.load(path: PipelineTests.modelPath)) { c in
            c.batchMaxRows = 100
            c.producerProperties["linger.ms"] = "0"
        }
        // The broker refuses the worker's first produce requests with
        // TOPIC_AUTHORIZATION_FAILED (29): not retriable, so librdkafka reports it.
        setup.cluster.failNextRequests(apiKey: 0, count: 3, code: 29)
        try pipeline.start()
        let outcome = pipeline.waitForOutcome(until: .now + .seconds(60))
        guard case .failed(let error)? = outcome else {
            Issue.record("expected a failure, got \(String(describing: outcome))")
            return
        }
        #expect("\(error)".contains("delivery to"), "\(error)")
        #expect(pipeline.stats.deliveryFailures.load(ordering: .relaxed) > 0)

        // Every committed offset is covered by an acknowledged output; the refused record
        // and everything after it in its partition stay uncommitted.
        let committed = try setup.reader.committed(group: setup.group, topic: setup.input, partitions: 2)
        let ends = try setup.reader.endOffsets(setup.input, partitions: 2)
        let outputs = try setup.reader.readAll(setup.output, partitions: 2)
        var covered: [Int32: Set<Int64>] = [:]
        for record in outputs { covered[record.source!.partition, default: []].insert(record.source!.offset) }
        var behind = 0
        for (partition, next) in committed where next > 0 {
            for offset in 0..<next { #expect(covered[partition]?.contains(offset) == true, "\(partition)/\(offset) committed without output") }
            if next < ends[partition]! { behind += 1 }
        }
        #expect(behind > 0 || committed.values.allSatisfy { $0 < 0 }, "a partition with a refused record must not be committed to its end")
        #expect(outputs.count < 2_000)
    }
}
