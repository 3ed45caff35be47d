import Logging
import RedisBridge

/// At start-up, on a thread of its own (a Redis that does not answer must not hold up the
/// start): says in the log whether the score cache's Redis answers, which Redis it is,
/// and whether its memory settings suit a cache. Without it, a wrong address or password
/// shows only when the first events arrive, as the breaker opens.
enum CacheProbe {
    /// How long the probe waits for Redis (at least; `cache.timeout_ms` if longer). It
    /// holds up nothing, so it can wait longer than a batch would.
    static let timeout: Duration = .seconds(2)

    /// Starts the probe, when the cache has a Redis to ask.
    @discardableResult
    static func start(configuration: ScoreCache.Configuration, logger: Logger) -> NamedThread? {
        guard let url = configuration.redis, configuration.mode != .bypass else { return nil }
        let wait = max(timeout, configuration.timeout)
        return NamedThread("streamscore.cache.probe") { run(url: url, timeout: wait, logger: logger) }
    }

    static func run(url: RedisURL, timeout: Duration, logger: Logger) {
        let connection = RedisConnection(url: url, connectTimeout: timeout, commandTimeout: timeout)
        defer { connection.close() }
        do throws(RedisError) {
            let info = try RedisServerInfo.fetch(connection)
            logger.info("score cache: Redis answers", metadata: [
                "redis": "\(url)", "version": "\(info.version ?? "unknown (INFO refused)")",
                "round_trip_ms": "\((info.roundTrip.inSeconds * 1_000 * 10).rounded() / 10)",
                "maxmemory": "\(info.maxMemory.map(String.init) ?? "unknown")", "maxmemory_policy": "\(info.evictionPolicy ?? "unknown")",
            ])
            if let advice = info.advice {
                logger.warning("score cache: \(advice)", metadata: ["redis": "\(url)"])
            }
        } catch {
            logger.warning(
                "score cache: Redis does not answer at start-up; batches score without it until it does",
                metadata: ["redis": "\(url)", "reason": "\(error)"])
        }
    }
}
