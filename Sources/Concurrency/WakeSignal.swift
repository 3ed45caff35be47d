import Foundation

/// One kind of waiter's wake-up, for state guarded elsewhere (a `Mutex`): the waiter checks
/// its condition under this signal's lock, and a notifier changes the state first, then
/// wakes. A wake-up cannot be lost between the check and the wait, because the notifier
/// must take the same lock, which the waiter only gives up inside `wait`.
///
/// `IntakeQueue` keeps one per waiter kind (workers, batcher, poll thread), so a change
/// wakes only the threads it concerns: on a 2-core machine a broadcast to every waiter on
/// every push, decode and take cost more than the work itself.
public final class WakeSignal: Sendable {
    private let condition = NSCondition()

    public init() {}

    /// Waits until `check` returns non-nil, or until `deadline`. `check` runs under this
    /// signal's lock (it reads the guarded state with that state's own lock).
    public func wait<R>(until deadline: ContinuousClock.Instant? = nil, _ check: () -> R?) -> R? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let result = check() { return result }
            if let deadline {
                let remaining = ContinuousClock.now.duration(to: deadline)
                if remaining <= .zero { return nil }
                _ = condition.wait(until: Date(timeIntervalSinceNow: remaining.inSeconds))
            } else {
                condition.wait()
            }
        }
    }

    /// Wakes one waiter (call after changing the state).
    public func wakeOne() {
        condition.lock()
        condition.signal()
        condition.unlock()
    }

    /// Wakes every waiter (call after changing the state).
    public func wakeAll() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }
}
