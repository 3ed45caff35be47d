import Foundation
import KafkaBridge
@testable import Pipeline
import Synchronization
import Testing

/// The parts of a backfill that need no broker: its progress and checkpoint, the rate
/// limit, and the comparison of two score topics.
@Suite("Backfill progress, checkpoint and comparison")
struct BackfillProgressTests {
    static func partition(_ n: Int32, _ from: Int64, _ to: Int64, at watermark: Int64? = nil) -> RangeProgress.Partition {
        RangeProgress.Partition(partition: n, from: from, to: to, watermark: watermark ?? from)
    }

    @Test("Progress: watermarks advance (never past the end, never back), a fetched-through partition with nothing in flight settles, starts skip what is done")
    func progress() {
        let range = RangeProgress(topic: "tx", partitions: [Self.partition(0, 10, 20), Self.partition(1, 0, 5, at: 3), Self.partition(2, 7, 7)])
        #expect(range.total == 15 && range.done == 3 && !range.isComplete)
        #expect(range.starts == [TopicPartition("tx", 0): 10, TopicPartition("tx", 1): 3])
        range.acknowledged([TopicPartition("tx", 0): 15, TopicPartition("other", 1): 5])
        #expect(range.done == 8)
        range.acknowledged([TopicPartition("tx", 0): 12])
        #expect(range.partitions[0].watermark == 15, "a watermark never moves back")
        range.acknowledged([TopicPartition("tx", 0): 40])
        #expect(range.partitions[0].watermark == 20 && range.partitions[0].isComplete, "clamped to the end")
        #expect(Set(range.fetching()) == [TopicPartition("tx", 1)])
        range.fetchedThrough(1)
        range.settle { $0 == 1 ? 2 : 0 }
        #expect(!range.isComplete, "records of partition 1 still in flight")
        range.settle { _ in 0 }
        #expect(range.isComplete && range.done == range.total && range.starts.isEmpty)
    }

    @Test("Checkpoints are written when a watermark moved, at most once an interval (always when forced), and a failing write is reported once")
    func saving() {
        let writes = Mutex<[[RangeProgress.Partition]]>([])
        let fail = Atomic<Bool>(false)
        struct Refused: Error {}
        let range = RangeProgress(topic: "tx", partitions: [Self.partition(0, 0, 10)], saveInterval: .seconds(60)) { partitions in
            if fail.load(ordering: .relaxed) { throw Refused() }
            writes.withLock { $0.append(partitions) }
        }
        #expect(range.save() == nil && writes.withLock { $0.count } == 0, "within the interval")
        range.acknowledged([TopicPartition("tx", 0): 4])
        #expect(range.save(force: true) == nil)
        #expect(writes.withLock { $0.last?.first?.watermark } == 4)
        fail.store(true, ordering: .relaxed)
        #expect(range.save(force: true) != nil)
        #expect(range.save(force: true) == nil, "the same error is reported once")

        let count = Atomic<Int>(0)
        let eager = RangeProgress(topic: "tx", partitions: [Self.partition(0, 0, 10)], saveInterval: .zero) { _ in count.add(1, ordering: .relaxed) }
        eager.save()
        #expect(count.load(ordering: .relaxed) == 0, "nothing moved: nothing written")
        eager.acknowledged([TopicPartition("tx", 0): 3])
        eager.save()
        eager.save()
        #expect(count.load(ordering: .relaxed) == 1)
    }

