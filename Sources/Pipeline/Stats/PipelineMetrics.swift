import CoreMetrics
import KafkaBridge
import ScoreCache
import Synchronization

/// The pipeline's series as swift-metrics metrics (the executable bootstraps Prometheus,
/// with the help texts and buckets of `MetricCatalog`, and serves them at `/metrics`).
///
/// The hot path counts into `PipelineStats` atomics; `publish()` adds what changed since
/// its last call to the metrics, and reads what is live (the consumer lag, the assignment,
/// librdkafka's queue), so a scrape calls it first and sees exact totals. The histograms
/// of stage steps, batch rows, Redis round trips and transactions are recorded as
/// things happen; the event age and the scores, fed once per event, are read by the scrape
/// (`PipelineStats.histogramSnapshots`). `MetricCatalog.entries` lists every series.
public final class PipelineMetrics: Sendable {
    private struct Published: Sendable {
        let counter: Counter
        let read: @Sendable (PipelineStats) -> Int
    }

    private let pipeline: ScoringPipeline
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
        /// The lag gauges of the partitions assigned at the last scrape.
        var lagRecords: [TopicPartition: Gauge] = [:]
        var lagSeconds: [TopicPartition: Gauge] = [:]
        /// The summed lag, while any partition's is known (absent, not 0, before the first
        /// statistics and in exactly-once mode).
        var lagAssigned: Gauge?
    }
    private let assignedPartitions = Gauge(label: "streamscore_consumer_assigned_partitions")
    private let producerQueue = Gauge(label: "streamscore_producer_queue_records")
    private let modelInfo: Gauge
    private let last: Mutex<Last>

    public init(pipeline: ScoringPipeline) {
        self.pipeline = pipeline
        let stats = pipeline.stats
        self.stats = stats
        let model = pipeline.model
        modelInfo = Gauge(label: "streamscore_model_info", dimensions: [
            ("name", model.name), ("version", model.version), ("kind", model.summary.kind),
            ("hash", model.contentHash ?? ""),
        ])
        modelInfo.record(1)
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
            publishLag(into: &last)
            producerQueue.record(pipeline.producerOutstanding)
        }
    }

    /// Per assigned partition, the lag in records (once librdkafka's statistics know it)
    /// and in seconds; partitions no longer assigned lose their series.
    private func publishLag(into last: inout Last) {
        let lag = pipeline.consumerLag()
        for (tp, gauge) in last.lagRecords where lag[tp]?.records == nil {
            gauge.destroy()
            last.lagRecords[tp] = nil
        }
        for (tp, gauge) in last.lagSeconds where lag[tp] == nil {
            gauge.destroy()
            last.lagSeconds[tp] = nil
        }
        func gauge(_ label: String, _ tp: TopicPartition, in gauges: inout [TopicPartition: Gauge]) -> Gauge {
            if let existing = gauges[tp] { return existing }
            let made = Gauge(label: label, dimensions: [("topic", tp.topic), ("partition", String(tp.partition))])
            gauges[tp] = made
            return made
        }
        var total: Int64?
        for (tp, partition) in lag {
            if let records = partition.records {
                gauge("streamscore_consumer_lag", tp, in: &last.lagRecords).record(records)
                total = (total ?? 0) + records
            }
            gauge("streamscore_consumer_lag_seconds", tp, in: &last.lagSeconds).record(partition.seconds)
        }
        if let total {
            if last.lagAssigned == nil { last.lagAssigned = Gauge(label: "streamscore_consumer_lag_assigned") }
            last.lagAssigned!.record(total)
        } else if let gauge = last.lagAssigned {
            gauge.destroy()
            last.lagAssigned = nil
        }
        assignedPartitions.record(lag.count)
    }
}
