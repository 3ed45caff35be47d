import Concurrency
import CoreMetrics
import Features
import ScoreCache
import Foundation
import Histogram
import Synchronization

/// The pipeline's counters: what the demo prints each second and what tests assert on.
///
/// Counters are atomics; histograms take a lock per record on the delivery thread.
public final class PipelineStats: Sendable {
    /// Records fetched from the input topic.
    public let consumed = Atomic<Int>(0)
    /// Scored outputs acknowledged by the broker.
    public let outputsAcknowledged = Atomic<Int>(0)
    /// Dead letters acknowledged by the broker.
    public let deadLettersAcknowledged = Atomic<Int>(0)
    /// Scores at or above the decision threshold (sent as `"decision": "flag"`).
    public let flagged = Atomic<Int>(0)
    /// Model calls and the rows they scored.
    public let batches = Atomic<Int>(0)
    public let batchRows = Atomic<Int>(0)
    /// Times the consumer paused / resumed its partitions because intake was full.
    public let pauses = Atomic<Int>(0)
    public let resumes = Atomic<Int>(0)
    /// Rebalance events seen.
    public let assignments = Atomic<Int>(0)
    public let revocations = Atomic<Int>(0)
    /// Failed delivery reports of outputs (each stops the worker).
    public let deliveryFailures = Atomic<Int>(0)
    /// Times a partition's position moved backwards (`OFFSET_OUT_OF_RANGE` reset it below
    /// records already fetched) and it started a new epoch (`streamscore_partition_rewinds_total`).
    public let rewinds = Atomic<Int>(0)
    /// Dead letters sent truncated, because the original did not fit the producer's
    /// `message.max.bytes` (`streamscore_dead_letters_truncated_total`).
    public let deadLettersTruncated = Atomic<Int>(0)

    /// Exactly-once transactions committed and aborted, and the aborts that ended the
    /// worker because a newer instance with its transactional id fenced it off
    /// (`streamscore_transactions_total{result}`, `streamscore_transactions_fenced_total`).
    public let transactionsCommitted = Atomic<Int>(0)
    public let transactionsAborted = Atomic<Int>(0)
    public let transactionsFenced = Atomic<Int>(0)
    /// Rewinds of the input to the committed offsets after an abort
    /// (`streamscore_transaction_rewinds_total`).
    public let transactionRewinds = Atomic<Int>(0)
    /// From a transaction's first record to its commit (`streamscore_transaction_duration_seconds`).
    let transactionDuration = CoreMetrics.Timer(label: MetricCatalog.transactionDuration)
    /// Scores sent, binary and regression models (`streamscore_score`): the distribution
    /// whose drift says the input or the model changed. The batcher counts a batch's into
    /// its own `ScoreCounts` and merges them here once per batch.
    private let scores = Mutex(ScoreCounts())
    /// Rows per model call (`streamscore_batch_rows`).
    private let batchRowsHistogram = Recorder(label: MetricCatalog.batchRows)
    /// Each timed step's duration, by stage (`streamscore_stage_duration_seconds{stage}`).
    private let stageDurations = Stage.allCases.map { CoreMetrics.Timer(label: MetricCatalog.stageDuration, dimensions: [("stage", $0.rawValue)]) }

    /// The score cache's counters (`streamscore_cache_*`, `streamscore_redis_*`).
    public let cache = CacheStats()

    /// Where the worker's time goes, by stage (`streamscore_stage_seconds_total{stage}`).
    private let pollNanos = Atomic<Int>(0)
    private let decodeNanos = Atomic<Int>(0)
    private let queueWaitNanos = Atomic<Int>(0)
    private let batchWaitNanos = Atomic<Int>(0)
    private let cacheNanos = Atomic<Int>(0)
    private let inferenceNanos = Atomic<Int>(0)
    private let encodeNanos = Atomic<Int>(0)
    private let produceNanos = Atomic<Int>(0)
    private let commitNanos = Atomic<Int>(0)

    /// Monotonic nanoseconds of the first fetch and the latest acknowledgement (0: none yet).
    private let firstFetchNanos = Atomic<Int64>(0)
    private let lastAckNanos = Atomic<Int64>(0)

    private let deadLetterReasons: Mutex<[String: Int]> = Mutex([:])
    private let droppedDeadLetterReasons: Mutex<[String: Int]> = Mutex([:])
    private let latency = Mutex(LatencyWindow())

    public init() {}

