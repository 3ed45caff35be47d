import Foundation
import Synchronization

/// State guarded by a lock, with waiting for a condition on it: the primitive behind the
/// pipeline's bounded queues (threads block here, never on the cooperative pool).
///
/// Every mutation broadcasts, so waiters re-check their predicate; the queues it serves
/// see at most a few thousand changes per second, so broadcast costs nothing measurable.
final class ConditionLock<State: Sendable>: Sendable {
    // NSCondition provides waiting; Mutex owns the state so no unchecked storage is
    // needed. The Mutex is only ever taken while the condition's lock is held, so it is
    // never contended.
    private let condition = NSCondition()
    private let state: Mutex<State>

    init(_ initial: sending State) {
        state = Mutex(initial)
    }

    /// Runs `body` on the state and wakes all waiters.
    @discardableResult
    func withLock<R>(_ body: (inout State) -> R) -> R {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return state.withLock { body(&$0) }
    }

    /// Reads the state without waking anyone.
    func read<R>(_ body: (State) -> R) -> R {
        condition.lock()
        defer { condition.unlock() }
        return state.withLock { body($0) }
    }

    /// Waits until `body` returns non-nil (it runs under the lock, may mutate, and wakes
    /// others when it returns a value), or until `deadline`.
    ///
    /// - Returns: `body`'s value, or nil at the deadline.
    func wait<R>(until deadline: ContinuousClock.Instant? = nil, _ body: (inout State) -> R?) -> R? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let result = state.withLock({ body(&$0) }) {
                condition.broadcast()
                return result
            }
            if let deadline {
                let remaining = ContinuousClock.now.duration(to: deadline)
                if remaining <= .zero { return nil }
                _ = condition.wait(until: Date(timeIntervalSinceNow: remaining.inSeconds))
            } else {
                condition.wait()
            }
        }
    }
}
