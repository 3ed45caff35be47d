import Logging
import RedisBridge

/// The `streamscore.cache.writer` thread: writes the scores `CacheWriteback` releases (their
/// outputs acknowledged) to Redis, one pipelined `SET … PX` per round, on a connection of
/// its own, so the batcher never waits on a write. It drains what is left and stops once
/// the writeback is closed (after the producer's final flush).
enum CacheWriter {
    static func start(
        configuration: ScoreCache.Configuration, model: String, featureSpec: String, writeback: CacheWriteback,
        stats: PipelineStats, logger: Logger
    ) -> NamedThread {
        NamedThread("streamscore.cache.writer") {
            var redisOnly = configuration
            redisOnly.localCapacity = 0
            let cache = ScoreCache(configuration: redisOnly, model: model, featureSpec: featureSpec) { state in
                logger.notice("score cache writes: breaker \(state.rawValue)")
            }
            var written = 0
            while true {
                let closing = writeback.isClosed
                let ready = writeback.takeReady()
                if !ready.isEmpty {
                    cache.store(ready)
                    if cache.counters.redisWrites > written {
                        stats.redisWrites.add(cache.counters.redisWrites - written, ordering: .relaxed)
                        stats.recordRedisRoundTrip(seconds: cache.counters.lastRoundTrip)
                        written = cache.counters.redisWrites
                    }
                } else if closing {
                    return
                } else {
                    writeback.waitForReady(timeout: .milliseconds(5))
                }
            }
        }
    }
}
