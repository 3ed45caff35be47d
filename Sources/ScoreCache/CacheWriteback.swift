import Concurrency
import Synchronization

/// New scores wait here until the output records carrying them are acknowledged; only then
/// are they written to Redis, so a failed send never leaves a cached score behind.
///
/// The batcher registers each batch's new scores, each with the tracker token of the
/// output that carries it. The cache writer takes them and asks the `OffsetTracker`, the
/// one place acknowledgements are recorded, which of them are done; the delivery thread
/// does nothing extra per record, and announces each round of reports on `progress`.
public final class CacheWriteback: Sendable {
    /// New scores with their keys and the tokens of the outputs that carry them, packed:
    /// the keys in one buffer (`ScoreKeys`), so a batch's scores cost no allocation per
    /// key once the buffers have grown. The batcher and the writer swap two of them.
    public struct Scores: Sendable {
        private(set) var keys = ScoreKeys()
        private(set) var tokens: [UInt64] = []
        private(set) var scores: [Float] = []
        /// Where each registered batch ends (an index into the entries), oldest first: the
        /// writer writes when the oldest batch is wholly acknowledged, so at most once per
        /// batch.
        private(set) var batchEnds: [Int] = []

        public init() {}

        public var count: Int { tokens.count }
        public var isEmpty: Bool { tokens.isEmpty }

        /// Key `i` of `from`, with the token of the output that carries its score.
        public mutating func append(key i: Int, of from: ScoreKeys, token: UInt64, score: Float) {
            from.withKey(i) { keys.append($0, fingerprint: from.fingerprints[i]) }
            tokens.append(token)
            scores.append(score)
        }

        /// Entry `i` of `other`.
        mutating func append(_ other: Scores, _ i: Int) {
            append(key: i, of: other.keys, token: other.tokens[i], score: other.scores[i])
        }

        /// Closes the batch of the entries appended since the last call (none: no batch).
        public mutating func endBatch() {
            if count > (batchEnds.last ?? 0) { batchEnds.append(count) }
        }

        public mutating func removeAll() {
            batchEnds.removeAll(keepingCapacity: true)
            keys.removeAll()
            tokens.removeAll(keepingCapacity: true)
            scores.removeAll(keepingCapacity: true)
        }
    }

    private let registered = Mutex(Scores())
    private let closed = Atomic<Bool>(false)
    /// What the writer sleeps on: a registration, a round of delivery reports (announced
    /// by the pipeline's delivery stage), the close.
    public let progress: EventCount

    public init(progress: EventCount) {
        self.progress = progress
    }

    /// No more batches will be registered, and every delivery is reported: the writer
    /// writes what was acknowledged and stops.
    public func close() {
        closed.store(true, ordering: .sequentiallyConsistent)
        progress.announce()
    }

    public var isClosed: Bool { closed.load(ordering: .sequentiallyConsistent) }

    /// Holds the scores `body` appends until their outputs are acknowledged (one lock per
    /// batch; `body` runs under it, so it only copies).
    public func register(_ body: (inout Scores) -> Void) {
        registered.withLock {
            body(&$0)
            $0.endBatch()
        }
        progress.announce()
    }

    /// What was registered since the last call, swapped into `taken`, whose buffers (emptied
    /// first) take its place, so neither side allocates once both have grown.
    public func take(into taken: inout Scores) {
        taken.removeAll()
        registered.withLock { swap(&$0, &taken) }
    }
}
