import Foundation
import KafkaBridge
import Synchronization

/// The latest statistics JSON librdkafka handed the consumer (on the poll thread, every
/// `statistics.interval.ms`): kept as text, parsed by the reader (a scrape), once per
/// document.
final class LatestStatistics: Sendable {
    private struct State {
        var json: String?
        var parsed: KafkaStatistics?
    }

    private let state = Mutex(State())

    /// Keeps the document (the poll thread's whole cost: a copy every few seconds).
    func received(_ json: String) {
        state.withLock { $0 = State(json: json, parsed: nil) }
    }

    /// The latest document, parsed (nil before the first, or when it does not parse).
    var current: KafkaStatistics? {
        let json: String? = state.withLock { s in s.parsed == nil ? s.json : nil }
        guard let json else { return state.withLock { $0.parsed } }
        let parsed = KafkaStatistics.parse(json)
        state.withLock { s in if s.json == json { s.parsed = parsed } }
        return parsed
    }
}

/// How far behind one assigned partition is.
public struct PartitionLag: Sendable, Equatable {
    /// Records between the partition's end and the acknowledged watermark (librdkafka's
    /// `consumer_lag_stored`, as of its last statistics; nil before it knows both ends).
    public var records: Int64?
    /// Age of the oldest record fetched and not yet completed (0 when none is pending).
    public var seconds: Double
}

extension ScoringPipeline {
    /// Lag of every assigned partition: records from librdkafka's latest statistics, seconds
    /// from the offset tracker now. Called by a scrape, never on the hot path.
    public func consumerLag(now: Date = Date()) -> [TopicPartition: PartitionLag] {
        let assigned = consumer.assignment()
        let statistics = latestStatistics.current
        let oldest = tracker.oldestPendingTimestamps(assigned)
        // Exactly-once stores no offsets, and librdkafka's committed offset is the one it
        // read at assignment (transactions commit past it): no honest figure in records.
        let exactlyOnce = configuration.delivery.isExactlyOnce
        let nowMs = now.timeIntervalSince1970 * 1000
        var result: [TopicPartition: PartitionLag] = [:]
        for tp in assigned {
            result[tp] = PartitionLag(
                records: exactlyOnce ? nil : statistics?.partitions[tp]?.lag,
                seconds: oldest[tp].map { max(0, nowMs - Double($0)) / 1000 } ?? 0)
        }
        return result
    }
}
