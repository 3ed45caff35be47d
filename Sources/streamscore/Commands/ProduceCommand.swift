import Concurrency
import ArgumentParser
import Foundation
import Pipeline
import Workload

/// `streamscore produce`: the synthetic transaction generator.
struct ProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Produce synthetic card transactions to a topic (deterministic for a seed).",
        discussion: """
            Events follow the reference schema (id, card_id, merchant, amount, currency, mcc, \
            country, channel, timestamp, distance_km, txn_last_hour, card_age_days), keyed by \
            card id, with the record timestamp set to the creation time. About 1% carry a \
            planted fraud pattern. With --start-time, the events form a synthetic history \
            instead: event i has timestamp (record and event field) start + i × --step-ms.

            Examples:
              streamscore produce --bootstrap localhost:9092 --topic transactions --count 100000 --rate 5000 --malformed-ratio 0.01
              # a day of history, one event every 864 ms, for a backfill by time
              streamscore produce --bootstrap localhost:9092 --count 100000 --start-time 2026-11-28T00:00:00Z --step-ms 864
            """
    )

    @Option(name: .long, help: ArgumentHelp("Kafka bootstrap servers.", valueName: "host:port,..."))
    var bootstrap: String

    @Option(name: .long, help: "Topic to produce to.")
    var topic = "transactions"

    @Option(name: .long, help: "Number of events.")
    var count: Int

    @Option(name: .long, help: ArgumentHelp("Events per second (omit for as fast as possible).", valueName: "events/s"))
    var rate: Double?

    @Option(name: .long, help: "Seed: the same seed produces the same events.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Number of distinct card ids (keys).")
    var keys = 10_000

    @Option(name: .customLong("repeat-ratio"), help: ArgumentHelp("Fraction of events repeating an earlier card/merchant/amount.", valueName: "p"))
    var repeatRatio = 0.0

    @Option(name: .customLong("malformed-ratio"), help: ArgumentHelp("Fraction of events broken on purpose (bad JSON, missing or non-numeric field).", valueName: "m"))
    var malformedRatio = 0.0

    @Option(name: .customLong("linger-ms"), help: ArgumentHelp("How long the producer waits to fill a batch (librdkafka's linger.ms; default 5, librdkafka's own default, and Kafka's Java producer's since 4.0). Batches are what a broker stores and a consumer fetches: a backlog written 1 ms at a time is thousands of tiny batches, and librdkafka's mock cluster hands out one batch per partition per fetch. -X linger.ms=… overrides. Example: --linger-ms 20", valueName: "ms"))
    var lingerMs = 5

    @OptionGroup var kafka: KafkaPropertyOptions

    @Option(name: .customLong("start-time"), help: ArgumentHelp("Timestamp of the first event (RFC 3339, any offset; or @epoch-ms), the others following --step-ms apart, instead of the time of sending. Example: --start-time 2026-11-28T00:00:00Z", valueName: "time"))
    var startTime: String?

    @Option(name: .customLong("step-ms"), help: ArgumentHelp("Milliseconds between consecutive events' timestamps with --start-time (default 1). Example: --step-ms 1000", valueName: "ms"))
    var stepMs: Int64?

    /// `--start-time` in ms since the epoch.
    private var start: Int64? {
        get throws {
            guard let startTime else { return nil }
            guard case .time(let ms) = try? OffsetBound(parsing: startTime, argument: "--start-time") else {
                throw ValidationError("--start-time: '\(startTime)' is not an RFC 3339 time (2026-11-28T00:00:00Z) or @epoch-ms")
            }
            return ms
        }
    }

    func validate() throws {
        _ = try start
        if let stepMs {
            guard stepMs >= 0 else { throw ValidationError("--step-ms must not be negative") }
            guard startTime != nil else { throw ValidationError("--step-ms needs --start-time") }
        }
        guard count >= 0 else { throw ValidationError("--count must not be negative") }
        guard keys > 0 else { throw ValidationError("--keys must be positive") }
        guard (0...1).contains(repeatRatio) else { throw ValidationError("--repeat-ratio must be within 0...1") }
        guard (0...1).contains(malformedRatio) else { throw ValidationError("--malformed-ratio must be within 0...1") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        guard lingerMs >= 0 else { throw ValidationError("--linger-ms must not be negative") }
    }

    func run() async throws {
        let producer = try LoadProducer(bootstrapServers: bootstrap, properties: ["linger.ms": String(lingerMs)].merging(kafka.properties) { $1 })
        let generator = TransactionGenerator(seed: seed, keys: keys, repeatRatio: repeatRatio, malformedRatio: malformedRatio)
        let (topic, count, rate) = (self.topic, self.count, self.rate)
        let history = try start.map { (start: $0, step: stepMs ?? 1) }
        // Producing blocks; run it on a thread of its own, not on the cooperative pool.
        let summary = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    let summary = try producer.produce(topic: topic, count: count, rate: rate, generator: generator, history: history) { sent in
                        Terminal.progress("producing \(Terminal.bar(sent, of: count))  \(sent)/\(count)")
                    }
                    continuation.resume(returning: summary)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        Terminal.endProgress()
        producer.close()
        let seconds = summary.elapsed.inSeconds
        Terminal.out("produced \(summary.sent) events to \(topic) in \(String(format: "%.2f", seconds)) s: acknowledged \(summary.acknowledged), failed \(summary.failed), malformed \(summary.malformed), planted fraud \(summary.fraud)")
        if summary.acknowledged != summary.sent { throw ExitCode(1) }
    }
}
