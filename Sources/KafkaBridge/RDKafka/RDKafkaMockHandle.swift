internal import Crdkafka

/// Owns an `rd_kafka_mock_cluster_t` and the client handle that hosts it.
///
/// `@unchecked Sendable` invariant: both pointers are set in `init` and destroyed in
/// `deinit` (cluster first); the mock cluster API is thread-safe (it posts ops to the
/// cluster's own thread).
final class RDKafkaMockHandle: @unchecked Sendable {
    private let client: RDKafkaHandle
    private let cluster: OpaquePointer
    let bootstrapServers: String

    init(brokers: Int) throws(KafkaError) {
        client = try RDKafkaHandle(
            kind: .producer, config: KafkaConfig(["log_level": "3"]),
            callbacks: RDKafkaCallbacks(onError: { _ in }, onLog: { _ in }))
        guard let cluster = client.withPointer({ rd_kafka_mock_cluster_new($0, Int32(brokers)) }) else {
            throw KafkaError(code: -1, message: "rd_kafka_mock_cluster_new failed")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    func createTopic(_ name: String, partitions: Int, replicationFactor: Int) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "create topic \(name)") }
    }

    func pushRequestErrors(apiKey: Int16, codes: [Int32]) {
        let errors = codes.map { rd_kafka_resp_err_t(rawValue: $0) }
        errors.withUnsafeBufferPointer {
            rd_kafka_mock_push_request_errors_array(cluster, apiKey, $0.count, $0.baseAddress)
        }
    }

    func setRoundTrip(broker: Int32, milliseconds: Int32) {
        _ = rd_kafka_mock_broker_set_rtt(cluster, broker, milliseconds)
    }

    func setBroker(_ broker: Int32, up: Bool) {
        _ = up ? rd_kafka_mock_broker_set_up(cluster, broker) : rd_kafka_mock_broker_set_down(cluster, broker)
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
    }
}
