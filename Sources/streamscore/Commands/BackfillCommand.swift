import ArgumentParser
import Foundation
import KafkaBridge
import Pipeline

/// `streamscore backfill`: re-score a bounded past range of a topic. This version resolves
/// and prints the range (`--dry-run`); scoring it is not built yet.
struct BackfillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Re-score a bounded past range of a topic (this version: --dry-run, the resolved range, only).",
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

            The backfill reads with a consumer of its own, assigned the partitions, and never
            joins or commits to the live worker's group.

            Examples:
              streamscore backfill --config Configs/streamscore.yaml --bootstrap kafka:9092 \\
                  --from -7d --to end --output-topic scores.backfill --dry-run
              streamscore backfill --bootstrap 127.0.0.1:9092 --topic transactions --partitions 0,3-5 \\
                  --from 0:1200,3:900 --to end --output-topic scores.backfill --dry-run --json
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

    @Option(name: .customLong("output-topic"), help: ArgumentHelp("Topic the backfill's scores go to (not the live output topic). Example: --output-topic scores.backfill", valueName: "topic"))
    var outputTopic: String

    @Option(name: .long, help: ArgumentHelp("Input topic (default: topics.input of the configuration). Example: --topic transactions", valueName: "topic"))
    var topic: String?

    @Option(name: .long, help: ArgumentHelp("Partitions to backfill (default: all). Example: --partitions 0,3-5", valueName: "list"))
    var partitions: String?

    @Flag(name: .customLong("dry-run"), help: "Print the resolved per-partition ranges and the record count, and exit.")
    var dryRun = false

    @Flag(help: "Print the range as JSON.")
    var json = false

    func run() throws {
        do {
            try execute()
        } catch let error as ExitCode {
            throw error
        } catch {
            Terminal.err("streamscore: \(error)")
            throw ExitCode(2)
        }
    }

    private func execute() throws {
        var loader = try ConfigLoader(path: config)
        if let bootstrap { loader.set("kafka.bootstrap_servers", bootstrap, flag: "--bootstrap") }
        let settings = try Settings(loader)
        let pipeline = settings.pipeline
        let input = topic ?? pipeline.topics.input
        guard outputTopic != input else {
            throw ValidationError("--output-topic: '\(outputTopic)' is the input topic (it would loop)")
        }
        guard outputTopic != pipeline.topics.output else {
            throw ValidationError("--output-topic: '\(outputTopic)' is the live worker's output topic (topics.output); a backfill writes to a topic of its own")
        }
        let fromBound = try OffsetBound(parsing: from, argument: "--from")
        let toBound = try OffsetBound(parsing: to, argument: "--to")
        let selected = try partitions.map { text throws(BackfillRange.ResolveError) in try BackfillRange.partitions(parsing: text) }
        guard dryRun else {
            Terminal.err("streamscore: backfill: this version resolves and prints the range only; run it with --dry-run (scoring a range is not built yet)")
            throw ExitCode(2)
        }
        // A consumer of its own, never subscribed: it joins no group and commits nothing.
        var properties = pipeline.consumerConfig
        properties["group.id"] = "streamscore-backfill-\(UUID().uuidString.prefix(8).lowercased())"
        properties["group.instance.id"] = nil
        properties["enable.auto.commit"] = "false"
        let consumer: KafkaConsumer
        do {
            consumer = try KafkaConsumer(config: KafkaConfig(properties))
        } catch {
            throw ValidationError("kafka.consumer: \(error)")
        }
        defer { consumer.close(timeout: .seconds(5)) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let range = try BackfillRange.resolve(topic: input, partitions: selected, from: fromBound, to: toBound, cluster: consumer, now: now)
        if json {
            let object: [String: Any] = [
                "topic": range.topic, "from": "\(fromBound)", "to": "\(toBound)", "records": range.total,
                "partitions": range.partitions.map { ["partition": $0.partition, "from": $0.from, "to": $0.to, "records": $0.count] },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            Terminal.out(String(decoding: data, as: UTF8.self))
        } else {
            Terminal.out("backfill of \(range.topic) from \(fromBound) to \(toBound) (exclusive), into \(outputTopic):")
            func row(_ cells: [String]) -> String {
                "  " + zip(cells, [9, 14, 14, 12]).map { String(repeating: " ", count: max(0, $1 - $0.count)) + $0 }.joined(separator: "  ")
            }
            Terminal.out(row(["partition", "from", "to", "records"]))
            for p in range.partitions { Terminal.out(row(["\(p.partition)", "\(p.from)", "\(p.to)", "\(p.count)"])) }
            Terminal.out("  \(range.total) records in \(range.partitions.count) partitions")
        }
    }
}
