import KafkaBridge

/// Why the pipeline could not start or had to stop.
public enum PipelineError: Error, CustomStringConvertible, Sendable {
    /// The model and the configured features disagree (checked before anything connects).
    case modelMismatch(String)
    /// The feature spec does not compile (the key and the reason).
    case invalidFeatures(String)
    /// A Kafka client could not be created or failed fatally.
    case kafka(KafkaError)
    /// The cluster did not answer at start-up, or lacks the output topics.
    case unreachable(bootstrap: String, topics: [String], KafkaError)
    /// The broker refused an output or dead letter after librdkafka's own retries. The
    /// record's input offset was not committed: a restart scores it again.
    case deliveryFailed(topic: String, KafkaError)
    /// The broker delivered an offset that an output token cannot carry (negative, or
    /// 2^44 and above); nothing of it was sent.
    case unsupportedOffset(TopicPartition, Int64)
    /// A transactional call failed in a way the producer cannot go on from (exactly-once):
    /// fenced by a newer instance with the same transactional id, refused by the
    /// coordinator, or an error librdkafka does not classify. Nothing more was committed.
    case transactionFailed(call: String, transactionalID: String, KafkaError)
    /// A graceful stop did not finish within `shutdown.timeout`; uncommitted records will
    /// be replayed by the next run.
    case shutdownTimedOut(stage: String)

    public var description: String {
        switch self {
        case .modelMismatch(let why): "model does not match the feature spec: \(why)"
        case .invalidFeatures(let why): "invalid feature spec: \(why)"
        case .kafka(let error): "kafka: \(error)"
        case .unreachable(let bootstrap, let topics, let error) where error.name == "UNKNOWN_TOPIC_OR_PART" || error.name == "_UNKNOWN_TOPIC":
            "the Kafka cluster at \(bootstrap) has no topic among \(topics.joined(separator: ", ")) (\(error)): create the output and dead-letter topics, or check topics.output and topics.dead_letter"
        case .unreachable(let bootstrap, _, let error):
            "cannot reach the Kafka cluster at \(bootstrap) within 10 s (\(error)): check kafka.bootstrap_servers (or --bootstrap), that the brokers are up and reachable from here, and the security settings under kafka.producer"
        case .deliveryFailed(let topic, let error): "delivery to \(topic) failed: \(error)"
        case .unsupportedOffset(let tp, let offset): "\(tp) delivered offset \(offset), outside the range 0..<2^44 that output tokens carry"
        case .transactionFailed(let call, let id, let error) where error.isFenced:
            "fenced: another worker started with transactional id '\(id)' (the same delivery.transactional_id, or the same --instance in the same group) and took over; this one stops and commits nothing more (\(call): \(error))"
        case .transactionFailed(let call, let id, let error):
            "transaction \(call) failed for transactional id '\(id)' and the producer cannot go on: \(error); nothing more was committed, a restart resumes from the last committed transaction"
        case .shutdownTimedOut(let stage): "graceful shutdown timed out while \(stage)"
        }
    }
}
