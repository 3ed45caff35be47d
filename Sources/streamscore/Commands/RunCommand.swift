import ArgumentParser
import Foundation
import Inference
import Logging
import Pipeline
import ServiceLifecycle

/// `streamscore run`: the worker, topic to topic, against any Kafka cluster.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Consume events, score them, produce scores; commit only what the broker acknowledged.",
        discussion: """
            Configuration comes from the file, then STREAMSCORE_* environment variables \
            (STREAMSCORE_BATCH_MAX_ROWS=512 sets batch.max_rows), then these flags. Invalid \
            configuration stops start-up with the key and the reason, before connecting.

            SIGTERM or SIGINT stops gracefully: stop fetching, finish in-flight records, flush, \
            commit, exit 0 within shutdown.timeout_ms. A second signal exits at once.

            Example:
              streamscore run --config Configs/streamscore.yaml --bootstrap localhost:9092
            """
    )

    @Option(name: .long, help: ArgumentHelp("Configuration file (YAML); see Configs/streamscore.yaml.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Kafka bootstrap servers, overriding kafka.bootstrap_servers.", valueName: "host:port,..."))
    var bootstrap: String?

    @Option(name: .long, help: ArgumentHelp("Consumer group, overriding kafka.group_id.", valueName: "group"))
    var group: String?

    @Option(help: ArgumentHelp("This worker's stable name in the group (overrides kafka.instance_id; STREAMSCORE_INSTANCE): static membership, so a restarted worker gets its partitions back at once. On Kubernetes, the pod name. Example: --instance scorer-0", valueName: "name"))
    var instance: String?

    @Option(name: .customLong("idle-exit"), help: ArgumentHelp("Stop gracefully after this many seconds with no input and nothing in flight (for scripts and tests).", valueName: "seconds"))
    var idleExit: Double?

    @Option(name: .customLong("max-rate"), help: ArgumentHelp("Most events read per second (default: as fast as it goes): throttles a worker that shares a cluster or a downstream, and lets a test watch the lag grow. Example: --max-rate 5000", valueName: "events/s"))
    var maxRate: Double?

    @Option(help: ArgumentHelp("Redis for the score cache (overrides cache.redis_url; STREAMSCORE_REDIS_URL). Example: redis://:secret@cache:6379/0", valueName: "redis://[user:password@]host:port[/db]"))
    var redis: String?

    @Option(help: ArgumentHelp("Serve GET /metrics (Prometheus) and GET /health here (overrides metrics.listen). Example: --metrics 0.0.0.0:9464", valueName: "host:port"))
    var metrics: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("Overrides logging.level (trace, debug, info, notice, warning, error).", valueName: "level"))
    var logLevel: String?

    func run() async throws {
        let settings: Settings
        let pipeline: ScoringPipeline
        let logger: Logger
        do {
            var loader = try ConfigLoader(path: config)
            if let bootstrap { loader.set("kafka.bootstrap_servers", bootstrap, flag: "--bootstrap") }
            if let group { loader.set("kafka.group_id", group, flag: "--group") }
            if let instance { loader.set("kafka.instance_id", instance, flag: "--instance") }
            if let logLevel { loader.set("logging.level", logLevel, flag: "--log-level") }
            if let redis { loader.set("cache.redis_url", redis, flag: "--redis") }
            if let metrics { loader.set("metrics.listen", metrics, flag: "--metrics") }
            settings = try Settings(loader)
            logger = LogSetup.bootstrap(level: settings.logLevel)
            // Without an endpoint nothing is recorded: swift-metrics' no-op handlers.
            if settings.metricsListen != nil { MetricsSetup.bootstrap() }
            pipeline = try Self.pipeline(settings, idleExit: idleExit, maxRate: maxRate, logger: logger)
        } catch {
            Terminal.err("streamscore: \(error)")
            throw ExitCode(2)
        }
        var services: [any Service] = []
        if let listen = settings.metricsListen {
            services.append(MetricsEndpoint.service(host: listen.host, port: listen.port, pipeline: pipeline, logger: logger))
        }
        try await WorkerRun(pipeline: pipeline, logger: logger, extraServices: services).run()
    }

    /// Why the worker cannot start with its configuration: what `run` prints after
    /// `streamscore: `, naming the key (exit 2).
    struct StartupError: Error, CustomStringConvertible {
        var description: String
    }

    /// The pipeline `settings` describe: the model loaded and checked against the feature
    /// spec, the Kafka clients created (nothing connects yet).
    /// - Throws: `StartupError` naming the key at fault.
    static func pipeline(_ settings: Settings, idleExit: Double?, maxRate: Double? = nil, logger: Logger) throws(StartupError) -> ScoringPipeline {
        var pipelineConfig = settings.pipeline
        pipelineConfig.readsStatistics = settings.metricsListen != nil
        if let idleExit {
            guard idleExit > 0 else { throw StartupError(description: "configuration error: --idle-exit: must be positive") }
            pipelineConfig.idleExit = .milliseconds(Int(idleExit * 1000))
        }
        if let maxRate {
            guard maxRate > 0, maxRate.isFinite else { throw StartupError(description: "configuration error: --max-rate: must be a positive number of events per second") }
            pipelineConfig.maxRate = maxRate
        }
        return try pipeline(pipelineConfig, model: model(settings), logger: logger)
    }

    /// The model at `model.path`.
    /// - Throws: `StartupError` naming `model.path` and why the file was refused.
    static func model(_ settings: Settings) throws(StartupError) -> any Model {
        do {
            return try ModelLoader.load(path: settings.modelPath, format: settings.modelFormat)
        } catch {
            throw StartupError(description: "configuration error: model.path (\(settings.modelPath)): \(error)")
        }
    }

    /// A pipeline for `configuration` and `model`: checked against the feature spec, the
    /// Kafka clients created.
    /// - Throws: `StartupError` naming the key at fault.
    static func pipeline(_ configuration: PipelineConfiguration, model: any Model, logger: Logger) throws(StartupError) -> ScoringPipeline {
        do {
            return try ScoringPipeline(configuration: configuration, model: model, logger: logger)
        } catch .modelMismatch(let why) {
            throw StartupError(description: "configuration error: features.inputs / model.path: model does not match the feature spec: \(why)")
        } catch .invalidFeatures(let why) {
            throw StartupError(description: "configuration error: \(why)")
        } catch {
            throw StartupError(description: "cannot create the Kafka clients: \(error)")
        }
    }
}

/// Runs a pipeline under a service group with signal handling, mapping the outcome to an
/// exit status (0 after a graceful stop, 1 after a failure).
struct WorkerRun {
    let pipeline: ScoringPipeline
    let logger: Logger
    var extraServices: [any Service] = []

    func run() async throws {
        let escalation = SignalEscalation()
        defer { escalation.cancel() }
        var config = ServiceGroupConfiguration(
            services: [.init(service: ScoringService(pipeline: pipeline), successTerminationBehavior: .gracefullyShutdownGroup)]
                + extraServices.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        config.maximumGracefulShutdownDuration = pipeline.configuration.shutdownTimeout + .seconds(5)
        do {
            try await ServiceGroup(configuration: config).run()
        } catch {
            Terminal.err("streamscore: \(error)")
            throw ExitCode(1)
        }
        if case .failed(let error)? = pipeline.outcome {
            Terminal.err("streamscore: \(error)")
            throw ExitCode(1)
        }
    }
}
