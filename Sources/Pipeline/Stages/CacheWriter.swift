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
            let log = BreakerLog(
                logger: logger, opened: "score cache: Redis failing writes; new scores are not cached",
                probing: "score cache: probing Redis with a write", closed: "score cache: Redis takes writes again")
            let cache = ScoreCache(configuration: redisOnly, model: model, featureSpec: featureSpec) { state, reason in
                stats.writeBreakerState.store(state.metricValue, ordering: .relaxed)
                log.log(state, reason: reason)
            }
            // Registered scores whose outputs are not yet acknowledged; each pass sorts them
            // into `ready` (written now) and `waiting` (kept), all buffers reused.
            var pending = CacheWriteback.Scores(), incoming = CacheWriteback.Scores()
            var waiting = CacheWriteback.Scores(), ready = CacheWriteback.Scores()
            var published = ScoreCache.Counters()
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
                    let c = cache.counters
                    if c.redisWrites > published.redisWrites {
                        stats.redisWrites.add(c.redisWrites - published.redisWrites, ordering: .relaxed)
                        stats.recordRedisRoundTrip(seconds: c.lastRoundTrip)
                    }
                    stats.cacheWritesOK.add(c.keysWritten - published.keysWritten, ordering: .relaxed)
                    stats.cacheWriteErrors.add(c.writeErrors - published.writeErrors, ordering: .relaxed)
                    stats.cacheWritesSkipped.add(c.writesSkipped - published.writesSkipped, ordering: .relaxed)
                    published = c
                }
                if closing { return }
                writeback.waitForClose(timeout: interval)
            }
        }
    }
}