    @Test("A checkpoint round-trips; a bad one is refused with the path and the reason; a different request names the argument")
    func checkpointFile() throws {
        let request = BackfillCheckpoint.Request(topic: "tx", from: "beginning", to: "end", partitions: nil, outputTopic: "scores.bf", model: "m@1", modelHash: "abc")
        let checkpoint = BackfillCheckpoint(run: "run-1", request: request, partitions: [Self.partition(0, 0, 10, at: 4)])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("checkpoint") + ".json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try checkpoint.written(to: path, partitions: [Self.partition(0, 0, 10, at: 6)])
        let loaded = try BackfillCheckpoint.load(path: path)
        #expect(loaded.run == "run-1" && loaded.request == request && loaded.partitions == [Self.partition(0, 0, 10, at: 6)] && !loaded.complete)
        try checkpoint.written(to: path, partitions: [Self.partition(0, 0, 10, at: 10)])
        #expect(try BackfillCheckpoint.load(path: path).complete)

        for (text, reason) in [
            ("not json", "not a backfill checkpoint"),
            (#"{"version": 9}"#, "not a backfill checkpoint"),
        ] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect { try BackfillCheckpoint.load(path: path) } throws: { error in
                "\(error)".hasPrefix(path) && "\(error)".contains(reason)
            }
        }
        var future = checkpoint
        future.version = 9
        try JSONEncoder().encode(future).write(to: URL(fileURLWithPath: path))
        #expect { try BackfillCheckpoint.load(path: path) } throws: { "\($0)".contains("checkpoint version 9") }
        var outside = checkpoint
        outside.partitions = [Self.partition(0, 0, 10, at: 12)]
        try JSONEncoder().encode(outside).write(to: URL(fileURLWithPath: path))
        #expect { try BackfillCheckpoint.load(path: path) } throws: { "\($0)".contains("watermark 12 outside its range") }

        var other = request
        #expect(request.mismatch(other) == nil)
        other.to = "@1732838400000"
        #expect(request.mismatch(other)?.contains("--to 'end'") == true)
        other = request
        other.modelHash = "def"
        #expect(request.mismatch(other)?.contains("model file") == true)
    }

    @Test("The rate limit lets through its rate over time, with bursts of a tenth of a second")
    func rateLimit() {
        let start = ContinuousClock.now
        var limit = RateLimit(rate: 1000, now: start)
        #expect(limit.allowance(now: start) == 100, "the burst")
        limit.take(100)
        #expect(limit.allowance(now: start) == 0 && limit.waitForNext > .zero)
        var taken = 0
        for ms in stride(from: 10, through: 2000, by: 10) {
            let n = limit.allowance(now: start + .milliseconds(ms))
            limit.take(n)
            taken += n
        }
        #expect(taken == 2000, "2 s at 1,000/s after the first burst: \(taken)")
        #expect(limit.allowance(now: start + .seconds(100)) == 100, "idle time does not bank more than a burst")
    }

    static func score(_ partition: Int32, _ offset: Int64) -> ScoreComparison.Source {
        ScoreComparison.Source(topic: "tx", partition: partition, offset: offset)
    }

    @Test("Compare: identical, changed, flips both ways, one side only, repeated copies, largest Δ, histogram, the largest changes first")
    func comparison() {
        var c = ScoreComparison(tolerance: 1e-6, limit: 2)
        let pass = { (s: Double) in ScoreComparison.Score(score: s, label: s >= 0.5 ? "flag" : "pass") }
        c.add(Self.score(0, 0), pass(0.1), to: .left)
        c.add(Self.score(0, 0), pass(0.1 + 1e-8), to: .right)  // identical within tolerance
        c.add(Self.score(0, 1), pass(0.4), to: .left)
        c.add(Self.score(0, 1), pass(0.6), to: .right)  // pass → flag
        c.add(Self.score(0, 2), pass(0.9), to: .left)
        c.add(Self.score(0, 2), pass(0.2), to: .right)  // flag → pass, the largest
        c.add(Self.score(0, 3), pass(0.3), to: .left)
        c.add(Self.score(0, 3), pass(0.3001), to: .right)  // changed, no flip
        c.add(Self.score(1, 0), pass(0.3), to: .left)  // only left
        c.add(Self.score(1, 9), pass(0.3), to: .right)  // only right
        c.add(Self.score(0, 0), pass(0.1), to: .left)  // a repeat that agrees
        c.add(Self.score(0, 3), pass(0.7), to: .right)  // a repeat that disagrees (the last counts)
        let r = c.report
        #expect(r.left == 6 && r.right == 6 && r.matched == 4)
        #expect(r.identical == 1 && r.changed == 3)
        #expect(r.passToFlag == 2 && r.flagToPass == 1 && r.flips == 3)
        #expect(r.onlyLeft == 1 && r.onlyRight == 1 && r.onlyLeftSample == [Self.score(1, 0)] && r.onlyRightSample == [Self.score(1, 9)])
        #expect(r.duplicates[.left] == 1 && r.duplicates[.right] == 1 && r.conflicting[.left] == 0 && r.conflicting[.right] == 1)
        #expect(r.largest?.source == Self.score(0, 2) && abs(r.largest!.delta + 0.7) < 1e-12)
        #expect(r.changes.map(\.source) == [Self.score(0, 2), Self.score(0, 3)], "the largest |Δ| first, --limit of them")
        #expect(r.histogram.reduce(0) { $0 + $1.count } == 4)
        let big = r.histogram[ScoreComparison.bucket(of: 0.7)]
        #expect(big.lower == 1 && big.higher == 2 && big.upTo == 1, "0.9 → 0.2 lower; 0.4 → 0.6 and 0.3 → 0.7 higher")
        #expect(r.histogram[ScoreComparison.bucket(of: 1e-8)].higher == 1)
        #expect(!r.isIdentical)
    }

