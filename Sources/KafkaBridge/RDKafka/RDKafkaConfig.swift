internal import Crdkafka

/// Owns an `rd_kafka_conf_t` until `rd_kafka_new` takes it.
///
/// Not thread-safe; lives only while a client is being created.
final class RDKafkaConfig {
    private(set) var pointer: OpaquePointer?

    /// Builds a configuration, setting each property in key order.
    ///
    /// - Throws: `KafkaError` naming the property and quoting librdkafka's `errstr`.
    init(_ config: KafkaConfig) throws(KafkaError) {
        pointer = rd_kafka_conf_new()
        for key in config.properties.keys.sorted() {
            try set(key, config.properties[key]!)
        }
    }

    /// Sets one property.
    func set(_ key: String, _ value: String) throws(KafkaError) {
        var errstr = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(pointer, key, value, &errstr, errstr.count)
        guard result == RD_KAFKA_CONF_OK else {
            throw KafkaError(
                code: 0,
                message: String(cString: errstr.withUnsafeBufferPointer { $0.baseAddress! }),
                property: key
            )
        }
    }

    /// A property's value as librdkafka holds it (its default when none was set), or nil
    /// for an unknown property.
    func get(_ key: String) -> String? {
        var size = 0
        guard rd_kafka_conf_get(pointer, key, nil, &size) == RD_KAFKA_CONF_OK, size > 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: size)
        guard rd_kafka_conf_get(pointer, key, &buffer, &size) == RD_KAFKA_CONF_OK else { return nil }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Hands the configuration over; after this call `deinit` destroys nothing.
    func release() -> OpaquePointer? {
        defer { pointer = nil }
        return pointer
    }

    deinit {
        if let pointer { rd_kafka_conf_destroy(pointer) }
    }
}
