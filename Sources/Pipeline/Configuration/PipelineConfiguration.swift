import Features
import KafkaBridge
import RedisBridge
import ScoreCache
/// Everything the scoring pipeline needs, already validated by the caller's config loader
/// (see `Configs/streamscore.yaml` for the documented keys these come from).
public struct PipelineConfiguration: Sendable {
    public struct Topics: Sendable {
        public var input: String
        public var output: String
        public var deadLetter: String
        /// Input headers copied to each output record (dead letters carry all of them).
        public var forwardHeaders: [String]
        /// Headers added to every output and dead letter, after StreamScore's own (a
        /// backfill's `streamscore.backfill.run`).
        public var addedHeaders: [KafkaHeader] = []
        public init(input: String, output: String, deadLetter: String, forwardHeaders: [String] = ["traceparent", "tracestate"]) {
            self.input = input
            self.output = output
            self.deadLetter = deadLetter
            self.forwardHeaders = forwardHeaders
        }
    }

    public var bootstrapServers: String
    public var groupID: String
    /// This worker's stable name in the group (`kafka.instance_id`, `--instance`; the pod
    /// name on Kubernetes): static membership (`group.instance.id`, KIP-345). A restarted
    /// worker with the same name gets its partitions back at once, without a rebalance and
    /// without waiting for the dead member's session timeout. nil: dynamic membership.
    public var instanceID: String?
    public var topics: Topics
    /// Raw librdkafka properties laid over the pipeline's defaults (`kafka.consumer`).
    public var consumerProperties: [String: String] = [:]
    /// Raw librdkafka properties laid over the pipeline's defaults (`kafka.producer`).
    public var producerProperties: [String: String] = [:]

    /// Preprocessing worker threads.
    public var workers = 2
    /// Records held between fetch and batching; the consumer pauses at this bound.
    public var intakeCapacity = 10_000
    /// The consumer resumes once intake holds this many records or fewer.
    public var intakeResumeBelow = 5_000
    /// How long the intake may stay full before the consumer pauses its partitions
    /// (shorter stalls just hold off polling).
    public var pauseAfter: Duration = .milliseconds(500)
    /// Most records taken from librdkafka per poll call.
    public var pollBatch = 1_000
    /// Records per unit of work handed to one worker.
    public var chunkRecords = 64

    /// A batch is scored when it has this many records (rows, and dead letters on their way)…
    public var batchMaxRows = 256
    /// …or when its first row has waited this long.
    public var batchMaxWait: Duration = .milliseconds(5)

    /// Scores at or above this are `"decision": "flag"`, below it `"pass"`.
    public var decisionThreshold: Float = 0.5

    /// How events become model input rows (format, inputs, id field, limits).
    public var features: FeatureSpec

    /// Consume and produce the same bytes: no decoding, no model, no cache. The ceiling of
    /// the broker and the Kafka client, for comparing the worker against (`pipeline.mode`).
    public var passthrough = false

    /// The score cache; nil: none. Its key is the values of `features.keyFields`, or a hash
    /// of the feature row when that list is empty.
    public var cache: ScoreCacheConfiguration?

    /// What the score cache keys on, for logs and the demo: "the feature row" (hashed), or
    /// the event's key fields.
    public var cacheKey: String {
        features.keyFields.isEmpty ? "the feature row" : "fields " + features.keyFields.joined(separator: ", ")
    }

    /// The producer's `message.max.bytes` as librdkafka holds it (a user's `kafka.producer`
    /// value, or librdkafka's default): the largest record it sends. Dead letters are cut
    /// to fit it, and an output that would not fit becomes a dead letter.
    public var producerMessageMaxBytes: Int {
        KafkaConfig(producerConfig).effectiveValue("message.max.bytes").flatMap(Int.init) ?? 1_000_000
    }

    /// Graceful stop must finish (drain, flush, commit) within this.
    public var shutdownTimeout: Duration = .seconds(30)
    /// On revoke, wait this long for in-flight records of the revoked partitions.
    public var rebalanceDrainTimeout: Duration = .seconds(10)
    /// How often librdkafka commits the stored offsets (`auto.commit.interval.ms`).
    public var commitInterval: Duration = .seconds(1)
    /// Stop gracefully after this long with no input and nothing in flight (nil: never).
    public var idleExit: Duration?

    /// A bounded range to score instead of following the consumer group (a backfill): the
    /// partitions are assigned at their starts, never subscribed, nothing is committed to
    /// any group, the watermarks go to the range's checkpoint, and the pipeline stops by
    /// itself once every offset of the range is acknowledged. nil: follow the group.
    public var range: RangeProgress?

