import Foundation
import KafkaBridge
import Synchronization

/// How far a pipeline reading a bounded range has come, per partition: the contiguous
/// acknowledged watermark (every offset below it has its output or dead letter
/// acknowledged by the broker) and whether fetching reached the range's end.
///
/// The poll thread feeds it the offset tracker's advanced watermarks (in place of storing
/// them for a group commit) and asks it whether the whole range is done; the backfill
/// command reads it for its progress bar and checkpoints it (`save`, at most once a
/// `saveInterval` while running, and once more at the end).
public final class RangeProgress: Sendable {
    public struct Partition: Sendable, Codable, Equatable {
        public var partition: Int32
        public var from: Int64
        /// Exclusive.
        public var to: Int64
        /// Every offset below this one is done (`from` before any is).
        public var watermark: Int64

        public init(partition: Int32, from: Int64, to: Int64, watermark: Int64) {
            self.partition = partition
            self.from = from
            self.to = to
            self.watermark = watermark
        }

        public var total: Int64 { to - from }
        public var done: Int64 { min(max(watermark, from), to) - from }
        public var isComplete: Bool { watermark >= to }
    }

    public let topic: String
    /// Called with every partition's state when `save` runs (the checkpoint writer).
    public typealias Sink = @Sendable ([Partition]) throws -> Void

    private struct State {
        var partitions: [Int32: Partition]
        /// Partitions whose fetching reached the end (a record at `to - 1` or later seen,
        /// or the consumer's position past it): no more records of the range will come.
        var fetchedThrough: Set<Int32> = []
        var lastSave: ContinuousClock.Instant = .now
        /// A watermark moved since the last save.
        var dirty = false
        var saveError: String?
    }

    private let state: Mutex<State>
    private let sink: Sink?
    private let saveInterval: Duration

    /// - Parameters:
    ///   - partitions: the range, each with the watermark it starts from (`from`, or where a
    ///     checkpoint left it).
    ///   - sink: writes a checkpoint; nil: none.
    public init(topic: String, partitions: [Partition], saveInterval: Duration = .milliseconds(250), sink: Sink? = nil) {
        self.topic = topic
        self.sink = sink
        self.saveInterval = saveInterval
        state = Mutex(State(partitions: Dictionary(uniqueKeysWithValues: partitions.map { ($0.partition, $0) })))
    }

    /// The partitions, in partition order.
    public var partitions: [Partition] {
        state.withLock { $0.partitions.values.sorted { $0.partition < $1.partition } }
    }

    public var total: Int64 { partitions.reduce(0) { $0 + $1.total } }
    public var done: Int64 { partitions.reduce(0) { $0 + $1.done } }
    public var isComplete: Bool { state.withLock { $0.partitions.values.allSatisfy(\.isComplete) } }

    /// Where fetching starts: each partition not complete, at its watermark.
    public var starts: [TopicPartition: Int64] {
        state.withLock { s in
            var result: [TopicPartition: Int64] = [:]
            for p in s.partitions.values where !p.isComplete {
                result[TopicPartition(topic, p.partition)] = max(p.watermark, p.from)
            }
            return result
        }
    }

    /// The range's end for a partition (nil: not part of the range).
    func end(of partition: Int32) -> Int64? {
        state.withLock { $0.partitions[partition]?.to }
    }

    /// Partitions still being fetched.
    func fetching() -> [TopicPartition] {
        state.withLock { s in
            s.partitions.values.filter { !s.fetchedThrough.contains($0.partition) && !$0.isComplete }
                .map { TopicPartition(topic, $0.partition) }
        }
    }

    /// Fetching reached the end of the partition's range.
    func fetchedThrough(_ partition: Int32) {
        _ = state.withLock { $0.fetchedThrough.insert(partition) }
    }

    /// Watermarks that advanced (from `OffsetTracker.takeAdvanced`).
    func acknowledged(_ advanced: [TopicPartition: Int64]) {
        state.withLock { s in
            for (tp, next) in advanced where tp.topic == topic {
                guard var p = s.partitions[tp.partition] else { continue }
                let moved = max(p.watermark, min(next, p.to))
                guard moved != p.watermark else { continue }
                p.watermark = moved
                s.partitions[tp.partition] = p
                s.dirty = true
            }
        }
    }

    /// A partition fetched through its end with nothing of it in flight is complete even
    /// when its last offsets carried no record to acknowledge (transaction markers,
    /// compaction).
    func settle(inFlight: (Int32) -> Int) {
        state.withLock { s in
            for n in s.fetchedThrough {
                guard var p = s.partitions[n], !p.isComplete, inFlight(n) == 0 else { continue }
                p.watermark = p.to
                s.partitions[n] = p
                s.dirty = true
            }
        }
    }

    /// Writes the checkpoint when a watermark moved and `saveInterval` passed since the last
    /// write (or `force`).
    /// - Returns: the sink's error, once per distinct message, for the caller to log.
    @discardableResult
    public func save(force: Bool = false) -> String? {
        guard let sink else { return nil }
        let snapshot: [Partition]? = state.withLock { s in
            guard force || (s.dirty && ContinuousClock.now - s.lastSave >= saveInterval) else { return nil }
            s.lastSave = .now
            s.dirty = false
            return s.partitions.values.sorted { $0.partition < $1.partition }
        }
        guard let snapshot else { return nil }
        do {
            try sink(snapshot)
            return nil
        } catch {
            let message = "\(error)"
            return state.withLock { s in
                defer { s.saveError = message }
                return s.saveError == message ? nil : message
            }
        }
    }
}
