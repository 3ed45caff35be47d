import Logging
import RedisBridge

/// The `streamscore.cache.writer` thread: every `interval`, writes the registered scores
/// whose outputs the tracker has seen acknowledged to Redis, in one pipelined `SET … PX`,
/// on a connection of its own, so the batcher never waits on a write. Scores from several
/// batches share a write (at most one write per batch); a score whose assignment was
/// revoked before its acknowledgement is dropped. After `close` (the producer's final
/// flush: every delivery reported), it writes what is acknowledged and stops.
enum CacheWriter {
    static let interval: Duration = .milliseconds(10)

    static func start(
        configuration: ScoreCache.Configuration, model: String, featureSpec: String, writeback: CacheWriteback,
        tracker: OffsetTracker, stats: PipelineStats, logger: Logger
    ) -> NamedThread {
        NamedThread("streamscore.cache.writer") {
            var redisOnly = configuration
            redisOnly.localCapacity = 0
            let cache = ScoreCache(configuration: redisOnly, model: model, featureSpec: featureSpec) { state in
                logger.notice("score cache writes: breaker \(state.rawValue)")
            }
            var pending: [CacheWriteback.Entry] = []
            var written = 0
            while true {
                let closing = writeback.isClosed
                pending += writeback.takeRegistered()
                var ready: [(key: [UInt8], score: Float)] = []
                if !pending.isEmpty {
                    var waiting: [CacheWriteback.Entry] = []
                    for (entry, acknowledged) in zip(pending, tracker.acknowledged(pending.lazy.map(\.token))) {
                        switch acknowledged {
                        case true?: ready.append((entry.key, entry.score))
                        case false?: waiting.append(entry)
                        case nil: break
                        }
                    }
                    pending = waiting
                }
                if !ready.isEmpty {
                    cache.store(ready)
                    if cache.counters.redisWrites > written {
                        stats.redisWrites.add(cache.counters.redisWrites - written, ordering: .relaxed)
                        stats.recordRedisRoundTrip(seconds: cache.counters.lastRoundTrip)
                        written = cache.counters.redisWrites
                    }
                }
                if closing { return }
                writeback.waitForClose(timeout: interval)
            }
        }
    }
}
