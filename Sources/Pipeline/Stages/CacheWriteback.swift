import RedisBridge
import Synchronization

/// New scores wait here until the output records carrying them are acknowledged; only then
/// does the batcher write them to the cache (one pipelined write per flush), so a failed
/// send never leaves a cached score behind.
///
/// The batcher registers each batch's new scores with the tracker tokens of their outputs;
/// the delivery thread reports each acknowledgement; the cache writer takes what is ready.
final class CacheWriteback: Sendable {
    private struct Pending {
        var remaining: Int
        var entries: [(key: [UInt8], score: Float)]
    }

    private struct State {
        var pending: [UInt64: Pending] = [:]
        var batchOf: [UInt64: UInt64] = [:]
        var ready: [(key: [UInt8], score: Float)] = []
        var nextBatch: UInt64 = 0
    }

    private let state = Mutex(State())
    private let readySignal = ConditionLock(false)
    private let closed = Atomic<Bool>(false)

    /// No more batches will be registered; the writer drains and stops.
    func close() {
        closed.store(true, ordering: .releasing)
        readySignal.withLock { $0 = true }
    }

    var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Waits until something is ready (or closed), at most `timeout`.
    func waitForReady(timeout: Duration) {
        _ = readySignal.wait(until: .now + timeout) { (ready: inout Bool) -> Bool? in
            guard ready else { return nil }
            ready = false
            return true
        }
    }

    /// Holds `entries` until every output with one of `tokens` is acknowledged.
    func register(tokens: [UInt64], entries: [(key: [UInt8], score: Float)]) {
        guard !tokens.isEmpty, !entries.isEmpty else { return }
        state.withLock { s in
            let batch = s.nextBatch
            s.nextBatch += 1
            s.pending[batch] = Pending(remaining: tokens.count, entries: entries)
            for token in tokens { s.batchOf[token] = batch }
        }
    }

    /// An output was acknowledged (`ok`) or refused: a refusal drops its batch's scores.
    func delivered(token: UInt64, ok: Bool) {
        state.withLock { s in
            guard let batch = s.batchOf.removeValue(forKey: token), var pending = s.pending[batch] else { return }
            if !ok {
                s.pending[batch] = nil
                return
            }
            pending.remaining -= 1
            if pending.remaining == 0 {
                s.ready += pending.entries
                s.pending[batch] = nil
                readySignal.withLock { $0 = true }
            } else {
                s.pending[batch] = pending
            }
        }
    }

    /// The scores whose outputs are all acknowledged, since the last call.
    func takeReady() -> [(key: [UInt8], score: Float)] {
        state.withLock { s in
            let ready = s.ready
            s.ready = []
            return ready
        }
    }
}
