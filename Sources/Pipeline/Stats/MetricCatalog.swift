/// Every series the worker exports, with its help text and, for histograms, its buckets:
/// what the Prometheus factory (in the executable) looks names up in, so every family has
/// `# HELP` and `# TYPE` (`promtool check metrics` reports nothing on a scrape).
///
/// Names follow Prometheus' conventions: base units (seconds, bytes), `_total` only on
/// counters, and labels with bounded values (stage, reason, result, kind, topic and
/// partition; never a key or a record's content).
public enum MetricCatalog {
    public struct Entry: Sendable {
        public var help: String
        /// Histogram buckets in seconds (timers) or in the metric's unit (value recorders).
        public var buckets: [Double]?
    }

    public static let eventAge = "streamscore_event_age_seconds"
    public static let stageDuration = "streamscore_stage_duration_seconds"
    public static let batchRows = "streamscore_batch_rows"
    public static let score = "streamscore_score"
    public static let transactionDuration = "streamscore_transaction_duration_seconds"
    public static let redisRoundTrip = "streamscore_redis_round_trip_seconds"

    /// Seconds, 1 ms to an hour: an event's age at output, from a live stream (milliseconds)
    /// to a backfill or a worker that fell behind (minutes and more).
    static let ageBuckets: [Double] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
    ]
    /// Seconds, 10 µs to 5 s: one step of a stage (a model call, a poll, a commit).
    static let stepBuckets: [Double] = [
        0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
        0.25, 0.5, 1, 5,
    ]

    public static let entries: [String: Entry] = [
        // Throughput
        "streamscore_events_consumed_total": .init(help: "Records fetched from the input topic."),
        "streamscore_outputs_total": .init(help: "Scored outputs the broker acknowledged (exactly-once: committed)."),
        "streamscore_flagged_total": .init(help: "Scores at or above the decision threshold (sent with decision \"flag\")."),
        score: .init(
            help: "Scores sent by a single-output model (a probability for classifiers): the distribution, whose drift says the input or the model changed.",
            buckets: [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99, 1]),
        "streamscore_dead_letters_total": .init(help: "Dead letters produced, by reason (malformed_json, missing_field, too_large, ...)."),
        "streamscore_dead_letters_dropped_total": .init(help: "Dead letters the broker refused for their content, by the broker's error; their offsets complete."),
        "streamscore_dead_letters_truncated_total": .init(help: "Dead letters sent without the whole original, which did not fit message.max.bytes."),
        "streamscore_delivery_failures_total": .init(help: "Outputs the broker did not acknowledge (each stops the worker with exit 1)."),
        // Batches and stages
        "streamscore_batches_total": .init(help: "Model calls."),
        "streamscore_batch_rows_total": .init(help: "Rows scored by model calls."),
        batchRows: .init(help: "Rows per model call.", buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]),
        "streamscore_stage_seconds_total": .init(help: "Seconds spent in each stage, summed over the threads that run it."),
        stageDuration: .init(
            help: "Duration of one timed step of a stage: a poll call that returned records, a decoded chunk, a chunk's wait in the intake queue, the batcher's wait for input, a batch's cache lookup (sent and answered: two steps), model call, encoding and producing, an exactly-once commit.",
            buckets: stepBuckets),
        eventAge: .init(help: "Age of an event at output: acknowledgement (exactly-once: commit) time minus the input record's timestamp.", buckets: ageBuckets),
        // Consumer
        "streamscore_consumer_lag": .init(help: "Records behind per assigned partition: the partition's end (last stable offset under read_committed) minus the acknowledged watermark, from librdkafka's statistics (every statistics.interval.ms); not in exactly-once mode."),
        "streamscore_consumer_lag_assigned": .init(help: "streamscore_consumer_lag summed over the partitions assigned to this worker."),
        "streamscore_consumer_lag_seconds": .init(help: "Age of the oldest record fetched and not yet completed, per assigned partition (0 when none is pending): grows while the worker falls behind."),
        "streamscore_consumer_assigned_partitions": .init(help: "Partitions assigned to this worker."),
        "streamscore_consumer_pauses_total": .init(help: "Times the consumer paused its partitions because the intake queue was full."),
        "streamscore_consumer_resumes_total": .init(help: "Times the consumer resumed its partitions."),
        "streamscore_rebalances_total": .init(help: "Rebalance events: partitions assigned or revoked."),
        "streamscore_partition_rewinds_total": .init(help: "Times a partition's position moved backwards (OFFSET_OUT_OF_RANGE) and a new epoch began."),
        // Producer
        "streamscore_producer_queue_records": .init(help: "Records handed to librdkafka and not yet acknowledged (in its queue or in flight)."),
        // Exactly-once
        "streamscore_transactions_total": .init(help: "Exactly-once transactions, by result (committed, aborted)."),
        "streamscore_transactions_fenced_total": .init(help: "Times a newer instance with the same transactional id fenced this worker off."),
        "streamscore_transaction_rewinds_total": .init(help: "Rewinds of the input to the committed offsets after an aborted transaction."),
        transactionDuration: .init(help: "Exactly-once: from a transaction's first record to its commit.", buckets: stepBuckets),
        // Score cache
        "streamscore_cache_requests_total": .init(help: "Score cache lookups by result (hit, miss, error, bypass)."),
        "streamscore_cache_local_hits_total": .init(help: "Score cache hits served by the in-process tier."),
        "streamscore_cache_batch_duplicates_total": .init(help: "Rows sharing an earlier row's cache key in their batch (scored once)."),
        "streamscore_cache_writes_total": .init(help: "Keys the cache writer sent to Redis, by result (ok, error, skipped)."),
        "streamscore_redis_round_trips_total": .init(help: "Redis round trips by kind (read, write)."),
        redisRoundTrip: .init(
            help: "Time a Redis call spent writing and waiting for its reply.",
            buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]),
        "streamscore_cache_breaker_state": .init(help: "The Redis read circuit breaker: 0 closed, 1 open, 2 half-open."),
        "streamscore_cache_write_breaker_state": .init(help: "The Redis write circuit breaker: 0 closed, 1 open, 2 half-open."),
        // Identity
        "streamscore_build_info": .init(help: "Always 1: the worker's version and the client libraries it runs with."),
        "streamscore_model_info": .init(help: "Always 1: the model this worker scores with (name, version, kind, content hash)."),
        // The process (the names Prometheus' client libraries use)
        "process_cpu_seconds_total": .init(help: "User and system CPU time spent, in seconds."),
        "process_resident_memory_bytes": .init(help: "Resident memory size, in bytes."),
        "process_virtual_memory_bytes": .init(help: "Virtual memory size, in bytes."),
        "process_start_time_seconds": .init(help: "Start time of the process since the Unix epoch, in seconds."),
        "process_open_fds": .init(help: "Open file descriptors."),
        "process_threads": .init(help: "Threads in the process."),
    ]
}

extension MetricCatalog.Entry {
    init(help: String) { self.init(help: help, buckets: nil) }
}
