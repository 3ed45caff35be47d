import Concurrency

/// A token bucket for the poll loop (`--max-rate`): `rate` records a second, with a burst of
/// at most a tenth of a second's worth (and at least one record), so the rate holds over
/// any span longer than that.
struct RateLimit {
    let rate: Double
    private let burst: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant

    init(rate: Double, now: ContinuousClock.Instant = .now) {
        precondition(rate > 0, "a rate limit needs a positive rate")
        self.rate = rate
        burst = max(1, rate / 10)
        tokens = burst
        last = now
    }

    /// Records that may be taken now (whole tokens).
    mutating func allowance(now: ContinuousClock.Instant = .now) -> Int {
        tokens = min(burst, tokens + (now - last).inSeconds * rate)
        last = now
        return Int(tokens.rounded(.down))
    }

    /// Takes `count` records (after `allowance`).
    mutating func take(_ count: Int) {
        tokens -= Double(count)
    }

    /// How long until one more record may be taken.
    var waitForNext: Duration {
        tokens >= 1 ? .zero : .seconds((1 - tokens) / rate)
    }
}
