import CoreMetrics
import Synchronization

/// The score cache's counters, shared by the batcher (lookups) and the cache writer
/// (writes); `PipelineStats.cache` holds the pipeline's, `PipelineMetrics` exports them.
public final class CacheStats: Sendable {
    /// Requests by result, one per distinct key in a batch
    /// (`streamscore_cache_requests_total{result=hit|miss|error|bypass}`).
    public let hits = Atomic<Int>(0)
    /// Of the hits, those the in-process tier served (`streamscore_cache_local_hits_total`);
    /// the rest came from Redis.
    public let localHits = Atomic<Int>(0)
    public let misses = Atomic<Int>(0)
    public let errors = Atomic<Int>(0)
    public let bypassed = Atomic<Int>(0)
    /// Rows whose key an earlier row of the same batch already had: they share its lookup
    /// and its score (`streamscore_cache_batch_duplicates_total`).
    public let batchDuplicates = Atomic<Int>(0)
    /// Redis round trips: reads (`MGET`) and writes (pipelined `SET … PX`).
    public let redisReads = Atomic<Int>(0)
    public let redisWrites = Atomic<Int>(0)
    /// The last Redis round trip, in microseconds.
    public let redisRoundTripMicros = Atomic<Int>(0)
    /// Every Redis round trip (`streamscore_redis_round_trip_seconds`).
    private let redisRoundTrip = CoreMetrics.Timer(label: "streamscore_redis_round_trip_seconds")  // MetricCatalog.redisRoundTrip
    /// Keys the cache writer sent to Redis by result
    /// (`streamscore_cache_writes_total{result=ok|error|skipped}`): written, refused or
    /// lost, not sent while its breaker was open.
    public let writesOK = Atomic<Int>(0)
    public let writeErrors = Atomic<Int>(0)
    public let writesSkipped = Atomic<Int>(0)
    /// The lookups' breaker (the batcher's) and the writer's: 0 closed, 1 open, 2 half-open.
    public let breakerState = Atomic<Int>(0)
    public let writeBreakerState = Atomic<Int>(0)

    public init() {}

    func recordRedisRoundTrip(seconds: Double) {
        redisRoundTripMicros.store(Int(seconds * 1e6), ordering: .relaxed)
        redisRoundTrip.recordNanoseconds(Int64(seconds * 1e9))
    }
}
