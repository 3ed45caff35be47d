import Inference
import Logging
import RedisBridge

/// The batcher's score cache step: a batch's keys are deduplicated, looked up once (the
/// local tier, then one `MGET` for the rest), only the misses are scored (a key repeated in
/// the batch is scored once). New scores go into the local tier at once and to Redis once
/// their outputs are acknowledged (`CacheWriteback`, `CacheWriter`).
///
/// Keys come with fingerprints made by the decode workers: deduplication and the local
/// tier index by them and compare the bytes, so the batcher hashes nothing. Every buffer is
/// reused across batches.
///
/// Created on, and used only by, the batcher thread, which owns the Redis connection.
struct CachedScoring {
    let cache: ScoreCache
    /// Nil when new scores do not go to Redis (no Redis, or a mode that does not write).
    let writeback: CacheWriteback?
    let stats: PipelineStats
    private var lastCounters = ScoreCache.Counters()

    /// One batch's keys, from gathering to its finish. Kept in a pool and reused.
    private struct BatchKeys {
        /// Each row's key (a range of `keys`; nil: none), its fingerprint, the token its
        /// output will carry, as `gather` adds them.
        var keyRanges: [Range<Int>?] = []
        var keys: [UInt8] = []
        var fingerprints: [UInt64] = []
        var tokens: [UInt64] = []
        /// The batch's distinct keys, and each row's (-1: the row has none).
        var unique = ScoreKeys()
        var rowUnique: [Int32] = []
        /// Per distinct key, the cached score (from the local tier, then Redis).
        var found: [Float?] = []
        var lookup = ScoreCache.Lookup()
        /// When the batch was looked up (one clock read for all its keys).
        var lookupTime = ContinuousClock.now

        mutating func removeAll() {
            keyRanges.removeAll(keepingCapacity: true)
            keys.removeAll(keepingCapacity: true)
            fingerprints.removeAll(keepingCapacity: true)
            tokens.removeAll(keepingCapacity: true)
        }
    }

    /// The batch being gathered; the batches begun and not finished, oldest first (their
    /// `MGET`s are out, and Redis answers in order); emptied ones, for reuse.
    private var gathering = BatchKeys()
    private var begun: [BatchKeys] = []
    private var spare: [BatchKeys] = []
    /// Indexes a batch's distinct keys by fingerprint while it is deduplicated.
    private var uniqueByFingerprint = FingerprintTable(capacity: 256)  // grows with larger batches
    /// For the batch being finished, per distinct key: where in `toScore` its row is (-1:
    /// not scored), the new score to remember.
    private var scoredAt: [Int32] = []
    private var newScores: [Float?] = []
    /// Rows the model scores, in batch order, packed into `compactRows`.
    private var toScore: [Int32] = []
    private var compactRows: [Float] = []
    private var compactScores: [Float] = []

    init(configuration: ScoreCache.Configuration, model: String, featureSpec: String, writeback: CacheWriteback?, stats: PipelineStats, logger: Logger) {
        self.writeback = writeback
        self.stats = stats
        let log = BreakerLog(
            logger: logger, opened: "score cache: Redis failing; scoring without it", probing: "score cache: probing Redis",
            closed: "score cache: Redis back")
        self.cache = ScoreCache(configuration: configuration, model: model, featureSpec: featureSpec) { state, reason in
            stats.breakerState.store(state.metricValue, ordering: .relaxed)
            log.log(state, reason: reason)
        }
    }

    /// Whether lookups can wait on Redis (then the batcher overlaps them with sending the
    /// previous batch).
    var asksRedis: Bool { cache.asksRedis }

    /// Adds row `r` of `chunk`, whose output will carry `token`, to the batch under way.
    mutating func gather(row r: Int, of chunk: DecodedChunk, token: UInt64) {
        if let range = chunk.keyRanges[r] {
            gathering.keyRanges.append(gathering.keys.count..<(gathering.keys.count + range.count))
            gathering.keys += chunk.keys[range]
        } else {
            gathering.keyRanges.append(nil)
        }
        gathering.fingerprints.append(chunk.keyFingerprints[r])
        gathering.tokens.append(token)
    }

    /// Scores the gathered batch's `rowCount` rows into `scores`, from the cache where it
    /// can; `cached[r]` says which came from it. Rows without a key are always scored.
    mutating func score(model: any Model, rows: [Float], rowCount: Int, scores: inout [Float], cached: inout [Bool]) {
        begin(rowCount: rowCount)
        finish(model: model, rows: rows, rowCount: rowCount, scores: &scores, cached: &cached)
    }

    /// The first half of `score`: deduplicates the batch's keys, looks them up in the local
    /// tier and sends the `MGET` for the rest, without waiting for it.
    mutating func begin(rowCount: Int) {
        precondition(rowCount == gathering.keyRanges.count, "gather every row of the batch first")
        let start = PipelineStats.nowNanos()
        var batch = gathering
        gathering = spare.popLast() ?? BatchKeys()
        batch.lookupTime = ContinuousClock.now
        deduplicate(&batch, rowCount: rowCount)
        cache.beginLookup(batch.unique, into: &batch.found, lookup: &batch.lookup, now: batch.lookupTime)
        begun.append(batch)
        stats.addTime(.cache, since: start)
    }

