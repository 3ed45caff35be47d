import Features
import Foundation
import Inference
import Logging
import Pipeline
import RedisBridge
import ScoreCache

/// The typed result of configuration loading: what the worker needs to start.
struct Settings {
    var pipeline: PipelineConfiguration
    var modelPath: String
    var modelFormat: ModelLoader.Format
    var logLevel: Logger.Level
    /// Where `/metrics` and `/health` are served (nil: not served).
    var metricsListen: (host: String, port: Int)?

    /// Types and checks every value, librdkafka properties included.
    /// - Throws: `ConfigError` naming the key and the reason.
    init(_ config: ConfigLoader) throws(ConfigError) {
        var p = PipelineConfiguration(
            bootstrapServers: try config.string("kafka.bootstrap_servers"),
            groupID: try config.string("kafka.group_id"),
            topics: .init(
                input: try config.string("topics.input"),
                output: try config.string("topics.output"),
                deadLetter: try config.string("topics.dead_letter"),
                forwardHeaders: try config.list("topics.forward_headers")),
            features: try Self.features(config))
        p.instanceID = config.optionalString("kafka.instance_id")
        p.cache = try Self.cache(config)
        if p.cache != nil && p.features.format == .json {
            p.features.keyFields = try config.list("cache.key_fields")
            do {
                _ = try EventDecoder(spec: p.features)
            } catch {
                throw ConfigError(key: "cache.\(error.path)", reason: error.reason)
            }
        }
        p.consumerProperties = config.properties("kafka.consumer")
        p.producerProperties = config.properties("kafka.producer")
        switch try config.string("pipeline.mode") {
        case "score": p.passthrough = false
        case "passthrough": p.passthrough = true
        case let other: throw ConfigError(key: "pipeline.mode", reason: "expected score or passthrough; got '\(other)'")
        }
        p.workers = try config.integer("pipeline.workers")
        p.intakeCapacity = try config.integer("pipeline.intake_capacity")
        p.intakeResumeBelow = try config.integer("pipeline.intake_resume_below")
        guard p.intakeResumeBelow < p.intakeCapacity else {
            throw ConfigError(key: "pipeline.intake_resume_below", reason: "must be below pipeline.intake_capacity (\(p.intakeCapacity))")
        }
        p.pauseAfter = .milliseconds(try config.integer("pipeline.pause_after_ms"))
        p.pollBatch = try config.integer("pipeline.poll_batch")
        p.chunkRecords = try config.integer("pipeline.chunk_records")
        p.batchMaxRows = try config.integer("batch.max_rows")
        p.batchMaxWait = .milliseconds(try config.integer("batch.max_wait_ms"))
        p.decisionThreshold = Float(try config.number("model.threshold"))
        guard (0...1).contains(p.decisionThreshold) else {
            throw ConfigError(key: "model.threshold", reason: "must be between 0 and 1")
        }
        p.commitInterval = .milliseconds(try config.integer("commit.interval_ms"))
        p.rebalanceDrainTimeout = .milliseconds(try config.integer("rebalance.drain_timeout_ms"))
        p.shutdownTimeout = .milliseconds(try config.integer("shutdown.timeout_ms"))
        p.delivery = try Self.delivery(config, groupID: p.groupID, instanceID: p.instanceID)
        do {
            try p.validateTopics()
            try p.validateKafkaProperties()
        } catch {
            throw ConfigError(key: error.key, reason: error.reason)
        }
        pipeline = p
        modelPath = try config.string("model.path")
        let format = try config.string("model.format")
        guard let parsed = ModelLoader.Format(rawValue: format) else {
            throw ConfigError(key: "model.format", reason: "expected one of \(ModelLoader.Format.allCases.map(\.rawValue).joined(separator: ", ")); got '\(format)'")
        }
        modelFormat = parsed
        let level = try config.string("logging.level")
        guard let parsed = Logger.Level(rawValue: level) else {
            throw ConfigError(key: "logging.level", reason: "expected one of trace, debug, info, notice, warning, error, critical; got '\(level)'")
        }
        logLevel = parsed
        metricsListen = try Self.listenAddress(config.optionalString("metrics.listen") ?? "", key: "metrics.listen")
    }

