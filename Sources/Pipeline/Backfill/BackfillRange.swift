import Concurrency
import Foundation
import KafkaBridge

/// The records a backfill scores: per partition of one topic, offsets `from..<to`, resolved
/// once when the backfill starts from two `OffsetBound`s. `end` is the end offset at that
/// moment, so records that arrive later are not part of the range and a backfill of a live
/// topic stops by itself.
public struct BackfillRange: Sendable, Equatable {
    public struct Partition: Sendable, Equatable {
        public var partition: Int32
        public var from: Int64
        /// Exclusive.
        public var to: Int64
        public var count: Int64 { to - from }
    }

    public var topic: String
    public var partitions: [Partition]
    public var total: Int64 { partitions.reduce(0) { $0 + $1.count } }

    /// Why a range cannot be resolved: the argument at fault and the reason.
    public struct ResolveError: Error, Equatable, CustomStringConvertible {
        public var argument: String
        public var reason: String
        public var description: String { "\(argument): \(reason)" }
    }

    /// What the cluster answers about a topic; `KafkaConsumer` in the worker, a table in tests.
    public protocol Cluster {
        func partitionCount(_ topic: String) throws(KafkaError) -> Int
        func watermarks(_ tp: TopicPartition) throws(KafkaError) -> (low: Int64, high: Int64)
        func offsets(forTimes times: [TopicPartition: Int64]) throws(KafkaError) -> [TopicPartition: Int64?]
    }

    /// Resolves `from` and `to` for `partitions` of `topic` (nil: every partition).
    ///
    /// Offsets are clamped to what the partition holds (below its low watermark: records
    /// already deleted; above its end: nothing yet). A time resolves to the earliest
    /// offset at or after it, or the end when no record is that late.
    /// - Parameter now: milliseconds since the epoch, for durations back from now.
    /// - Throws: `ResolveError` naming `--partitions`, `--from`, `--to` or `--topic`.
    public static func resolve(
        topic: String, partitions selected: [Int32]?, from: OffsetBound, to: OffsetBound, cluster: some Cluster, now: Int64
    ) throws(ResolveError) -> BackfillRange {
        let count: Int
        do {
            count = try cluster.partitionCount(topic)
        } catch {
            throw ResolveError(argument: "--topic", reason: "'\(topic)': \(error)")
        }
        let partitions = selected ?? (0..<Int32(count)).map { $0 }
        if let unknown = partitions.first(where: { $0 < 0 || $0 >= count }) {
            throw ResolveError(argument: "--partitions", reason: "topic '\(topic)' has partitions 0–\(count - 1), not \(unknown)")
        }
        var marks: [Int32: (low: Int64, high: Int64)] = [:]
        for p in partitions {
            do {
                marks[p] = try cluster.watermarks(TopicPartition(topic, p))
            } catch {
                throw ResolveError(argument: "--topic", reason: "'\(topic)'[\(p)]: cannot read its offsets: \(error)")
            }
        }
        if case .time(let a) = absolute(from, now: now), case .time(let b) = absolute(to, now: now), b < a {
            throw ResolveError(argument: "--to", reason: "\(to) is before --from \(from)")
        }
        let starts = try offsets(from, argument: "--from", missing: { marks[$0]!.low }, topic: topic, partitions: partitions, marks: marks, cluster: cluster, now: now)
        let ends = try offsets(to, argument: "--to", missing: { marks[$0]!.high }, topic: topic, partitions: partitions, marks: marks, cluster: cluster, now: now)
        var ranges: [Partition] = []
        for p in partitions.sorted() {
            let (start, end) = (starts[p]!, ends[p]!)
            if end < start {
                if case .time = absolute(to, now: now) {
                    ranges.append(Partition(partition: p, from: start, to: start))  // a time range with no record
                    continue
                }
                throw ResolveError(argument: "--to", reason: "partition \(p): offset \(end) is before --from's \(start)")
            }
            ranges.append(Partition(partition: p, from: start, to: end))
        }
        return BackfillRange(topic: topic, partitions: ranges)
    }

