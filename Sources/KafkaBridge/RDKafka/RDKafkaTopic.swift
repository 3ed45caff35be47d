internal import Crdkafka

/// Owns one `rd_kafka_topic_t`: a producer's handle on a topic, so a record names its
/// topic by pointer (`RD_KAFKA_VTYPE_RKT`) instead of by name, which librdkafka would look
/// up, under the client's write lock, for every record.
///
/// `@unchecked Sendable` invariant: the pointer is set in `init` and destroyed only in
/// `deinit`; librdkafka's topic handles are thread-safe. The topic keeps its client alive,
/// so it is always destroyed first.
final class RDKafkaTopic: @unchecked Sendable {
    let pointer: OpaquePointer
    private let handle: RDKafkaHandle

    /// nil when librdkafka refuses the name (it reports why through the error callback).
    init?(handle: RDKafkaHandle, name: String) {
        guard let p = handle.withPointer({ rd_kafka_topic_new($0, name, nil) }) else { return nil }
        pointer = p
        self.handle = handle
    }

    deinit { rd_kafka_topic_destroy(pointer) }
}
