import Synchronization

/// State guarded by a lock, with waiting for a condition on it: the primitive behind the
/// pipeline's small shared states (control, write-back, thread completion); threads block
/// here, never on the cooperative pool.
///
/// Every mutation wakes every waiter, which re-checks its predicate: right for states that
/// change a few times per second. A queue with several kinds of waiters and thousands of
/// changes per second gives each kind its own `WakeSignal` instead (`IntakeQueue`).
public final class ConditionLock<State: Sendable>: Sendable {
    private let state: Mutex<State>
    private let signal = WakeSignal()

    public init(_ initial: sending State) {
        state = Mutex(initial)
    }

    /// Runs `body` on the state and wakes all waiters.
    @discardableResult
    public func withLock<R>(_ body: (inout State) -> R) -> R {
        let result = state.withLock { body(&$0) }
        signal.wakeAll()
        return result
    }

    /// Reads the state without waking anyone.
    public func read<R>(_ body: (State) -> R) -> R {
        state.withLock { body($0) }
    }

    /// Waits until `body` returns non-nil (it runs under the lock, may mutate, and wakes
    /// others when it returns a value), or until `deadline`.
    ///
    /// - Returns: `body`'s value, or nil at the deadline.
    public func wait<R>(until deadline: ContinuousClock.Instant? = nil, _ body: (inout State) -> R?) -> R? {
        let result = signal.wait(until: deadline) { state.withLock { body(&$0) } }
        if result != nil { signal.wakeAll() }
        return result
    }
}
