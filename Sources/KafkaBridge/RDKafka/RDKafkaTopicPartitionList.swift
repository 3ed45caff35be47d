internal import Crdkafka

/// Owns an `rd_kafka_topic_partition_list_t` built from Swift values.
final class RDKafkaTopicPartitionList {
    let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    /// A list of partitions, each with an offset (use `RDKafkaTopicPartitionList.invalidOffset`
    /// when the offset does not matter).
    init(_ entries: [(TopicPartition, Int64)]) {
        pointer = rd_kafka_topic_partition_list_new(Int32(max(entries.count, 1)))
        for (tp, offset) in entries {
            let element = rd_kafka_topic_partition_list_add(pointer, tp.topic, tp.partition)
            element?.pointee.offset = offset
        }
    }

    convenience init(_ partitions: [TopicPartition]) {
        self.init(partitions.map { ($0, RDKafkaTopicPartitionList.invalidOffset) })
    }

    static let invalidOffset = Int64(RD_KAFKA_OFFSET_INVALID)

    /// The entries as Swift values, with their offsets and per-entry error codes.
    var entries: [(TopicPartition, Int64)] { Self.read(pointer) }

    /// The first per-entry error, if any.
    var firstError: KafkaError? {
        for i in 0..<Int(pointer.pointee.cnt) {
            let element = pointer.pointee.elems[i]
            if element.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                return KafkaError(element.err, context: "\(String(cString: element.topic))[\(element.partition)]")
            }
        }
        return nil
    }

    /// The partitions currently assigned to a consumer (empty if librdkafka cannot say).
    static func assignment(of handle: RDKafkaHandle) -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let err = handle.withPointer { rd_kafka_assignment($0, &list) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return read(list).map(\.0)
    }

    /// Copies a list owned by librdkafka into Swift values.
    static func read(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> [(TopicPartition, Int64)] {
        guard let list else { return [] }
        return (0..<Int(list.pointee.cnt)).map { i in
            let element = list.pointee.elems[i]
            return (TopicPartition(String(cString: element.topic), element.partition), element.offset)
        }
    }

    /// Per partition, the earliest offset whose record timestamp is at or after the given
    /// time (ms since the epoch); nil where no record is that late
    /// (`rd_kafka_offsets_for_times`).
    static func offsets(
        forTimes times: [TopicPartition: Int64], of handle: RDKafkaHandle, timeoutMs: Int32
    ) throws(KafkaError) -> [TopicPartition: Int64?] {
        let list = RDKafkaTopicPartitionList(times.map { ($0.key, $0.value) })
        let err = handle.withPointer { rd_kafka_offsets_for_times($0, list.pointer, timeoutMs) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "offsets for times") }
        if let error = list.firstError { throw error }
        var result: [TopicPartition: Int64?] = [:]
        for (tp, offset) in list.entries { result[tp] = offset >= 0 ? offset : nil }
        return result
    }

    deinit {
        rd_kafka_topic_partition_list_destroy(pointer)
    }
}
