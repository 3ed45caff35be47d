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

    /// Fills `buffer` with up to its capacity of messages; the caller destroys each one.
    func consumeBatch(
        timeoutMs: Int32, into buffer: UnsafeMutableBufferPointer<UnsafeMutablePointer<rd_kafka_message_t>?>
    ) -> Int {
        max(0, rd_kafka_consume_batch_queue(pointer, timeoutMs, buffer.baseAddress, buffer.count))
    }

    deinit {
        rd_kafka_queue_destroy(pointer)
    }
}
