import Concurrency
import Foundation
import KafkaBridge
import Synchronization
import Workload

/// What the demo shows of its output: the first scored record as it arrives (key, value,
/// lineage headers), and at the end how the flags compare with the fraud the generator
/// planted: caught, recall and precision.
///
/// Reads the scores topic on a thread of its own (`streamscore.demo.scores`), assigned
/// every partition from the start, outside any consumer group: like any downstream
/// reader, it changes nothing for the worker.
final class DemoDetection: Sendable {
    /// Counts so far, shared between the reader thread, the load generator and the summary.
    private final class Tally: Sendable {
        struct Counts: Sendable {
            var planted = Set<String>()
            var flagged = Set<String>()
            var scored = 0
            var shownFirst = false
        }

        let counts = ConditionLock(Counts())
        let running = Atomic<Bool>(true)
    }

    private let tally = Tally()
    private let reader: NamedThread

    init(bootstrap: String, topic: String, partitions: Int) throws(KafkaError) {
        let consumer = try KafkaConsumer(config: KafkaConfig([
            "bootstrap.servers": bootstrap, "group.id": "streamscore-demo-reader", "enable.auto.commit": "false",
            "enable.partition.eof": "false", "log_level": "3",
        ]))
        try consumer.assign(Dictionary(uniqueKeysWithValues: (0..<Int32(partitions)).map { (TopicPartition(topic, $0), KafkaConsumer.beginning) }))
        reader = NamedThread("streamscore.demo.scores") { [tally] in
            while tally.running.load(ordering: .relaxed) {
                for record in consumer.poll(maxRecords: 500, timeout: .milliseconds(100)) { Self.read(record, into: tally) }
            }
            _ = consumer.close(timeout: .seconds(2))
        }
    }

    /// Remembers a produced event that carries the planted pattern (a repeat of one too:
    /// same card, merchant, amount and details).
    func planted(_ event: TransactionGenerator.Event) {
        guard event.hasFraudPattern else { return }
        tally.counts.withLock { _ = $0.planted.insert(event.id) }
    }

    /// Waits (up to `timeout`) until `outputs` scores have been read, then stops reading.
    func finish(outputs: Int, timeout: Duration = .seconds(10)) {
        _ = tally.counts.wait(until: .now + timeout) { $0.scored >= outputs ? true : nil }
        tally.running.store(false, ordering: .relaxed)
        reader.join()
    }

    /// The detection line: flagged N: K of M planted frauds caught, recall and precision.
    var report: String {
        let c = tally.counts.read { $0 }
        let caught = c.flagged.intersection(c.planted).count
        let recall = c.planted.isEmpty ? 0 : 100 * Double(caught) / Double(c.planted.count)
        let precision = c.flagged.isEmpty ? 0 : 100 * Double(caught) / Double(c.flagged.count)
        return String(
            format: "flagged %d: %d of %d planted frauds caught (repeats included; recall %.1f%%, precision %.1f%%), of %d scores read back",
            c.flagged.count, caught, c.planted.count, recall, precision, c.scored)
    }

    private static func read(_ record: KafkaRecord, into tally: Tally) {
        guard let json = try? JSONSerialization.jsonObject(with: Data(record.value)) as? [String: Any] else { return }
        let id = json["id"] as? String
        let flagged = json["decision"] as? String == "flag"
        let first = tally.counts.withLock { c in
            c.scored += 1
            if flagged, let id { c.flagged.insert(id) }
            defer { c.shownFirst = true }
            return !c.shownFirst
        }
        guard first else { return }
        Terminal.out("  first scored record (\(record.topic)[\(record.partition)]@\(record.offset)):")
        Terminal.out("    key      \(record.key.map { String(decoding: $0, as: UTF8.self) } ?? "(none)")")
        Terminal.out("    value    \(String(decoding: record.value, as: UTF8.self))")
        for header in record.headers {
            Terminal.out("    header   \(header.name): \(String(decoding: header.value, as: UTF8.self))")
        }
    }
}
