import ArgumentParser
import Foundation
import KafkaBridge
import Logging
import Pipeline
import ScoreCache

/// `streamscore backfill`: re-score a bounded past range of a topic on the same pipeline as
/// `run`, into a topic of its own, checkpointed and resumable.
struct BackfillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Re-score a bounded past range of a topic into a topic of its own: reproducible, resumable, throttled.",
        discussion: """
            Bounds, as kcat and rpk take them (--to is exclusive):
              beginning | end                   end: the end offsets when the backfill starts
              1200 | 0:1200,3:900               an offset for every partition, or per partition
                                                (a partition not listed: beginning / end)
              2026-11-28T00:00:00Z | @1732752000000   a time (RFC 3339 with any offset, or epoch ms)
              -2h | -30m | -7d | -90s           a duration back from now
            A time resolves to the earliest offset whose record timestamp is at or after it; a
            partition with no record that late has an empty range. librdkafka's mock cluster
            (streamscore broker) cannot look up offsets by time: use offsets there.

            The backfill runs the worker's pipeline (decoding, batching, the cache, the model,
            the producer) with a consumer of its own, assigned the partitions: it never joins
            or commits to the live worker's group. Each output carries the same value and
            lineage headers as `run`, plus streamscore.backfill.run (the run id); dead letters
            go to the dead-letter topic with the same headers. The same range, model file and
            spec give the same values, whatever the batching, workers or interruptions.

            Progress is checkpointed (per partition, the offset below which every output was
            acknowledged by the broker) to --checkpoint. After a crash or Ctrl-C, the same
            command with --resume continues the same run (the same range, even when --to end
            would now reach further); what was in flight may be scored twice, nothing is
            skipped. Exit status: 0 when the whole range is done, 1 when the run failed or was
            stopped (the checkpoint is kept for --resume), 2 for bad arguments.

            Examples:
              # what a week of transactions would be, per partition
              streamscore backfill --config Configs/streamscore.yaml \\
                  --from -7d --to end --output-topic scores.bf --dry-run
              # re-score last week with a challenger, at most 20,000 events/s
              streamscore backfill --config Configs/streamscore.yaml \\
                  --from -7d --to end --output-topic scores.challenger \\
                  --model Models/fraud-xgb-challenger.json --max-rate 20000
              # continue it after a crash or Ctrl-C: the same, plus --resume
              # a fixed offset range of two partitions
              streamscore backfill --config Configs/streamscore.yaml \\
                  --partitions 0,3 --from 0:1200,3:900 --to 0:5000,3:4000 \\
                  --output-topic scores.bf
              # then, champion against challenger
              streamscore compare --bootstrap kafka:9092 \\
                  --left scores.bf --right scores.challenger
            """
    )

    @Option(name: .long, help: ArgumentHelp("Configuration file (YAML): Kafka properties, topics, model, features. Example: --config Configs/streamscore.yaml", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Kafka bootstrap servers, overriding kafka.bootstrap_servers. Example: --bootstrap kafka:9092", valueName: "host:port,..."))
    var bootstrap: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Start of the range (inclusive). Example: --from 2026-11-28T00:00:00Z, --from -2h, --from 0:1200", valueName: "bound"))
    var from: String

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("End of the range (exclusive). Example: --to end, --to @1732838400000", valueName: "bound"))
    var to: String

    @Option(name: .customLong("output-topic"), help: ArgumentHelp("Topic the backfill's scores go to; not the input topic, and the live output topic (topics.output) only with --allow-live-output. Example: --output-topic scores.backfill", valueName: "topic"))
    var outputTopic: String

    @Option(name: .long, help: ArgumentHelp("Input topic (default: topics.input of the configuration). Example: --topic transactions", valueName: "topic"))
    var topic: String?

    @Option(name: .long, help: ArgumentHelp("Partitions to backfill (default: all). Example: --partitions 0,3-5", valueName: "list"))
    var partitions: String?

    @Option(name: .long, help: ArgumentHelp("Model file to score with, overriding model.path (a challenger). Example: --model models/challenger.json", valueName: "file"))
    var model: String?

    @Option(name: .customLong("max-rate"), help: ArgumentHelp("Most events read per second, so a backfill on a shared cluster leaves room for the live path (default: as fast as it goes). Example: --max-rate 20000", valueName: "events/s"))
    var maxRate: Double?

    @Option(name: .long, help: ArgumentHelp("Checkpoint file (default: streamscore-backfill.<topic>.<output-topic>.<hash of the bounds>.json in the working directory). Example: --checkpoint /var/lib/streamscore/week48.json", valueName: "file"))
    var checkpoint: String?

    @Flag(help: "Continue the run the checkpoint describes (its range, as first resolved, and its run id) from its watermarks; refused when the checkpoint was made for another topic, range, output or model.")
    var resume = false

    @Flag(name: .customLong("dry-run"), help: "Print the resolved per-partition ranges and the record count, and exit.")
    var dryRun = false

    @Flag(help: "Machine-readable output: the range (--dry-run) or the summary as JSON on stdout, progress as JSON lines (with every partition) on stderr.")
    var json = false

    @Option(help: ArgumentHelp("Redis for the score cache (overrides cache.redis_url). Example: --redis redis://cache:6379/0", valueName: "redis://[user:password@]host:port[/db]"))
    var redis: String?

    @Option(help: ArgumentHelp("Score cache use: read_only (default when the configuration has a cache: reuse scores of the same model, file and spec; never fill Redis with history), bypass, or read_write. Example: --cache bypass", valueName: "mode"))
    var cache: String?

    @Option(name: .customLong("dead-letter-topic"), help: ArgumentHelp("Dead letters go here (default: topics.dead_letter). Example: --dead-letter-topic transactions.backfill.dlq", valueName: "topic"))
    var deadLetterTopic: String?

    @Flag(name: .customLong("allow-live-output"), help: "Allow --output-topic to name the live output topic (topics.output), to rebuild it after a bug.")
    var allowLiveOutput = false

    @Option(name: .customLong("log-level"), help: ArgumentHelp("Overrides logging.level (trace, debug, info, notice, warning, error). Example: --log-level warning", valueName: "level"))
    var logLevel: String?

    func validate() throws {
        if let maxRate, !(maxRate > 0) { throw ValidationError("--max-rate must be positive") }
        if let cache, !["read_only", "bypass", "read_write"].contains(cache) {
            throw ValidationError("--cache must be read_only, bypass or read_write, not '\(cache)'")
        }
        if dryRun && resume { throw ValidationError("--dry-run and --resume: a dry run resolves a new range; drop one") }
    }

    func run() async throws {
        let prepared: Prepared
        do {
            prepared = try prepare()
        } catch let error as ExitCode {
            throw error
        } catch let refusal as BackfillPlan.Refusal {
            Terminal.err("streamscore: \(refusal)")
            throw ExitCode(refusal.exitCode)
        } catch {
            Terminal.err("streamscore: \(error)")
            throw ExitCode(2)
        }
        try await execute(prepared)
    }

    /// Everything checked and created, nothing scored yet.
    private struct Prepared {
        var plan: BackfillPlan
        var progress: RangeProgress
        var pipeline: ScoringPipeline
        var logger: Logger
    }

    private func prepare() throws -> Prepared {
        var loader = try ConfigLoader(path: config)
        if let bootstrap { loader.set("kafka.bootstrap_servers", bootstrap, flag: "--bootstrap") }
        if let model { loader.set("model.path", model, flag: "--model") }
        if let redis { loader.set("cache.redis_url", redis, flag: "--redis") }
        if let cache { loader.set("cache.mode", cache, flag: "--cache") }
        if let logLevel { loader.set("logging.level", logLevel, flag: "--log-level") }
        let settings = try Settings(loader)
        if settings.pipeline.delivery.isExactlyOnce {
            throw ConfigError(key: "delivery.mode", reason: PipelineConfiguration.backfillExactlyOnceRefusal)
        }
        var configuration = settings.pipeline
        let input = topic ?? configuration.topics.input
        guard outputTopic != input else {
            throw ValidationError("--output-topic: '\(outputTopic)' is the input topic (it would loop)")
        }
        guard outputTopic != configuration.topics.output || allowLiveOutput else {
            throw ValidationError("--output-topic: '\(outputTopic)' is the live worker's output topic (topics.output); a backfill writes to a topic of its own, or add --allow-live-output to rebuild it")
        }
        let fromBound = try OffsetBound(parsing: from, argument: "--from")
        let toBound = try OffsetBound(parsing: to, argument: "--to")
        let selected = try partitions.map { text throws(BackfillRange.ResolveError) in try BackfillRange.partitions(parsing: text) }
        let scoringModel = try RunCommand.model(settings)
        let request = BackfillCheckpoint.Request(
            topic: input, from: from, to: to, partitions: partitions, outputTopic: outputTopic,
            model: scoringModel.identity, modelHash: CacheNamespace(model: scoringModel, spec: configuration.features).hash)

        // A consumer of its own for the cluster's answers, never subscribed.
        let cluster = try Self.consumer(configuration)
        defer { cluster.close(timeout: .seconds(5)) }
        let path = checkpoint ?? BackfillPlan.defaultPath(for: request)
        let plan: BackfillPlan
        if resume {
            plan = try BackfillPlan.resume(request: request, path: path)
            try plan.checkRetention(cluster: cluster)
        } else {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let range = try BackfillRange.resolve(topic: input, partitions: selected, from: fromBound, to: toBound, cluster: cluster, now: now)
            if dryRun {
                print(range, fromBound: fromBound, toBound: toBound)
                throw ExitCode.success
            }
            plan = try BackfillPlan.start(request: request, range: range, path: path)
        }
        if plan.checkpoint.complete {
            Terminal.out(plan.resumed
                ? "backfill \(plan.checkpoint.run) is already complete (\(path)); nothing to do"
                : "the range holds no records; nothing to do")
            throw ExitCode.success
        }
        do {
            try plan.checkpoint.written(to: path, partitions: plan.checkpoint.partitions)
        } catch {
            throw ValidationError("--checkpoint: cannot write \(path): \(error)")
        }

        let progress = plan.progress()
        configuration.topics.input = input
        configuration.topics.output = outputTopic
        if let deadLetterTopic { configuration.topics.deadLetter = deadLetterTopic }
        configuration.topics.addedHeaders = [KafkaHeader(Header.backfillRun, plan.checkpoint.run)]
        configuration.groupID = "streamscore-backfill-\(plan.checkpoint.run)"
        configuration.instanceID = nil
        configuration.range = progress
        configuration.maxRate = maxRate
        configuration.readsStatistics = false  // a backfill serves no /metrics: no consumer lag to read
        // A backfill reads the cache (scores of this very model, file and spec) but does not
        // fill Redis with history, unless --cache says otherwise.
        if cache == nil, configuration.cache != nil { configuration.cache?.mode = .readOnly }
        let logger = LogSetup.bootstrap(level: settings.logLevel)
        let pipeline = try RunCommand.pipeline(configuration, model: scoringModel, logger: logger)
        logger.info("backfill", metadata: [
            "run": "\(plan.checkpoint.run)", "resumed": "\(plan.resumed)", "records": "\(progress.total)",
            "done": "\(progress.done)", "checkpoint": "\(path)",
        ])
        return Prepared(plan: plan, progress: progress, pipeline: pipeline, logger: logger)
    }

    private func execute(_ prepared: Prepared) async throws {
        let (plan, progress, pipeline) = (prepared.plan, prepared.progress, prepared.pipeline)
        let reporter = BackfillReporter(pipeline: pipeline, progress: progress, json: json)
        let started = ContinuousClock.now
        var failure: Error?
        do {
            try await WorkerRun(pipeline: pipeline, logger: prepared.logger, extraServices: [reporter]).run()
        } catch {
            failure = error
        }
        BackfillReporter.summary(
            pipeline: pipeline, progress: progress, plan: plan, elapsed: .now - started, doneAtStart: reporter.doneAtStart, json: json)
        guard failure == nil, progress.isComplete else {
            Terminal.err("streamscore: backfill stopped before the end of its range; continue it with the same command and --resume (checkpoint \(plan.path))")
            throw ExitCode(1)
        }
    }

    /// A consumer that only asks the cluster (partitions, watermarks, times).
    static func consumer(_ configuration: PipelineConfiguration) throws -> KafkaConsumer {
        var properties = configuration.consumerConfig
        properties["group.id"] = "streamscore-backfill-plan"
        properties["group.instance.id"] = nil
        properties["enable.auto.commit"] = "false"
        do {
            return try KafkaConsumer(config: KafkaConfig(properties))
        } catch {
            throw ValidationError("kafka.consumer: \(error)")
        }
    }

    /// A bound as given, with what it means when that differs (`-2h (@1764…)`).
    private static func shown(_ text: String, _ bound: OffsetBound) -> String {
        let meaning = "\(bound)"
        return meaning == text ? text : "\(text) (\(meaning))"
    }

    private func print(_ range: BackfillRange, fromBound: OffsetBound, toBound: OffsetBound) {
        if json {
            let object: [String: Any] = [
                "topic": range.topic, "from": from, "to": to, "from_resolved": "\(fromBound)", "to_resolved": "\(toBound)", "records": range.total,
                "partitions": range.partitions.map { ["partition": $0.partition, "from": $0.from, "to": $0.to, "records": $0.count] },
            ]
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) {
                Terminal.out(String(decoding: data, as: UTF8.self))
            }
            return
        }
        Terminal.out("backfill of \(range.topic) from \(Self.shown(from, fromBound)) to \(Self.shown(to, toBound)) (exclusive), into \(outputTopic):")
        func row(_ cells: [String]) -> String {
            "  " + zip(cells, [9, 14, 14, 12]).map { String(repeating: " ", count: max(0, $1 - $0.count)) + $0 }.joined(separator: "  ")
        }
        Terminal.out(row(["partition", "from", "to", "records"]))
        for p in range.partitions { Terminal.out(row(["\(p.partition)", "\(p.from)", "\(p.to)", "\(p.count)"])) }
        Terminal.out("  \(range.total) records in \(range.partitions.count) partitions")
    }
}
