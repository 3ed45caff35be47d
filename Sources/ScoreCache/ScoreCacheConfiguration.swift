import RedisBridge

/// How a worker caches scores (`cache.*`): the Redis behind the in-process tier, the mode,
/// the key prefix, expiries, and the Redis timeouts and breaker.
public struct ScoreCacheConfiguration: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Read, then write what was scored.
        case readWrite = "read_write"
        /// Read only; nothing new is written.
        case readOnly = "read_only"
        /// Write what was scored; never read (warming a cache).
        case writeOnly = "write_only"
        /// No cache at all.
        case bypass

        /// Whether the cache is read (`read_write`, `read_only`).
        public var reads: Bool { self == .readWrite || self == .readOnly }
        /// Whether new scores are written (`read_write`, `write_only`).
        public var writes: Bool { self == .readWrite || self == .writeOnly }
    }

    /// Nil: the in-process tier alone.
    public var redis: RedisURL?
    public var mode: Mode = .readWrite
    public var prefix = "streamscore"
    /// Redis entries expire after this (`PX`).
    public var ttl: Duration = .seconds(3600)
    /// Entries in the in-process tier (at most `maximumLocalCapacity`). Each takes about
    /// 140–170 bytes: its index buckets at start-up, its slot and key bytes once used.
    public var localCapacity = 100_000
    public static let maximumLocalCapacity = 50_000_000
    public var localTTL: Duration = .seconds(60)
    /// Longest a lookup or a write waits on Redis (connect and each read or write).
    public var timeout: Duration = .milliseconds(20)
    public var failureThreshold = 3
    public var openDuration: Duration = .seconds(2)

    public init(redis: RedisURL? = nil, mode: Mode = .readWrite) {
        self.redis = redis
        self.mode = mode
    }
}
