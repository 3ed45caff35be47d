import Features
import Inference
import KafkaBridge
import Logging

/// The `streamscore.batcher` thread: gathers decoded records in fetch order into batches
/// (at most `batchMaxRows` records, or whatever arrived within `batchMaxWait` of the first),
/// scores each batch with one model call, and sends outputs and dead letters in order.
///
/// Buffers are reused across batches. `send` blocks while librdkafka's queue is full, which
/// is how a slow broker pushes back through the intake queue to the consumer.
/// Created on, and used only by, the batcher thread (so it is deliberately not `Sendable`).
struct Batcher {
    private let model: any Model
    private let producer: KafkaProducer
    private let intake: IntakeQueue
    private let stats: PipelineStats
    private let control: PipelineControl
    private let configuration: PipelineConfiguration
    private let logger: Logger
    /// A multi-class model's class labels (its own names, or the class indexes).
    private let classLabels: [String]

    private struct Item {
        var record: KafkaRecord
        var token: UInt64
        var outcome: DecodedChunk.Outcome
    }

    private var items: [Item] = []
    private var rows: [Float] = []
    private var scores: [Float]
    private var rowCount = 0
    /// With a score cache: the cache step (it gathers each row's key), and whether each
    /// row's score came from the cache.
    private var cachedScoring: CachedScoring?
    private var cached: [Bool]
    private var output: ScoredRecord
    private var deadLetters: DeadLetter
    /// A dead letter the producer refused for its content at once (synchronously): the
    /// pipeline counts it and completes its offset, as for a refusal in a delivery report.
    private let refusedDeadLetter: @Sendable (_ token: UInt64, KafkaError) -> Void

    /// With Redis lookups: the previous batch, its `MGET` sent and not yet read. It is
    /// finished and sent after the next batch's `MGET` has gone out (or as soon as no input
    /// is waiting), so each reply has a whole batch's time to come back, and the batcher
    /// waits for Redis only when Redis is slower than that.
    private struct PendingBatch {
        var items: [Item] = []
        var rows: [Float] = []
        var rowCount = 0
    }

    private var pending = PendingBatch()

    init(
        model: any Model, producer: KafkaProducer, intake: IntakeQueue, stats: PipelineStats,
        control: PipelineControl, configuration: PipelineConfiguration, cacheNamespace: String, writeback: CacheWriteback?,
        logger: Logger, refusedDeadLetter: @escaping @Sendable (_ token: UInt64, KafkaError) -> Void
    ) {
        self.refusedDeadLetter = refusedDeadLetter
        self.deadLetters = DeadLetter(topic: configuration.topics.deadLetter, messageMaxBytes: configuration.producerMessageMaxBytes)
        self.model = model
        self.producer = producer
        self.intake = intake
        self.stats = stats
        self.control = control
        self.configuration = configuration
        self.logger = logger
        self.classLabels = model.outputNames ?? (0..<model.outputCount).map(String.init)
        self.output = ScoredRecord(model: model.identity, forwardHeaders: configuration.topics.forwardHeaders)
        self.scores = [Float](repeating: 0, count: configuration.batchMaxRows * model.outputCount)
        self.rows.reserveCapacity(configuration.batchMaxRows * model.inputCount)
        self.cached = [Bool](repeating: false, count: configuration.batchMaxRows)
        if let cache = configuration.cache, cache.mode != .bypass, !configuration.passthrough {
            if model.outputCount == 1 {
                cachedScoring = CachedScoring(
                    configuration: cache, model: model.identity, featureSpec: cacheNamespace,
                    writeback: writeback, stats: stats, logger: logger)
            } else {
                logger.warning("score cache off: it holds one score per key, and this model is multi-class")
            }
        }
    }

    /// Runs until the intake queue is finished (closed and fully taken), or a failure.
    mutating func run() {
        var deadline: ContinuousClock.Instant?
        while control.failure == nil {
            let taken: IntakeQueue.Take
            if pending.items.isEmpty {
                let waitStart = PipelineStats.nowNanos()
                taken = intake.takeDecoded(until: deadline ?? .now + .milliseconds(100))
                stats.addTime(.batchWait, since: waitStart)
            } else {
                // A pending batch waits only while input is ready: before waiting, send it.
                taken = intake.takeDecoded(until: .now)
                if case .timedOut = taken {
                    finishPending()
                    continue
                }
            }
            switch taken {
            case .chunk(let chunk):
                stats.addTime(.queueWait, since: chunk.decodedAt)
                if deadline == nil { deadline = .now + configuration.batchMaxWait }
                add(chunk)
                // While chunks keep coming, a batch fills to max_rows (checking the wait
                // after every chunk as well drained 15–20% slower and was not kept).
                if items.isEmpty { deadline = nil }
            case .timedOut:
                if let d = deadline, ContinuousClock.now >= d {
                    flush()
                    deadline = nil
                }
            case .finished:
                flush()
                finishPending()
                return
            }
        }
    }

    /// Appends a chunk's records, flushing whenever the batch reaches its row limit.
    private mutating func add(_ chunk: DecodedChunk) {
        let width = model.inputCount
        for (i, outcome) in chunk.outcomes.enumerated() {
            var stored = outcome
            if case .row(let r, let id) = outcome {
                rows.append(contentsOf: chunk.rows[(r * width)..<((r + 1) * width)])
                cachedScoring?.gather(row: r, of: chunk, token: chunk.tokens[i])
                stored = .row(rowCount, id: id)
                rowCount += 1
            }
            items.append(Item(record: chunk.records[i], token: chunk.tokens[i], outcome: stored))
            // At most max_rows records, scored or not: dead letters and passthrough records
            // have no row, and must not let a batch grow without bound.
            if items.count == configuration.batchMaxRows { flush() }
        }
    }

