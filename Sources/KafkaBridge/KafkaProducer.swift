internal import Crdkafka
import Foundation
import Synchronization

/// A librdkafka producer whose delivery reports arrive on a thread of their own
/// (`streamscore.kafka.delivery`).
///
/// `send` may be called from any thread. It never drops a record: when librdkafka's local
/// queue is full it waits for deliveries to make room, so a slow broker slows the caller.
/// Each record carries a caller-chosen 64-bit token that comes back in its `DeliveryReport`.
public final class KafkaProducer: Sendable {
    private let handle: RDKafkaHandle
    private let loop = DeliveryLoopState()
    private let queueFullWaits = Atomic<Int>(0)
    /// Topic handles by name, made on first use (records then name their topic by pointer).
    private let topics = Mutex<[String: RDKafkaTopic]>([:])

    /// Creates the producer and starts its delivery thread.
    ///
    /// - Parameters:
    ///   - config: librdkafka properties (`bootstrap.servers`, `enable.idempotence`, …).
    ///   - onDelivery: called once per record on the delivery thread; keep it short.
    ///   - onError: client-level errors (connection trouble, fatal idempotence errors).
    ///   - onLog: librdkafka's log lines.
    /// - Throws: `KafkaError` naming a rejected property.
    public init(
        config: KafkaConfig,
        onDelivery: @escaping @Sendable (DeliveryReport) -> Void,
        onError: @escaping @Sendable (KafkaError) -> Void = { _ in },
        onLog: @escaping @Sendable (KafkaLogEntry) -> Void = { _ in }
    ) throws(KafkaError) {
        handle = try RDKafkaHandle(
            kind: .producer, config: config,
            callbacks: RDKafkaCallbacks(onDelivery: onDelivery, onError: onError, onLog: onLog))
        let thread = Thread { [handle, loop] in
            Thread.current.name = "kafka.delivery"  // the kernel's name too (15 bytes at most)
            while loop.running.load(ordering: .acquiring) {
                handle.withPointer { _ = rd_kafka_poll($0, 100) }
            }
            loop.done.store(true, ordering: .releasing)
        }
        thread.name = "streamscore.kafka.delivery"
        thread.start()
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
            let error = produce(record, token: token)
            guard let error else { return }
            guard error.code == KafkaError.queueFull, loop.running.load(ordering: .relaxed) else { throw error }
            queueFullWaits.add(1, ordering: .relaxed)
            usleep(1000)
        }
    }

    private func produce(_ record: OutgoingRecord, token: UInt64) -> KafkaError? {
        // Headers go in as one application-owned list (VTYPE_HEADERS), not one VTYPE_HEADER
        // per header: with the latter, librdkafka 2.0.2 frees the headers twice when the
        // partitioner refuses a record (unknown or unauthorized topic) and crashes
        // (librdkafka issue #4627). With a list, a failed call leaves it to us to free.
        let headers = record.headers.isEmpty ? nil : RDKafkaHeaders(record.headers)
        let rkt = topic(record.topic)
        let error: KafkaError? = record.topic.withCString { topic in
            record.value.withUnsafeBytes { value in
                (record.key ?? []).withUnsafeBytes { key in
                    // At most 8 arguments, on the stack (no allocation per record).
                    withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 8) { vus in
                        var count = 0
                        func add(_ type: rd_kafka_vtype_t, _ set: (inout rd_kafka_vu_t) -> Void) {
                            var v = rd_kafka_vu_t()
                            v.vtype = type
                            set(&v)
                            vus[count] = v
                            count += 1
                        }
                        if let rkt {
                            add(RD_KAFKA_VTYPE_RKT) { $0.u.rkt = rkt.pointer }
                        } else {
                            add(RD_KAFKA_VTYPE_TOPIC) { $0.u.cstr = topic }
                        }
                        if let partition = record.partition { add(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = partition } }
                        add(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
                        if !record.isTombstone {
                            add(RD_KAFKA_VTYPE_VALUE) {
                                $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                                $0.u.mem.size = value.count
                            }
                        }
                        if record.key != nil {
                            add(RD_KAFKA_VTYPE_KEY) {
                                $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                                $0.u.mem.size = key.count
                            }
                        }
                        if let timestamp = record.timestamp { add(RD_KAFKA_VTYPE_TIMESTAMP) { $0.u.i64 = timestamp } }
                        add(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = UnsafeMutableRawPointer(bitPattern: UInt(token)) }
                        if let headers { add(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = headers.pointer } }
                        return handle.withPointer { rk -> KafkaError? in
                            guard let error = rd_kafka_produceva(rk, vus.baseAddress, count) else { return nil }
                            return KafkaError(consuming: error)
                        }
                    }
                }
            }
        }
        if error == nil { headers?.handOver() }
        return withExtendedLifetime(rkt) { error }
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
            counts[topic] = try RDKafkaMetadata.partitionCount(handle, topic: topic, timeoutMs: timeout.milliseconds)
        }
        return counts
    }

    /// Waits until every queued record has a delivery report, or the timeout passes.
    ///
    /// - Returns: whether the queue emptied in time.
    public func flush(timeout: Duration) -> Bool {
        handle.withPointer { rd_kafka_flush($0, timeout.milliseconds) } == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// Stops the delivery thread (after a `flush`, so no report is left behind).
    public func close() {
        loop.stop()
    }

    deinit {
        loop.stop()
    }
}

/// Start/stop flags shared between a producer and its delivery thread.
private final class DeliveryLoopState: Sendable {
    let running = Atomic<Bool>(true)
    let done = Atomic<Bool>(false)

    /// Asks the thread to stop and waits until it has (at most one `rd_kafka_poll` timeout).
    func stop() {
        running.store(false, ordering: .releasing)
        while !done.load(ordering: .acquiring) { usleep(1000) }
    }
}
