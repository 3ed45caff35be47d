internal import Crdkafka

/// The few admin requests StreamScore's tools need, on a client of their own.
public final class KafkaAdmin: Sendable {
    private let handle: RDKafkaHandle

    /// - Throws: `KafkaError` naming a rejected property.
    public init(config: KafkaConfig) throws(KafkaError) {
        handle = try RDKafkaHandle(kind: .producer, config: config, callbacks: RDKafkaCallbacks(onError: { _ in }, onLog: { _ in }))
    }

    /// Creates a topic (`rd_kafka_CreateTopics`); one that exists already is not an error.
    /// - Throws: `KafkaError` when the cluster refuses it or does not answer in `timeout`.
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1, timeout: Duration) throws(KafkaError) {
        var errstr = [CChar](repeating: 0, count: 512)
        guard let topic = rd_kafka_NewTopic_new(name, Int32(partitions), Int32(replicationFactor), &errstr, errstr.count) else {
            throw KafkaError(code: 0, message: String(cString: errstr.withUnsafeBufferPointer { $0.baseAddress! }))
        }
        defer { rd_kafka_NewTopic_destroy(topic) }
        let replies = RDKafkaQueue(newOn: handle)
        var topics: [OpaquePointer?] = [topic]
        handle.withPointer { rk in replies.withPointer { rd_kafka_CreateTopics(rk, &topics, 1, nil, $0) } }
        guard let event = replies.withPointer({ rd_kafka_queue_poll($0, timeout.timeoutMilliseconds) }) else {
            throw KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, context: "create topic \(name)")
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "create topic \(name)") }
        guard let result = rd_kafka_event_CreateTopics_result(event) else { return }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count), count > 0, let first = results[0] else { return }
        let code = rd_kafka_topic_result_error(first)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
            throw KafkaError(code, context: "create topic \(name)")
        }
    }
}
