import Features
import Foundation
import Inference
import KafkaBridge
import Logging
import Pipeline
import Synchronization
import Testing
import Workload

/// The worker in-process against the mock cluster: records, offsets, scores.
@Suite("Scoring pipeline", .serialized)
struct PipelineTests {
    static let modelPath = packageRoot.appendingPathComponent("Models/fraud-logistic.json").path
    static let fields = ["amount", "distance_km", "txn_last_hour", "card_age_days"]

    struct Setup {
        let cluster: MockCluster
        let input: String
        let output: String
        let deadLetter: String
        let group: String
        let partitions: Int

        init(partitions: Int) throws {
            cluster = try MockCluster(brokers: 1)
            input = uniqueName("in")
            output = uniqueName("out")
            deadLetter = uniqueName("dlq")
            group = uniqueName("group")
            self.partitions = partitions
            for topic in [input, output, deadLetter] { try cluster.createTopic(topic, partitions: partitions) }
        }

        var bootstrap: String { cluster.bootstrapServers }
        var reader: TopicReader { TopicReader(bootstrap: bootstrap) }

        func configuration(_ tweak: (inout PipelineConfiguration) -> Void = { _ in }) -> PipelineConfiguration {
            var c = PipelineConfiguration(
                bootstrapServers: bootstrap, groupID: group,
                topics: .init(input: input, output: output, deadLetter: deadLetter), features: .numbers(PipelineTests.fields))
            c.consumerProperties = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500", "log_level": "3"]
            c.producerProperties = ["log_level": "3"]
            c.commitInterval = .milliseconds(200)
            tweak(&c)
            return c
        }

        func pipeline(model: any Model, logger: Logger? = nil, _ tweak: (inout PipelineConfiguration) -> Void = { _ in }) throws -> ScoringPipeline {
            var quiet = Logger(label: "test")
            quiet.logLevel = .warning
            return try ScoringPipeline(configuration: configuration(tweak), model: model, logger: logger ?? quiet)
        }
    }

    /// Waits until `count` inputs are acknowledged (outputs + dead letters), stops, and
    /// returns the outcome.
    func drain(_ pipeline: ScoringPipeline, count: Int) -> ScoringPipeline.Outcome? {
        let done = eventually(timeout: .seconds(120)) {
            pipeline.stats.outputsAcknowledged.load(ordering: .relaxed)
                + pipeline.stats.deadLettersAcknowledged.load(ordering: .relaxed) >= count
        }
        #expect(done, "pipeline acknowledged \(pipeline.stats.outputsAcknowledged.load(ordering: .relaxed)) of \(count)")
        pipeline.requestStop()
        return pipeline.waitForOutcome(until: .now + .seconds(60))
    }

    @Test("20,000 events over 8 partitions: one output each, exact scores, order kept, offsets committed")
    func topicToTopic() throws {
        let setup = try Setup(partitions: 8)
        let model = try ModelLoader.load(path: Self.modelPath)
        let written = try EventWriter(bootstrap: setup.bootstrap)
            .write(20_000, to: setup.input, generator: TransactionGenerator(seed: 7, keys: 5_000))
        let pipeline = try setup.pipeline(model: model)
        try pipeline.start()
        let outcome = drain(pipeline, count: 20_000)
        guard case .stopped? = outcome else {
            Issue.record("pipeline did not stop cleanly: \(String(describing: outcome))")
            return
        }

        let outputs = try setup.reader.readAll(setup.output, partitions: 8)
        #expect(outputs.count == 20_000)
        var bySource: [String: KafkaRecord] = [:]
        for record in outputs {
            let source = try #require(record.source)
            #expect(record.text(Header.sourceTopic) == setup.input)
            #expect(record.text(Header.model) == "fraud-demo@1")
            #expect(bySource.updateValue(record, forKey: "\(source.partition)/\(source.offset)") == nil, "duplicate output")
        }
        let decoder = EventDecoder(numericFields: Self.fields)
        var maxDifference: Float = 0
        for input in written {
            let output = try #require(bySource["\(input.partition)/\(input.offset)"], "no output for \(input.partition)/\(input.offset)")
            #expect(output.key == input.event.key)
            let (id, row) = try decoder.decode(input.event.value).get()
            let expected = model.score([row])[0]
            let json = output.json
            let score = try #require((json["score"] as? NSNumber)?.floatValue)
            maxDifference = max(maxDifference, abs(score - expected))
            #expect(json["id"] as? String == id)
            #expect(json["key"] as? String == String(decoding: input.event.key, as: UTF8.self))
            #expect(json["decision"] as? String == (expected >= 0.5 ? "flag" : "pass"))
            #expect(json["model"] as? String == "fraud-demo@1")
        }
        #expect(maxDifference <= 1e-6)

        // Order: within each output partition, records from one input partition appear in
        // input-offset order.
        for partition in 0..<Int32(8) {
            var last: [Int32: Int64] = [:]
            for record in outputs where record.partition == partition {
                let source = record.source!
                #expect(source.offset > last[source.partition, default: -1], "out of order in output partition \(partition)")
                last[source.partition] = source.offset
            }
        }

        let ends = try setup.reader.endOffsets(setup.input, partitions: 8)
        let committed = try setup.reader.committed(group: setup.group, topic: setup.input, partitions: 8)
        #expect(committed == ends)
        #expect(pipeline.stats.consumed.load(ordering: .relaxed) == 20_000)
    }

