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

    /// Fills `buffer` with up to its capacity of messages, waiting at most `timeoutMs` for
    /// the *first* one; the caller destroys each message.
    ///
    /// `rd_kafka_consume_batch_queue` waits until the batch is full or the timeout passes,
    /// which would add the whole timeout to every record's latency on a quiet topic. So:
    /// take what is ready, else wait for one message, then take what is ready after it.
    func consumeBatch(
        timeoutMs: Int32, into buffer: UnsafeMutableBufferPointer<UnsafeMutablePointer<rd_kafka_message_t>?>
    ) -> Int {
        let ready = max(0, rd_kafka_consume_batch_queue(pointer, 0, buffer.baseAddress, buffer.count))
        if ready > 0 || timeoutMs == 0 { return ready }
        guard let first = rd_kafka_consume_queue(pointer, timeoutMs) else { return 0 }
        buffer[0] = first
        guard buffer.count > 1 else { return 1 }
        let more = rd_kafka_consume_batch_queue(pointer, 0, buffer.baseAddress! + 1, buffer.count - 1)
        return 1 + max(0, more)
    }

    deinit {
        rd_kafka_queue_destroy(pointer)
    }
}
