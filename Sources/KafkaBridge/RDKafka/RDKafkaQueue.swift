internal import Crdkafka

/// Owns an `rd_kafka_queue_t` (the consumer queue of a handle).
///
/// `@unchecked Sendable` invariant: the queue pointer is set in `init` and destroyed in
/// `deinit`; librdkafka queues are thread-safe, and the consumer documents that one thread
/// consumes at a time.
final class RDKafkaQueue: @unchecked Sendable {
    private let pointer: OpaquePointer
    private let owner: RDKafkaHandle

    init(consumerOf handle: RDKafkaHandle) {
        owner = handle
        pointer = handle.withPointer { rd_kafka_queue_get_consumer($0)! }
    }

    /// A new queue of the handle's, for replies (a commit's result, a close's events).
    init(newOn handle: RDKafkaHandle) {
        owner = handle
        pointer = handle.withPointer { rd_kafka_queue_new($0)! }
    }

    func withPointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
        try body(pointer)
    }

    /// Up to `maxRecords` records, waiting at most `timeoutMs` for the *first* one; each
    /// message is copied out and destroyed before this returns. Per-partition errors go to
    /// `handle.reportError` (partition EOF is not one) and are skipped.
    ///
    /// One `rd_kafka_consume_queue` call per message, never `rd_kafka_consume_batch_queue`:
    /// in librdkafka 2.0.2 the batch call advances a partition's application offset for
    /// every message it takes, and then drops the ones a version barrier (pause, resume,
    /// seek, a rebalance served inside the call) makes outdated; a later resume starts from
    /// that advanced offset, and the dropped records are skipped for good (fixed in 2.1.0,
    /// librdkafka PR #4208). The single-message call prepares only the message it returns.
    /// It also returns as soon as one message is ready, where the batch call would wait for
    /// a full batch and add its timeout to every record's latency on a quiet topic.
    /// Cost: a queue lock per message instead of per batch (`BENCHMARKS.md`).
    func consumeRecords(maxRecords: Int, timeoutMs: Int32, handle: RDKafkaHandle) -> [KafkaRecord] {
        var records: [KafkaRecord] = []
        var topicCache: (OpaquePointer?, String) = (nil, "")
        var wait = timeoutMs
        while records.count < maxRecords, let message = rd_kafka_consume_queue(pointer, wait) {
            wait = 0
            defer { rd_kafka_message_destroy(message) }
            let m = message.pointee
            if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                if m.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    handle.reportError(KafkaError(m.err, context: RDKafkaMessage.errorText(message)))
                }
                continue
            }
            if records.isEmpty { records.reserveCapacity(maxRecords) }
            if topicCache.0 != m.rkt {
                topicCache = (m.rkt, m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "")
            }
            records.append(RDKafkaMessage.copy(message, topic: topicCache.1))
        }
        return records
    }

    deinit {
        rd_kafka_queue_destroy(pointer)
    }
}
