import ScoreCache

/// The batcher's cache step (`CachedScoring`, in the ScoreCache module): a batch is begun
/// there when it is flushed (its keys deduplicated, the local tier asked, an `MGET` sent
/// for the rest) and finished here, oldest first: the lookup's answer read, the misses
/// scored, the batch sent.
extension Batcher {
    /// Finishes the oldest batch waiting in the cache step (its lookup, then the model for
    /// the misses) and sends it.
    mutating func finishOldest() {
        var timing = CachedScoring<Batch>.Timing()
        guard let finished = cachedScoring!.finish(model: model, scores: &scores, cached: &cached, timing: &timing) else { return }
        stats.addTime(.cache, nanos: timing.cacheNanos)
        stats.addTime(.inference, nanos: timing.modelNanos)
        send(finished.items, scores: scores, cached: cached)
        recycle(finished)
    }

    /// Finishes and sends every batch waiting in the cache step.
    mutating func finishWaiting() {
        while (cachedScoring?.waitingCount ?? 0) > 0 { finishOldest() }
    }
}
