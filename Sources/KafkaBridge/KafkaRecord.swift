/// A topic and partition: the unit of assignment, ordering and offset tracking.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }

    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }
}

/// One Kafka header: a name and raw bytes.
public struct KafkaHeader: Hashable, Sendable {
    public var name: String
    public var value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }

    public init(_ name: String, _ value: String) {
        self.init(name: name, value: Array(value.utf8))
    }

    /// The header's size in a record: name, value and their two length varints.
    public var wireSize: Int { name.utf8.count + value.count + 20 }

    /// The value as UTF-8 text (lossy for invalid bytes).
    public var text: String { String(decoding: value, as: UTF8.self) }
}

/// A record read from Kafka. Its bytes are copied out of librdkafka's buffers, so it
/// lives independently of the consumer.
public struct KafkaRecord: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// Record timestamp in milliseconds since the epoch (-1 when the broker has none).
    public var timestamp: Int64
    public var key: [UInt8]?
    /// The value's bytes; empty for a tombstone too (`isTombstone` tells them apart).
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    /// The record has a null value (a tombstone), not an empty one.
    public var isTombstone: Bool

    public init(
        topic: String, partition: Int32, offset: Int64, timestamp: Int64,
        key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = [], isTombstone: Bool = false
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
        self.isTombstone = isTombstone
    }

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }

    /// The first header with this name, if any.
    public func header(_ name: String) -> KafkaHeader? {
        headers.first { $0.name == name }
    }
}

/// A record to produce. `partition` nil lets the configured partitioner choose from the key.
public struct OutgoingRecord: Sendable {
    public var topic: String
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    /// Milliseconds since the epoch; nil lets librdkafka stamp the creation time.
    public var timestamp: Int64?
    /// Send a null value (a tombstone) instead of `value`.
    public var isTombstone: Bool

    public init(
        topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8],
        headers: [KafkaHeader] = [], timestamp: Int64? = nil, isTombstone: Bool = false
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
        self.isTombstone = isTombstone
    }

    /// The most bytes librdkafka counts for this record against `message.max.bytes`: a
    /// v2 record's largest framing (36 bytes), the key, the value, and each header's name,
    /// value and two length varints (librdkafka's `rd_kafka_msg_max_wire_size`).
    public var wireSize: Int {
        36 + (key?.count ?? 0) + (isTombstone ? 0 : value.count) + headers.reduce(0) { $0 + $1.wireSize }
    }
}

/// The outcome of one produced record, reported by the delivery thread.
public struct DeliveryReport: Sendable {
    /// The token passed to `KafkaProducer.send`, unchanged.
    public var token: UInt64
    public var topic: String
    public var partition: Int32
    /// Offset in the output partition, or -1 when delivery failed.
    public var offset: Int64
    /// nil when the broker acknowledged the record.
    public var error: KafkaError?
}
