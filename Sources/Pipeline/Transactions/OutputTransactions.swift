import Foundation
import KafkaBridge
import Logging

/// Exactly-once delivery, on the batcher thread: the outputs and dead letters of a run of
/// input records, and those records' offsets, commit in one Kafka transaction.
///
/// The batcher sends in fetch order, so at any point between two sends every input
/// offset up to the last one sent per partition has all its outputs produced: that is
/// where a transaction ends. It is committed `interval` after its first record, after
/// `maxRecords` records, when a revoke's drain asks, and at a graceful stop; the offsets
/// added are the last sent + 1 per partition, fenced by the consumer group's generation
/// (KIP-447), so one producer per process serves every partition it is assigned.
/// Only after the commit are the records complete in the `OffsetTracker`, which is what
/// the cache writer and a revoke's drain wait on.
///
/// Errors, as librdkafka classifies them: retriable → the same call again; abortable →
/// abort, and the poll thread rewinds every partition with records in flight to its
/// committed offset while the batcher drops the aborted range's work (`TransactionControl`);
/// fatal (fenced by a newer instance with the same transactional id, or any error
/// librdkafka does not classify) → the pipeline fails, committing nothing more.
struct OutputTransactions {
    let settings: DeliveryMode.Transactions
    let producer: KafkaProducer
    let consumer: KafkaConsumer
    let tracker: OffsetTracker
    let shared: TransactionControl
    let control: PipelineControl
    let stats: PipelineStats
    let logger: Logger
    /// Each blocking transactional call waits at most this long before it is retried.
    let callTimeout: Duration = .seconds(10)

    private(set) var isOpen = false
    private var began: ContinuousClock.Instant = .now
    private var records = 0
    private var outputs = 0
    private var deadLetters = 0
    /// The last token sent per input partition in the open transaction.
    private var last: [TopicPartition: UInt64] = [:]

    init(
        settings: DeliveryMode.Transactions, producer: KafkaProducer, consumer: KafkaConsumer, tracker: OffsetTracker,
        shared: TransactionControl, control: PipelineControl, stats: PipelineStats, logger: Logger
    ) {
        self.settings = settings
        self.producer = producer
        self.consumer = consumer
        self.tracker = tracker
        self.shared = shared
        self.control = control
        self.stats = stats
        self.logger = logger
    }

    /// Whether the batcher must drop what it takes: an aborted range waits for its rewind.
    var discarding: Bool { shared.rewindPending }

    /// When the open transaction is due (nil: nothing to commit).
    var deadline: ContinuousClock.Instant? { records > 0 ? began + settings.interval : nil }

    /// Whether to commit now: the interval passed, the size bound was reached, or a
    /// revoke's drain asked.
    var isDue: Bool {
        records > 0 && (records >= settings.maxRecords || ContinuousClock.now >= began + settings.interval || shared.isCommitRequested)
    }

    /// Opens a transaction if none is (before the first send after a commit or abort).
    /// - Returns: false when the pipeline failed instead.
    mutating func beginIfNeeded() -> Bool {
        guard !isOpen else { return true }
        guard call("begin", { () throws(KafkaError) in try producer.beginTransaction() }) == .done else { return false }
        isOpen = true
        began = .now
        return true
    }

    /// What became of a record at its send.
    enum Sent { case output, deadLetter, dropped }

    /// `partition`'s record `token` was handed to the producer (or its dead letter was
    /// refused at once and dropped: its offset still commits with the transaction).
    mutating func sent(_ partition: TopicPartition, token: UInt64, as kind: Sent) {
        records += 1
        switch kind {
        case .output: outputs += 1
        case .deadLetter: deadLetters += 1
        case .dropped: break
        }
        last[partition] = token
    }

    /// Whether each token's record belongs to a current epoch (not forgotten by a rewind or
    /// a revoke since it was fetched): one lock for all.
    func current(_ tokens: [UInt64]) -> [Bool] {
        tracker.acknowledged(tokens).map { $0 != nil }
    }

