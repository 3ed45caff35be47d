import Concurrency
import Logging
import RedisBridge

/// At start-up, on a thread of its own (a Redis that does not answer must not hold up the
/// start): says in the log whether the score cache's Redis answers, which Redis it is,
/// whether its memory settings suit a cache, and whether it takes the cache's `MGET` and
/// `SET` (a 10-second key `{prefix}:probe`). Without it, a wrong address or password
/// shows only when the first events arrive, as the breaker opens.
public enum CacheProbe {
    /// How long the probe waits for Redis (at least; `cache.timeout_ms` if longer). It
    /// holds up nothing, so it can wait longer than a batch would.
    static let timeout: Duration = .seconds(2)

    /// Starts the probe, when the cache has a Redis to ask.
    @discardableResult
    public static func start(configuration: ScoreCacheConfiguration, logger: Logger) -> NamedThread? {
        guard let url = configuration.redis, configuration.mode != .bypass else { return nil }
        let wait = max(timeout, configuration.timeout)
        return NamedThread("streamscore.cache.probe") { run(configuration: configuration, url: url, timeout: wait, logger: logger) }
    }

    static func run(configuration: ScoreCacheConfiguration, url: RedisURL, timeout: Duration, logger: Logger) {
        let connection = RedisConnection(url: url, connectTimeout: timeout, commandTimeout: timeout)
        defer { connection.close() }
        do throws(RedisError) {
            let info = try RedisServerInfo.fetch(connection)
            if let advice = info.advice {
                logger.warning("score cache: \(advice)", metadata: ["redis": "\(url)"])
            }
            // The cache's own commands, on a key of its own prefix (an ACL that limits keys
            // judges it as it will the cache's): a replica refuses the SET (READONLY), a
            // missing password both (NOAUTH), an ACL either (NOPERM).
            let probeKey = "\(configuration.prefix):probe"
            var lookups = "not used", writes = "not used"
            if configuration.mode.reads {
                lookups = "ok"
                if case .error(let why) = try connection.command(["MGET", probeKey]) {
                    lookups = "refused"
                    logger.warning("score cache: Redis refuses lookups (MGET); batches score without it", metadata: ["redis": "\(url)", "reason": "\(why)"])
                }
            }
            if configuration.mode.writes {
                writes = "ok"
                if case .error(let why) = try connection.command(["SET", probeKey, "0", "PX", "10000"]) {
                    writes = "refused"
                    logger.warning("score cache: Redis refuses writes (SET); new scores will not be cached", metadata: ["redis": "\(url)", "reason": "\(why)"])
                }
            }
            logger.info("score cache: Redis answers", metadata: [
                "redis": "\(url)", "version": "\(info.version ?? info.refusal.map { "unknown (INFO refused: \($0))" } ?? "unknown")",
                "round_trip_ms": "\((info.roundTrip.inSeconds * 1_000 * 10).rounded() / 10)",
                "maxmemory": "\(info.maxMemory.map(String.init) ?? "unknown")", "maxmemory_policy": "\(info.evictionPolicy ?? "unknown")",
                "lookups": "\(lookups)", "writes": "\(writes)",
            ])
        } catch {
            logger.warning(
                "score cache: Redis does not answer at start-up; batches score without it until it does",
                metadata: ["redis": "\(url)", "reason": "\(error)"])
        }
    }
}
