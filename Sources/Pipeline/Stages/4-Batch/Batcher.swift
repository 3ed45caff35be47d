import Features
import Inference
import KafkaBridge
import Logging
import ScoreCache

/// The `streamscore.batcher` thread: gathers decoded records in fetch order into batches
/// (at most `batchMaxRows` records, or whatever arrived within `batchMaxWait` of the first),
/// scores each batch with one model call, and sends outputs and dead letters in order.
///
/// Buffers are reused across batches. `send` blocks while librdkafka's queue is full, which
/// is how a slow broker pushes back through the intake queue to the consumer.
/// Created on, and used only by, the batcher thread (so it is deliberately not `Sendable`).
struct Batcher {
    let model: any Model
    let producer: KafkaProducer
    let intake: IntakeQueue
    let stats: PipelineStats
    let control: PipelineControl
    let configuration: PipelineConfiguration
    let logger: Logger
    /// A multi-class model's class labels (its own names, or the class indexes).
    let classLabels: [String]

    struct Item {
        var record: KafkaRecord
        var token: UInt64
        var outcome: DecodedChunk.Outcome
    }

    /// A batch: its items in fetch order, and the rows of those that have one.
    struct Batch: CacheableBatch {
        var items: [Item] = []
        var rows: [Float] = []
        var rowCount = 0

        mutating func removeAll() {
            items.removeAll(keepingCapacity: true)
            rows.removeAll(keepingCapacity: true)
            rowCount = 0
        }
    }

    /// The batch being filled; emptied batches, for reuse (with Redis lookups a batch waits
    /// in the cache step while the next one fills).
    var batch = Batch()
    var spare: [Batch] = []
    var scores: [Float]
    /// With a score cache: the cache step. It gathers each row's key, and with Redis
    /// lookups holds the begun batches (their `MGET`s out) until each is finished: the
    /// previous batch is finished and sent after the next batch's `MGET` has gone out (or
    /// as soon as no input is waiting), so each reply has a whole batch's time to come
    /// back, and the batcher waits for Redis only when Redis is slower than that.
    var cachedScoring: CachedScoring<Batch>?
    /// Whether each row's score came from the cache.
    var cached: [Bool]
    var output: ScoredRecord
    /// The scores of the batch being sent (`streamscore_score`), merged into the stats after it.
    var scoreCounts = ScoreCounts()
    var deadLetters: DeadLetter
    /// A dead letter the producer refused for its content at once (synchronously): the
    /// pipeline counts it and completes its offset, as for a refusal in a delivery report.
    let refusedDeadLetter: @Sendable (_ token: UInt64, KafkaError) -> Void
    /// Exactly-once mode: the open transaction, committed between sends (nil: at-least-once).
    var transactions: OutputTransactions?

    init(
        model: any Model, producer: KafkaProducer, intake: IntakeQueue, stats: PipelineStats,
        control: PipelineControl, configuration: PipelineConfiguration, cacheNamespace: CacheNamespace, writeback: CacheWriteback?,
        logger: Logger, transactions: OutputTransactions? = nil,
        refusedDeadLetter: @escaping @Sendable (_ token: UInt64, KafkaError) -> Void
    ) {
        self.refusedDeadLetter = refusedDeadLetter
        self.transactions = transactions
        self.deadLetters = DeadLetter(
            topic: configuration.topics.deadLetter, messageMaxBytes: configuration.producerMessageMaxBytes,
            addedHeaders: configuration.topics.addedHeaders)
        self.model = model
        self.producer = producer
        self.intake = intake
        self.stats = stats
        self.control = control
        self.configuration = configuration
        self.logger = logger
        self.classLabels = model.outputNames ?? (0..<model.outputCount).map(String.init)
        self.output = ScoredRecord(
            model: model.identity, forwardHeaders: configuration.topics.forwardHeaders,
            addedHeaders: configuration.topics.addedHeaders)
        self.scores = [Float](repeating: 0, count: configuration.batchMaxRows * model.outputCount)
        self.batch.rows.reserveCapacity(configuration.batchMaxRows * model.inputCount)
        self.cached = [Bool](repeating: false, count: configuration.batchMaxRows)
        if let cache = configuration.cache, cache.mode != .bypass, !configuration.passthrough {
            if model.outputCount == 1 {
                cachedScoring = CachedScoring(
                    configuration: cache, namespace: cacheNamespace, writeback: writeback, stats: stats.cache, logger: logger)
            } else {
                logger.warning("score cache off: it holds one score per key, and this model is multi-class")
            }
        }
    }