    /// Commits the open transaction (with its offsets), or aborts it when that fails in a
    /// way that allows going on.
    mutating func commit() {
        _ = shared.takeCommitRequest()
        guard isOpen, records > 0 else { return }
        let tokens = Array(last)
        // A partition revoked (drain timed out) or lost since its records were sent: its
        // outputs must not commit here, its next owner scores them.
        if tracker.acknowledged(tokens.map(\.value)).contains(where: { $0 == nil }) {
            abort(because: "a partition of the transaction was revoked before it committed")
            return
        }
        guard let group = consumer.groupMetadata() else {
            abort(because: "no consumer group metadata to commit the offsets with")
            return
        }
        let offsets = Dictionary(uniqueKeysWithValues: tokens.map { ($0.key, OffsetTracker.offset(of: $0.value) + 1) })
        let timeout = callTimeout
        let commitStarted = PipelineStats.nowNanos()
        defer { stats.addTime(.commit, since: commitStarted) }
        switch call("send offsets", { () throws(KafkaError) in try producer.sendOffsetsToTransaction(offsets, group: group, timeout: timeout) }) {
        case .done: break
        case .abort(let error): abort(because: "sending the offsets failed: \(error)"); return
        case .failed: return
        }
        switch call("commit", { () throws(KafkaError) in try producer.commitTransaction(timeout: timeout) }) {
        case .done: break
        case .abort(let error): abort(because: "the commit failed: \(error)"); return
        case .failed: return
        }
        stats.transactionDuration.recordNanoseconds(Int64(began.duration(to: .now).inSeconds * 1e9))
        stats.transactionsCommitted.add(1, ordering: .relaxed)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for (_, token) in tokens {
            for timestamp in tracker.complete(through: token) ?? [] {
                stats.recordLatency(milliseconds: now - timestamp)
            }
        }
        stats.outputsAcknowledged.add(outputs, ordering: .relaxed)
        stats.deadLettersAcknowledged.add(deadLetters, ordering: .relaxed)
        stats.markAcknowledged()
        reset()
        shared.progress.announce()
    }

    /// Aborts the open transaction and asks the poll thread to rewind.
    mutating func abort(because reason: String) {
        let dropped = records
        if isOpen {
            let timeout = callTimeout
            guard call("abort", { () throws(KafkaError) in try producer.abortTransaction(timeout: timeout) }) == .done else { return }
        }
        stats.transactionsAborted.add(1, ordering: .relaxed)
        logger.warning("transaction aborted: rewinding to the last committed offsets", metadata: [
            "reason": "\(reason)", "records_dropped": "\(dropped)",
        ])
        reset()
        shared.requestRewind()
    }

    /// At the batcher's end: a graceful stop commits the open transaction; after a failure
    /// nothing more is committed (an abortable transaction is aborted, so read_committed
    /// readers need not wait for its timeout).
    mutating func close() {
        if control.failure == nil, !shared.rewindPending {
            commit()
        } else if isOpen, control.failure.map({ !Self.isFatal($0) }) ?? true {
            try? producer.abortTransaction(timeout: .seconds(2))
            reset()
        }
        shared.close()
    }

    private mutating func reset() {
        isOpen = false
        records = 0
        outputs = 0
        deadLetters = 0
        last.removeAll(keepingCapacity: true)
    }

    enum CallResult: Equatable { case done, abort(KafkaError), failed }

    /// Runs a transactional call: again while it is retriable (and the pipeline has not
    /// failed), `.abort` when the transaction must be aborted, `.failed` (the pipeline
    /// failed with the reason) when the producer cannot go on.
    private func call(_ what: String, _ body: () throws(KafkaError) -> Void) -> CallResult {
        while true {
            do {
                try body()
                return .done
            } catch where error.isRetriable && !error.isFatal && !error.requiresAbort {
                guard control.failure == nil else { return .failed }
                logger.info("transactional call failed, retrying", metadata: ["call": "\(what)", "error": "\(error)"])
                Thread.sleep(forTimeInterval: 0.05)
            } catch where error.requiresAbort && !error.isFatal {
                return .abort(error)
            } catch {
                if error.isFenced { stats.transactionsFenced.add(1, ordering: .relaxed) }
                control.fail(.transactionFailed(call: what, transactionalID: settings.transactionalID, error))
                return .failed
            }
        }
    }

    private static func isFatal(_ failure: PipelineError) -> Bool {
        if case .transactionFailed = failure { return true }
        if case .kafka(let error) = failure { return error.isFatal }
        return false
    }
}