    func markFetched() {
        _ = firstFetchNanos.compareExchange(expected: 0, desired: Self.nowNanos(), ordering: .relaxed)
    }

    func markAcknowledged() {
        lastAckNanos.store(Self.nowNanos(), ordering: .relaxed)
    }

    /// Seconds from the first fetched record to the latest acknowledgement: the time the
    /// worker spent busy, without group joins or idle waiting (0 before any output).
    public var activeSeconds: Double {
        let first = firstFetchNanos.load(ordering: .relaxed), last = lastAckNanos.load(ordering: .relaxed)
        return first == 0 || last < first ? 0 : Double(last - first) / 1e9
    }

    /// Adds the time since `start` (from `nowNanos()`) to a stage's total.
    func addTime(_ stage: Stage, since start: Int64) {
        addTime(stage, nanos: Self.nowNanos() - start)
    }

    /// Adds one timed step of a stage (a poll call, a chunk, a batch's step, a commit) to
    /// its total and to its duration histogram. A step that took no time (a batch the
    /// cache answered whole has no model call) is not an observation.
    func addTime(_ stage: Stage, nanos: Int64) {
        guard nanos > 0 else { return }
        withNanos(of: stage) { _ = $0.add(Int(nanos), ordering: .relaxed) }
        stageDurations[stage.index].recordNanoseconds(nanos)
    }

    /// Adds a batch's scores (then empties `batch`).
    func mergeScores(_ batch: inout ScoreCounts) {
        guard !batch.isEmpty else { return }
        scores.withLock { $0.merge(batch) }
        batch.removeAll()
    }

    /// The per-record histograms, for a scrape: the event age (from the latency
    /// histogram every acknowledgement records into anyway) and the scores.
    public func histogramSnapshots() -> [HistogramSnapshot] {
        let bounds = MetricCatalog.entries[MetricCatalog.eventAge]!.buckets!
        return [latency.withLock { $0.lifetimeSnapshot(name: MetricCatalog.eventAge, bounds: bounds) }, scores.withLock { $0.snapshot }]
    }

    /// Counts a model call's rows (`streamscore_batches_total`, `streamscore_batch_rows_total`
    /// and the `streamscore_batch_rows` histogram).
    func recordBatch(rows: Int) {
        batches.add(1, ordering: .relaxed)
        batchRows.add(rows, ordering: .relaxed)
        batchRowsHistogram.record(rows)
    }

    /// Seconds spent in a stage so far, summed over the threads that run it.
    public func seconds(in stage: Stage) -> Double {
        Double(withNanos(of: stage) { $0.load(ordering: .relaxed) }) / 1e9
    }

    private func withNanos<R>(of stage: Stage, _ body: (borrowing Atomic<Int>) -> R) -> R {
        switch stage {
        case .poll: body(pollNanos)
        case .decode: body(decodeNanos)
        case .queueWait: body(queueWaitNanos)
        case .batchWait: body(batchWaitNanos)
        case .cache: body(cacheNanos)
        case .inference: body(inferenceNanos)
        case .encode: body(encodeNanos)
        case .produce: body(produceNanos)
        case .commit: body(commitNanos)
        }
    }

    static func nowNanos() -> Int64 { MonotonicClock.nanoseconds() }

    func recordDeadLetter(_ reason: String) {
        deadLetterReasons.withLock { $0[reason, default: 0] += 1 }
    }

    /// Dead letters produced, by reason (`malformed_json`, `missing_field`, …).
    public var deadLettersByReason: [String: Int] {
        deadLetterReasons.withLock { $0 }
    }

    /// A dead letter the broker refused for its content (not for a transport fault): it is
    /// logged and counted, and its offset completes (`streamscore_dead_letters_dropped_total{reason}`,
    /// the broker's error name).
    func recordDroppedDeadLetter(_ reason: String) {
        droppedDeadLetterReasons.withLock { $0[reason, default: 0] += 1 }
    }

    /// Dead letters dropped, by the broker's error (`msg_size_too_large`, …).
    public var droppedDeadLettersByReason: [String: Int] {
        droppedDeadLetterReasons.withLock { $0 }
    }

    /// Records one end-to-end latency (input timestamp → output acknowledged).
    func recordLatency(milliseconds: Int64) {
        let micros = UInt64(max(0, milliseconds)) * 1000
        latency.withLock { $0.record(micros) }
    }