    /// Runs until the intake queue is finished (closed and fully taken), or a failure.
    mutating func run() {
        defer { transactions?.close() }  // a graceful end commits; a failure commits nothing more
        var deadline: ContinuousClock.Instant?
        while control.failure == nil {
            let taken: IntakeQueue.Take
            if (cachedScoring?.waitingCount ?? 0) == 0 {
                let waitStart = PipelineStats.nowNanos()
                var until = deadline ?? .now + .milliseconds(100)
                if let due = transactions?.deadline { until = min(until, due) }
                taken = intake.takeDecoded(until: until)
                stats.addTime(.batchWait, since: waitStart)
            } else {
                // A pending batch waits only while input is ready: before waiting, send it.
                taken = intake.takeDecoded(until: .now)
                if case .timedOut = taken {
                    finishWaiting()
                    continue
                }
            }
            switch taken {
            case .chunk(let chunk):
                stats.addTime(.queueWait, since: chunk.decodedAt)
                // Fetched before an aborted transaction's rewind: read again after it.
                if transactions?.discarding == true { continue }
                if deadline == nil { deadline = .now + configuration.batchMaxWait }
                add(chunk)
                // While chunks keep coming, a batch fills to max_rows (checking the wait
                // after every chunk as well drained 15–20% slower and was not kept).
                if batch.items.isEmpty { deadline = nil }
            case .timedOut:
                if let d = deadline, ContinuousClock.now >= d {
                    flush()
                    deadline = nil
                }
            case .finished:
                flush()
                finishWaiting()
                return
            }
            // Between two sends every offset sent so far has all its outputs produced: a
            // transaction may end here.
            if transactions?.isDue == true { transactions!.commit() }
        }
    }

    /// Appends a chunk's records, flushing whenever the batch reaches its row limit.
    mutating func add(_ chunk: DecodedChunk) {
        let width = model.inputCount
        for (i, outcome) in chunk.outcomes.enumerated() {
            var stored = outcome
            if case .row(let r, let id) = outcome {
                batch.rows.append(contentsOf: chunk.rows[(r * width)..<((r + 1) * width)])
                cachedScoring?.gather(row: r, of: chunk.keys, token: chunk.tokens[i])
                stored = .row(batch.rowCount, id: id)
                batch.rowCount += 1
            }
            batch.items.append(Item(record: chunk.records[i], token: chunk.tokens[i], outcome: stored))
            // At most max_rows records, scored or not: dead letters and passthrough records
            // have no row, and must not let a batch grow without bound.
            if batch.items.count == configuration.batchMaxRows { flush() }
        }
    }

    /// Scores the batch with one model call and sends every item in order. With Redis
    /// lookups, the batch's `MGET` goes out, then the batch begun before it is finished and
    /// sent, and this one waits in the cache step.
    mutating func flush() {
        guard !batch.items.isEmpty else { return }
        if batch.rowCount > 0 {
            stats.recordBatch(rows: batch.rowCount)
        }
        let filled = batch
        batch = spare.popLast() ?? Batch()
        guard cachedScoring != nil else {
            if filled.rowCount > 0 { score(filled) }
            send(filled.items, scores: scores, cached: cached)
            recycle(filled)
            return
        }
        stats.addTime(.cache, nanos: cachedScoring!.begin(filled))
        // With Redis lookups the batch begun before this one is finished now, while this
        // one's MGET is out; otherwise this one, at once.
        if !cachedScoring!.asksRedis || cachedScoring!.waitingCount > 1 { finishOldest() }
    }

    mutating func recycle(_ used: Batch) {
        var used = used
        used.removeAll()
        spare.append(used)
    }

}
