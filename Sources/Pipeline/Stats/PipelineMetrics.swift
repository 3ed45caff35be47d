import CoreMetrics
import ScoreCache
import Synchronization

/// The pipeline's counters as swift-metrics metrics (the executable bootstraps Prometheus
/// and serves them at `/metrics`).
///
/// The hot path counts into `PipelineStats` atomics only; `publish()` adds what changed
/// since its last call to the metrics, so a scrape calls it first and sees exact totals.
/// The Redis round-trip time is the exception: `PipelineStats` records each one into the
/// `streamscore_redis_round_trip_seconds` timer as it happens.
///
/// | metric | labels |
/// |---|---|
/// | `streamscore_events_consumed_total` | |
/// | `streamscore_outputs_total` | (acknowledged scores) |
/// | `streamscore_dead_letters_total` | `reason` |
/// | `streamscore_dead_letters_dropped_total` | `reason` (the broker's error: the dead letter was refused for its content) |
/// | `streamscore_dead_letters_truncated_total` | (sent without the whole original, which did not fit) |
/// | `streamscore_partition_rewinds_total` | (a partition's position moved backwards: a new epoch) |
/// | `streamscore_transactions_total` | `result=committed|aborted` (exactly-once) |
/// | `streamscore_transactions_fenced_total` | (a newer instance took the transactional id) |
/// | `streamscore_transaction_rewinds_total` | (input rewound to the committed offsets after an abort) |
/// | `streamscore_transaction_duration_seconds` (summary/histogram) | (first record to commit) |
/// | `streamscore_batches_total`, `streamscore_batch_rows_total` | |
/// | `streamscore_flagged_total` | (scores at or above the threshold) |
/// | `streamscore_consumer_pauses_total`, `streamscore_consumer_resumes_total` | |
/// | `streamscore_rebalances_total` | `kind=assign|revoke` |
/// | `streamscore_cache_requests_total` | `result=hit|miss|error|bypass` |
/// | `streamscore_cache_local_hits_total` | (of the hits, those the in-process tier served) |
/// | `streamscore_cache_batch_duplicates_total` | (rows sharing an earlier row's key in their batch) |
/// | `streamscore_redis_round_trips_total` | `kind=read|write` |
/// | `streamscore_cache_writes_total` | `result=ok|error|skipped` (keys the writer sent to Redis) |
/// | `streamscore_cache_breaker_state`, `streamscore_cache_write_breaker_state` (gauges) | 0 closed, 1 open, 2 half-open |
/// | `streamscore_stage_seconds_total` | `stage=poll|decode|queue_wait|…` |
public final class PipelineMetrics: Sendable {
    private struct Published: Sendable {
        let counter: Counter
        let read: @Sendable (PipelineStats) -> Int
    }

    private let stats: PipelineStats
    private let counters: [Published]
    private let stages: [(Stage, FloatingPointCounter)]
    private let breaker = Gauge(label: "streamscore_cache_breaker_state")
    private let writeBreaker = Gauge(label: "streamscore_cache_write_breaker_state")
    private struct Last {
        var counts: [Int]
        var stageSeconds: [Double]
        /// Counters with a `reason` label, by metric and reason: the last total, the counter.
        var byReason: [String: [String: (total: Int, counter: Counter)]] = [:]
    }
    private let last: Mutex<Last>

