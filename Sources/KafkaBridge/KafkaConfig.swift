/// librdkafka properties for one client, validated by librdkafka itself.
///
/// Values are librdkafka's strings (`"bootstrap.servers"`, `"enable.idempotence"`, …); see
/// librdkafka's CONFIGURATION.md. Nothing is checked here: `validate()` (and every client
/// initialiser) hands each property to `rd_kafka_conf_set` and reports its `errstr`.
public struct KafkaConfig: Sendable {
    public var properties: [String: String]

    public init(_ properties: [String: String] = [:]) {
        self.properties = properties
    }

    public subscript(key: String) -> String? {
        get { properties[key] }
        set { properties[key] = newValue }
    }

    /// Returns a copy with `other`'s properties laid over these.
    public func merging(_ other: [String: String]) -> KafkaConfig {
        KafkaConfig(properties.merging(other) { _, new in new })
    }

    /// Checks every property with librdkafka.
    ///
    /// - Throws: `KafkaError` with `property` set to the first rejected key (in key order)
    ///   and librdkafka's own message.
    public func validate() throws(KafkaError) {
        _ = try RDKafkaConfig(self)
    }

    /// What librdkafka makes of a property with these settings: the value set, or its
    /// default (`message.max.bytes` → "1000000"). nil for an unknown property or an
    /// invalid configuration.
    public func effectiveValue(_ property: String) -> String? {
        (try? RDKafkaConfig(self))?.get(property)
    }
}
