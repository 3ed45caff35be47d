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

    /// Fills `buffer` with up to its capacity of messages, waiting at most `timeoutMs` for
    /// the *first* one; the caller destroys each message.
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
    func consumeBatch(
        timeoutMs: Int32, into buffer: UnsafeMutableBufferPointer<UnsafeMutablePointer<rd_kafka_message_t>?>
    ) -> Int {
        var count = 0
        var wait = timeoutMs
        while count < buffer.count, let message = rd_kafka_consume_queue(pointer, wait) {
            buffer[count] = message
            count += 1
            wait = 0
        }
        return count
    }

    deinit {
        rd_kafka_queue_destroy(pointer)
    }
}
