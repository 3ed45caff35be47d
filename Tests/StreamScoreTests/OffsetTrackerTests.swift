import KafkaBridge
@testable import Pipeline
import Testing

@Suite("Offset tracker")
struct OffsetTrackerTests {
    let tp = TopicPartition("t", 0)

    func register(_ tracker: OffsetTracker, _ offsets: [Int64], partition: TopicPartition? = nil) -> [UInt64] {
        tracker.register(partition ?? tp, records: offsets.map { ($0, 1_000 + $0) }).tokens.map { $0! }
    }

    @Test("The watermark advances only over a contiguous run of completed records")
    func outOfOrder() {
        let tracker = OffsetTracker()
        let tokens = register(tracker, [10, 11, 12, 13])
        #expect(tracker.complete(tokens[2])?.nextOffset == nil)
        #expect(tracker.complete(tokens[1])?.nextOffset == nil)
        #expect(tracker.takeAdvanced().isEmpty)
        let first = tracker.complete(tokens[0])
        #expect(first?.nextOffset == 13)
        #expect(first?.recordTimestamp == 1_010)
        #expect(tracker.takeAdvanced() == [tp: 13])
        #expect(tracker.takeAdvanced().isEmpty)
        #expect(tracker.inFlight() == 1)
        #expect(tracker.complete(tokens[3])?.nextOffset == 14)
        #expect(tracker.inFlight() == 0)
    }

    @Test("Gaps in offsets (compaction, transaction markers) are tracked by value")
    func gaps() {
        let tracker = OffsetTracker()
        let tokens = register(tracker, [5, 9, 20])
        #expect(tracker.complete(tokens[1])?.nextOffset == nil)
        #expect(tracker.complete(tokens[0])?.nextOffset == 10)
        #expect(tracker.complete(tokens[2])?.nextOffset == 21)
    }

    @Test("A completion is counted once; unknown tokens are ignored")
    func duplicates() {
        let tracker = OffsetTracker()
        let tokens = register(tracker, [0, 1])
        #expect(tracker.complete(tokens[1]) != nil)
        #expect(tracker.complete(tokens[1]) == nil)
        #expect(tracker.inFlight() == 1)
        #expect(tracker.complete(UInt64(999) << 44 | 1) == nil)
    }

    @Test("Acknowledged: done records, passed or not by the watermark; nil after a revoke")
    func acknowledged() {
        let tracker = OffsetTracker()
        let tokens = register(tracker, [10, 11, 12])
        _ = tracker.complete(tokens[1])
        #expect(tracker.acknowledged(tokens) == [false, true, false])
        _ = tracker.complete(tokens[0])  // the watermark passes 10 and 11
        #expect(tracker.acknowledged(tokens) == [true, true, false])
        _ = tracker.complete(tokens[2])
        #expect(tracker.acknowledged(tokens) == [true, true, true])
        tracker.remove([tp])
        #expect(tracker.acknowledged(tokens) == [nil, nil, nil])
    }

    @Test("After a revoke, late reports of the old assignment never complete the new one")
    func epochs() {
        let tracker = OffsetTracker()
        let old = register(tracker, [0, 1, 2])
        #expect(tracker.complete(old[0])?.nextOffset == 1)
        #expect(tracker.remove([tp]) == [tp: 1])
        #expect(tracker.inFlight() == 0)
        let new = register(tracker, [1, 2])
        #expect(old[1] != new[0])
        #expect(tracker.complete(old[1]) == nil, "a report from the revoked assignment")
        #expect(tracker.inFlight([tp]) == 2)
        #expect(tracker.complete(new[0])?.nextOffset == 2)
    }

    @Test("A position that moves backwards (OFFSET_OUT_OF_RANGE reset) starts a new epoch instead of trapping")
    func rewind() {
        let tracker = OffsetTracker()
        let before = register(tracker, [100, 101, 102])
        #expect(tracker.complete(before[0])?.nextOffset == 101)
        #expect(tracker.takeAdvanced() == [tp: 101])
        // librdkafka reset the position to 40 while 101 and 102 were in flight; one fetch
        // can even hold both sides of the rewind.
        let registration = tracker.register(tp, records: [(Int64(103), Int64(0)), (40, 0), (41, 0)])
        #expect(registration.rewinds.count == 1)
        #expect(registration.rewinds.first?.from == 103)
        #expect(registration.rewinds.first?.to == 40)
        let after = registration.tokens.map { $0! }
        #expect(tracker.inFlight() == 2, "the old epoch's records are forgotten")
        #expect(tracker.complete(before[1]) == nil, "a late report of the old epoch completes nothing")
        #expect(tracker.complete(after[0]) == nil, "103 belonged to the old epoch too")
        #expect(tracker.complete(after[1])?.nextOffset == 41)
        #expect(tracker.takeAdvanced() == [tp: 41], "the watermark restarts at the new position")
        #expect(tracker.complete(after[2])?.nextOffset == 42)
        // A rewind onto an offset already completed (nothing in flight) is one too.
        #expect(tracker.register(tp, records: [(Int64(41), Int64(0))]).rewinds.count == 1)
        #expect(tracker.inFlight() == 1)
    }

