import Concurrency
import Foundation
import KafkaBridge
import Logging
import Synchronization

/// The consumer side, on the `streamscore.kafka.poll` thread: polls librdkafka, registers
/// records with the offset tracker, chunks them into the intake queue, pauses and resumes
/// partitions with the intake level, stores completed offsets, and on stop runs the
/// shutdown sequence (it owns the consumer, so it also closes it).
///
/// Reading a bounded range (`configuration.range`, a backfill), it also drops records past
/// each partition's end and stops fetching that partition, holds the input to
/// `configuration.maxRate`, and requests the stop once the whole range is acknowledged.
final class PollLoop: Sendable {
    let consumer: KafkaConsumer
    let tracker: OffsetTracker
    let intake: IntakeQueue
    let stats: PipelineStats
    let control: PipelineControl
    let configuration: PipelineConfiguration
    let logger: Logger
    /// Announced by the delivery stage after each round of reports (and on a failure): a
    /// revoke's drain waits on it.
    let progress: EventCount
    let backPressure: Mutex<BackPressure>
    /// When the idle clock last restarted (input or rebalance), and whether the group has
    /// assigned anything yet: an idle limit must not fire while the group is still forming.
    let idleClock = Mutex<(since: ContinuousClock.Instant, rebalanced: Bool)>((.now, false))
    /// Set by the shutdown sequence: a revoke served while the consumer closes must finish
    /// by then (its commit waits no longer).
    let shutdownDeadline = Mutex<ContinuousClock.Instant?>(nil)
    /// The bounded range being read, and each of its partitions' end (exclusive).
    let range: RangeProgress?
    let rangeEnds: [Int32: Int64]
    /// `configuration.maxRate`'s bucket (nil: no limit); only the poll thread uses it.
    let rateLimit: Mutex<RateLimit?>
    /// Exactly-once mode: rewind requests from the batcher, commit requests to it.
    let transactions: TransactionControl?

    init(
        consumer: KafkaConsumer, tracker: OffsetTracker, intake: IntakeQueue, stats: PipelineStats,
        control: PipelineControl, configuration: PipelineConfiguration, progress: EventCount,
        transactions: TransactionControl? = nil, logger: Logger
    ) {
        self.progress = progress
        self.transactions = transactions
        self.consumer = consumer
        self.tracker = tracker
        self.intake = intake
        self.stats = stats
        self.control = control
        self.configuration = configuration
        self.logger = logger
        self.backPressure = Mutex(BackPressure(
            capacity: configuration.intakeCapacity, resumeBelow: configuration.intakeResumeBelow,
            pollBatch: configuration.pollBatch, pauseAfter: configuration.pauseAfter))
        self.range = configuration.range
        self.rangeEnds = Dictionary(uniqueKeysWithValues: (configuration.range?.partitions ?? []).map { ($0.partition, $0.to) })
        self.rateLimit = Mutex(configuration.maxRate.map { RateLimit(rate: $0) })
    }

    /// Whether the consumer is paused for back-pressure right now.
    var isPaused: Bool { backPressure.withLock { $0.paused } }

    /// Polls until a stop is requested (or the idle limit passes).
    func run() {
        let started = ContinuousClock.now
        while !control.isStopping {
            storeCompleted()
            rewindAfterAbort()
            let records = intake.recordCount
            let step = backPressure.withLock { $0.next(records: records, now: .now) }
            switch step {
            case .hold:
                intake.waitForRoom(below: configuration.intakeCapacity, until: .now + .milliseconds(20))
                continue
            case .pause:
                consumer.pause(consumer.assignment())
                stats.pauses.add(1, ordering: .relaxed)
                logger.debug("intake full: pausing partitions", metadata: ["records": "\(records)"])
                continue
            case .resume:
                consumer.resume(range?.fetching() ?? consumer.assignment())
                stats.resumes.add(1, ordering: .relaxed)
                logger.debug("intake drained: resuming partitions", metadata: ["records": "\(records)"])
                continue
            case .servePaused:
                // Serves rebalance callbacks; paused partitions deliver nothing, but a record
                // from a partition assigned a moment ago is still queued, never dropped.
                let stray = consumer.poll(maxRecords: 1, timeout: .milliseconds(10))
                if !stray.isEmpty { accept(stray) }
                intake.waitForRoom(below: configuration.intakeResumeBelow + 1, until: .now + .milliseconds(50))
            case .poll(var limit):
                if configuration.maxRate != nil {
                    let (allowed, wait) = rateLimit.withLock { ($0!.allowance(), $0!.waitForNext) }
                    guard allowed > 0 else {
                        Thread.sleep(forTimeInterval: min(wait, .milliseconds(50)).inSeconds)
                        continue
                    }
                    limit = min(limit, allowed)
                }
                let start = PipelineStats.nowNanos()
                let batch = consumer.poll(maxRecords: limit, timeout: .milliseconds(100))
                if !batch.isEmpty { stats.addTime(.poll, since: start) }
                if configuration.maxRate != nil, !batch.isEmpty { rateLimit.withLock { $0!.take(batch.count) } }
                if batch.isEmpty {
                    if range != nil { checkPositions() }
                    if let idle = configuration.idleExit, isIdle(for: idle, startedAt: started) {
                        control.requestStop("idle for \(idle)")
                    }
                    continue
                }
                accept(batch)
            }
        }
    }

