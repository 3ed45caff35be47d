import Concurrency
import Logging
import RedisBridge

/// The `streamscore.cache.writer` thread: writes the registered scores whose outputs have
/// been acknowledged to Redis, in one pipelined `SET … PX`, on a connection of its own
/// (`ScoreWriter`), so the batcher never waits on a write. It sleeps until something
/// happens (`CacheWriteback.progress`: a batch registered, deliveries reported, the
/// close), then asks `acknowledged` which of its scores' outputs are done. It writes when
/// the oldest batch it holds is wholly acknowledged, with every other acknowledged score:
/// at most one write per batch, and scores from several batches share one. A score whose
/// assignment was revoked before its acknowledgement is dropped. After `close` (the producer's final flush: every delivery
/// reported), it writes what is acknowledged and stops.
public enum CacheWriter {
    /// Starts the thread.
    /// - Parameter acknowledged: per token, whether its output is acknowledged (nil: its
    ///   partition was revoked, the output will not be acknowledged here). The pipeline's
    ///   `OffsetTracker`, where acknowledgements are recorded anyway, answers.
    public static func start(
        url: RedisURL, configuration: ScoreCacheConfiguration, namespace: CacheNamespace, writeback: CacheWriteback,
        acknowledged: @escaping @Sendable ([UInt64]) -> [Bool?], stats: CacheStats, logger: Logger
    ) -> NamedThread {
        NamedThread("streamscore.cache.writer") {
            let log = BreakerLog(
                logger: logger, opened: "score cache: Redis failing writes; new scores are not cached",
                probing: "score cache: probing Redis with a write", closed: "score cache: Redis takes writes again")
            let writer = ScoreWriter(url: url, configuration: configuration, namespace: namespace) { state, reason in
                stats.writeBreakerState.store(state.metricValue, ordering: .relaxed)
                log.log(state, reason: reason)
            }
            // Registered scores not yet written, in batches, oldest first; each pass sorts
            // them into `ready` (written now) and `waiting` (kept), all buffers reused.
            var pending = CacheWriteback.Scores(), incoming = CacheWriteback.Scores()
            var waiting = CacheWriteback.Scores(), ready = CacheWriteback.Scores()
            // Each pass asks once per score whether its output is acknowledged.
            var pendingStates: [Bool?] = [], incomingStates: [Bool?] = []
            var published = ScoreWriter.Counters()
            /// Sorts `scores` by `states`. With `write`, acknowledged scores go to `ready`;
            /// without, every score still to be acknowledged or written waits. Revoked ones
            /// are dropped either way. Batch boundaries are kept.
            func sort(_ scores: CacheWriteback.Scores, _ states: [Bool?], write: Bool) {
                var start = 0
                for end in scores.batchEnds {
                    for i in start..<end {
                        switch states[i] {
                        case true? where write: ready.append(scores, i)
                        case true?, false?: waiting.append(scores, i)
                        case nil: break  // revoked: its output will not be acknowledged here
                        }
                    }
                    waiting.endBatch()
                    start = end
                }
            }
            /// Whether the oldest batch is wholly acknowledged (or revoked): then a write.
            func oldestBatchDone() -> Bool {
                let (oldest, states) = pending.isEmpty ? (incoming, incomingStates) : (pending, pendingStates)
                guard let end = oldest.batchEnds.first else { return false }
                return states[..<end].allSatisfy { $0 != false }
            }
            var seen = writeback.progress.current
            while true {
                let closing = writeback.isClosed
                writeback.take(into: &incoming)
                ready.removeAll()
                waiting.removeAll()
                pendingStates = pending.isEmpty ? [] : acknowledged(pending.tokens)
                incomingStates = incoming.isEmpty ? [] : acknowledged(incoming.tokens)
                // At most one write per batch: only when the oldest batch is wholly
                // acknowledged (its write takes whatever else is acknowledged too).
                let write = closing || oldestBatchDone()
                sort(pending, pendingStates, write: write)
                sort(incoming, incomingStates, write: write)
                swap(&pending, &waiting)
                if !ready.isEmpty {
                    writer.store(ready.keys, scores: ready.scores)
                    let c = writer.counters
                    if c.redisWrites > published.redisWrites {
                        stats.redisWrites.add(c.redisWrites - published.redisWrites, ordering: .relaxed)
                        stats.recordRedisRoundTrip(seconds: c.lastRoundTrip)
                    }
                    stats.writesOK.add(c.keysWritten - published.keysWritten, ordering: .relaxed)
                    stats.writeErrors.add(c.writeErrors - published.writeErrors, ordering: .relaxed)
                    stats.writesSkipped.add(c.writesSkipped - published.writesSkipped, ordering: .relaxed)
                    published = c
                }
                if closing { return }
                // Anything announced since `seen` (during this pass too) returns at once.
                seen = writeback.progress.wait(after: seen) ?? seen
            }
        }
    }
}
