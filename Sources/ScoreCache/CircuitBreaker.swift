/// Keeps a failing Redis out of the scoring path: after `failureThreshold` failures in a
/// row the breaker opens and calls skip Redis; after `openDuration` one call is let through
/// as a probe (half-open): success closes the breaker, failure opens it again.
public struct CircuitBreaker: Sendable {
    public enum State: String, Sendable {
        case closed, open
        case halfOpen = "half_open"
    }

    public let failureThreshold: Int
    public let openDuration: Duration
    public private(set) var state: State = .closed
    private var failures = 0
    private var openedAt: ContinuousClock.Instant?

    public init(failureThreshold: Int = 3, openDuration: Duration = .seconds(2)) {
        precondition(failureThreshold >= 1, "threshold")
        self.failureThreshold = failureThreshold
        self.openDuration = openDuration
    }

    /// Whether a call may go to Redis now (moves an open breaker to half-open when its time is up).
    public mutating func allows(now: ContinuousClock.Instant = .now) -> Bool {
        switch state {
        case .closed, .halfOpen: return true
        case .open:
            guard let openedAt, now - openedAt >= openDuration else { return false }
            state = .halfOpen
            return true
        }
    }

    /// Records a call's outcome; returns the new state when it changed (to log it once).
    public mutating func record(success: Bool, now: ContinuousClock.Instant = .now) -> State? {
        let before = state
        if success {
            failures = 0
            state = .closed
        } else {
            failures += 1
            if state == .halfOpen || failures >= failureThreshold {
                state = .open
                openedAt = now
            }
        }
        return state == before ? nil : state
    }
}

extension CircuitBreaker.State {
    /// The state as the breaker gauges give it: 0 closed, 1 open, 2 half-open.
    public var metricValue: Int {
        switch self {
        case .closed: 0
        case .open: 1
        case .halfOpen: 2
        }
    }
}
