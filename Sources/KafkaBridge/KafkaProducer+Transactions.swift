internal import Crdkafka

/// The transactional producer API (`transactional.id` set), for exactly-once delivery:
/// outputs and the consumer's offsets commit together, or not at all.
///
/// Each call blocks up to its timeout and throws a `KafkaError` that says what to do next,
/// as librdkafka classifies it: `isRetriable` (call the same function again),
/// `requiresAbort` (abort the transaction, rewind the input, go on) or `isFatal` (the
/// producer is unusable: fenced by a newer instance with the same `transactional.id`, or
/// refused by the coordinator). Call them from one thread (the batcher's).
extension KafkaProducer {
    /// Registers the `transactional.id` with its coordinator (aborting whatever a previous
    /// instance with the same id left open, and fencing that instance off). Once, first.
    public func initTransactions(timeout: Duration) throws(KafkaError) {
        try check(handle.withPointer { rd_kafka_init_transactions($0, timeout.timeoutMilliseconds) })
    }

    public func beginTransaction() throws(KafkaError) {
        try check(handle.withPointer { rd_kafka_begin_transaction($0) })
    }

    /// Adds the consumer's offsets (the next offset to read per partition) to the open
    /// transaction, fenced by the consumer group's generation (KIP-447).
    public func sendOffsetsToTransaction(
        _ offsets: [TopicPartition: Int64], group: ConsumerGroupMetadata, timeout: Duration
    ) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = RDKafkaTopicPartitionList(offsets.map { ($0.key, $0.value) })
        try check(handle.withPointer { rk in
            rd_kafka_send_offsets_to_transaction(rk, list.pointer, group.pointer, timeout.timeoutMilliseconds)
        })
    }

    /// Flushes the transaction's records and commits it.
    public func commitTransaction(timeout: Duration) throws(KafkaError) {
        try check(handle.withPointer { rd_kafka_commit_transaction($0, timeout.timeoutMilliseconds) })
    }

    /// Aborts the open transaction: queued records are purged (their delivery reports say
    /// `_PURGE_QUEUE`/`_PURGE_INFLIGHT`), and read_committed readers never see any of it.
    public func abortTransaction(timeout: Duration) throws(KafkaError) {
        try check(handle.withPointer { rd_kafka_abort_transaction($0, timeout.timeoutMilliseconds) })
    }

    private func check(_ error: OpaquePointer?) throws(KafkaError) {
        if let error { throw KafkaError(consuming: error) }
    }
}

/// A consumer's group identity at one moment (group, generation, member), which a
/// transaction's offsets carry so that the broker refuses them from a member that is no
/// longer current (`rd_kafka_consumer_group_metadata`).
public final class ConsumerGroupMetadata: Sendable {
    /// Set in `init`, never written again, destroyed in `deinit`; librdkafka only reads it.
    nonisolated(unsafe) let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        rd_kafka_consumer_group_metadata_destroy(pointer)
    }
}

extension KafkaConsumer {
    /// The group metadata as of now, for `KafkaProducer.sendOffsetsToTransaction`.
    public func groupMetadata() -> ConsumerGroupMetadata? {
        handle.withPointer { rd_kafka_consumer_group_metadata($0) }.map(ConsumerGroupMetadata.init)
    }

    /// Moves assigned partitions' positions (the next record fetched per partition) and
    /// discards what was prefetched for them.
    /// - Throws: `KafkaError` when the seek failed or did not finish within `timeout`.
    public func seek(_ offsets: [TopicPartition: Int64], timeout: Duration) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = RDKafkaTopicPartitionList(offsets.map { ($0.key, $0.value) })
        if let error = handle.withPointer({ rd_kafka_seek_partitions($0, list.pointer, timeout.timeoutMilliseconds) }) {
            throw KafkaError(consuming: error)
        }
        if let error = list.firstError { throw error }
    }
}