    /// `host:port` (port 0: any free port), or nil for "".
    static func listenAddress(_ text: String, key: String) throws(ConfigError) -> (host: String, port: Int)? {
        guard !text.isEmpty else { return nil }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ConfigError(key: key, reason: "expected host:port (port 0 to 65535), e.g. 0.0.0.0:9464; got '\(text)'")
        }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard !host.isEmpty else { throw ConfigError(key: key, reason: "expected host:port, e.g. 0.0.0.0:9464; got '\(text)'") }
        return (host, port)
    }

    /// `delivery.*`: at-least-once, or exactly-once with its transactional id (by default
    /// `{group}-{instance}`, the instance being `kafka.instance_id` / `--instance` /
    /// `STREAMSCORE_INSTANCE`, else the host name: stable across a pod's restarts when it
    /// is the pod name of a StatefulSet, so a restarted worker fences its dead self at once).
    static func delivery(_ config: ConfigLoader, groupID: String, instanceID: String?) throws(ConfigError) -> DeliveryMode {
        switch try config.string("delivery.mode") {
        case "at_least_once":
            return .atLeastOnce
        case "exactly_once":
            let id = config.optionalString("delivery.transactional_id") ?? "\(groupID)-\(instanceID ?? hostName())"
            var transactions = DeliveryMode.Transactions(transactionalID: id)
            transactions.interval = .milliseconds(try config.integer("delivery.transaction_interval_ms"))
            transactions.maxRecords = try config.integer("delivery.transaction_max_records")
            return .exactlyOnce(transactions)
        case let other:
            throw ConfigError(key: "delivery.mode", reason: "expected at_least_once or exactly_once; got '\(other)'")
        }
    }

    /// This machine's name (a pod's name on Kubernetes).
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "streamscore" }
        return String(cString: buffer)
    }

    /// The score cache (nil in `bypass` mode).
    static func cache(_ config: ConfigLoader) throws(ConfigError) -> ScoreCacheConfiguration? {
        let modeName = try config.string("cache.mode")
        guard let mode = ScoreCacheConfiguration.Mode(rawValue: modeName) else {
            let modes = ScoreCacheConfiguration.Mode.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigError(key: "cache.mode", reason: "expected one of \(modes); got '\(modeName)'")
        }
        guard mode != .bypass else { return nil }
        var cache = ScoreCacheConfiguration(mode: mode)
        if let url = config.optionalString("cache.redis_url") {
            do {
                cache.redis = try RedisURL(parsing: url)
            } catch {
                throw ConfigError(key: "cache.redis_url", reason: "\(error.reason) (from \(config.sources["cache.redis_url"] ?? "?"))")
            }
        }
        cache.prefix = try config.string("cache.prefix")
        cache.ttl = .milliseconds(try config.integer("cache.ttl_ms"))
        cache.localCapacity = try config.integer("cache.local_capacity")
        guard cache.localCapacity <= ScoreCacheConfiguration.maximumLocalCapacity else {
            throw ConfigError(
                key: "cache.local_capacity",
                reason: "must be at most \(ScoreCacheConfiguration.maximumLocalCapacity) (each entry takes about 150 bytes), got \(cache.localCapacity)")
        }
        cache.localTTL = .milliseconds(try config.integer("cache.local_ttl_ms"))
        cache.timeout = .milliseconds(try config.integer("cache.timeout_ms"))
        cache.failureThreshold = try config.integer("cache.breaker_failures")
        cache.openDuration = .milliseconds(try config.integer("cache.breaker_open_ms"))
        return cache
    }

    /// The feature spec, compiled once here so a bad one stops start-up naming its key.
    static func features(_ config: ConfigLoader) throws(ConfigError) -> FeatureSpec {
        let format = try config.string("features.format")
        guard let parsedFormat = FeatureSpec.Format(rawValue: format) else {
            throw ConfigError(key: "features.format", reason: "expected json or f32le; got '\(format)'")
        }
        var spec: FeatureSpec
        if parsedFormat == .f32le {
            // The row length is the model's input count, filled in when the model is known.
            spec = .float32Rows(count: 0, maxEventBytes: try config.integer("features.max_event_bytes"))
            return spec
        }
        spec = FeatureSpec(
            inputs: config.inputs("features.inputs"), idField: try config.string("features.id_field"),
            maxEventBytes: try config.integer("features.max_event_bytes"), maxDepth: try config.integer("features.max_depth"),
            numbersInStrings: try config.boolean("features.numbers_in_strings"))
        do {
            _ = try EventDecoder(spec: spec)
        } catch {
            throw ConfigError(key: "features.\(error.path)", reason: error.reason)
        }
        return spec
    }
}