    /// Scores the batch with one model call and sends every item in order. With Redis
    /// lookups, the batch's `MGET` goes out, then the pending batch before it is finished
    /// and sent, and this one becomes the pending batch.
    private mutating func flush() {
        guard !items.isEmpty else { return }
        if rowCount > 0 {
            stats.batches.add(1, ordering: .relaxed)
            stats.batchRows.add(rowCount, ordering: .relaxed)
        }
        if rowCount > 0, cachedScoring != nil { cachedScoring!.begin(rowCount: rowCount) }  // times itself
        if cachedScoring?.asksRedis == true {
            finishPending()
            swap(&items, &pending.items)
            swap(&rows, &pending.rows)
            pending.rowCount = rowCount
        } else {
            if rowCount > 0 { score(rows: rows, rowCount: rowCount) }
            send(items, scores: scores, cached: cached)
        }
        items.removeAll(keepingCapacity: true)
        rows.removeAll(keepingCapacity: true)
        rowCount = 0
    }

    /// Scores `rowCount` rows into `scores` (and `cached`): through the cache step when
    /// there is one (finishing the oldest batch it began), else with the model.
    private mutating func score(rows: [Float], rowCount: Int) {
        if cachedScoring != nil {
            // Times its own cache and model steps.
            cachedScoring!.finish(model: model, rows: rows, rowCount: rowCount, scores: &scores, cached: &cached)
        } else {
            let model = self.model
            let start = PipelineStats.nowNanos()
            rows.withUnsafeBufferPointer { input in
                scores.withUnsafeMutableBufferPointer { output in
                    model.score(rows: input, rowCount: rowCount, into: output)
                }
            }
            stats.addTime(.inference, since: start)
        }
    }

    /// Finishes and sends the pending batch, if any.
    private mutating func finishPending() {
        guard !pending.items.isEmpty else { return }
        if pending.rowCount > 0 { score(rows: pending.rows, rowCount: pending.rowCount) }
        send(pending.items, scores: scores, cached: cached)
        pending.items.removeAll(keepingCapacity: true)
        pending.rows.removeAll(keepingCapacity: true)
        pending.rowCount = 0
    }

    /// Builds and hands over each item's output, in order.
    private mutating func send(_ items: [Item], scores: [Float], cached: [Bool]) {
        let topics = configuration.topics
        let classes = classLabels
        // Two clock reads per record: building it (encode), handing it over (produce).
        var encodeNanos: Int64 = 0, produceNanos: Int64 = 0
        var mark = PipelineStats.nowNanos()
        for item in items {
            var outgoing: OutgoingRecord
            switch item.outcome {
            case .row(let r, let id):
                let outputs = model.outputCount
                let rowScores = scores[(r * outputs)..<((r + 1) * outputs)]
                if let bad = rowScores.first(where: { !$0.isFinite }) {
                    stats.recordDeadLetter("non_finite")
                    outgoing = deadLetters.make(
                        input: item.record, reason: "non_finite", field: "score",
                        message: "model produced a non-finite score (\(bad))")
                } else if outputs == 1 {
                    let score = rowScores[rowScores.startIndex]
                    if score >= configuration.decisionThreshold { stats.flagged.add(1, ordering: .relaxed) }
                    outgoing = output.make(
                        input: item.record, id: id, score: score, threshold: configuration.decisionThreshold,
                        cached: cached[r], topic: topics.output)
                } else {
                    outgoing = output.make(
                        input: item.record, id: id, probabilities: rowScores, classes: classes,
                        cached: false, topic: topics.output)
                }
            case .deadLetter where item.record.isTombstone:
                stats.recordDeadLetter("tombstone")
                outgoing = deadLetters.tombstone(input: item.record)
            case .deadLetter(let error):
                stats.recordDeadLetter(error.reason)
                outgoing = deadLetters.make(input: item.record, error: error)
            case .passthrough:
                outgoing = output.passthrough(item.record, topic: topics.output)
            }
            if outgoing.topic == topics.output, outgoing.value.count + 2 * (outgoing.key?.count ?? 0) + 1024 > deadLetters.limit,
               outgoing.wireSize > deadLetters.limit {
                // A key or an input that large makes an output the producer would refuse.
                stats.recordDeadLetter("too_large")
                outgoing = deadLetters.make(
                    input: item.record, reason: "too_large", field: nil,
                    message: "the output would be \(outgoing.wireSize) bytes, over the producer's message.max.bytes (\(deadLetters.messageMaxBytes))")
            }
            if outgoing.topic == topics.deadLetter, outgoing.headers.contains(where: { $0.name == Header.deadLetterTruncated }) {
                stats.deadLettersTruncated.add(1, ordering: .relaxed)
            }
            let built = PipelineStats.nowNanos()
            encodeNanos += built - mark
            do {
                try producer.send(outgoing, token: item.token)
            } catch where outgoing.topic == topics.deadLetter && error.isRecordRefused {
                refusedDeadLetter(item.token, error)
            } catch {
                control.fail(.deliveryFailed(topic: outgoing.topic, error))
                break
            }
            mark = PipelineStats.nowNanos()
            produceNanos += mark - built
        }
        stats.addTime(.encode, nanos: encodeNanos)
        stats.addTime(.produce, nanos: produceNanos)
    }
}
