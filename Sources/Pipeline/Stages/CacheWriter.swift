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
            // Registered scores whose outputs are not yet acknowledged; each pass sorts them
            // into `ready` (written now) and `waiting` (kept), all buffers reused.
            var pending = CacheWriteback.Scores(), incoming = CacheWriteback.Scores()
            var waiting = CacheWriteback.Scores(), ready = CacheWriteback.Scores()
            var written = 0
            func sort(_ scores: CacheWriteback.Scores) {
                guard !scores.isEmpty else { return }
                for (i, acknowledged) in tracker.acknowledged(scores.tokens).enumerated() {
                    switch acknowledged {
                    case true?: ready.append(scores, i)
                    case false?: waiting.append(scores, i)
                    case nil: break  // revoked: its output will not be acknowledged here
                    }
                }
            }
            while true {
                let closing = writeback.isClosed
                writeback.take(into: &incoming)
                ready.removeAll()
                waiting.removeAll()
                sort(pending)
                sort(incoming)
                swap(&pending, &waiting)
                if !ready.isEmpty {
                    cache.store(ready.keys, scores: ready.scores)
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
