internal import Crdkafka
import Foundation

/// A librdkafka consumer: group subscription or manual assignment, batched polling,
/// pause/resume, explicit offset storing and commits.
///
/// Thread safety: `poll` must be called from one thread at a time (the pipeline's poll
/// thread); rebalance events are delivered inside `poll`, on that thread. Everything else
/// may be called from any thread.
public final class KafkaConsumer: Sendable {
    let handle: RDKafkaHandle
    private let queue: RDKafkaQueue

    /// Creates the consumer.
    ///
    /// - Parameters:
    ///   - config: librdkafka properties; `group.id` is required by librdkafka.
    ///   - onRebalance: called inside `poll` on every assignment change; the bridge applies
    ///     the change (incremental for `cooperative-sticky`) around the call.
    ///   - onStatistics: librdkafka's statistics JSON (`KafkaStatistics.parse`), inside
    ///     `poll`, every `statistics.interval.ms` (0, librdkafka's default: never).
    /// - Throws: `KafkaError` naming a rejected property.
    public init(
        config: KafkaConfig,
        onRebalance: (@Sendable (RebalanceEvent) -> Void)? = nil,
        onError: @escaping @Sendable (KafkaError) -> Void = { _ in },
        onLog: @escaping @Sendable (KafkaLogEntry) -> Void = { _ in },
        onStatistics: (@Sendable (String) -> Void)? = nil
    ) throws(KafkaError) {
        handle = try RDKafkaHandle(
            kind: .consumer, config: config,
            callbacks: RDKafkaCallbacks(onRebalance: onRebalance, onError: onError, onLog: onLog, onStatistics: onStatistics))
        handle.withPointer { _ = rd_kafka_poll_set_consumer($0) }
        queue = RDKafkaQueue(consumerOf: handle)
    }