    func accept(_ batch: [KafkaRecord]) {
        var batch = batch
        if range != nil {
            batch = bounded(batch)
            guard !batch.isEmpty else { return }
        }
        idleClock.withLock { $0.since = .now }
        stats.consumed.add(batch.count, ordering: .relaxed)
        stats.markFetched()
        enqueue(batch)
    }

    /// No input for `idle` since the last record or rebalance, nothing in flight, and the
    /// group has formed (or a minute passed without any assignment).
    func isIdle(for idle: Duration, startedAt: ContinuousClock.Instant) -> Bool {
        let (since, rebalanced) = idleClock.withLock { $0 }
        guard rebalanced || ContinuousClock.now - startedAt >= .seconds(60) else { return false }
        return ContinuousClock.now - since >= idle && intake.recordCount == 0 && tracker.inFlight() == 0
    }

    /// Registers records with the tracker (per partition, in offset order) and queues them in
    /// chunks, keeping fetch order.
    func enqueue(_ records: [KafkaRecord]) {
        var tokens = [UInt64](repeating: 0, count: records.count)
        var positions: [TopicPartition: [Int]] = [:]
        for (i, record) in records.enumerated() {
            positions[record.topicPartition, default: []].append(i)
        }
        for (tp, indices) in positions {
            let registration = tracker.register(tp, records: indices.map { (records[$0].offset, records[$0].timestamp) })
            for rewind in registration.rewinds {
                stats.rewinds.add(1, ordering: .relaxed)
                logger.warning("partition position moved backwards: starting a new epoch (records in flight from before are forgotten; their outputs may repeat)", metadata: [
                    "partition": "\(tp)", "last_offset": "\(rewind.from)", "new_offset": "\(rewind.to)",
                ])
            }
            for (k, i) in indices.enumerated() {
                guard let token = registration.tokens[k] else {
                    control.fail(.unsupportedOffset(tp, records[i].offset))
                    return
                }
                tokens[i] = token
            }
        }
        var start = 0
        while start < records.count {
            let end = min(start + configuration.chunkRecords, records.count)
            intake.push(records: Array(records[start..<end]), tokens: Array(tokens[start..<end]))
            start = end
        }
    }

    /// The records of the range: those past a partition's end are dropped, and a partition
    /// whose end was reached stops fetching (paused, and left out of every resume).
    func bounded(_ batch: [KafkaRecord]) -> [KafkaRecord] {
        guard let range else { return batch }
        var kept: [KafkaRecord] = []
        kept.reserveCapacity(batch.count)
        var through: Set<Int32> = []
        for record in batch where record.topic == range.topic {
            guard let end = rangeEnds[record.partition] else { continue }
            if record.offset < end { kept.append(record) }
            if record.offset >= end - 1 { through.insert(record.partition) }
        }
        if !through.isEmpty { finishFetching(through) }
        return kept
    }

    /// After an empty poll: a partition whose position passed its end without a record at
    /// the end itself (the last offsets were transaction markers, or compacted away) is
    /// fetched through too.
    func checkPositions() {
        guard let range else { return }
        let positions = consumer.positions(range.fetching())
        let through = Set(positions.compactMap { tp, next in next >= (rangeEnds[tp.partition] ?? .max) ? tp.partition : nil })
        if !through.isEmpty { finishFetching(through) }
    }

    private func finishFetching(_ partitions: Set<Int32>) {
        guard let range else { return }
        for p in partitions { range.fetchedThrough(p) }
        consumer.pause(partitions.map { TopicPartition(range.topic, $0) })
        logger.debug("range: partitions fetched to their end", metadata: ["partitions": "\(partitions.sorted())"])
    }

    /// Rebalance events, on this thread inside `consumer.poll`.
    func handleRebalance(_ event: RebalanceEvent) {
        idleClock.withLock { $0 = (.now, true) }
        switch event {
        case .assigned(let partitions):
            stats.assignments.add(1, ordering: .relaxed)
            logger.info("partitions assigned", metadata: ["partitions": "\(partitions.sorted())"])
            if isPaused { consumer.pause(partitions) }
        case .revoked(let partitions, let lost):
            stats.revocations.add(1, ordering: .relaxed)
            logger.info("partitions revoked", metadata: ["partitions": "\(partitions.sorted())", "lost": "\(lost)"])
            if !lost && range == nil { drain(partitions) }
            tracker.remove(partitions)
        }
    }
}