    @Test("A multi-class model: each output names the most probable class and every class's probability")
    func multiClass() throws {
        let setup = try Setup(partitions: 1)
        let classes = ["low", "medium", "high"]
        let layer = DenseLayer(
            weights: [[-0.01, -0.001, -0.1, 0.001], [0, 0, 0, 0], [0.01, 0.001, 0.1, -0.001]], bias: [1, 0, -1], activation: .softmax)
        let model = MultilayerPerceptron(name: "risk", version: "2", inputNames: Self.fields, outputNames: classes, layers: [layer])
        let written = try EventWriter(bootstrap: setup.bootstrap)
            .write(500, to: setup.input, generator: TransactionGenerator(seed: 11, keys: 100))
        let pipeline = try setup.pipeline(model: model)
        try pipeline.start()
        guard case .stopped? = drain(pipeline, count: 500) else {
            Issue.record("pipeline did not stop cleanly")
            return
        }
        let outputs = try setup.reader.readAll(setup.output, partitions: 1)
        #expect(outputs.count == 500)
        let decoder = EventDecoder(numericFields: Self.fields)
        var seen = Set<String>()
        // Match by source offset: a producer retry can land events out of send order.
        let byOffset = Dictionary(uniqueKeysWithValues: written.map { ($0.offset, $0) })
        for output in outputs {
            let input = try #require(byOffset[output.source!.offset])
            let row = try decoder.decode(input.event.value).get().row
            let expected = model.score([row])
            let json = output.json
            let scores = try #require(json["scores"] as? [String: Any])
            for (c, label) in classes.enumerated() {
                let p = try #require((scores[label] as? NSNumber)?.floatValue)
                #expect(abs(p - expected[c]) <= 1e-6)
            }
            let top = expected.indices.max { expected[$0] < expected[$1] }!
            #expect(json["class"] as? String == classes[top])
            #expect(abs(((json["score"] as? NSNumber)?.floatValue ?? -1) - expected[top]) <= 1e-6)
            #expect(json["decision"] == nil, "a multi-class output has no threshold decision")
            #expect(json["model"] as? String == "risk@2")
            seen.insert(classes[top])
        }
        #expect(seen.count >= 2, "the test model should spread events over classes")
    }

