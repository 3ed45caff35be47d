internal import Crdkafka

/// Owns an `rd_kafka_headers_t` built from Swift headers until a successful produce hands
/// it to librdkafka (`handOver`); otherwise `deinit` destroys it.
///
/// Not thread-safe; lives for one `produce` call on the calling thread.
final class RDKafkaHeaders {
    let pointer: OpaquePointer
    private var owned = true

    init(_ headers: [KafkaHeader]) {
        pointer = rd_kafka_headers_new(headers.count)
        for header in headers {
            header.value.withUnsafeBytes { value in
                // Copies name and value; the only failure is a read-only list, which a
                // list we just created is not.
                _ = rd_kafka_header_add(pointer, header.name, -1, value.baseAddress, value.count)
            }
        }
    }

    /// librdkafka accepted the record and now owns the list.
    func handOver() {
        owned = false
    }

    deinit {
        if owned { rd_kafka_headers_destroy(pointer) }
    }
}