    public init(stats: PipelineStats) {
        self.stats = stats
        func counter(_ label: String, _ dimensions: [(String, String)] = [], _ read: @escaping @Sendable (PipelineStats) -> Int) -> Published {
            Published(counter: Counter(label: label, dimensions: dimensions), read: read)
        }
        counters = [
            counter("streamscore_events_consumed_total") { $0.consumed.load(ordering: .relaxed) },
            counter("streamscore_outputs_total") { $0.outputsAcknowledged.load(ordering: .relaxed) },
            counter("streamscore_flagged_total") { $0.flagged.load(ordering: .relaxed) },
            counter("streamscore_batches_total") { $0.batches.load(ordering: .relaxed) },
            counter("streamscore_batch_rows_total") { $0.batchRows.load(ordering: .relaxed) },
            counter("streamscore_consumer_pauses_total") { $0.pauses.load(ordering: .relaxed) },
            counter("streamscore_consumer_resumes_total") { $0.resumes.load(ordering: .relaxed) },
            counter("streamscore_rebalances_total", [("kind", "assign")]) { $0.assignments.load(ordering: .relaxed) },
            counter("streamscore_rebalances_total", [("kind", "revoke")]) { $0.revocations.load(ordering: .relaxed) },
            counter("streamscore_delivery_failures_total") { $0.deliveryFailures.load(ordering: .relaxed) },
            counter("streamscore_dead_letters_truncated_total") { $0.deadLettersTruncated.load(ordering: .relaxed) },
            counter("streamscore_partition_rewinds_total") { $0.rewinds.load(ordering: .relaxed) },
            counter("streamscore_transactions_total", [("result", "committed")]) { $0.transactionsCommitted.load(ordering: .relaxed) },
            counter("streamscore_transactions_total", [("result", "aborted")]) { $0.transactionsAborted.load(ordering: .relaxed) },
            counter("streamscore_transactions_fenced_total") { $0.transactionsFenced.load(ordering: .relaxed) },
            counter("streamscore_transaction_rewinds_total") { $0.transactionRewinds.load(ordering: .relaxed) },
            counter("streamscore_cache_requests_total", [("result", "hit")]) { $0.cache.hits.load(ordering: .relaxed) },
            counter("streamscore_cache_local_hits_total") { $0.cache.localHits.load(ordering: .relaxed) },
            counter("streamscore_cache_requests_total", [("result", "miss")]) { $0.cache.misses.load(ordering: .relaxed) },
            counter("streamscore_cache_requests_total", [("result", "error")]) { $0.cache.errors.load(ordering: .relaxed) },
            counter("streamscore_cache_requests_total", [("result", "bypass")]) { $0.cache.bypassed.load(ordering: .relaxed) },
            counter("streamscore_cache_batch_duplicates_total") { $0.cache.batchDuplicates.load(ordering: .relaxed) },
            counter("streamscore_redis_round_trips_total", [("kind", "read")]) { $0.cache.redisReads.load(ordering: .relaxed) },
            counter("streamscore_redis_round_trips_total", [("kind", "write")]) { $0.cache.redisWrites.load(ordering: .relaxed) },
            counter("streamscore_cache_writes_total", [("result", "ok")]) { $0.cache.writesOK.load(ordering: .relaxed) },
            counter("streamscore_cache_writes_total", [("result", "error")]) { $0.cache.writeErrors.load(ordering: .relaxed) },
            counter("streamscore_cache_writes_total", [("result", "skipped")]) { $0.cache.writesSkipped.load(ordering: .relaxed) },
        ]
        stages = Stage.allCases.map { ($0, FloatingPointCounter(label: "streamscore_stage_seconds_total", dimensions: [("stage", $0.rawValue)])) }
        last = Mutex(Last(counts: Array(repeating: 0, count: counters.count), stageSeconds: Array(repeating: 0, count: Stage.allCases.count)))
    }

    /// Adds every counter's change since the last call to its metric.
    public func publish() {
        last.withLock { last in
            for (i, published) in counters.enumerated() {
                let now = published.read(stats)
                if now > last.counts[i] { published.counter.increment(by: now - last.counts[i]) }
                last.counts[i] = now
            }
            for (i, (stage, counter)) in stages.enumerated() {
                let now = stats.seconds(in: stage)
                if now > last.stageSeconds[i] { counter.increment(by: now - last.stageSeconds[i]) }
                last.stageSeconds[i] = now
            }
            for (label, totals) in [
                ("streamscore_dead_letters_total", stats.deadLettersByReason),
                ("streamscore_dead_letters_dropped_total", stats.droppedDeadLettersByReason),
            ] {
                for (reason, now) in totals {
                    var entry = last.byReason[label, default: [:]][reason]
                        ?? (0, Counter(label: label, dimensions: [("reason", reason)]))
                    guard now > entry.total else { continue }
                    entry.counter.increment(by: now - entry.total)
                    entry.total = now
                    last.byReason[label, default: [:]][reason] = entry
                }
            }
            breaker.record(stats.cache.breakerState.load(ordering: .relaxed))
            writeBreaker.record(stats.cache.writeBreakerState.load(ordering: .relaxed))
        }
    }
}