    @Test("Pre-featurised f32le rows are scored as they are; a wrong length is a bad_row_length dead letter")
    func float32Rows() throws {
        let setup = try Setup(partitions: 1)
        let model = try ModelLoader.load(path: Self.modelPath)
        var generator = TransactionGenerator(seed: 5, keys: 100)
        let decoder = EventDecoder(numericFields: Self.fields)
        var events: [TransactionGenerator.Event] = []
        var rows: [String: [Float]] = [:]
        for n in 0..<300 {
            let row = try decoder.decode(generator.next(timestamp: 0).value).get().row
            let value: [UInt8] = n % 100 == 99 ? [1, 2, 3] : row.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
            events.append(.init(key: Array("k\(n)".utf8), value: value, kind: .normal))
            if n % 100 != 99 { rows["k\(n)"] = row }
        }
        _ = try EventWriter(bootstrap: setup.bootstrap).write(events, to: setup.input)
        let pipeline = try setup.pipeline(model: model) { $0.features = .float32Rows(count: 0) }
        try pipeline.start()
        guard case .stopped? = drain(pipeline, count: 300) else {
            Issue.record("pipeline did not stop cleanly")
            return
        }
        let outputs = try setup.reader.readAll(setup.output, partitions: 1)
        #expect(outputs.count == 297)
        for output in outputs {
            let row = try #require(rows[String(decoding: output.key ?? [], as: UTF8.self)])
            let score = try #require((output.json["score"] as? NSNumber)?.floatValue)
            #expect(abs(score - model.score([row])[0]) <= 1e-6)
            #expect(output.json["id"] is NSNull)
        }
        let dead = try setup.reader.readAll(setup.deadLetter, partitions: 1)
        #expect(dead.count == 3 && dead.allSatisfy { $0.text(Header.errorReason) == "bad_row_length" })
    }

