import Concurrency
import KafkaBridge
import Synchronization

/// What the batcher (which drives the transactions) and the poll thread (which owns the
/// consumer) tell each other in exactly-once mode.
///
/// - After an abort the batcher asks for a *rewind*: every partition with records in flight
///   goes back to its last committed offset. Until the poll thread has done it, the batcher
///   drops whatever it takes (all of it was fetched before the rewind); after, it drops
///   the records of the forgotten epochs (`OffsetTracker` no longer knows their tokens).
/// - A revoke's drain asks for a commit *now*, and waits on `progress`.
/// - The batcher says when it will commit no more (`closed`), so a drain at the end does
///   not wait for commits that cannot come.
final class TransactionControl: Sendable {
    private struct State {
        var rewindRequested = false
        var rewinds = 0
    }

    private let state = Mutex(State())
    private let commitRequested = Atomic<Bool>(false)
    private let closedFlag = Atomic<Bool>(false)
    /// Announced after each commit (and each rewind): what a revoke's drain waits on.
    let progress: EventCount

    init(progress: EventCount) {
        self.progress = progress
    }

    /// Batcher, after an abort.
    func requestRewind() {
        state.withLock { $0.rewindRequested = true }
    }

    /// Whether an abort's rewind is still to be done (the batcher drops everything meanwhile).
    var rewindPending: Bool { state.withLock { $0.rewindRequested } }

    /// Poll thread, once the partitions are back at their committed offsets.
    func rewound() {
        state.withLock { s in
            s.rewindRequested = false
            s.rewinds += 1
        }
        progress.announce()
    }

    /// Rewinds done so far.
    var rewinds: Int { state.withLock { $0.rewinds } }

    /// Poll thread (a revoke's drain): commit at the next point in fetch order.
    func requestCommit() { commitRequested.store(true, ordering: .releasing) }

    /// Batcher: whether a commit was asked for, clearing the request.
    func takeCommitRequest() -> Bool { commitRequested.exchange(false, ordering: .acquiringAndReleasing) }

    var isCommitRequested: Bool { commitRequested.load(ordering: .acquiring) }

    /// Batcher, on its way out: no transaction will commit after this.
    func close() {
        closedFlag.store(true, ordering: .releasing)
        progress.announce()
    }

    var isClosed: Bool { closedFlag.load(ordering: .acquiring) }
}