    @Test("Compare --overlap counts only the source offsets both sides cover")
    func overlap() {
        var c = ScoreComparison(overlapOnly: true)
        let s = ScoreComparison.Score(score: 0.25, label: "pass")
        for o in 0..<100 { c.add(Self.score(0, Int64(o)), s, to: .left) }
        for o in 40..<60 { c.add(Self.score(0, Int64(o)), s, to: .right) }
        for o in 0..<10 { c.add(Self.score(1, Int64(o)), s, to: .left) }  // a partition the right side lacks
        var r = c.report
        #expect(r.matched == 20 && r.onlyLeft == 0 && r.isIdentical)
        c.add(Self.score(0, 50), s, to: .left)
        r = c.report
        #expect(r.isIdentical, "a repeat that agrees")
        var gap = ScoreComparison(overlapOnly: true)
        for o in [0, 1, 3] { gap.add(Self.score(0, Int64(o)), s, to: .right) }
        for o in 0..<5 { gap.add(Self.score(0, Int64(o)), s, to: .left) }
        r = gap.report
        #expect(r.onlyLeft == 1 && r.onlyLeftSample == [Self.score(0, 2)] && !r.isIdentical, "a hole inside the overlap is missing")
    }

    @Test("Score records parse from a worker's output value and headers; anything else does not")
    func parsing() {
        let headers = [
            KafkaHeader(Header.sourceTopic, "tx"), KafkaHeader(Header.sourcePartition, "2"), KafkaHeader(Header.sourceOffset, "41"),
        ]
        func record(_ value: String, _ headers: [KafkaHeader]) -> KafkaRecord {
            KafkaRecord(topic: "scores", partition: 0, offset: 0, timestamp: 0, key: nil, value: Array(value.utf8), headers: headers)
        }
        let parsed = ScoreComparison.parse(record(#"{"id":"a","score":0.75,"decision":"flag","model":"m@1","cached":false}"#, headers))
        #expect(parsed?.0 == ScoreComparison.Source(topic: "tx", partition: 2, offset: 41))
        #expect(parsed?.1 == ScoreComparison.Score(score: 0.75, label: "flag"))
        #expect(ScoreComparison.parse(record(#"{"score":0.2,"class":"high"}"#, headers))?.1.label == "high")
        #expect(ScoreComparison.parse(record(#"{"score":0.2}"#, [])) == nil, "no source headers")
        #expect(ScoreComparison.parse(record(#"{"amount":12}"#, headers)) == nil, "not a score")
        var c = ScoreComparison()
        c.add(record("{", headers), to: .right)
        #expect(c.report.unreadable[.right] == 1 && !c.report.isIdentical)
    }
}
