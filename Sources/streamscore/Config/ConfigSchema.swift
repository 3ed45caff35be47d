import Features

/// Every configuration key StreamScore reads, its type and its default.
///
/// `Configs/streamscore.yaml` documents the same keys; `ConfigSchemaTests` keeps the two in
/// step. The environment variable for a key is `STREAMSCORE_` + the key upper-cased with
/// dots as underscores (`batch.max_rows` → `STREAMSCORE_BATCH_MAX_ROWS`).
enum ConfigSchema {
    enum Kind: Equatable {
        case string
        case integer(minimum: Int)
        case number
        case stringList
        case boolean
        /// `features.inputs`: a list of field names or input mappings (`FeatureInputsParser`).
        case featureInputs
        /// A map of raw librdkafka properties, passed through and validated by librdkafka.
        case properties
    }

    struct Key {
        let path: String
        let kind: Kind
        let defaultValue: ConfigValue?
    }

    static let keys: [Key] = [
        Key(path: "kafka.bootstrap_servers", kind: .string, defaultValue: .scalar("localhost:9092")),
        Key(path: "kafka.group_id", kind: .string, defaultValue: .scalar("streamscore")),
        Key(path: "kafka.instance_id", kind: .string, defaultValue: .scalar("")),
        Key(path: "kafka.consumer", kind: .properties, defaultValue: .properties([:])),
        Key(path: "kafka.producer", kind: .properties, defaultValue: .properties([:])),
        Key(path: "topics.input", kind: .string, defaultValue: .scalar("transactions")),
        Key(path: "topics.output", kind: .string, defaultValue: .scalar("scores")),
        Key(path: "topics.dead_letter", kind: .string, defaultValue: .scalar("transactions.dlq")),
        Key(path: "topics.forward_headers", kind: .stringList, defaultValue: .list(["traceparent", "tracestate"])),
        Key(path: "model.path", kind: .string, defaultValue: .scalar("Models/fraud-xgb.json")),
        Key(path: "model.format", kind: .string, defaultValue: .scalar("auto")),
        Key(path: "model.threshold", kind: .number, defaultValue: .scalar("0.5")),
        Key(path: "features.format", kind: .string, defaultValue: .scalar("json")),
        Key(path: "features.inputs", kind: .featureInputs, defaultValue: .inputs(FeatureInputsParser.demoInputs)),
        Key(path: "features.id_field", kind: .string, defaultValue: .scalar("id")),
        Key(path: "features.max_event_bytes", kind: .integer(minimum: 64), defaultValue: .scalar("1048576")),
        Key(path: "features.max_depth", kind: .integer(minimum: 1), defaultValue: .scalar("64")),
        Key(path: "features.numbers_in_strings", kind: .boolean, defaultValue: .scalar("false")),
        Key(path: "cache.mode", kind: .string, defaultValue: .scalar("read_write")),
        Key(path: "cache.redis_url", kind: .string, defaultValue: .scalar("")),
        Key(path: "cache.key_fields", kind: .stringList, defaultValue: .list([])),
        Key(path: "cache.prefix", kind: .string, defaultValue: .scalar("streamscore")),
        Key(path: "cache.ttl_ms", kind: .integer(minimum: 1), defaultValue: .scalar("3600000")),
        Key(path: "cache.local_capacity", kind: .integer(minimum: 0), defaultValue: .scalar("100000")),
        Key(path: "cache.local_ttl_ms", kind: .integer(minimum: 1), defaultValue: .scalar("60000")),
        Key(path: "cache.timeout_ms", kind: .integer(minimum: 1), defaultValue: .scalar("20")),
        Key(path: "cache.breaker_failures", kind: .integer(minimum: 1), defaultValue: .scalar("3")),
        Key(path: "cache.breaker_open_ms", kind: .integer(minimum: 1), defaultValue: .scalar("2000")),
        Key(path: "pipeline.mode", kind: .string, defaultValue: .scalar("score")),
        Key(path: "pipeline.workers", kind: .integer(minimum: 1), defaultValue: .scalar("2")),
        Key(path: "pipeline.intake_capacity", kind: .integer(minimum: 2), defaultValue: .scalar("10000")),
        Key(path: "pipeline.intake_resume_below", kind: .integer(minimum: 0), defaultValue: .scalar("5000")),
        Key(path: "pipeline.pause_after_ms", kind: .integer(minimum: 0), defaultValue: .scalar("500")),
        Key(path: "pipeline.poll_batch", kind: .integer(minimum: 1), defaultValue: .scalar("1000")),
        Key(path: "pipeline.chunk_records", kind: .integer(minimum: 1), defaultValue: .scalar("64")),
        Key(path: "batch.max_rows", kind: .integer(minimum: 1), defaultValue: .scalar("256")),
        Key(path: "batch.max_wait_ms", kind: .integer(minimum: 0), defaultValue: .scalar("5")),
        Key(path: "commit.interval_ms", kind: .integer(minimum: 10), defaultValue: .scalar("1000")),
        Key(path: "delivery.mode", kind: .string, defaultValue: .scalar("at_least_once")),
        Key(path: "delivery.transaction_interval_ms", kind: .integer(minimum: 1), defaultValue: .scalar("100")),
        Key(path: "delivery.transaction_max_records", kind: .integer(minimum: 1), defaultValue: .scalar("10000")),
        Key(path: "delivery.transactional_id", kind: .string, defaultValue: .scalar("")),
        Key(path: "rebalance.drain_timeout_ms", kind: .integer(minimum: 0), defaultValue: .scalar("10000")),
        Key(path: "shutdown.timeout_ms", kind: .integer(minimum: 100), defaultValue: .scalar("30000")),
        Key(path: "logging.level", kind: .string, defaultValue: .scalar("info")),
        Key(path: "metrics.listen", kind: .string, defaultValue: .scalar("")),
    ]

    static func key(_ path: String) -> Key? { keys.first { $0.path == path } }

    /// Whether `path` is a section that contains keys (`kafka`, `batch`).
    static func isSection(_ path: String) -> Bool {
        keys.contains { $0.path.hasPrefix(path + ".") }
    }

    static func environmentName(_ path: String) -> String {
        "STREAMSCORE_" + path.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// Shorter environment names some keys also answer to.
    static let environmentAliases = ["STREAMSCORE_REDIS_URL": "cache.redis_url", "STREAMSCORE_INSTANCE": "kafka.instance_id"]
}

/// A raw configuration value before typing.
enum ConfigValue: Equatable {
    case scalar(String)
    case list([String])
    case properties([String: String])
    case inputs([FeatureSpec.Input])
}
