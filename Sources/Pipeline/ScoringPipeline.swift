import Concurrency
import Features
import Inference
import KafkaBridge
import Logging
import ScoreCache
import Synchronization

/// The topic-to-topic scoring worker, the composition root of `Stages/`: poll → intake →
/// decode → batch → cache → score → produce → delivery → commit, with offsets stored only
/// after delivery (at-least-once).
///
/// Threads: `streamscore.kafka.poll` (consumer, back-pressure, rebalances, commits, shutdown
/// sequence), `streamscore.worker.N` (decoding), `streamscore.batcher` (batching, the cache
/// step, scoring and producing), `streamscore.kafka.delivery` (delivery reports → offset
/// tracker), `streamscore.cache.writer` (new scores to Redis once acknowledged).
/// Lifecycle: `init` validates and creates the clients, `start` subscribes and starts the
/// threads, `requestStop` begins a graceful stop, `waitForOutcome` reports how it ended.
public final class ScoringPipeline: Sendable {
    public let configuration: PipelineConfiguration
    public let model: any Model
    public let stats = PipelineStats()

    private let logger: Logger
    private let decoder: EventDecoder
    /// Holds new scores until their outputs are acknowledged; only when they go to Redis.
    private let writeback: CacheWriteback?
    private let control: PipelineControl
    let tracker = OffsetTracker()
    /// librdkafka's latest statistics (the consumer lag).
    let latestStatistics = LatestStatistics()
    /// Rounds of delivery reports (and failures): what a revoke's drain and the cache
    /// writer wait on.
    private let progress = EventCount()
    private let delivery: DeliveryStage
    private let intake: IntakeQueue
    let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let pollLoop: PollLoop
    /// Exactly-once mode: what the batcher and the poll thread tell each other.
    private let transactions: TransactionControl?
    private let started = Atomic<Bool>(false)

    /// Checks the model against the features and creates the Kafka clients.
    ///
    /// - Throws: `PipelineError.modelMismatch` naming the input, or `.kafka` naming a
    ///   rejected librdkafka property.
    public init(configuration: PipelineConfiguration, model: any Model, logger: Logger) throws(PipelineError) {
        var spec = configuration.features
        if spec.format == .f32le && spec.rawInputCount == 0 { spec.rawInputCount = model.inputCount }  // rows as long as the model's
        do {
            decoder = try EventDecoder(spec: spec)
        } catch {
            throw .invalidFeatures("features.\(error.path): \(error.reason)")
        }
        try Self.check(model: model, decoder: decoder)
        self.configuration = configuration
        self.model = model
        self.logger = logger
        self.intake = IntakeQueue(capacity: configuration.intakeCapacity)
        if let cache = configuration.cache, cache.redis != nil, cache.mode.writes,
           model.outputCount == 1, !configuration.passthrough {
            writeback = CacheWriteback(progress: progress)
        } else {
            writeback = nil
        }

        let control = PipelineControl(announcingFailureOn: progress)
        self.control = control
        let (tracker, stats) = (self.tracker, self.stats)
        var delivery = DeliveryStage(
            tracker: tracker, stats: stats, control: control, deadLetterTopic: configuration.topics.deadLetter,
            progress: progress, logger: logger)
        delivery.exactlyOnce = configuration.delivery.isExactlyOnce
        self.delivery = delivery
        let transactions = configuration.delivery.isExactlyOnce ? TransactionControl(progress: progress) : nil
        self.transactions = transactions
        var events = KafkaClientEvents(control: control, logger: logger)
        events.transactionalID = configuration.delivery.transactions?.transactionalID
        events.stats = stats
        do {
            producer = try KafkaProducer(
                config: KafkaConfig(configuration.producerConfig),
                onDelivery: delivery.delivered, onDeliveryRound: delivery.roundServed,
                onError: events.error, onLog: events.log)
            let rebalance = RebalanceRelay()
            let statistics = latestStatistics
            consumer = try KafkaConsumer(
                config: KafkaConfig(configuration.consumerConfig),
                onRebalance: { rebalance.forward($0) }, onError: events.error, onLog: events.log,
                onStatistics: { statistics.received($0) })
            pollLoop = PollLoop(
                consumer: consumer, tracker: tracker, intake: intake, stats: stats, control: control,
                configuration: configuration, progress: progress, transactions: transactions, logger: logger)
            rebalance.connect(pollLoop)
        } catch {
            throw .kafka(error)
        }
    }

