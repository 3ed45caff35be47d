import Synchronization

/// New scores wait here until the output records carrying them are acknowledged; only then
/// are they written to Redis, so a failed send never leaves a cached score behind.
///
/// The batcher registers each batch's new scores, each with the tracker token of the
/// output that carries it. The cache writer takes them and asks the `OffsetTracker`, the
/// one place acknowledgements are recorded, which of them are done; the delivery thread
/// does nothing extra per record.
final class CacheWriteback: Sendable {
    struct Entry: Sendable {
        /// The token of the output record that carries this score.
        var token: UInt64
        var key: [UInt8]
        var score: Float
    }

    private let registered = Mutex<[Entry]>([])
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

    /// Holds `entries` until their outputs are acknowledged.
    func register(_ entries: [Entry]) {
        guard !entries.isEmpty else { return }
        registered.withLock { $0 += entries }
    }

    /// What was registered since the last call.
    func takeRegistered() -> [Entry] {
        registered.withLock { r in
            let taken = r
            r = []
            return taken
        }
    }
}
