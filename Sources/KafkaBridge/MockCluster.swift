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
        brokerIDs = Array(1...Int32(brokers))
    }

    /// The brokers' ids (1…N).
    public let brokerIDs: [Int32]

    /// Delays every response of a broker by `milliseconds` (0: none).
    public func setRoundTrip(broker: Int32, milliseconds: Int32) {
        owner.setRoundTrip(broker: broker, milliseconds: milliseconds)
    }

    /// Takes a broker down (its connections are closed, new ones refused; leadership does
    /// not move) or brings it back up.
    public func setBroker(_ broker: Int32, up: Bool) {
        owner.setBroker(broker, up: up)
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
