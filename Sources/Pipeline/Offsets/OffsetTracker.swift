import DequeModule
import KafkaBridge
import Synchronization

/// Per-partition contiguous-completion watermarks.
///
/// The poll thread registers every fetched record (in offset order per partition) before
/// it enters the pipeline; the delivery thread completes records in any order. A
/// partition's committable offset advances only over a run of completed records, so a
/// record whose output was not acknowledged is never skipped by a commit.
///
/// Each record gets a 64-bit token that travels with its output through librdkafka as the
/// message opaque: the partition's *epoch slot* (20 bits) and the offset (44 bits). A new
/// slot is taken each time a partition is (re)registered after a revoke, so late delivery
/// reports from a previous assignment can never complete records of the current one.
final class OffsetTracker: Sendable {
    struct Completion {
        var partition: TopicPartition
        /// The next offset to consume when the watermark advanced (store it for commit).
        var nextOffset: Int64?
        /// The completed record's timestamp (ms since the epoch), for end-to-end latency.
        var recordTimestamp: Int64
    }

    private struct Partition {
        var topicPartition: TopicPartition
        var offsets = Deque<Int64>()
        var timestamps = Deque<Int64>()
        var done = Deque<Bool>()
        /// Last stored (committable) offset, or nil before the first completion.
        var committable: Int64?
    }

    private struct State {
        var slots: [UInt32: Partition] = [:]
        var active: [TopicPartition: UInt32] = [:]
        var nextSlot: UInt32 = 1
        var inFlight = 0
        /// Slots whose committable offset moved since the last `takeAdvanced`.
        var advanced: Set<UInt32> = []
    }

    private static let offsetBits: UInt64 = 44
    private static let offsetMask: UInt64 = (1 << offsetBits) - 1
    private static let slotLimit: UInt32 = 1 << 20

    private let state = Mutex(State())

    /// The input offset a token carries.
    static func offset(of token: UInt64) -> Int64 { Int64(token & offsetMask) }

    /// What `register` did besides handing out tokens.
    struct Registration {
        /// One token per record, in the order given; nil for an offset a token cannot hold
        /// (negative, or at least 2^44), which the caller must not send on.
        var tokens: [UInt64?]
        /// Each time the partition's position moved backwards (an offset at or below one
        /// already registered): the last offset registered before and the one after.
        var rewinds: [(from: Int64, to: Int64)] = []
    }

    /// Registers records fetched for one partition, in fetch order, and returns their tokens.
    ///
    /// Offsets normally rise. When one does not (librdkafka reset the position after
    /// `OFFSET_OUT_OF_RANGE`: a truncated log, a broker that lost its tail, retention that
    /// passed the position), the partition starts a new epoch, as a revoke and a re-assign
    /// would: the records still in flight from before are forgotten (their late delivery
    /// reports complete nothing), and the watermark restarts at the new position. The
    /// rewind is reported, never trapped on: the offsets come from the broker.
    func register(_ tp: TopicPartition, records: some Collection<(offset: Int64, timestamp: Int64)>) -> Registration {
        state.withLock { s in
            var slot: UInt32
            var p: Partition
            if let existing = s.active[tp] {
                slot = existing
                p = s.slots.removeValue(forKey: slot)!  // mutated alone, not copied on write
            } else {
                (slot, p) = Self.newEpoch(tp, in: &s)
            }
            var registration = Registration(tokens: [])
            registration.tokens.reserveCapacity(records.count)
            for (offset, timestamp) in records {
                guard offset >= 0 && UInt64(offset) <= Self.offsetMask else {
                    registration.tokens.append(nil)
                    continue
                }
                if let last = p.offsets.last ?? p.committable.map({ $0 - 1 }), offset <= last {
                    registration.rewinds.append((from: last, to: offset))
                    s.inFlight -= p.done.lazy.filter { !$0 }.count
                    (slot, p) = Self.newEpoch(tp, in: &s)
                }
                p.offsets.append(offset)
                p.timestamps.append(timestamp)
                p.done.append(false)
                s.inFlight += 1
                registration.tokens.append(UInt64(slot) << Self.offsetBits | UInt64(offset))
            }
            s.slots[slot] = p
            return registration
        }
    }

    /// A new slot for the partition (its previous one, if any, is dropped by the caller).
    private static func newEpoch(_ tp: TopicPartition, in s: inout State) -> (UInt32, Partition) {
        let slot = s.nextSlot
        s.nextSlot = s.nextSlot + 1 == slotLimit ? 1 : s.nextSlot + 1
        s.active[tp] = slot
        return (slot, Partition(topicPartition: tp))
    }

    /// Marks a record complete (its output or dead letter was acknowledged).
    ///
    /// - Returns: nil when the token belongs to a revoked assignment (or was completed
    ///   already); otherwise the record's timestamp and, when the watermark advanced, the
    ///   new committable offset.
    func complete(_ token: UInt64) -> Completion? {
        let slot = UInt32(token >> Self.offsetBits)
        let offset = Int64(token & Self.offsetMask)
        return state.withLock { s in
            guard var p = s.slots[slot], let index = Self.index(of: offset, in: p.offsets), !p.done[index] else {
                return nil
            }
            s.slots[slot] = nil  // avoid copy-on-write while mutating
            p.done[index] = true
            let timestamp = p.timestamps[index]
            s.inFlight -= 1
            var advanced: Int64?
            while let first = p.done.first, first {
                advanced = p.offsets.removeFirst() + 1
                p.timestamps.removeFirst()
                p.done.removeFirst()
            }
            if let advanced {
                p.committable = advanced
                s.advanced.insert(slot)
            }
            s.slots[slot] = p
            return Completion(partition: p.topicPartition, nextOffset: advanced, recordTimestamp: timestamp)
        }
    }