    @Test("Passthrough: every record is produced as it came, in order, and committed")
    func passthrough() throws {
        let setup = try Setup(partitions: 2)
        let model = try ModelLoader.load(path: Self.modelPath)
        let written = try EventWriter(bootstrap: setup.bootstrap)
            .write(2_000, to: setup.input, generator: TransactionGenerator(seed: 12, keys: 500, malformedRatio: 0.05))
        let pipeline = try setup.pipeline(model: model) { $0.passthrough = true }
        try pipeline.start()
        guard case .stopped? = drain(pipeline, count: 2_000) else {
            Issue.record("pipeline did not stop cleanly")
            return
        }
        let outputs = try setup.reader.readAll(setup.output, partitions: 2)
        #expect(outputs.count == 2_000, "malformed events too: nothing is decoded")
        let bySource = Dictionary(uniqueKeysWithValues: outputs.map { ("\($0.source!.partition)/\($0.source!.offset)", $0) })
        for w in written {
            let output = try #require(bySource["\(w.partition)/\(w.offset)"])
            #expect(output.value == w.event.value && output.key == w.event.key)
        }
        #expect(try setup.reader.readAll(setup.deadLetter, partitions: 2).isEmpty)
        #expect(try setup.reader.committed(group: setup.group, topic: setup.input, partitions: 2)
            == setup.reader.endOffsets(setup.input, partitions: 2))
    }

    @Test("1% malformed input: each in the dead-letter topic with its reason; every good record scored")
    func deadLetters() throws {
        let setup = try Setup(partitions: 4)
        let written = try EventWriter(bootstrap: setup.bootstrap)
            .write(5_000, to: setup.input, generator: TransactionGenerator(seed: 11, keys: 1_000, malformedRatio: 0.01))
        let malformed = written.filter { if case .malformed = $0.event.kind { true } else { false } }
        #expect(malformed.count > 20)
        let pipeline = try setup.pipeline(model: try ModelLoader.load(path: Self.modelPath))
        try pipeline.start()
        guard case .stopped? = drain(pipeline, count: 5_000) else {
            Issue.record("pipeline did not stop cleanly")
            return
        }
        let deadLetters = try setup.reader.readAll(setup.deadLetter, partitions: 4)
        let outputs = try setup.reader.readAll(setup.output, partitions: 4)
        #expect(deadLetters.count == malformed.count)
        #expect(outputs.count == written.count - malformed.count)
        let dlqBySource = Dictionary(uniqueKeysWithValues: deadLetters.map { ("\($0.source!.partition)/\($0.source!.offset)", $0) })
        for input in malformed {
            guard case .malformed(let reason) = input.event.kind else { continue }
            let record = try #require(dlqBySource["\(input.partition)/\(input.offset)"])
            #expect(record.text(Header.errorReason) == reason)
            #expect(record.value == input.event.value, "dead letter must carry the original bytes")
            #expect(record.key == input.event.key)
            #expect(!(record.text(Header.errorMessage) ?? "").isEmpty)
            #expect(record.text(Header.sourceTopic) == setup.input)
        }
        let expectedReasons = Dictionary(grouping: malformed) { w -> String in
            if case .malformed(let r) = w.event.kind { r } else { "" }
        }.mapValues(\.count)
        #expect(pipeline.stats.deadLettersByReason == expectedReasons)
        let ends = try setup.reader.endOffsets(setup.input, partitions: 4)
        #expect(try setup.reader.committed(group: setup.group, topic: setup.input, partitions: 4) == ends)
    }

    @Test("A slow model: intake stays within its bound; the consumer pauses and resumes; nothing is lost")
    func backPressure() throws {
        let setup = try Setup(partitions: 4)
        _ = try EventWriter(bootstrap: setup.bootstrap).write(1_500, to: setup.input, generator: TransactionGenerator(seed: 3))
        // 0.25 s per batch of 50: the intake stays full across a model call, longer than
        // pauseAfter, so the consumer must pause, and resume once two batches drained it.
        let slow = InstrumentedModel(try ModelLoader.load(path: Self.modelPath), delay: 0.25)
        let pipeline = try setup.pipeline(model: slow) { c in
            c.intakeCapacity = 200
            c.intakeResumeBelow = 100
            c.pauseAfter = .milliseconds(100)
            c.pollBatch = 100
            c.chunkRecords = 20
            c.batchMaxRows = 50
        }
        try pipeline.start()
        var sawPaused = false
        let done = eventually(timeout: .seconds(120)) {
            sawPaused = sawPaused || pipeline.isPaused
            #expect(pipeline.intakeDepth.current <= 200)
            return pipeline.stats.outputsAcknowledged.load(ordering: .relaxed) >= 1_500
        }
        #expect(done)
        pipeline.requestStop()
        guard case .stopped? = pipeline.waitForOutcome(until: .now + .seconds(60)) else {
            Issue.record("pipeline did not stop cleanly")
            return
        }
        #expect(pipeline.intakeDepth.highWater <= 200)
        #expect(pipeline.intakeDepth.highWater >= 100, "the queue must actually have filled")
        #expect(pipeline.stats.pauses.load(ordering: .relaxed) >= 1)
        #expect(pipeline.stats.resumes.load(ordering: .relaxed) >= 1)
        #expect(sawPaused)
        #expect(try setup.reader.count(setup.output, partitions: 4) == 1_500)
        let ends = try setup.reader.endOffsets(setup.input, partitions: 4)
        #expect(try setup.reader.committed(group: setup.group, topic: setup.input, partitions: 4) == ends)
    }

    @Test("A model whose inputs do not match the features is refused before anything connects")
    func modelMismatch() throws {
        let setup = try Setup(partitions: 1)
        let model = LogisticRegression(name: "m", version: "1", inputNames: ["amount", "other", "x", "y"], weights: [1, 2, 3, 4], bias: 0)
        #expect(throws: PipelineError.self) { _ = try setup.pipeline(model: model) }
        let short = LogisticRegression(name: "m", version: "1", inputNames: nil, weights: [1, 2], bias: 0)
        #expect(throws: PipelineError.self) { _ = try setup.pipeline(model: short) }
    }
}

/// A model that counts the rows it scores, and sleeps before each batch when asked to
/// (back-pressure on demand).
final class InstrumentedModel: Model {
    let inner: any Model
    let delay: Double
    let rows = Atomic<Int>(0)

    init(_ inner: any Model, delay: Double = 0) { (self.inner, self.delay) = (inner, delay) }

    var name: String { inner.name }
    var version: String { inner.version }
    var contentHash: String? {
        get { inner.contentHash }
        set {}  // (the inner model's, as loaded)
    }
    var inputCount: Int { inner.inputCount }
    var inputNames: [String]? { inner.inputNames }
    var summary: ModelSummary { inner.summary }

    func score(rows: UnsafeBufferPointer<Float>, rowCount: Int, into scores: UnsafeMutableBufferPointer<Float>) {
        self.rows.add(rowCount, ordering: .relaxed)
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        inner.score(rows: rows, rowCount: rowCount, into: scores)
    }
}