    /// Subscribes and starts every thread. Call once.
    public func start() throws(PipelineError) {
        precondition(!started.exchange(true, ordering: .relaxed), "start() called twice")
        do {
            // Output metadata first: otherwise the first batches wait for it in librdkafka.
            try producer.prepare(topics: [configuration.topics.output, configuration.topics.deadLetter], timeout: .seconds(10))
        } catch {
            throw .unreachable(bootstrap: configuration.bootstrapServers, topics: [configuration.topics.output, configuration.topics.deadLetter], error)
        }
        if let settings = configuration.delivery.transactions {
            // Registers the transactional id: a previous instance's open transaction is
            // aborted, and that instance (a zombie) is fenced off.
            do {
                try producer.initTransactions(timeout: .seconds(30))
            } catch {
                if error.isFenced { stats.transactionsFenced.add(1, ordering: .relaxed) }
                throw .transactionFailed(call: "init", transactionalID: settings.transactionalID, error)
            }
        }
        do {
            if let range = configuration.range {
                // Assigned at the range's starts: no group is joined, nothing committed.
                try consumer.assign(range.starts)
                if range.isComplete { control.requestStop("range complete") }
            } else {
                try consumer.subscribe([configuration.topics.input])
            }
        } catch {
            throw .kafka(error)
        }
        let decoder = self.decoder
        let writeback = self.writeback
        let tracker = self.tracker
        let (model, producer, intake, stats, control, configuration, logger) =
            (self.model, self.producer, self.intake, self.stats, self.control, self.configuration, self.logger)
        // One namespace for the batcher's lookups and the writer's writes.
        let cacheNamespace = CacheNamespace(model: model, spec: configuration.features)
        let delivery = self.delivery
        let consumer = self.consumer
        let sharedTransactions = self.transactions
        let workers = (0..<configuration.workers).map { n in
            let worker = DecodeWorker(
                decoder: decoder, intake: intake, cacheKeys: !configuration.passthrough && (configuration.cache.map { $0.mode != .bypass } ?? false),
                passthrough: configuration.passthrough, stats: stats)
            return NamedThread("streamscore.worker.\(n)") { worker.run() }
        }
        let batcher = NamedThread("streamscore.batcher") {
            var transactions: OutputTransactions?
            if let settings = configuration.delivery.transactions, let shared = sharedTransactions {
                transactions = OutputTransactions(
                    settings: settings, producer: producer, consumer: consumer, tracker: tracker, shared: shared,
                    control: control, stats: stats, logger: logger)
            }
            var batcher = Batcher(
                model: model, producer: producer, intake: intake, stats: stats, control: control,
                configuration: configuration, cacheNamespace: cacheNamespace, writeback: writeback, logger: logger,
                transactions: transactions, refusedDeadLetter: delivery.droppedDeadLetter)
            batcher.run()
        }
        var cacheWriter: NamedThread?
        if let cache = configuration.cache, let url = cache.redis, let writeback {
            cacheWriter = CacheWriter.start(
                url: url, configuration: cache, namespace: cacheNamespace, writeback: writeback,
                acknowledged: { tracker.acknowledged($0) }, stats: stats.cache, logger: logger)
        }
        let pollLoop = self.pollLoop
        let writer = cacheWriter
        _ = NamedThread("streamscore.kafka.poll") {
            pollLoop.run()
            let sequence = ShutdownSequence(
                consumer: consumer, producer: producer, intake: intake, tracker: tracker, pollLoop: pollLoop,
                control: control, stats: stats, logger: logger,
                // From the stop request, less what exiting takes after the sequence
                // (stopping the delivery thread, destroying the clients), so the whole stop
                // fits shutdown.timeout_ms (Kubernetes' grace period).
                deadline: (control.stopRequestedAt ?? .now) + configuration.shutdownTimeout - ShutdownSequence.exitReserve)
            sequence.run(workers: workers, batcher: batcher, cacheWriter: writer, writeback: writeback)
        }
        logger.info("pipeline started", metadata: [
            "input": "\(configuration.topics.input)", "output": "\(configuration.topics.output)",
            "model": "\(model.identity)", "workers": "\(configuration.workers)",
            "delivery": "\(configuration.delivery.transactions.map { "exactly_once (transactional id \($0.transactionalID), every \($0.interval))" } ?? "at_least_once")",
            "cache": "\(configuration.cache.map { "\($0.mode.rawValue): in-process tier" + ($0.redis.map { ", then Redis at \($0)" } ?? " alone") + "; keyed on \(configuration.cacheKey)" } ?? "off")",
        ])
        let messageMaxBytes = configuration.producerMessageMaxBytes
        if configuration.features.maxEventBytes > DeadLetter.limit(messageMaxBytes: messageMaxBytes) {
            logger.info("dead letters larger than the producer's message.max.bytes are sent cut to fit, with the original's size and SHA-256", metadata: [
                "features.max_event_bytes": "\(configuration.features.maxEventBytes)",
                "message.max.bytes": "\(messageMaxBytes)",
            ])
        }
        if let cache = configuration.cache, !configuration.passthrough { CacheProbe.start(configuration: cache, logger: logger) }
    }

