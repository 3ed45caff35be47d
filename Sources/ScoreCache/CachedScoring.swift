import Inference
import Logging
import RedisBridge

import Concurrency
import Inference
import Logging
import RedisBridge

/// A batch the cache step holds while its lookup is out: the batcher's records and rows,
/// whatever else it must keep until the batch is scored and sent.
public protocol CacheableBatch {
    /// `rowCount × model.inputCount` floats, row-major.
    var rows: [Float] { get }
    var rowCount: Int { get }
}

/// The batcher's score cache step: a batch's keys are deduplicated, looked up once (the
/// local tier, then one `MGET` for the rest), only the misses are scored (a key repeated in
/// the batch is scored once). New scores go into the local tier at once and to Redis once
/// their outputs are acknowledged (`CacheWriteback`, `CacheWriter`).
///
/// With Redis lookups, two batches' `MGET`s can be out at once: the batcher `begin`s a
/// batch (its `MGET` goes out without waiting) and then `finish`es the oldest one begun,
/// whose reply has had a whole batch's time to come back. This step owns the batches in
/// between (`Batch`, the batcher's records and rows), so nothing mirrors its queue.
///
/// Keys come with fingerprints made by the decode workers (`RowKeys`): deduplication and
/// the local tier index by them and compare the bytes, so the batcher hashes nothing. Every
/// buffer is reused across batches.
///
/// Created on, and used only by, the batcher thread, which owns the Redis connection.
public struct CachedScoring<Batch: CacheableBatch> {
    public let lookup: ScoreLookup
    /// Nil when new scores do not go to Redis (no Redis, or a mode that does not write).
    let writeback: CacheWriteback?
    let stats: CacheStats
    private var lastCounters = ScoreLookup.Counters()

    /// Time a step took, in nanoseconds: the cache's own work, and the model's.
    public struct Timing: Sendable {
        public var cacheNanos: Int64 = 0
        public var modelNanos: Int64 = 0

        public init() {}
    }

    /// One batch's keys, from gathering to its finish, with the batch itself once begun.
    /// Kept in a pool and reused.
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
        var lookup = ScoreLookup.Lookup()
        /// When the batch was looked up (one clock read for all its keys).
        var lookupTime = ContinuousClock.now
        var batch: Batch?

