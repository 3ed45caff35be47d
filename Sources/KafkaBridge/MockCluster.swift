internal import Crdkafka

/// librdkafka's in-process mock Kafka cluster: real protocol on loopback listeners that any
/// Kafka client can use as bootstrap servers.
///
/// Limits (librdkafka 2.0.2): no offsets-by-timestamp lookups, bounded log size per
/// partition, transactions not enforced. The cluster lives as long as this object.
public final class MockCluster: Sendable {
    private let owner: RDKafkaMockHandle

    /// Starts a cluster of `brokers` brokers.
    /// - Throws: `KafkaError` when librdkafka cannot create it.
    public init(brokers: Int = 1) throws(KafkaError) {
        owner = try RDKafkaMockHandle(brokers: brokers)
    }

    /// Comma-separated `host:port` listeners.
    public var bootstrapServers: String { owner.bootstrapServers }

    /// Makes the next `count` requests of a Kafka API (0 = Produce, 1 = Fetch, 8 =
    /// OffsetCommit, …) fail with broker error `code` (a Kafka protocol error code).
    public func failNextRequests(apiKey: Int16, count: Int, code: Int32) {
        owner.pushRequestErrors(apiKey: apiKey, codes: Array(repeating: code, count: count))
    }

    /// Creates a topic with `partitions` partitions.
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        try owner.createTopic(name, partitions: partitions, replicationFactor: replicationFactor)
    }
}