    /// Forgets all latencies recorded so far (e.g. a warm-up period).
    public func resetLatency() {
        latency.withLock { $0.reset() }
    }

    /// Latency percentiles in milliseconds since the last call, and over the whole run.
    public func takeLatencyWindow() -> (interval: LatencySummary, total: LatencySummary) {
        latency.withLock { $0.take() }
    }
}

/// The stages a record passes through, for the per-stage time counters.
public enum Stage: String, CaseIterable, Sendable {
    /// The poll thread inside `consumer.poll` calls that returned records.
    case poll
    /// Workers turning event bytes into feature rows (summed over workers).
    case decode
    /// Decoded chunks waiting in the intake queue for the batcher (summed over chunks).
    case queueWait = "queue_wait"
    /// The batcher waiting for records: a partial batch waiting out `batch.max_wait`, or
    /// an empty intake.
    case batchWait = "batch_wait"
    /// Score cache lookups: key deduplication, the local tier, `MGET`.
    case cache
    /// Model calls.
    case inference
    /// Building output records (JSON value, headers).
    case encode
    /// Handing records to librdkafka (blocks while its queue is full).
    case produce
    /// Exactly-once: the batcher committing a transaction (the producer's flush of every
    /// record in it, the offsets, EndTxn), when it sends nothing.
    case commit

    /// Position in `allCases`.
    var index: Int {
        switch self {
        case .poll: 0
        case .decode: 1
        case .queueWait: 2
        case .batchWait: 3
        case .cache: 4
        case .inference: 5
        case .encode: 6
        case .produce: 7
        case .commit: 8
        }
    }
}

/// Latency percentiles in milliseconds.
public struct LatencySummary: Sendable {
    public var count: UInt64
    public var p50: Double
    public var p99: Double
    public var max: Double
}

/// HDR histograms of microseconds: the current interval, the run since the last reset
/// (the demo resets it after its warm-up), and the process' lifetime
/// (`streamscore_event_age_seconds`, never reset: a Prometheus counter does not go back).
struct LatencyWindow {
    private var interval = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    private var total = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    private var lifetime = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    /// Exact sum and count of every latency recorded (µs), and how many were over the
    /// histograms' range (an hour: recorded at the limit, counted in no finite bucket).
    private var lifetimeSum: UInt64 = 0
    private var lifetimeCount: UInt64 = 0
    private var lifetimeOverflow: UInt64 = 0

    mutating func record(_ micros: UInt64) {
        let v = min(micros, 3_600_000_000)
        _ = interval.record(v)
        _ = total.record(v)
        _ = lifetime.record(v)
        lifetimeSum &+= micros
        lifetimeCount += 1
        if micros > v { lifetimeOverflow += 1 }
    }

    /// Bucket counts at `bounds` (seconds) over the lifetime. A bucket's count is exact to
    /// the HDR histogram's three significant digits (latencies are whole milliseconds, and
    /// every bound falls between two of them); the count and the sum are exact.
    func lifetimeSnapshot(name: String, bounds: [Double]) -> HistogramSnapshot {
        // One pass over the HDR counts: each bound adds the range since the previous one.
        var counts: [UInt64] = []
        var running: UInt64 = 0
        var from: UInt64 = 0
        for bound in bounds {
            let micros = UInt64(bound * 1_000_000)
            if lifetimeCount > 0, micros >= from { running += lifetime.count(within: from...micros) }
            from = lifetime.highestEquivalentForValue(micros) + 1
            counts.append(micros >= 3_600_000_000 ? running - lifetimeOverflow : running)
        }
        return HistogramSnapshot(name: name, bounds: bounds, cumulativeCounts: counts, count: lifetimeCount, sum: Double(lifetimeSum) / 1e6)
    }

    /// Forgets the run so far (not the lifetime).
    mutating func reset() {
        interval.reset()
        total.reset()
    }

    mutating func take() -> (interval: LatencySummary, total: LatencySummary) {
        defer { interval.reset() }
        return (Self.summary(interval), Self.summary(total))
    }

    private static func summary(_ h: Histogram<UInt64>) -> LatencySummary {
        guard h.totalCount > 0 else { return LatencySummary(count: 0, p50: 0, p99: 0, max: 0) }
        return LatencySummary(
            count: h.totalCount,
            p50: Double(h.valueAtPercentile(50)) / 1000,
            p99: Double(h.valueAtPercentile(99)) / 1000,
            max: Double(h.max) / 1000)
    }
}
