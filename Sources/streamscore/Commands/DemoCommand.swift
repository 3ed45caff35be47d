import ArgumentParser
import Foundation
import Inference
import Logging
import Pipeline
import ServiceLifecycle
import Workload

/// `streamscore demo`: the embedded default, no set-up needed.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Score a synthetic transaction stream on an in-process Kafka cluster, with live stats.",
        discussion: """
            Starts librdkafka's mock Kafka cluster in this process, produces synthetic card \
            transactions into 'transactions' (about 1% with a planted fraud pattern, a few \
            malformed on purpose), scores them with the bundled example fraud model into \
            'scores', sends malformed events to 'transactions.dlq', and prints one status line \
            per second. Stops after --duration seconds or on Ctrl-C, then prints a summary.

            Example:
              streamscore demo --duration 30 --rate 5000
            """
    )

    @Option(name: .long, help: ArgumentHelp("Seconds to run.", valueName: "seconds"))
    var duration = 20.0

    @Option(name: .long, help: ArgumentHelp("Events produced per second.", valueName: "events/s"))
    var rate = 2_000.0

    @Option(name: .long, help: "Partitions per topic.")
    var partitions = 8

    @Option(name: .customLong("malformed-ratio"), help: ArgumentHelp("Fraction of events broken on purpose.", valueName: "m"))
    var malformedRatio = 0.005

    @Option(name: .long, help: ArgumentHelp("Model file to score with (default: the bundled example fraud model, built into the binary). Example: --model Models/bench/fraud-mlp.json", valueName: "file"))
    var model: String?

    @Option(name: .long, help: "Preprocessing worker threads.")
    var workers = 2

    @Option(help: ArgumentHelp("Redis for the score cache (default: the in-process tier alone). Example: redis://127.0.0.1:6379", valueName: "redis://[user:password@]host:port[/db]"))
    var redis: String?

    @Option(name: .customLong("repeat-ratio"), help: ArgumentHelp("Fraction of events that repeat an earlier card, merchant and amount (what the score cache serves).", valueName: "r"))
    var repeatRatio = 0.3

    @Option(help: ArgumentHelp("Serve GET /metrics (Prometheus) and GET /health here while the demo runs. Example: --metrics 127.0.0.1:9464", valueName: "host:port"))
    var metrics: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("Log level on stderr.", valueName: "level"))
    var logLevel = "warning"

    func validate() throws {
        guard (0...1).contains(repeatRatio) else { throw ValidationError("--repeat-ratio must be within 0...1") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        guard partitions > 0, workers > 0 else { throw ValidationError("--partitions and --workers must be positive") }
    }

    func run() async throws {
        let logger = LogSetup.bootstrap(level: Logger.Level(rawValue: logLevel) ?? .warning)
        MetricsSetup.bootstrap()
        var loader = ConfigLoader()
        if let model { loader.set("model.path", model, flag: "--model") }
        if let redis { loader.set("cache.redis_url", redis, flag: "--redis") }
        if let metrics { loader.set("metrics.listen", metrics, flag: "--metrics") }
        let settings: Settings
        do {
            settings = try Settings(loader)
        } catch {
            Terminal.err("streamscore: \(error)")
            throw ExitCode(2)
        }
        let topics = settings.pipeline.topics
        let broker = try DevelopmentBroker(topics: [topics.input, topics.output, topics.deadLetter], partitions: partitions)
        // Every client is created and released inside `score`, so none outlives the cluster
        // (a client whose cluster went away logs connection failures).
        try await score(settings: settings, broker: broker, logger: logger)
        withExtendedLifetime(broker) {}
    }

    private func score(settings: Settings, broker: DevelopmentBroker, logger: Logger) async throws {
        let topics = settings.pipeline.topics
        var config = settings.pipeline
        config.bootstrapServers = broker.bootstrapServers
        config.groupID = "streamscore-demo"
        config.workers = workers
        config.batchMaxWait = .milliseconds(2)
        let pipeline: ScoringPipeline
        do {
            let scorer = try model.map { try ModelLoader.load(path: $0) } ?? BundledModel.load()
            pipeline = try ScoringPipeline(configuration: config, model: scorer, logger: logger)
        } catch {
            Terminal.err("streamscore: cannot start the demo with model \(model ?? "\(BundledModel.name) (bundled)"): \(error)")
            throw ExitCode(2)
        }
        Terminal.out("StreamScore demo: mock Kafka cluster at \(broker.bootstrapServers), \(partitions) partitions")
        Terminal.out("  \(topics.input) -> model \(pipeline.model.identity) (\(pipeline.model.inputCount) inputs) -> \(topics.output); bad events -> \(topics.deadLetter)")
        Terminal.out("  producing \(Int(rate)) events/s for \(duration) s, \(Int(repeatRatio * 100))% repeated; Ctrl-C stops early")
        switch config.cache {
        case nil: Terminal.out("  score cache: off (cache.mode bypass)")
        case let cache? where cache.redis == nil:
            Terminal.out("  score cache: the in-process tier alone (no Redis; --redis redis://host:port to add one), keyed on \(config.cacheKey)")
        case let cache?: Terminal.out("  score cache: in-process tier, then Redis at \(cache.redis!), keyed on \(config.cacheKey)")
        }
        let console = DemoConsole(
            pipeline: pipeline, producer: try LoadProducer(bootstrapServers: broker.bootstrapServers),
            topic: topics.input, rate: rate, duration: duration, malformedRatio: malformedRatio, repeatRatio: repeatRatio,
            detection: try DemoDetection(bootstrap: broker.bootstrapServers, topic: topics.output, partitions: partitions))
        var services: [any Service] = [console]
        if let listen = settings.metricsListen {
            services.append(MetricsEndpoint.service(host: listen.host, port: listen.port, pipeline: pipeline, logger: logger))
            Terminal.out("  metrics: http://\(listen.host):\(listen.port)/metrics")
        }
        try await WorkerRun(pipeline: pipeline, logger: logger, extraServices: services).run()
        console.printSummary()
        console.close()
        Terminal.out("""
            next:
              run against your Kafka     streamscore run --config Configs/streamscore.yaml --bootstrap HOST:9092
              add Redis to the cache     streamscore demo --redis redis://127.0.0.1:6379
              watch it in Prometheus     streamscore demo --metrics 127.0.0.1:9464   (then GET /metrics)
              the five-minute session    README.md, "Five minutes on your machine"
            """)
    }
}
