import Synchronization

/// A count of events that a busy thread announces and an idle one waits on: the
/// announcer pays one atomic add (and a load), and takes a lock only while someone waits.
///
/// For a hot notifier and rare waiters (the delivery thread announcing acknowledgements; a
/// revoke's drain and the cache writer waiting for them). `ConditionLock` wakes every
/// waiter on every change, which is right only for states that change a few times a second.
///
/// Waiter and announcer pair their sequentially consistent operations (the waiter counts
/// itself in, then reads the count; the announcer adds, then reads the waiters), so at
/// least one of them sees the other: a wake-up cannot be lost.
public final class EventCount: Sendable {
    private let count = Atomic<UInt64>(0)
    private let waiters = Atomic<Int>(0)
    private let signal = WakeSignal()

    public init() {}

    /// Events announced so far: pass it to `wait(after:until:)`.
    public var current: UInt64 { count.load(ordering: .sequentiallyConsistent) }

    /// Announces one event, waking any waiter.
    public func announce() {
        count.add(1, ordering: .sequentiallyConsistent)
        if waiters.load(ordering: .sequentiallyConsistent) > 0 { signal.wakeAll() }
    }

    /// Waits until an event after `seen` (a value of `current`) is announced, or `deadline`.
    /// - Returns: the new count, or nil at the deadline.
    @discardableResult
    public func wait(after seen: UInt64, until deadline: ContinuousClock.Instant? = nil) -> UInt64? {
        waiters.add(1, ordering: .sequentiallyConsistent)
        defer { waiters.subtract(1, ordering: .sequentiallyConsistent) }
        return signal.wait(until: deadline) {
            let now = count.load(ordering: .sequentiallyConsistent)
            return now != seen ? now : nil
        }
    }
}
