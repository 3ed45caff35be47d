import KafkaBridge

/// A local Kafka cluster for development, demos and tests: librdkafka's mock cluster,
/// speaking the real protocol on loopback. Lives as long as this object.
public final class DevelopmentBroker: Sendable {
    let cluster: MockCluster

    /// Starts the cluster and creates `topics`, each with `partitions` partitions.
    public init(brokers: Int = 1, topics: [String], partitions: Int) throws(PipelineError) {
        do {
            cluster = try MockCluster(brokers: brokers)
            for topic in topics { try cluster.createTopic(topic, partitions: partitions) }
        } catch {
            throw .kafka(error)
        }
    }

    /// Comma-separated `host:port` bootstrap servers.
    public var bootstrapServers: String { cluster.bootstrapServers }

    /// Creates another topic.
    public func createTopic(_ name: String, partitions: Int) throws(PipelineError) {
        do { try cluster.createTopic(name, partitions: partitions) } catch { throw .kafka(error) }
    }
}