    /// Joins the group and subscribes to `topics`.
    public func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = RDKafkaTopicPartitionList(topics.map { TopicPartition($0, Int32(RD_KAFKA_PARTITION_UA)) })
        let err = handle.withPointer { rd_kafka_subscribe($0, list.pointer) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "subscribe") }
    }

    /// Assigns partitions directly (no group membership), each starting at the given
    /// offset (`KafkaConsumer.beginning`, `.end`, or an absolute offset).
    public func assign(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        let list = RDKafkaTopicPartitionList(offsets.map { ($0.key, $0.value) })
        let err = handle.withPointer { rd_kafka_assign($0, list.pointer) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "assign") }
    }

    public static let beginning = Int64(RD_KAFKA_OFFSET_BEGINNING)
    public static let end = Int64(RD_KAFKA_OFFSET_END)

    /// Returns up to `maxRecords` records, waiting at most `timeout` for the first.
    ///
    /// Serves rebalance callbacks. Per-partition consumer errors (e.g. a topic that does not
    /// exist yet) go to `onError` and are skipped.
    public func poll(maxRecords: Int, timeout: Duration) -> [KafkaRecord] {
        precondition(maxRecords > 0, "poll needs room for at least one record")
        return queue.consumeRecords(maxRecords: maxRecords, timeoutMs: timeout.timeoutMilliseconds, handle: handle)
    }

    /// The partitions currently assigned.
    public func assignment() -> [TopicPartition] {
        RDKafkaTopicPartitionList.assignment(of: handle)
    }

    /// Stops fetching the partitions; records already fetched for them are discarded and
    /// fetched again from the last consumed position on `resume`.
    public func pause(_ partitions: [TopicPartition]) {
        guard !partitions.isEmpty else { return }
        let list = RDKafkaTopicPartitionList(partitions)
        _ = handle.withPointer { rd_kafka_pause_partitions($0, list.pointer) }
    }

    /// Starts fetching paused partitions again.
    public func resume(_ partitions: [TopicPartition]) {
        guard !partitions.isEmpty else { return }
        let list = RDKafkaTopicPartitionList(partitions)
        _ = handle.withPointer { rd_kafka_resume_partitions($0, list.pointer) }
    }

    /// The next offset the consumer will hand over per partition (last returned + 1), or
    /// nil where it has returned nothing yet (`rd_kafka_position`, local, no request).
    public func positions(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let list = RDKafkaTopicPartitionList(partitions)
        _ = handle.withPointer { rd_kafka_position($0, list.pointer) }
        var result: [TopicPartition: Int64] = [:]
        for (tp, offset) in list.entries where offset >= 0 { result[tp] = offset }
        return result
    }

    /// Stores offsets (the next offset to read, i.e. last completed + 1) for the next commit.
    ///
    /// Offsets of partitions no longer assigned are refused by librdkafka and ignored here.
    public func store(_ offsets: [TopicPartition: Int64]) {
        guard !offsets.isEmpty else { return }
        let list = RDKafkaTopicPartitionList(offsets.map { ($0.key, $0.value) })
        _ = handle.withPointer { rd_kafka_offsets_store($0, list.pointer) }
    }

    /// Commits the stored offsets, waiting at most `timeout` for the coordinator's answer.
    ///
    /// "Nothing to commit" is not an error. A commit that is not answered in time (no
    /// coordinator: every broker down) throws `_TIMED_OUT`; the stored offsets stay stored
    /// and librdkafka's auto-commit sends them later, if the consumer lives on.
    public func commit(timeout: Duration = .seconds(10)) throws(KafkaError) {
        let replies = RDKafkaQueue(newOn: handle)
        let err = handle.withPointer { rk in replies.withPointer { rd_kafka_commit_queue(rk, nil, $0, nil, nil) } }
        if err == RD_KAFKA_RESP_ERR__NO_OFFSET { return }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "commit") }
        guard let event = replies.withPointer({ rd_kafka_queue_poll($0, timeout.timeoutMilliseconds) }) else {
            throw KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, context: "commit: no answer within \(timeout)")
        }
        defer { rd_kafka_event_destroy(event) }
        let result = rd_kafka_event_error(event)
        if result != RD_KAFKA_RESP_ERR_NO_ERROR && result != RD_KAFKA_RESP_ERR__NO_OFFSET {
            throw KafkaError(result, context: "commit")
        }
    }

    /// The group's committed offsets for these partitions (-1001 where none is committed).
    public func committed(_ partitions: [TopicPartition], timeout: Duration) throws(KafkaError) -> [TopicPartition: Int64] {
        let list = RDKafkaTopicPartitionList(partitions)
        let err = handle.withPointer { rd_kafka_committed($0, list.pointer, timeout.timeoutMilliseconds) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "committed") }
        if let error = list.firstError { throw error }
        return Dictionary(list.entries, uniquingKeysWith: { a, _ in a })
    }

    /// Low and high watermark offsets of a partition, asked of the broker.
    public func watermarks(_ tp: TopicPartition, timeout: Duration) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = 0, high: Int64 = 0
        let err = handle.withPointer {
            rd_kafka_query_watermark_offsets($0, tp.topic, tp.partition, &low, &high, timeout.timeoutMilliseconds)
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "watermarks \(tp)") }
        return (low, high)
    }

    /// The number of partitions of a topic, from the cluster's metadata.
    public func partitionCount(_ topic: String, timeout: Duration) throws(KafkaError) -> Int {
        try RDKafkaMetadata.partitionCount(handle, topic: topic, timeoutMs: timeout.timeoutMilliseconds)
    }

    /// Per partition, the earliest offset whose record timestamp is at or after the given
    /// time (milliseconds since the epoch), or nil where no record is that late.
    /// - Throws: `KafkaError` when the cluster cannot answer (librdkafka's mock cluster
    ///   cannot look up offsets by time) or not within `timeout`.
    public func offsets(forTimes times: [TopicPartition: Int64], timeout: Duration) throws(KafkaError) -> [TopicPartition: Int64?] {
        try RDKafkaTopicPartitionList.offsets(forTimes: times, of: handle, timeoutMs: timeout.timeoutMilliseconds)
    }

    /// Leaves the group (revoking the assignment through the rebalance callback, which
    /// commits) and stops the consumer, waiting at most `timeout`. Call once, from the poll
    /// thread, after the last `poll`.
    ///
    /// - Returns: whether the close finished in time. When it did not (no coordinator to
    ///   leave the group through), the handle is abandoned rather than destroyed (see
    ///   `RDKafkaHandle.abandonOnDeinit`), and the group drops the member after its session
    ///   timeout.
    @discardableResult
    public func close(timeout: Duration = .seconds(30)) -> Bool {
        let replies = RDKafkaQueue(newOn: handle)
        let deadline = ContinuousClock.now + timeout
        let error = handle.withPointer { rk in replies.withPointer { rd_kafka_consumer_close_queue(rk, $0) } }
        if let error {
            rd_kafka_error_destroy(error)
            return true  // not in a group, or already closed
        }
        while handle.withPointer({ rd_kafka_consumer_closed($0) }) == 0 {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else {
                handle.abandonOnDeinit = true
                return false
            }
            // The close's revoke comes back as an event: hand it to the rebalance callback,
            // as `rd_kafka_consumer_close` does (`rd_kafka_queue_poll_callback` cannot be
            // used: it asserts on the events it does not serve).
            guard let event = replies.withPointer({ rd_kafka_queue_poll($0, min(left, .milliseconds(100)).timeoutMilliseconds) }) else { continue }
            if rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE {
                handle.withPointer { rk in
                    rdkafkaRebalanceCallback(rk, rd_kafka_event_error(event), rd_kafka_event_topic_partition_list(event), rd_kafka_opaque(rk))
                }
            }
            rd_kafka_event_destroy(event)
        }
        return true
    }
}
