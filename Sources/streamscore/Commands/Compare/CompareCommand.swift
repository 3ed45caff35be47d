import ArgumentParser
import Foundation
import KafkaBridge
import Pipeline

/// `streamscore compare`: two score topics matched by source event, side by side.
struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two score topics event by event: identical, changed, decision flips, missing.",
        discussion: """
            Reads both topics to the end offsets they have when the comparison starts, and
            matches their records by the event they score (the streamscore.source.topic,
            .partition and .offset headers every output of `run` and `backfill` carries).
            Reports how many matched, how many are identical (|Δscore| within --tolerance and
            the same decision or class), changed, decision flips (pass→flag, flag→pass),
            events on one side only, repeated events (an at-least-once replay; their copies
            must agree), the largest |Δscore| with its source offset, and a histogram of
            Δscore = right − left by decade.

            Exit status: 0 when every matched pair is within the tolerance and no event is
            missing on either side, 1 otherwise, 2 for bad arguments or an unreadable topic.

            Examples:
              # does the backfill reproduce what the live worker scored?
              streamscore compare --bootstrap kafka:9092 \\
                  --left scores --right scores.backfill --overlap
              # the challenger's backfill against the champion's, the 20 largest changes
              streamscore compare --bootstrap kafka:9092 \\
                  --left scores.champion --right scores.challenger --limit 20
              # as JSON, for a CI gate
              streamscore compare --bootstrap kafka:9092 \\
                  --left scores.a --right scores.b --json
            """
    )

    @Option(name: .long, help: ArgumentHelp("Kafka bootstrap servers. Example: --bootstrap kafka:9092", valueName: "host:port,..."))
    var bootstrap: String

    @Option(name: .long, help: ArgumentHelp("The reference score topic (the live scores, the champion). Example: --left scores", valueName: "topic"))
    var left: String

    @Option(name: .long, help: ArgumentHelp("The score topic compared with it (a backfill, the challenger). Example: --right scores.backfill", valueName: "topic"))
    var right: String

    @Option(name: .long, help: ArgumentHelp("Largest |Δscore| still counted as identical. Example: --tolerance 1e-4", valueName: "x"))
    var tolerance = 1e-6

    @Option(name: .long, help: ArgumentHelp("Print this many changed pairs, the largest |Δscore| first (default 10; 0: none). Example: --limit 50", valueName: "n"))
    var limit = 10

    @Flag(help: "Compare only the source offsets both topics cover (per source partition, the overlap of their offset spans): for a backfill of part of what the live topic scored.")
    var overlap = false

    @Flag(help: "The report as one JSON object on stdout.")
    var json = false

    @OptionGroup var kafka: KafkaPropertyOptions

    func validate() throws {
        guard tolerance >= 0, tolerance.isFinite else { throw ValidationError("--tolerance must be a non-negative number") }
        guard limit >= 0 else { throw ValidationError("--limit must not be negative") }
    }

    func run() async throws {
        let reader = TopicSnapshotReader(properties: kafka.properties.merging(["bootstrap.servers": bootstrap]) { $1 })
        var comparison = ScoreComparison(tolerance: tolerance, limit: limit, overlapOnly: overlap)
        for (topic, side) in [(left, ScoreComparison.Side.left), (right, .right)] {
            do {
                _ = try reader.read(topic, progress: { read, total in
                    if !json { Terminal.progress("reading \(side.rawValue) \(topic) \(Terminal.bar(Int(read), of: Int(total)))  \(read)/\(total)") }
                }) { comparison.add($0, to: side) }
                Terminal.endProgress()
            } catch {
                Terminal.endProgress()
                Terminal.err("streamscore: --\(side.rawValue): \(error)")
                throw ExitCode(2)
            }
        }
        let report = comparison.report
        if json {
            Terminal.out(CompareReport.json(report, left: left, right: right))
        } else {
            for line in CompareReport.text(report, left: left, right: right) { Terminal.out(line) }
        }
        if !report.isIdentical { throw ExitCode(1) }
    }
}
