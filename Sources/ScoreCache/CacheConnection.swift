import RedisBridge

/// The score cache's Redis connection behind its circuit breaker: one per thread that
/// talks to Redis (the batcher's lookups, the writer's writes), each with its own breaker.
///
/// A failure is a broken or timed-out connection, or Redis refusing the command (`OOM` at
/// `maxmemory`, `MISCONF`, `READONLY` on a replica, `NOPERM`, `LOADING`, …). Transitions
/// go to `onTransition` once each; an opening carries the last failure's reason.
final class CacheConnection {
    let connection: RedisConnection
    private(set) var breaker: CircuitBreaker
    private let onTransition: (CircuitBreaker.State, _ reason: String?) -> Void
    /// Why the last Redis call failed (nil: none has yet).
    private(set) var lastFailure: String?

    init(url: RedisURL, configuration: ScoreCacheConfiguration, onTransition: @escaping (CircuitBreaker.State, _ reason: String?) -> Void) {
        connection = RedisConnection(
            url: url, connectTimeout: configuration.timeout, commandTimeout: configuration.timeout,
            initialBackoff: .milliseconds(100), maximumBackoff: configuration.openDuration)
        breaker = CircuitBreaker(failureThreshold: configuration.failureThreshold, openDuration: configuration.openDuration)
        self.onTransition = onTransition
    }

    /// Whether a call may go to Redis now; an open breaker whose time is up lets this one
    /// through as its probe (half-open, reported like every transition).
    func allows() -> Bool {
        let before = breaker.state
        let allowed = breaker.allows()
        if breaker.state != before { transition(breaker.state) }
        return allowed
    }

    /// A call succeeded.
    func succeeded() {
        transition(breaker.record(success: true))
    }

    /// A call failed: the breaker hears of it, with the reason for its log.
    func failed(_ reason: String) {
        lastFailure = reason
        transition(breaker.record(success: false))
    }

    /// The reason in a reply that is not the one asked for.
    static func refusal(_ reply: RedisReply) -> String {
        switch reply {
        case .error(let message): "redis: \(message)"
        case .array(let values): "redis: \(values.count) values for another number of keys"
        default: "redis: unexpected reply \(reply)"
        }
    }

    private func transition(_ state: CircuitBreaker.State?) {
        if let state { onTransition(state, state == .open ? lastFailure : nil) }
    }
}
