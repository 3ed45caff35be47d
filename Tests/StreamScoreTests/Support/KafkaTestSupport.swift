import Foundation
import KafkaBridge
import Pipeline
import Testing
import Workload

/// Unique names, so tests never see each other's topics or groups.
func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}

/// Reads whole topics and the group's committed offsets, as a test's independent witness.
struct TopicReader {
    let bootstrap: String
    /// More client properties (a noida-db broker needs `receive.message.max.bytes`).
    var properties: [String: String] = [:]

    private func consumer(group: String? = nil) throws -> KafkaConsumer {
        try KafkaConsumer(config: KafkaConfig([
            "bootstrap.servers": bootstrap,
            "group.id": group ?? uniqueName("reader"),
            "enable.auto.commit": "false",
            "enable.partition.eof": "false",
            "log_level": "3",
        ].merging(properties) { $1 }))
    }

    /// High watermark of each partition.
    func endOffsets(_ topic: String, partitions: Int) throws -> [Int32: Int64] {
        let c = try consumer()
        defer { c.close() }
        var result: [Int32: Int64] = [:]
        for p in 0..<Int32(partitions) {
            result[p] = try c.watermarks(TopicPartition(topic, p), timeout: .seconds(10)).high
        }
        return result
    }

    /// Total records in a topic.
    func count(_ topic: String, partitions: Int) throws -> Int64 {
        try endOffsets(topic, partitions: partitions).values.reduce(0, +)
    }

    /// Every record currently in the topic, per partition in offset order.
    func readAll(_ topic: String, partitions: Int, timeout: Duration = .seconds(60)) throws -> [KafkaRecord] {
        let ends = try endOffsets(topic, partitions: partitions)
        let total = ends.values.reduce(0, +)
        let c = try consumer()
        defer { c.close() }
        try c.assign(Dictionary(uniqueKeysWithValues: (0..<Int32(partitions)).map { (TopicPartition(topic, $0), KafkaConsumer.beginning) }))
        var records: [KafkaRecord] = []
        let deadline = ContinuousClock.now + timeout
        while Int64(records.count) < total && ContinuousClock.now < deadline {
            records += c.poll(maxRecords: 1000, timeout: .milliseconds(200))
        }
        return records.sorted { ($0.partition, $0.offset) < ($1.partition, $1.offset) }
    }

    /// The group's committed offsets (-1001 where none).
    func committed(group: String, topic: String, partitions: Int) throws -> [Int32: Int64] {
        let c = try consumer(group: group)
        defer { c.close() }
        let tps = (0..<Int32(partitions)).map { TopicPartition(topic, $0) }
        return Dictionary(uniqueKeysWithValues: try c.committed(tps, timeout: .seconds(10)).map { ($0.key.partition, $0.value) })
    }
}

/// Produces generated events and returns them with where they landed.
struct EventWriter {
    struct Written {
        var partition: Int32
        var offset: Int64
        var event: TransactionGenerator.Event
    }

    let bootstrap: String

    /// Sends `count` events from `generator`, waits for every acknowledgement.
    func write(_ count: Int, to topic: String, generator: TransactionGenerator) throws -> [Written] {
        var generator = generator
        let events = (0..<count).map { _ in generator.next(timestamp: Int64(Date().timeIntervalSince1970 * 1000)) }
        return try write(events, to: topic)
    }

    /// Sends `events` in order, waits for every acknowledgement.
    func write(_ events: [TransactionGenerator.Event], to topic: String) throws -> [Written] {
        let collected = Collected()
        let producer = try KafkaProducer(
            config: KafkaConfig(["bootstrap.servers": bootstrap, "linger.ms": "5", "log_level": "3"]),
            onDelivery: { collected.add($0) })
        for (i, event) in events.enumerated() {
            try producer.send(OutgoingRecord(topic: topic, key: event.key, value: event.value), token: UInt64(i + 1))
        }
        #expect(producer.flush(timeout: .seconds(60)))
        producer.close()
        let reports = collected.reports
        #expect(reports.count == events.count)
        return reports.map { report in
            #expect(report.error == nil)
            return Written(partition: report.partition, offset: report.offset, event: events[Int(report.token) - 1])
        }
    }

    private final class Collected: @unchecked Sendable {
        // Test helper: guarded by `lock`.
        private let lock = NSLock()
        private var list: [DeliveryReport] = []
        func add(_ r: DeliveryReport) { lock.withLock { list.append(r) } }
        var reports: [DeliveryReport] { lock.withLock { list } }
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(60), _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return try condition()
}

extension KafkaRecord {
    /// A header's text value.
    func text(_ name: String) -> String? { header(name)?.text }

    /// The source partition and offset an output or dead letter names in its headers.
    var source: (partition: Int32, offset: Int64)? {
        guard let p = text(Header.sourcePartition).flatMap(Int32.init),
              let o = text(Header.sourceOffset).flatMap(Int64.init) else { return nil }
        return (p, o)
    }

    /// The output value parsed as JSON.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(value))) as? [String: Any] ?? [:]
    }
}
