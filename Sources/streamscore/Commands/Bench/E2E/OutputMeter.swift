import Concurrency
import Foundation
import Histogram
import KafkaBridge
import Pipeline
import Synchronization

/// The benchmark's measuring consumer: reads an output topic from the beginning on a
/// thread of its own and records, for every record, when it arrived and how late it was
/// (arrival − the input's timestamp, from the `streamscore.source.timestamp` header).
///
/// It also checks that every input is accounted for: the distinct source offsets seen
/// (from the `streamscore.source.partition/offset` headers), and how many records carried
/// none (a kcat pipe copies values only).
final class OutputMeter: Sendable {
    struct Snapshot: Sendable {
        var records = 0
        /// Distinct inputs (source partition and offset) seen; duplicates are `records` − this.
        var distinctSources = 0
        var withoutSource = 0
        /// Realtime microseconds of the first and latest arrival.
        var firstArrival: Int64 = 0
        var lastArrival: Int64 = 0
        var latency = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)

        /// Records per second between the first and the latest arrival.
        var eventsPerSecond: Double {
            lastArrival > firstArrival ? Double(records - 1) / (Double(lastArrival - firstArrival) / 1e6) : 0
        }

        func latencyMilliseconds(percentile: Double) -> Double {
            latency.totalCount == 0 ? 0 : Double(latency.valueAtPercentile(percentile)) / 1000
        }

        var maxLatencyMilliseconds: Double { latency.totalCount == 0 ? 0 : Double(latency.max) / 1000 }
    }

    private struct State {
        var snapshot = Snapshot()
        var seen: [Int32: Set<Int64>] = [:]
        var stop = false
    }

    private let state = Mutex(State())
    private let finished = ConditionLock(false)

    init(bootstrap: String, topic: String, partitions: Int, properties: [String: String] = [:]) throws(KafkaError) {
        let consumer = try KafkaConsumer(config: KafkaConfig([
            "bootstrap.servers": bootstrap,
            "group.id": "streamscore-bench-meter",
            "enable.auto.commit": "false",
            "enable.partition.eof": "false",
            // The mock broker answers an empty fetch only after its full wait, even when
            // data arrives meanwhile (a real broker answers at once): keep the wait short.
            "fetch.wait.max.ms": "1",
            "socket.nagle.disable": "true",
            "log_level": "3",
            // As a downstream reader of an exactly-once stage reads: an output counts when
            // its transaction commits (at-least-once outputs are visible at once either way).
            "isolation.level": "read_committed",
        ].merging(properties) { $1 }))
        try consumer.assign(Dictionary(uniqueKeysWithValues: (0..<Int32(partitions)).map { (TopicPartition(topic, $0), KafkaConsumer.beginning) }))
        _ = NamedThread("streamscore.bench.meter") { [self] in
            defer { finished.withLock { $0 = true } }
            while !state.withLock({ $0.stop }) {
                // At most 500 a poll: arrivals are timed per poll, and a small input read in
                // one poll would have no time span (a rate of 0).
                let records = consumer.poll(maxRecords: 500, timeout: .milliseconds(50))
                guard !records.isEmpty else { continue }
                let now = Self.realtimeMicros()
                state.withLock { s in
                    for record in records {
                        s.snapshot.records += 1
                        if s.snapshot.firstArrival == 0 { s.snapshot.firstArrival = now }
                        s.snapshot.lastArrival = now
                        if let p = record.header(Header.sourcePartition).flatMap({ Int32($0.text) }),
                            let o = record.header(Header.sourceOffset).flatMap({ Int64($0.text) })
                        {
                            if s.seen[p, default: []].insert(o).inserted { s.snapshot.distinctSources += 1 }
                        } else {
                            s.snapshot.withoutSource += 1
                        }
                        // StreamScore's outputs carry the input's timestamp in a header; the
                        // kcat pipe copies the event itself, whose JSON has it.
                        if let ms = record.header(Header.sourceTimestamp).flatMap({ Int64($0.text) }) ?? Self.eventTimestamp(record.value) {
                            _ = s.snapshot.latency.record(UInt64(max(0, min(now - ms * 1000, 3_600_000_000))))
                        }
                    }
                }
            }
            consumer.close()
        }
    }

    /// The `"timestamp":<ms>` field of a generated event's JSON (`TransactionGenerator`),
    /// or nil.
    static func eventTimestamp(_ value: [UInt8]?) -> Int64? {
        guard let value else { return nil }
        let key = Array(#""timestamp":"#.utf8)
        guard let start = value.firstRange(of: key)?.upperBound else { return nil }
        var ms: Int64 = 0, digits = 0
        for byte in value[start...] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 18 else { break }
            ms = ms * 10 + Int64(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits > 0 ? ms : nil
    }

    var snapshot: Snapshot { state.withLock { $0.snapshot } }
    var count: Int { state.withLock { $0.snapshot.records } }

    /// Waits until `count` records arrived, or until nothing new arrived for `stall`.
    /// Returns whether all arrived.
    func wait(for count: Int, stall: Duration, progress: (Int) -> Void = { _ in }) -> Bool {
        var last = self.count, lastChange = ContinuousClock.now
        while true {
            let now = self.count
            progress(now)
            if now >= count { return true }
            if now != last { (last, lastChange) = (now, .now) }
            if ContinuousClock.now - lastChange >= stall { return false }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    func stop() {
        state.withLock { $0.stop = true }
        _ = finished.wait { $0 ? true : nil }
    }

    static func realtimeMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }
}
