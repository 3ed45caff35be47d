internal import Crdkafka

/// Reads cluster metadata.
enum RDKafkaMetadata {
    static func partitionCount(_ handle: RDKafkaHandle, topic: String, timeoutMs: Int32) throws(KafkaError) -> Int {
        let result: Result<Int, KafkaError> = handle.withPointer { rk in
            guard let rkt = rd_kafka_topic_new(rk, topic, nil) else {
                return .failure(KafkaError(code: -1, message: "cannot create topic handle for \(topic)"))
            }
            defer { rd_kafka_topic_destroy(rkt) }
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(rk, 0, rkt, &metadata, timeoutMs)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
                return .failure(KafkaError(err, context: "metadata \(topic)"))
            }
            defer { rd_kafka_metadata_destroy(metadata) }
            guard metadata.pointee.topic_cnt > 0 else { return .success(0) }
            let t = metadata.pointee.topics[0]
            if t.err != RD_KAFKA_RESP_ERR_NO_ERROR { return .failure(KafkaError(t.err, context: "metadata \(topic)")) }
            return .success(Int(t.partition_cnt))
        }
        return try result.get()
    }
}
