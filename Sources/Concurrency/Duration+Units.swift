#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Duration {
    /// The duration in seconds, as a `Double` (for waits, rates and display).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Whole milliseconds, rounded down (Redis `PX`, librdkafka properties).
    public var inMilliseconds: Int64 {
        components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000
    }

    /// Milliseconds, rounded to the nearest.
    public var inMillisecondsRounded: Int64 {
        components.seconds * 1_000 + (components.attoseconds + 500_000_000_000_000) / 1_000_000_000_000_000
    }

    /// Whole microseconds, rounded down (hiredis timeouts).
    public var inMicroseconds: Int64 {
        components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000
    }

    /// Whole milliseconds clamped to `Int32`, as librdkafka's timeouts take them.
    public var timeoutMilliseconds: Int32 { Int32(clamping: inMilliseconds) }
}

extension ContinuousClock.Instant {
    /// The time until this deadline, but at least 100 ms: a bounded step past its deadline
    /// (a commit, a close) still gets one short try.
    public var timeLeft: Duration {
        max(.milliseconds(100), ContinuousClock.now.duration(to: self))
    }
}

/// The monotonic clock as plain nanoseconds: two reads subtract to a stage's time with no
/// `Duration` arithmetic on the hot path.
public enum MonotonicClock {
    public static func nanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