    @Test("An offset a token cannot carry is refused, not trapped on")
    func unsupportedOffset() {
        let tracker = OffsetTracker()
        let registration = tracker.register(tp, records: [(Int64(-5), Int64(0)), (1 << 44, 0), (7, 0)])
        #expect(registration.tokens[0] == nil)
        #expect(registration.tokens[1] == nil)
        #expect(registration.tokens[2] != nil)
        #expect(tracker.inFlight() == 1)
    }

    @Test("Partitions are independent")
    func partitions() {
        let tracker = OffsetTracker()
        let other = TopicPartition("t", 1)
        let a = register(tracker, [0, 1])
        let b = register(tracker, [0], partition: other)
        #expect(tracker.complete(b[0])?.nextOffset == 1)
        #expect(tracker.inFlight([tp]) == 2)
        #expect(tracker.inFlight([other]) == 0)
        _ = tracker.complete(a[0])
        #expect(tracker.takeAdvanced() == [tp: 1, other: 1])
    }
}

@Suite("Back-pressure")
struct BackPressureTests {
    @Test("Holds when full, pauses when full for long, resumes at the low watermark, never polls past the bound")
    func steps() {
        var bp = BackPressure(capacity: 100, resumeBelow: 40, pollBatch: 500, pauseAfter: .milliseconds(500))
        let t0 = ContinuousClock.now
        #expect(bp.next(records: 50, now: t0) == .poll(limit: 50))
        #expect(bp.next(records: 100, now: t0) == .hold)
        #expect(bp.next(records: 100, now: t0 + .milliseconds(499)) == .hold)
        #expect(bp.next(records: 99, now: t0 + .milliseconds(499)) == .poll(limit: 1), "room again: the hold clock restarts")
        #expect(bp.next(records: 100, now: t0 + .milliseconds(600)) == .hold)
        #expect(bp.next(records: 100, now: t0 + .milliseconds(1_100)) == .pause)
        #expect(bp.paused)
        #expect(bp.next(records: 60, now: t0 + .milliseconds(1_200)) == .servePaused)
        #expect(bp.next(records: 40, now: t0 + .milliseconds(1_300)) == .resume)
        #expect(!bp.paused)
        #expect(bp.next(records: 0, now: t0 + .milliseconds(1_300)) == .poll(limit: 100))
        #expect(bp.next(records: 10, now: t0) == .poll(limit: 90))
    }
}

@Suite("Intake queue")
struct IntakeQueueTests {
    func record(_ offset: Int64) -> KafkaRecord {
        KafkaRecord(topic: "t", partition: 0, offset: offset, timestamp: 0, key: nil, value: [])
    }

    @Test("Decoded chunks are released in fetch order, and the bound counts until batching")
    func order() {
        let intake = IntakeQueue(capacity: 10)
        intake.push(records: [record(0), record(1)], tokens: [1, 2])
        intake.push(records: [record(2)], tokens: [3])
        let first = intake.takeForDecoding()!
        let second = intake.takeForDecoding()!
        intake.finishDecoding(DecodedChunk(sequence: second.sequence, records: second.records, tokens: second.tokens, outcomes: [], rows: []))
        guard case .timedOut = intake.takeDecoded(until: .now + .milliseconds(20)) else {
            Issue.record("chunk 1 must wait for chunk 0")
            return
        }
        #expect(intake.recordCount == 3)
        intake.finishDecoding(DecodedChunk(sequence: first.sequence, records: first.records, tokens: first.tokens, outcomes: [], rows: []))
        guard case .chunk(let a) = intake.takeDecoded(until: nil), case .chunk(let b) = intake.takeDecoded(until: nil) else {
            Issue.record("expected two chunks")
            return
        }
        #expect(a.records.map(\.offset) == [0, 1])
        #expect(b.records.map(\.offset) == [2])
        #expect(intake.recordCount == 0)
        #expect(intake.highWater == 3)
        intake.close()
        #expect(intake.takeForDecoding() == nil)
        guard case .finished = intake.takeDecoded(until: nil) else {
            Issue.record("closed and empty must finish")
            return
        }
    }
}
