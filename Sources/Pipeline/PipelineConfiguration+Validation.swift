import KafkaBridge

extension PipelineConfiguration {
    /// A problem with a configured librdkafka property, naming it as the config file does
    /// (`kafka.consumer.fetch.wait.max.ms`).
    public struct PropertyError: Error, CustomStringConvertible, Sendable {
        public let key: String
        public let reason: String
        public var description: String { "\(key): \(reason)" }
    }

    /// Checks the raw librdkafka properties with librdkafka itself (no connection is made),
    /// and refuses user values for the properties the delivery guarantee depends on.
    ///
    /// - Throws: `PropertyError` with librdkafka's own `errstr`.
    public func validateKafkaProperties() throws(PropertyError) {
        let managedConsumer = Self.managedConsumerProperties(commitInterval)
        for key in consumerProperties.keys.sorted() where managedConsumer[key] != nil || key == "group.id" || key == "bootstrap.servers" {
            throw PropertyError(key: "kafka.consumer.\(key)", reason: "set by StreamScore (at-least-once delivery depends on it); use the kafka.*/commit.* keys instead")
        }
        for key in producerProperties.keys.sorted() where Self.managedProducerProperties[key] != nil || key == "bootstrap.servers" {
            throw PropertyError(key: "kafka.producer.\(key)", reason: "set by StreamScore (idempotent, fully acknowledged delivery depends on it)")
        }
        do {
            try KafkaConfig(consumerConfig).validate()
        } catch {
            throw PropertyError(key: "kafka.consumer.\(error.property ?? "?")", reason: error.message)
        }
        do {
            try KafkaConfig(producerConfig).validate()
        } catch {
            throw PropertyError(key: "kafka.producer.\(error.property ?? "?")", reason: error.message)
        }
    }
}
