/// What the score cache learns of its Redis at start-up (one `INFO`): that it answers, its
/// version, and whether its memory settings suit a cache.
public struct RedisServerInfo: Sendable, Equatable {
    /// `redis_version` (nil when `INFO` is refused, as an ACL may do).
    public var version: String?
    /// Why Redis refused the `INFO` (`NOAUTH`, `NOPERM`, …), if it did.
    public var refusal: String?
    /// `maxmemory` in bytes; 0: no limit.
    public var maxMemory: Int?
    /// `maxmemory_policy`: what Redis does when full.
    public var evictionPolicy: String?
    /// The `INFO` round trip, connect included.
    public var roundTrip: Duration

    public init(version: String?, maxMemory: Int?, evictionPolicy: String?, roundTrip: Duration) {
        (self.version, self.maxMemory, self.evictionPolicy, self.roundTrip) = (version, maxMemory, evictionPolicy, roundTrip)
    }

    /// Asks `connection`'s Redis. An `INFO` that Redis refuses still tells that it answers.
    /// - Throws: when Redis does not answer.
    public static func fetch(_ connection: RedisConnection) throws(RedisError) -> RedisServerInfo {
        let start = ContinuousClock.now
        let reply = try connection.command(["INFO"])
        var info = RedisServerInfo(version: nil, maxMemory: nil, evictionPolicy: nil, roundTrip: ContinuousClock.now - start)
        if case .error(let why) = reply { info.refusal = why }
        guard case .string(let text) = reply else { return info }
        for line in String(decoding: text, as: UTF8.self).split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = String(line[line.index(after: colon)...])
            switch line[..<colon] {
            case "redis_version": info.version = value
            case "maxmemory": info.maxMemory = Int(value)
            case "maxmemory_policy": info.evictionPolicy = value
            default: break
            }
        }
        return info
    }

    /// What an operator should hear about these settings, or nil.
    ///
    /// A Redis with a memory limit and the `noeviction` policy (Redis's default policy)
    /// refuses every write once full (`OOM`): from then on new scores are not cached, and
    /// the writes' breaker opens again and again until entries expire.
    public var advice: String? {
        guard let maxMemory, maxMemory > 0, evictionPolicy == "noeviction" else { return nil }
        let limit = maxMemory % (1 << 20) == 0 ? "\(maxMemory >> 20) MiB" : "\(maxMemory) bytes"
        return "Redis has maxmemory \(limit) and maxmemory-policy noeviction: once full it refuses writes (OOM) and new scores go uncached; a cache wants allkeys-lru or volatile-lru, which evict the least recently used instead"
    }
}
