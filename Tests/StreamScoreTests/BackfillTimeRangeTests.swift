import Foundation
import KafkaBridge
import Pipeline
import Testing

/// Backfill bounds given as times, against a real Kafka-protocol broker process (noida-db):
/// librdkafka's mock cluster cannot look up offsets by timestamp.
@Suite("Backfill time ranges", .serialized, .enabled(if: NoidaBroker.executable != nil, Comment(rawValue: NoidaBroker.missing)))
struct BackfillTimeRangeTests {
    @Test("A time range [t1, t2) scores exactly the records with timestamps in it; a start after the last record is an empty range")
    func timeRange() throws {
        let broker = try NoidaBroker()
        let (input, output, deadLetter) = ("transactions", "scores.week48", "transactions.dlq")
        let properties = NoidaBroker.clientProperties.map { ["-X", "\($0.key)=\($0.value)"] }.flatMap { $0 }
        // A synthetic history: 600 events a second apart from 2026-11-28T00:00:00Z.
        let produce = try WorkerProcess(
            ["produce", "--bootstrap", broker.bootstrap, "--topic", input, "--count", "600", "--malformed-ratio", "0.02",
             "--start-time", "2026-11-28T00:00:00Z", "--step-ms", "1000"] + properties)
        #expect(produce.waitForExit(timeout: .seconds(60)) == 0, "\(produce.stderr)")
        let reader = TopicReader(bootstrap: broker.bootstrap, properties: NoidaBroker.clientProperties)
        let history = try reader.readAll(input, partitions: 1)
        try #require(history.count == 600, "the history: \(history.count) records")
        let start: Int64 = 1_795_824_000_000
        for (i, record) in history.enumerated() {
            #expect(record.timestamp == start + Int64(i) * 1000, "record \(i): timestamp \(record.timestamp)")
        }
        #expect(history.contains { ($0.json["timestamp"] as? NSNumber)?.int64Value == $0.timestamp }, "the events carry the record timestamp")

        let config = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("noida-config") + ".yaml").path
        try """
            kafka:
              consumer: {receive.message.max.bytes: "200000000"}
              producer: {receive.message.max.bytes: "200000000"}
            topics: {input: \(input), output: scores, dead_letter: \(deadLetter)}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        func backfill(_ arguments: [String]) throws -> WorkerProcess {
            let process = try WorkerProcess(
                ["backfill", "--config", config, "--bootstrap", broker.bootstrap, "--output-topic", output, "--log-level", "warning",
                 "--checkpoint", broker.dataDirectory.appendingPathComponent(uniqueName("checkpoint")).path] + arguments)
            _ = process.waitForExit(timeout: .seconds(120))
            return process
        }

        // [00:02:00, 00:07:30), the end written with another offset: records 120..<450.
        let t1 = "2026-11-28T00:02:00Z", t2 = "2026-11-28T01:37:30+01:30"
        let dry = try backfill(["--from", t1, "--to", t2, "--dry-run", "--json"])
        #expect(dry.process.terminationStatus == 0, "\(dry.stderr)")
        let plan = try #require(try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any], "\(dry.stdout)")
        #expect(plan["records"] as? Int == 330, "\(dry.stdout)")

        let run = try backfill(["--from", t1, "--to", t2])
        #expect(run.process.terminationStatus == 0, "\(run.stderr)")
        let (low, high) = (start + 120_000, start + 450_000)
        let expected = Set(history.filter { $0.timestamp >= low && $0.timestamp < high }.map(\.offset))
        #expect(expected.count == 330)
        var scored: [Int64: Int] = [:]
        let outputs = try reader.readAll(output, partitions: 1)
        let deadLetters = try reader.readAll(deadLetter, partitions: 1)
        #expect(!deadLetters.isEmpty, "the malformed events of the range are dead letters")
        for record in outputs + deadLetters {
            let source = try #require(record.source)
            scored[source.offset, default: 0] += 1
            let timestamp = try #require(record.text(Header.sourceTimestamp).flatMap(Int64.init))
            #expect(timestamp >= low && timestamp < high, "source timestamp \(timestamp) outside the range")
        }
        #expect(Set(scored.keys) == expected, "scored \(scored.count), expected \(expected.count)")
        #expect(scored.values.allSatisfy { $0 == 1 })

        // Epoch milliseconds; a start after the last record: an empty range, not "from 0".
        let late = try backfill(["--from", "@\(start + 900_000)", "--to", "end", "--dry-run", "--json"])
        let empty = try #require(try JSONSerialization.jsonObject(with: Data(late.stdout.utf8)) as? [String: Any], "\(late.stdout)\(late.stderr)")
        #expect(empty["records"] as? Int == 0)
        let nothing = try backfill(["--from", "@\(start + 900_000)", "--to", "end"])
        #expect(nothing.process.terminationStatus == 0 && nothing.stdout.contains("holds no records"), "\(nothing.stdout)\(nothing.stderr)")
    }
}
