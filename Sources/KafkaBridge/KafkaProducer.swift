internal import Crdkafka
import Concurrency
import Synchronization

/// A librdkafka producer whose delivery reports arrive on a thread of their own
/// (`streamscore.kafka.delivery`).
///
/// `send` may be called from any thread. It never drops a record: when librdkafka's local
/// queue is full it waits until the delivery thread has served reports (which frees their
/// room), so a slow broker slows the caller.
/// Each record carries a caller-chosen 64-bit token that comes back in its `DeliveryReport`.
public final class KafkaProducer: Sendable {
    let handle: RDKafkaHandle
    private let loop = DeliveryLoop()
    private let deliveryThread: NamedThread
    private let queueFullWaits = Atomic<Int>(0)
    /// Topic handles by name, made on first use (records then name their topic by pointer).
    private let topics = Mutex<[String: RDKafkaTopic]>([:])

    /// Creates the producer and starts its delivery thread.
    ///
    /// - Parameters:
    ///   - config: librdkafka properties (`bootstrap.servers`, `enable.idempotence`, …).
    ///   - onDelivery: called once per record on the delivery thread; keep it short.
    ///   - onDeliveryRound: called on the delivery thread after each poll that served any
    ///     report (once per round, not per record).
    ///   - onError: client-level errors (connection trouble, fatal idempotence errors).
    ///   - onLog: librdkafka's log lines.
    /// - Throws: `KafkaError` naming a rejected property.
    public init(
        config: KafkaConfig,
        onDelivery: @escaping @Sendable (DeliveryReport) -> Void,
        onDeliveryRound: @escaping @Sendable () -> Void = {},
        onError: @escaping @Sendable (KafkaError) -> Void = { _ in },
        onLog: @escaping @Sendable (KafkaLogEntry) -> Void = { _ in }
    ) throws(KafkaError) {
        handle = try RDKafkaHandle(
            kind: .producer, config: config,
            callbacks: RDKafkaCallbacks(onDelivery: onDelivery, onError: onError, onLog: onLog))
        // Blocks in rd_kafka_poll until an event comes or `close` wakes it (the 100 ms bound
        // only caps a stop whose wake-up a concurrent flush took).
        deliveryThread = NamedThread("streamscore.kafka.delivery") { [handle, loop] in
            while loop.running.load(ordering: .acquiring) {
                let events = handle.serveCallbacks(timeoutMs: 100)
                if events > 0 {
                    loop.served.announce()
                    onDeliveryRound()
                }
            }
        }
    }

    /// How many times `send` had to wait for room in librdkafka's queue.
    public var queueFullWaitCount: Int { queueFullWaits.load(ordering: .relaxed) }

    /// Records handed to librdkafka and not yet reported (in queue or in flight).
    public var outstanding: Int {
        handle.withPointer { Int(rd_kafka_outq_len($0)) }
    }

    /// Queues one record for delivery (`rd_kafka_produceva`, payload copied).
    ///
    /// Blocks while librdkafka's queue is full.
    /// - Throws: `KafkaError` for anything other than a full queue (unknown topic, record
    ///   too large, fatal producer state).
    public func send(_ record: OutgoingRecord, token: UInt64) throws(KafkaError) {
        while true {
            let seen = loop.served.current
            let error = produce(record, token: token)
            guard let error else { return }
            guard error.code == KafkaError.queueFull, loop.running.load(ordering: .relaxed) else { throw error }
            queueFullWaits.add(1, ordering: .relaxed)
            // Room comes back as reports are served (each frees its message). The bound only
            // covers a flush on another thread serving them (rd_kafka_flush polls too).
            loop.served.wait(after: seen, until: .now + .milliseconds(100))
        }
    }

    private func produce(_ record: OutgoingRecord, token: UInt64) -> KafkaError? {
        let rkt = topic(record.topic)
        return withExtendedLifetime(rkt) { handle.produce(record, topic: rkt, token: token) }
    }

    /// The topic's handle (nil if librdkafka refuses the name: the record then goes by
    /// name, and its produce call reports why).
    private func topic(_ name: String) -> RDKafkaTopic? {
        topics.withLock { topics in
            if let topic = topics[name] { return topic }
            let topic = RDKafkaTopic(handle: handle, name: name)
            topics[name] = topic
            return topic
        }
    }

    /// Fetches the topics' metadata (partitions and leaders) so the first records are not
    /// held back waiting for it. Returns each topic's partition count.
    /// - Throws: `KafkaError` when the cluster cannot be reached in time or a topic is unknown.
    @discardableResult
    public func prepare(topics: [String], timeout: Duration) throws(KafkaError) -> [String: Int] {
        var counts: [String: Int] = [:]
        for topic in topics {
            counts[topic] = try RDKafkaMetadata.partitionCount(handle, topic: topic, timeoutMs: timeout.timeoutMilliseconds)
        }
        return counts
    }

    /// Waits until every queued record has a delivery report, or the timeout passes.
    ///
    /// - Returns: whether the queue emptied in time.
    public func flush(timeout: Duration) -> Bool {
        handle.withPointer { rd_kafka_flush($0, timeout.timeoutMilliseconds) } == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// Stops the delivery thread (after a `flush`, so no report is left behind): wakes its
    /// blocking poll and waits for it to return.
    public func close() {
        guard loop.running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        handle.wakeCallbackServer()
        deliveryThread.join()
    }

    deinit {
        close()
    }
}

/// What a producer shares with its delivery thread.
private final class DeliveryLoop: Sendable {
    let running = Atomic<Bool>(true)
    /// Rounds of delivery reports served: a `send` that met a full queue waits on it.
    let served = EventCount()
}
