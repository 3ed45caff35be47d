import RedisBridge
import Synchronization

/// New scores wait here until the output records carrying them are acknowledged; only then
/// are they written to Redis, so a failed send never leaves a cached score behind.
///
/// The batcher registers each batch's new scores, each with the tracker token of the
/// output that carries it. The cache writer takes them and asks the `OffsetTracker`, the
/// one place acknowledgements are recorded, which of them are done; the delivery thread
/// does nothing extra per record.
final class CacheWriteback: Sendable {
    /// New scores with their keys and the tokens of the outputs that carry them, packed:
    /// the keys in one buffer (`ScoreKeys`), so a batch's scores cost no allocation per
    /// key once the buffers have grown. The batcher and the writer swap two of them.
    struct Scores: Sendable {
        private(set) var keys = ScoreKeys()
        private(set) var tokens: [UInt64] = []
        private(set) var scores: [Float] = []

        var count: Int { tokens.count }
        var isEmpty: Bool { tokens.isEmpty }

        /// Key `i` of `from`, with the token of the output that carries its score.
        mutating func append(key i: Int, of from: ScoreKeys, token: UInt64, score: Float) {
            from.withKey(i) { keys.append($0, fingerprint: from.fingerprints[i]) }
            tokens.append(token)
            scores.append(score)
        }

        /// Entry `i` of `other`.
        mutating func append(_ other: Scores, _ i: Int) {
            append(key: i, of: other.keys, token: other.tokens[i], score: other.scores[i])
        }

        mutating func removeAll() {
            keys.removeAll()
            tokens.removeAll(keepingCapacity: true)
            scores.removeAll(keepingCapacity: true)
        }
    }

    private let registered = Mutex(Scores())
    private let closedSignal = ConditionLock(false)

    /// No more batches will be registered, and every delivery is reported: the writer
    /// writes what was acknowledged and stops.
    func close() {
        closedSignal.withLock { $0 = true }
    }

    var isClosed: Bool { closedSignal.read { $0 } }

    /// Waits until closed, at most `timeout`.
    func waitForClose(timeout: Duration) {
        _ = closedSignal.wait(until: .now + timeout) { (closed: inout Bool) -> Bool? in closed ? true : nil }
    }

    /// Holds the scores `body` appends until their outputs are acknowledged (one lock per
    /// batch; `body` runs under it, so it only copies).
    func register(_ body: (inout Scores) -> Void) {
        registered.withLock { body(&$0) }
    }

    /// What was registered since the last call, swapped into `taken`, whose buffers (emptied
    /// first) take its place, so neither side allocates once both have grown.
    func take(into taken: inout Scores) {
        taken.removeAll()
        registered.withLock { swap(&$0, &taken) }
    }
}
