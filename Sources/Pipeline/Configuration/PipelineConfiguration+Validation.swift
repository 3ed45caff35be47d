import Concurrency
import KafkaBridge

extension PipelineConfiguration {
    /// A problem with a configured librdkafka property, naming it as the config file does
    /// (`kafka.consumer.fetch.wait.max.ms`).
    public struct PropertyError: Error, CustomStringConvertible, Sendable {
        public let key: String
        public let reason: String
        public var description: String { "\(key): \(reason)" }
    }

    /// Why a backfill refuses `delivery.mode: exactly_once` (for now).
    public static let backfillExactlyOnceRefusal = "exactly_once is not available for a backfill yet: its progress is a checkpoint file, which a Kafka transaction cannot include; run the backfill at_least_once (re-scoring after a crash is bounded by the checkpoint) and deduplicate on the streamscore.source.{partition,offset} headers"

    /// Refuses topic settings that would loop or mix streams: a dead-letter or output topic
    /// that is the input (every dead letter would be read again, fail again and multiply;
    /// every score would be scored), or outputs and dead letters in one topic.
    ///
    /// - Throws: `PropertyError` naming both keys.
    public func validateTopics() throws(PropertyError) {
        let t = topics
        for (key, value) in [("topics.input", t.input), ("topics.output", t.output), ("topics.dead_letter", t.deadLetter)] where value.isEmpty {
            throw PropertyError(key: key, reason: "must name a topic")
        }
        if t.deadLetter == t.input {
            throw PropertyError(key: "topics.dead_letter", reason: "is topics.input ('\(t.input)'): every dead letter would be consumed again, fail again and multiply")
        }
        if t.output == t.input {
            throw PropertyError(key: "topics.output", reason: "is topics.input ('\(t.input)'): every score would be consumed and scored again")
        }
        if t.deadLetter == t.output {
            throw PropertyError(key: "topics.dead_letter", reason: "is topics.output ('\(t.output)'): readers of scores would read dead letters as scores")
        }
    }

    /// Checks the raw librdkafka properties with librdkafka itself (no connection is made),
    /// and refuses user values for the properties the delivery guarantee depends on.
    ///
    /// - Throws: `PropertyError` with librdkafka's own `errstr`.
    public func validateKafkaProperties() throws(PropertyError) {
        let managedConsumer = Self.managedConsumerProperties(commitInterval)
        if consumerProperties["group.instance.id"] != nil {
            throw PropertyError(key: "kafka.consumer.group.instance.id", reason: "set it as kafka.instance_id (or --instance, STREAMSCORE_INSTANCE)")
        }
        for key in consumerProperties.keys.sorted() where managedConsumer[key] != nil || key == "group.id" || key == "bootstrap.servers" {
            throw PropertyError(key: "kafka.consumer.\(key)", reason: "set by StreamScore (at-least-once delivery depends on it); use the kafka.*/commit.* keys instead")
        }
        if producerProperties["transactional.id"] != nil {
            throw PropertyError(key: "kafka.producer.transactional.id", reason: "set delivery.mode: exactly_once (and delivery.transactional_id, or --instance) instead: StreamScore drives the transactions")
        }
        if case .exactlyOnce(let transactions) = delivery {
            if consumerProperties["isolation.level"] != nil {
                throw PropertyError(key: "kafka.consumer.isolation.level", reason: "set by StreamScore to read_committed with delivery.mode: exactly_once (reading uncommitted input would score records an earlier stage aborted)")
            }
            // A transaction open longer than this is aborted by the broker: the interval
            // must leave room for the commit's own round trips.
            if let timeout = producerConfig["transaction.timeout.ms"].flatMap(Int.init),
               Int(transactions.interval.inMilliseconds) * 2 > timeout {
                throw PropertyError(key: "delivery.transaction_interval_ms", reason: "must be at most half of the producer's transaction.timeout.ms (\(timeout)): the broker aborts a transaction open longer than that")
            }
        }
        for key in producerProperties.keys.sorted() where Self.managedProducerProperties[key] != nil || key == "bootstrap.servers" {
            throw PropertyError(key: "kafka.producer.\(key)", reason: "set by StreamScore (idempotent, fully acknowledged delivery depends on it)")
        }
        if let interval = consumerConfig["max.poll.interval.ms"].flatMap(Int.init),
           interval <= Int(rebalanceDrainTimeout.components.seconds * 1000) {
            throw PropertyError(
                key: "kafka.consumer.max.poll.interval.ms",
                reason: "must exceed rebalance.drain_timeout_ms (\(rebalanceDrainTimeout)): a revoke's drain holds the poll thread that long")
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
