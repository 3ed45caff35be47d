import Inference
import Logging
import RedisBridge

/// The batcher's score cache step: a batch's keys are deduplicated, looked up once (the
/// local tier, then one `MGET` for the rest), only the misses are scored (a key repeated in
/// the batch is scored once). New scores go into the local tier at once and to Redis once
/// their outputs are acknowledged (`CacheWriteback`, `CacheWriter`).
///
/// Created on, and used only by, the batcher thread, which owns the Redis connection.
struct CachedScoring {
    let cache: ScoreCache
    /// Nil when new scores do not go to Redis (no Redis, or a mode that does not write).
    let writeback: CacheWriteback?
    let stats: PipelineStats
    private var lastCounters = ScoreCache.Counters()
    private var compactRows: [Float] = []
    private var compactScores: [Float] = []

    init(configuration: ScoreCache.Configuration, model: String, featureSpec: String, writeback: CacheWriteback?, stats: PipelineStats, logger: Logger) {
        self.writeback = writeback
        self.stats = stats
        self.cache = ScoreCache(configuration: configuration, model: model, featureSpec: featureSpec) { state in
            stats.breakerState.store(state == .closed ? 0 : state == .open ? 1 : 2, ordering: .relaxed)
            switch state {
            case .open: logger.warning("score cache: Redis failing; scoring without it", metadata: ["breaker": "open"])
            case .halfOpen: logger.info("score cache: probing Redis", metadata: ["breaker": "half_open"])
            case .closed: logger.notice("score cache: Redis back", metadata: ["breaker": "closed"])
            }
        }
    }

    /// Scores `rowCount` rows into `scores`, from the cache where it can; `cached[r]` says
    /// which came from it. Rows without a key (nil range) are always scored.
    mutating func score(
        model: any Model, rows: [Float], rowCount: Int, keyRanges: [Range<Int>?], keys: [UInt8], tokens: [UInt64],
        scores: inout [Float], cached: inout [Bool]
    ) {
        let width = model.inputCount
        let lookupStart = PipelineStats.nowNanos()
        var uniqueIndex: [ArraySlice<UInt8>: Int] = [:]
        var uniqueKeys: [[UInt8]] = []
        var rowUnique = [Int](repeating: -1, count: rowCount)
        var duplicates = 0
        for r in 0..<rowCount {
            guard let range = keyRanges[r] else { continue }
            let key = keys[range]
            if let u = uniqueIndex[key] {
                rowUnique[r] = u
                duplicates += 1
            } else {
                rowUnique[r] = uniqueKeys.count
                uniqueIndex[key] = uniqueKeys.count
                uniqueKeys.append(Array(key))
            }
        }
        stats.cacheBatchDuplicates.add(duplicates, ordering: .relaxed)
        let found = cache.lookup(uniqueKeys)
        // One row per key that missed (and every row without a key) goes to the model.
        var scoredAt = [Int](repeating: -1, count: uniqueKeys.count)
        var toScore: [Int] = []
        for r in 0..<rowCount {
            let u = rowUnique[r]
            if u < 0 {
                toScore.append(r)
            } else if found[u] == nil && scoredAt[u] < 0 {
                scoredAt[u] = toScore.count
                toScore.append(r)
            }
        }
        compactRows.removeAll(keepingCapacity: true)
        for r in toScore { compactRows += rows[(r * width)..<((r + 1) * width)] }
        if compactScores.count < toScore.count { compactScores = [Float](repeating: 0, count: toScore.count) }
        stats.addTime(.cache, since: lookupStart)
        let modelStart = PipelineStats.nowNanos()
        if !toScore.isEmpty {
            let count = toScore.count
            compactRows.withUnsafeBufferPointer { input in
                compactScores.withUnsafeMutableBufferPointer { output in model.score(rows: input, rowCount: count, into: output) }
            }
        }
        stats.addTime(.inference, since: modelStart)
        var position = 0
        var newTokens: [UInt64] = []
        for r in 0..<rowCount {
            let u = rowUnique[r]
            if u < 0 {
                while toScore[position] != r { position += 1 }
                scores[r] = compactScores[position]
                cached[r] = false
            } else if let hit = found[u] {
                scores[r] = hit
                cached[r] = true
            } else {
                scores[r] = compactScores[scoredAt[u]]
                cached[r] = false
                if writeback != nil { newTokens.append(tokens[r]) }
            }
        }
        let entries = uniqueKeys.indices.compactMap { u -> (key: [UInt8], score: Float)? in
            scoredAt[u] >= 0 && compactScores[scoredAt[u]].isFinite ? (uniqueKeys[u], compactScores[scoredAt[u]]) : nil
        }
        // The local tier at once (it dies with the process, as a failed send stops the
        // worker); Redis only after the outputs are acknowledged.
        cache.storeLocally(entries)
        writeback?.register(tokens: newTokens, entries: entries)
        publish()
    }

    /// Copies the cache's counters into the pipeline's stats.
    private mutating func publish() {
        let c = cache.counters
        stats.cacheHits.add(c.hits - lastCounters.hits, ordering: .relaxed)
        stats.cacheMisses.add(c.misses - lastCounters.misses, ordering: .relaxed)
        stats.cacheErrors.add(c.errors - lastCounters.errors, ordering: .relaxed)
        stats.cacheBypassed.add(c.bypassed - lastCounters.bypassed, ordering: .relaxed)
        if c.redisReads > lastCounters.redisReads {
            stats.redisReads.add(c.redisReads - lastCounters.redisReads, ordering: .relaxed)
            stats.recordRedisRoundTrip(seconds: c.lastRoundTrip)
        }
        lastCounters = c
    }
}
