import Foundation
import Inference
import KafkaBridge
import Pipeline
import Synchronization
import Testing
import Workload

/// Client events that used to stop or stall the stage, in process on the mock cluster,
/// with every input offset accounted for through the outputs' source headers.
@Suite("Faults", .serialized)
struct FaultTests {
    /// Input offsets (partition → offsets) that no output or dead letter names, and how many
    /// outputs named an offset already named (at-least-once duplicates).
    func account(_ setup: PipelineTests.Setup) throws -> (lost: [Int32: [Int64]], duplicated: Int) {
        let ends = try setup.reader.endOffsets(setup.input, partitions: setup.partitions)
        var seen: [Int32: [Int64: Int]] = [:]
        for record in try setup.reader.readAll(setup.output, partitions: setup.partitions)
            + setup.reader.readAll(setup.deadLetter, partitions: setup.partitions) {
            guard let source = record.source else { continue }
            seen[source.partition, default: [:]][source.offset, default: 0] += 1
        }
        var lost: [Int32: [Int64]] = [:]
        for (p, end) in ends {
            let missing = (0..<end).filter { seen[p]?[$0] == nil }
            if !missing.isEmpty { lost[p] = missing }
        }
        let duplicated = seen.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1 - 1 } }
        return (lost, duplicated)
    }

    @Test("OFFSET_OUT_OF_RANGE while outputs are in flight: the partition rewinds, the worker goes on, nothing is lost")
    func rewind() throws {
        let setup = try PipelineTests.Setup(partitions: 1)
        _ = try EventWriter(bootstrap: setup.bootstrap).write(3_000, to: setup.input, generator: TransactionGenerator(seed: 21))
        // Slow enough that records are in flight when the reset lands.
        let model = InstrumentedModel(try ModelLoader.load(path: PipelineTests.modelPath), delay: 0.01)
        let pipeline = try setup.pipeline(model: model) { c in
            c.batchMaxRows = 50
            c.consumerProperties["auto.offset.reset"] = "earliest"
        }
        try pipeline.start()
        #expect(eventually { pipeline.stats.outputsAcknowledged.load(ordering: .relaxed) >= 200 })
        // Produce replies held back 3 s (deliveries stay in flight), then one Fetch answered
        // OFFSET_OUT_OF_RANGE: librdkafka resets the position to the earliest offset.
        setup.cluster.setRoundTrip(broker: 1, milliseconds: 3_000)
        setup.cluster.failNextRequests(apiKey: 1, count: 1, code: 1)
        #expect(eventually(timeout: .seconds(60)) { pipeline.stats.rewinds.load(ordering: .relaxed) >= 1 }, "the fault must have rewound the partition")
        setup.cluster.setRoundTrip(broker: 1, milliseconds: 0)
        #expect(eventually(timeout: .seconds(120)) { (try? account(setup).lost.isEmpty) ?? false })
        pipeline.requestStop()
        guard case .stopped? = pipeline.waitForOutcome(until: .now + .seconds(60)) else {
            Issue.record("the worker must survive a rewind: \(String(describing: pipeline.outcome))")
            return
        }
        let (lost, _) = try account(setup)
        #expect(lost.isEmpty, "lost: \(lost.mapValues(\.count))")
    }

    @Test("Pause/resume churn and rebalances (a tiny intake, a slow model, a second worker joining and leaving): every offset scored")
    func pauseResumeChurn() throws {
        let setup = try PipelineTests.Setup(partitions: 8)
        _ = try EventWriter(bootstrap: setup.bootstrap).write(3_000, to: setup.input, generator: TransactionGenerator(seed: 33, keys: 500))
        func churning(_ c: inout PipelineConfiguration) {
            c.intakeCapacity = 64
            c.intakeResumeBelow = 16
            c.pauseAfter = .zero
            c.pollBatch = 32
            c.chunkRecords = 8
            c.batchMaxRows = 16
        }
        let model = try ModelLoader.load(path: PipelineTests.modelPath)
        let first = try setup.pipeline(model: InstrumentedModel(model, delay: 0.002), churning)
        try first.start()
        #expect(eventually { first.stats.outputsAcknowledged.load(ordering: .relaxed) >= 300 })
        let second = try setup.pipeline(model: InstrumentedModel(model, delay: 0.002), churning)
        try second.start()
        #expect(eventually { second.stats.outputsAcknowledged.load(ordering: .relaxed) >= 200 })
        second.requestStop()
        guard case .stopped? = second.waitForOutcome(until: .now + .seconds(60)) else {
            Issue.record("the second worker did not stop cleanly: \(String(describing: second.outcome))")
            return
        }
        #expect(eventually(timeout: .seconds(180)) { (try? account(setup).lost.isEmpty) ?? false })
        first.requestStop()
        guard case .stopped? = first.waitForOutcome(until: .now + .seconds(60)) else {
            Issue.record("the first worker did not stop cleanly: \(String(describing: first.outcome))")
            return
        }
        let pauses = first.stats.pauses.load(ordering: .relaxed) + second.stats.pauses.load(ordering: .relaxed)
        #expect(pauses >= 10, "the intake must have churned (paused \(pauses) times)")
        #expect(first.stats.revocations.load(ordering: .relaxed) >= 1, "a rebalance must have happened")
        let (lost, _) = try account(setup)
        #expect(lost.isEmpty, "lost: \(lost.mapValues(\.count))")
        let ends = try setup.reader.endOffsets(setup.input, partitions: 8)
        #expect(try setup.reader.committed(group: setup.group, topic: setup.input, partitions: 8) == ends)
    }
}

@Suite("Broker fault control")
struct BrokerFaultTests {
    @Test("Control lines parse into faults; anything else is refused")
    func parse() {
        #expect(BrokerFault(line: "errors 1 1 1") == .requestErrors(apiKey: 1, count: 1, code: 1))
        #expect(BrokerFault(line: "rtt 3000") == .roundTrip(milliseconds: 3000))
        #expect(BrokerFault(line: "down") == .brokersDown)
        #expect(BrokerFault(line: "up") == .brokersUp)
        for bad in ["", "errors 1 1", "errors x 1 1", "errors 0 0 6", "rtt -1", "down now", "reboot"] {
            #expect(BrokerFault(line: bad) == nil, "\(bad)")
        }
    }
}