    /// Most records taken from the input per second (nil: as fast as it goes).
    public var maxRate: Double?

    /// Whether the consumer asks librdkafka for its statistics (every 5 s, unless
    /// `kafka.consumer` sets `statistics.interval.ms`): the consumer lag in `/metrics`. Off
    /// when the worker serves no metrics.
    public var readsStatistics = true

    /// At-least-once (offsets committed after acknowledgement) or exactly-once (outputs
    /// and offsets in one transaction).
    public var delivery: DeliveryMode = .atLeastOnce

    public init(bootstrapServers: String, groupID: String, topics: Topics, features: FeatureSpec) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
        self.topics = topics
        self.features = features
    }

    /// librdkafka consumer properties: the pipeline's required settings, user overrides,
    /// and the bootstrap/group identity last.
    public var consumerConfig: [String: String] {
        var p: [String: String] = [
            "partition.assignment.strategy": "cooperative-sticky",
            "auto.offset.reset": "earliest",
            "enable.partition.eof": "false",
            // A dead worker's partitions wait this long for a new owner (dynamic
            // membership), or for the same instance to come back (static membership).
            "session.timeout.ms": "10000",
            // The poll thread polls at least every 100 ms; only a revoke's drain
            // (rebalance.drain_timeout_ms) holds it longer. A wedged worker leaves the group
            // after this and its partitions move on, far sooner than librdkafka's 300 s.
            "max.poll.interval.ms": "60000",
            "fetch.wait.max.ms": "5",
            // Small requests go out at once instead of waiting for the previous one's ACK
            // (librdkafka's advice for low latency; no change measured on loopback).
            "socket.nagle.disable": "true",
            // librdkafka's prefetch queue is part of the worker's memory: bound it.
            "queued.max.messages.kbytes": "16384",
        ]
        if readsStatistics && !delivery.isExactlyOnce {
            // The consumer lag in /metrics (streamscore_consumer_lag) comes from these,
            // parsed when scraped; 0 turns them, and the lag series, off. Exactly-once
            // exports no lag in records, so it asks for none.
            p["statistics.interval.ms"] = "5000"
        }
        p.merge(consumerProperties) { _, user in user }
        p.merge(Self.managedConsumerProperties(commitInterval)) { _, managed in managed }
        p["bootstrap.servers"] = bootstrapServers
        p["group.id"] = groupID
        if let instanceID { p["group.instance.id"] = instanceID }
        if delivery.isExactlyOnce {
            // Offsets are committed only inside the output transactions, and what earlier
            // stages wrote counts only once committed (a chain of stages is exactly-once).
            p["enable.auto.commit"] = "false"
            p["isolation.level"] = "read_committed"
        }
        if range != nil {
            // Assigned, never subscribed: no group to commit to, and a start offset that
            // retention deleted is an error, not a silent jump past records of the range.
            p["enable.auto.commit"] = "false"
            p["auto.offset.reset"] = "error"
            p["group.instance.id"] = nil
        }
        return p
    }

    /// librdkafka producer properties: defaults, user overrides, then the settings the
    /// delivery guarantee depends on.
    public var producerConfig: [String: String] {
        var p: [String: String] = [
            "linger.ms": "2",
            "socket.nagle.disable": "true",
            "queue.buffering.max.messages": "100000",
            "message.timeout.ms": "60000",
        ]
        if let transactions = delivery.transactions {
            // Kafka Streams' exactly-once default: a worker that died with a transaction
            // open holds back read_committed readers of its partitions at most this long
            // (a restart with the same transactional.id ends it at once).
            p["transaction.timeout.ms"] = "10000"
            // librdkafka requires message.timeout.ms <= transaction.timeout.ms.
            p["message.timeout.ms"] = "10000"
            p.merge(producerProperties) { _, user in user }
            p["transactional.id"] = transactions.transactionalID
        } else {
            p.merge(producerProperties) { _, user in user }
        }
        p.merge(Self.managedProducerProperties) { _, managed in managed }
        p["bootstrap.servers"] = bootstrapServers
        return p
    }

    /// Consumer properties the at-least-once guarantee depends on; users may not set them.
    public static func managedConsumerProperties(_ commitInterval: Duration) -> [String: String] {
        [
            "enable.auto.offset.store": "false",
            "enable.auto.commit": "true",
            "auto.commit.interval.ms": String(commitInterval.components.seconds * 1000
                + commitInterval.components.attoseconds / 1_000_000_000_000_000),
        ]
    }

    /// Producer properties the delivery guarantee depends on; users may not set them.
    public static let managedProducerProperties: [String: String] = [
        "enable.idempotence": "true",
        "acks": "all",
    ]
}