        mutating func removeAll() {
            keyRanges.removeAll(keepingCapacity: true)
            keys.removeAll(keepingCapacity: true)
            fingerprints.removeAll(keepingCapacity: true)
            tokens.removeAll(keepingCapacity: true)
            batch = nil
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

    public init(configuration: ScoreCacheConfiguration, namespace: CacheNamespace, writeback: CacheWriteback?, stats: CacheStats, logger: Logger) {
        self.writeback = writeback
        self.stats = stats
        let log = BreakerLog(
            logger: logger, opened: "score cache: Redis failing; scoring without it", probing: "score cache: probing Redis",
            closed: "score cache: Redis back")
        self.lookup = ScoreLookup(configuration: configuration, namespace: namespace) { state, reason in
            stats.breakerState.store(state.metricValue, ordering: .relaxed)
            log.log(state, reason: reason)
        }
    }

    /// Whether lookups can wait on Redis (then the batcher overlaps them with sending the
    /// previous batch, and finishes a batch only after the next one began).
    public var asksRedis: Bool { lookup.asksRedis }

    /// Batches begun and not yet finished.
    public var waitingCount: Int { begun.count }

    /// Adds row `r` of a chunk whose keys are `keys`, its output to carry `token`, to the
    /// batch being gathered.
    public mutating func gather(row r: Int, of keys: RowKeys, token: UInt64) {
        if let range = keys.ranges[r] {
            gathering.keyRanges.append(gathering.keys.count..<(gathering.keys.count + range.count))
            gathering.keys += keys.bytes[range]
        } else {
            gathering.keyRanges.append(nil)
        }
        gathering.fingerprints.append(keys.fingerprints[r])
        gathering.tokens.append(token)
    }

    /// Scores the gathered `batch` at once (begin and finish): its scores into `scores`,
    /// and `cached[r]` says which came from the cache. Rows without a key are always scored.
    public mutating func score(_ batch: Batch, model: any Model, scores: inout [Float], cached: inout [Bool]) -> Timing {
        var timing = Timing()
        timing.cacheNanos = begin(batch)
        _ = finish(model: model, scores: &scores, cached: &cached, timing: &timing)
        return timing
    }

    /// The first half of `score`: takes the gathered `batch`, deduplicates its keys, looks
    /// them up in the local tier and sends the `MGET` for the rest, without waiting for it.
    /// - Returns: the nanoseconds it took.
    public mutating func begin(_ batch: Batch) -> Int64 {
        precondition(batch.rowCount == gathering.keyRanges.count, "gather every row of the batch first")
        let start = Self.nowNanos()
        var keys = gathering
        gathering = spare.popLast() ?? BatchKeys()
        keys.lookupTime = ContinuousClock.now
        keys.batch = batch
        deduplicate(&keys, rowCount: batch.rowCount)
        lookup.beginLookup(keys.unique, into: &keys.found, lookup: &keys.lookup, now: keys.lookupTime)
        begun.append(keys)
        return Self.nowNanos() - start
    }

    /// The second half of `score`, for the oldest batch begun: takes Redis's answer, scores
    /// the misses into `scores` and `cached`, remembers the new scores, and hands the batch
    /// back to be sent. Nil when none is waiting.
    public mutating func finish(model: any Model, scores: inout [Float], cached: inout [Bool], timing: inout Timing) -> Batch? {
        guard !begun.isEmpty else { return nil }
        let lookupStart = Self.nowNanos()
        var keys = begun.removeFirst()
        let batch = keys.batch!
        lookup.finishLookup(keys.unique, into: &keys.found, lookup: &keys.lookup, now: keys.lookupTime)
        scoreMisses(of: keys, batch: batch, model: model, scores: &scores, cached: &cached, since: lookupStart, timing: &timing)
        keys.removeAll()  // its buffers no longer shared: emptied in place, kept for reuse
        spare.append(keys)
        return batch
    }

    private static func nowNanos() -> Int64 { MonotonicClock.nanoseconds() }

    /// Scores a looked-up batch's misses and fills `scores` and `cached`; remembers the new
    /// scores.
    private mutating func scoreMisses(
        of keys: BatchKeys, batch: Batch, model: any Model, scores: inout [Float], cached: inout [Bool],
        since lookupStart: Int64, timing: inout Timing
    ) {
        let (unique, rowUnique, found, tokens, now) = (keys.unique, keys.rowUnique, keys.found, keys.tokens, keys.lookupTime)
        let (rows, rowCount) = (batch.rows, batch.rowCount)
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
        let modelStart = Self.nowNanos()
        timing.cacheNanos += modelStart - lookupStart
        if !toScore.isEmpty {
            let count = toScore.count
            compactRows.withUnsafeBufferPointer { input in
                compactScores.withUnsafeMutableBufferPointer { output in model.score(rows: input, rowCount: count, into: output) }
            }
        }
        let storeStart = Self.nowNanos()
        timing.modelNanos += storeStart - modelStart
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
        lookup.storeLocally(unique, scores: newScores, now: now)
        if let writeback, newCount > 0 {
            writeback.register { pending in
                for u in 0..<unique.count {
                    guard let score = newScores[u] else { continue }
                    pending.append(key: u, of: unique, token: tokens[Int(toScore[Int(scoredAt[u])])], score: score)
                }
            }
        }
        publish()
        timing.cacheNanos += Self.nowNanos() - storeStart
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
        stats.batchDuplicates.add(duplicates, ordering: .relaxed)
    }

    /// Copies the lookups' counters into the stats.
    private mutating func publish() {
        let c = lookup.counters
        stats.hits.add(c.hits - lastCounters.hits, ordering: .relaxed)
        stats.localHits.add(c.localHits - lastCounters.localHits, ordering: .relaxed)
        stats.misses.add(c.misses - lastCounters.misses, ordering: .relaxed)
        stats.errors.add(c.errors - lastCounters.errors, ordering: .relaxed)
        stats.bypassed.add(c.bypassed - lastCounters.bypassed, ordering: .relaxed)
        if c.redisReads > lastCounters.redisReads {
            stats.redisReads.add(c.redisReads - lastCounters.redisReads, ordering: .relaxed)
            stats.recordRedisRoundTrip(seconds: c.lastRoundTrip)
        }
        lastCounters = c
    }
}