    /// Parses a partition list, `0,3-5` (for `--partitions`).
    public static func partitions(parsing text: String) throws(ResolveError) -> [Int32] {
        var result: [Int32] = []
        for item in text.split(separator: ",") {
            let ends = item.split(separator: "-", omittingEmptySubsequences: false).map { Int32($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(ends.count), let first = ends[0], let last = ends.last!, first >= 0, first <= last else {
                throw ResolveError(argument: "--partitions", reason: "'\(text)': partitions and ranges, e.g. 0,3-5")
            }
            result += (first...last).map { $0 }
        }
        guard !result.isEmpty else { throw ResolveError(argument: "--partitions", reason: "'\(text)': no partition") }
        return Array(Set(result)).sorted()
    }

    /// A duration back from now, as the time it means.
    private static func absolute(_ bound: OffsetBound, now: Int64) -> OffsetBound {
        if case .ago(let d) = bound { return .time(now - d.inMillisecondsRounded) }
        return bound
    }

    private static func offsets(
        _ bound: OffsetBound, argument: String, missing: (Int32) -> Int64, topic: String, partitions: [Int32],
        marks: [Int32: (low: Int64, high: Int64)], cluster: some Cluster, now: Int64
    ) throws(ResolveError) -> [Int32: Int64] {
        func clamp(_ offset: Int64, _ p: Int32) -> Int64 { min(max(offset, marks[p]!.low), marks[p]!.high) }
        var result: [Int32: Int64] = [:]
        switch absolute(bound, now: now) {
        case .beginning:
            for p in partitions { result[p] = marks[p]!.low }
        case .end:
            for p in partitions { result[p] = marks[p]!.high }
        case .offset(let o):
            for p in partitions { result[p] = clamp(o, p) }
        case .offsets(let given):
            if let unknown = given.keys.first(where: { !partitions.contains($0) }) {
                throw ResolveError(argument: argument, reason: "partition \(unknown) is not in the backfill (topic '\(topic)', partitions \(partitions.sorted()))")
            }
            for p in partitions { result[p] = given[p].map { clamp($0, p) } ?? missing(p) }
        case .time(let ms):
            // A start in the future can only be a mistake; an end there is the snapshot's end.
            if argument == "--from", ms > now { throw ResolveError(argument: argument, reason: "\(bound) is in the future") }
            let found: [TopicPartition: Int64?]
            let cannot = "this cluster cannot look up offsets by time (librdkafka's mock cluster, streamscore broker, cannot): give offsets instead"
            do {
                // librdkafka 2.0.2's mock cluster answers "no record that late" to every
                // time: ask for time 0 first, which a partition with records must answer
                // with an offset, so a cluster that cannot look up times is refused rather
                // than read as an empty range.
                let filled = partitions.filter { marks[$0]!.high > marks[$0]!.low }
                if !filled.isEmpty {
                    let probe = try cluster.offsets(forTimes: Dictionary(uniqueKeysWithValues: filled.map { (TopicPartition(topic, $0), 0) }))
                    if probe.values.allSatisfy({ $0 == nil }) { throw ResolveError(argument: argument, reason: cannot) }
                }
                found = try cluster.offsets(forTimes: Dictionary(uniqueKeysWithValues: partitions.map { (TopicPartition(topic, $0), ms) }))
            } catch let error as ResolveError {
                throw error
            } catch {
                throw ResolveError(argument: argument, reason: "\(cannot) (\(error))")
            }
            for p in partitions {
                let offset = found[TopicPartition(topic, p)] ?? nil
                result[p] = offset.map { clamp($0, p) } ?? marks[p]!.high
            }
        case .ago:
            preconditionFailure("resolved to a time above")
        }
        return result
    }
}

extension KafkaConsumer: BackfillRange.Cluster {
    public func partitionCount(_ topic: String) throws(KafkaError) -> Int {
        try partitionCount(topic, timeout: .seconds(10))
    }

    public func watermarks(_ tp: TopicPartition) throws(KafkaError) -> (low: Int64, high: Int64) {
        try watermarks(tp, timeout: .seconds(10))
    }

    public func offsets(forTimes times: [TopicPartition: Int64]) throws(KafkaError) -> [TopicPartition: Int64?] {
        try offsets(forTimes: times, timeout: .seconds(10))
    }
}