    /// Begins a graceful stop: stop fetching, finish in-flight records, flush, commit.
    public func requestStop(reason: String = "requested") {
        control.requestStop(reason)
    }

    /// Whether a stop has been requested (by a caller, an idle limit or a failure).
    public var isStopping: Bool { control.isStopping }

    /// How a run ended.
    public enum Outcome: Sendable {
        case stopped(reason: String)
        case failed(PipelineError)
    }

    /// The outcome once the shutdown sequence finished, nil before.
    public var outcome: Outcome? { control.outcome.map(Self.convert) }

    /// The outcome, once the shutdown sequence has finished: suspends the task, blocks no
    /// thread.
    public func finished() async -> Outcome {
        let control = self.control
        return await withCheckedContinuation { continuation in
            control.whenFinished { continuation.resume(returning: Self.convert($0)) }
        }
    }

    /// `start()` on a thread of its own (`streamscore.start`): fetching the output topics'
    /// metadata blocks up to 10 s, which must not hold a thread of the cooperative pool.
    public func startOffThePool() async throws(PipelineError) {
        let result: Result<Void, PipelineError> = await withCheckedContinuation { continuation in
            _ = NamedThread("streamscore.start") {
                do throws(PipelineError) {
                    try self.start()
                    continuation.resume(returning: .success(()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        try result.get()
    }

    /// Blocks the calling thread until the pipeline finished or `deadline` passed.
    /// Do not call from an async context; poll `outcome` there instead.
    public func waitForOutcome(until deadline: ContinuousClock.Instant? = nil) -> Outcome? {
        control.waitForOutcome(until: deadline).map(Self.convert)
    }

    /// Records currently in the intake queue, and the most it ever held.
    public var intakeDepth: (current: Int, highWater: Int) { (intake.recordCount, intake.highWater) }

    /// Records fetched and not yet acknowledged.
    public var inFlight: Int { tracker.inFlight() }

    /// Whether the consumer is paused for back-pressure.
    public var isPaused: Bool { pollLoop.isPaused }

    /// Times the batcher waited for room in librdkafka's full producer queue.
    public var producerQueueFullWaits: Int { producer.queueFullWaitCount }

    /// Outputs waiting in librdkafka's queue.
    public var producerOutstanding: Int { producer.outstanding }

    private static func convert(_ outcome: PipelineControl.Outcome) -> Outcome {
        switch outcome {
        case .stopped(let reason): .stopped(reason: reason)
        case .failed(let error): .failed(error)
        }
    }

    /// The model's input count, and its input names where the file carries them, must
    /// match the compiled feature spec.
    static func check(model: any Model, decoder: EventDecoder) throws(PipelineError) {
        guard model.inputCount == decoder.inputCount else {
            throw .modelMismatch("the model has \(model.inputCount) inputs, the feature spec fills \(decoder.inputCount)")
        }
        if let names = model.inputNames, let spec = decoder.inputNames {
            for (i, (name, input)) in zip(names, spec).enumerated() where name != input {
                throw .modelMismatch("input \(i) is '\(name)' in the model but '\(input)' in the feature spec")
            }
        }
    }
}

/// Lets the consumer's rebalance callback reach the poll loop, which is created after the
/// consumer it drives. Holds the loop weakly: the loop owns the consumer, whose callbacks
/// own this relay, and a strong reference would keep the consumer alive forever.
private final class RebalanceRelay: Sendable {
    private struct Target: Sendable {
        weak var loop: PollLoop?
    }

    private let target = Mutex(Target())

    func connect(_ loop: PollLoop) {
        target.withLock { $0.loop = loop }
    }

    func forward(_ event: RebalanceEvent) {
        target.withLock { $0.loop }?.handleRebalance(event)
    }
}