    /// Marks every record of the token's epoch up to and including the token's offset
    /// complete: exactly-once mode, once the transaction that carried their outputs
    /// committed (the records of a partition are sent in offset order).
    ///
    /// - Returns: the timestamps of the records completed now (for end-to-end latency), or
    ///   nil when the token's assignment was revoked or rewound.
    func complete(through token: UInt64) -> [Int64]? {
        let slot = UInt32(token >> Self.offsetBits)
        let offset = Int64(token & Self.offsetMask)
        return state.withLock { s in
            guard var p = s.slots[slot] else { return nil }
            s.slots[slot] = nil  // avoid copy-on-write while mutating
            var timestamps: [Int64] = []
            var index = 0
            while index < p.offsets.count, p.offsets[index] <= offset {
                if !p.done[index] {
                    p.done[index] = true
                    s.inFlight -= 1
                    timestamps.append(p.timestamps[index])
                }
                index += 1
            }
            var advanced: Int64?
            while let first = p.done.first, first {
                advanced = p.offsets.removeFirst() + 1
                p.timestamps.removeFirst()
                p.done.removeFirst()
            }
            if let advanced {
                p.committable = advanced
                s.advanced.insert(slot)
            }
            s.slots[slot] = p
            return timestamps
        }
    }

    /// Forgets the epoch of every partition among these with records in flight, and
    /// returns where each must be read again: its committable offset, or its first
    /// record's when none completed (exactly-once mode, after an aborted transaction).
    /// Their next records start new epochs; the old tokens complete nothing.
    func rewind(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        state.withLock { s in
            var targets: [TopicPartition: Int64] = [:]
            for tp in partitions {
                guard let slot = s.active[tp], let p = s.slots[slot], let first = p.offsets.first else { continue }
                s.active[tp] = nil
                s.slots[slot] = nil
                s.inFlight -= p.done.lazy.filter { !$0 }.count
                targets[tp] = p.committable ?? first
            }
            return targets
        }
    }

    /// Whether each token's record is complete (its output acknowledged): true, false (not
    /// yet), or nil when its assignment was revoked (it never will be, here). One lock for
    /// all of them.
    func acknowledged(_ tokens: some Sequence<UInt64>) -> [Bool?] {
        state.withLock { s in
            tokens.map { token -> Bool? in
                guard let p = s.slots[UInt32(token >> Self.offsetBits)] else { return nil }
                let offset = Int64(token & Self.offsetMask)
                if let index = Self.index(of: offset, in: p.offsets) { return p.done[index] }
                // Not pending: completed and passed by the watermark, or never registered.
                if let first = p.offsets.first { return offset < first ? true : nil }
                return offset < (p.committable ?? 0) ? true : nil
            }
        }
    }

    /// Committable offsets that moved since the last call, to hand to
    /// `KafkaConsumer.store` in one call (poll thread, before each poll and each commit).
    func takeAdvanced() -> [TopicPartition: Int64] {
        state.withLock { s in
            var result: [TopicPartition: Int64] = [:]
            for slot in s.advanced {
                if let p = s.slots[slot], let c = p.committable { result[p.topicPartition] = c }
            }
            s.advanced.removeAll(keepingCapacity: true)
            return result
        }
    }

    /// Records registered and not yet completed, for these partitions (all when nil).
    func inFlight(_ partitions: [TopicPartition]? = nil) -> Int {
        state.withLock { s in
            guard let partitions else { return s.inFlight }
            return partitions.reduce(0) { sum, tp in
                guard let slot = s.active[tp], let p = s.slots[slot] else { return sum }
                return sum + p.done.lazy.filter { !$0 }.count
            }
        }
    }

    /// The timestamp (ms since the epoch) of the oldest record registered and not yet
    /// completed, for each of these partitions that has one (the lag in seconds).
    func oldestPendingTimestamps(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        state.withLock { s in
            var result: [TopicPartition: Int64] = [:]
            for tp in partitions {
                // Completed records leave the front as soon as they are done: the front is pending.
                guard let slot = s.active[tp], let p = s.slots[slot], let first = p.timestamps.first else { continue }
                result[tp] = first
            }
            return result
        }
    }

    /// Forgets partitions (after a revoke): their pending records will never complete here.
    ///
    /// - Returns: the committable offset each had reached.
    @discardableResult
    func remove(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        state.withLock { s in
            var reached: [TopicPartition: Int64] = [:]
            for tp in partitions {
                guard let slot = s.active.removeValue(forKey: tp), let p = s.slots.removeValue(forKey: slot) else { continue }
                s.inFlight -= p.done.lazy.filter { !$0 }.count
                if let c = p.committable { reached[tp] = c }
            }
            return reached
        }
    }

    private static func index(of offset: Int64, in offsets: Deque<Int64>) -> Int? {
        guard let first = offsets.first else { return nil }
        // Offsets are usually contiguous; fall back to binary search across gaps
        // (compacted topics, transaction markers).
        let guess = Int(offset - first)
        if guess >= 0, guess < offsets.count, offsets[guess] == offset { return guess }
        var lo = 0, hi = offsets.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            if offsets[mid] == offset { return mid }
            if offsets[mid] < offset { lo = mid + 1 } else { hi = mid - 1 }
        }
        return nil
    }
}