    /// The second half of `score`, for the batch `begin` saw: takes Redis's answer, scores
    /// the misses, and remembers the new scores.
    mutating func finish(model: any Model, rows: [Float], rowCount: Int, scores: inout [Float], cached: inout [Bool]) {
        let lookupStart = PipelineStats.nowNanos()
        precondition(!begun.isEmpty, "begin first")
        var batch = begun.removeFirst()
        precondition(rowCount == batch.keyRanges.count, "finish the batches in the order they began")
        cache.finishLookup(batch.unique, into: &batch.found, lookup: &batch.lookup, now: batch.lookupTime)
        scoreMisses(of: batch, model: model, rows: rows, rowCount: rowCount, scores: &scores, cached: &cached, since: lookupStart)
        batch.removeAll()  // its buffers no longer shared: emptied in place, kept for reuse
        spare.append(batch)
    }

    /// Scores a looked-up batch's misses and fills `scores` and `cached`; remembers the new
    /// scores.
    private mutating func scoreMisses(
        of batch: BatchKeys, model: any Model, rows: [Float], rowCount: Int, scores: inout [Float], cached: inout [Bool],
        since lookupStart: Int64
    ) {
        let (unique, rowUnique, found, tokens, now) = (batch.unique, batch.rowUnique, batch.found, batch.tokens, batch.lookupTime)
        // One row per key that missed (and every row without a key) goes to the model.
        scoredAt.removeAll(keepingCapacity: true)
        scoredAt.append(contentsOf: repeatElement(-1, count: unique.count))
        toScore.removeAll(keepingCapacity: true)
        for r in 0..<rowCount {
            let u = Int(rowUnique[r])
            if u < 0 {
                toScore.append(Int32(r))
            } else if found[u] == nil && scoredAt[u] < 0 {
                scoredAt[u] = Int32(toScore.count)
                toScore.append(Int32(r))
            }
        }
        let width = model.inputCount
        compactRows.removeAll(keepingCapacity: true)
        for r in toScore { compactRows += rows[(Int(r) * width)..<((Int(r) + 1) * width)] }
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

        let storeStart = PipelineStats.nowNanos()
        var position = 0
        for r in 0..<rowCount {
            let u = Int(rowUnique[r])
            if u < 0 {
                while toScore[position] != r { position += 1 }
                scores[r] = compactScores[position]
                cached[r] = false
            } else if let hit = found[u] {
                scores[r] = hit
                cached[r] = true
            } else {
                scores[r] = compactScores[Int(scoredAt[u])]
                cached[r] = false
            }
        }
        newScores.removeAll(keepingCapacity: true)
        var newCount = 0
        for u in 0..<unique.count {
            guard scoredAt[u] >= 0, case let score = compactScores[Int(scoredAt[u])], score.isFinite else {
                newScores.append(nil)
                continue
            }
            newScores.append(score)
            newCount += 1
        }
        // The local tier at once (it dies with the process, as a failed send stops the
        // worker); Redis only after the outputs are acknowledged.
        cache.storeLocally(unique, scores: newScores, now: now)
        if let writeback, newCount > 0 {
            writeback.register { pending in
                for u in 0..<unique.count {
                    guard let score = newScores[u] else { continue }
                    pending.append(key: u, of: unique, token: tokens[Int(toScore[Int(scoredAt[u])])], score: score)
                }
            }
        }
        stats.addTime(.cache, since: storeStart)
        publish()
    }

    /// Fills the batch's `unique` with its distinct keys and `rowUnique` with each row's.
    /// Two keys with one fingerprint but other bytes stay apart (the later is not indexed).
    private mutating func deduplicate(_ batch: inout BatchKeys, rowCount: Int) {
        batch.unique.removeAll()
        uniqueByFingerprint.removeAll()
        batch.rowUnique.removeAll(keepingCapacity: true)
        var duplicates = 0
        batch.keys.withUnsafeBytes { bytes in
            for r in 0..<rowCount {
                guard let range = batch.keyRanges[r] else {
                    batch.rowUnique.append(-1)
                    continue
                }
                let key = UnsafeRawBufferPointer(rebasing: bytes[range])
                let fingerprint = batch.fingerprints[r]
                if let u = uniqueByFingerprint.findOrInsert(fingerprint, Int32(batch.unique.count)), batch.unique.key(Int(u), equals: key) {
                    batch.rowUnique.append(u)
                    duplicates += 1
                    continue
                }
                batch.rowUnique.append(Int32(batch.unique.count))
                batch.unique.append(key, fingerprint: fingerprint)
            }
        }
        stats.cacheBatchDuplicates.add(duplicates, ordering: .relaxed)
    }

    /// Copies the cache's counters into the pipeline's stats.
    private mutating func publish() {
        let c = cache.counters
        stats.cacheHits.add(c.hits - lastCounters.hits, ordering: .relaxed)
        stats.cacheLocalHits.add(c.localHits - lastCounters.localHits, ordering: .relaxed)
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
