import Foundation
import KafkaBridge

/// Reads every partition of a topic from its low watermark to the end offsets snapshotted
/// when reading starts (records written later are not read), with an assigned consumer
/// that joins no group and commits nothing.
struct TopicSnapshotReader {
    var properties: [String: String]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Calls `each` with every record, in offset order per partition; `progress` about every
    /// 200 ms with (read, total).
    func read(
        _ topic: String, timeout: Duration = .seconds(30),
        progress: (Int64, Int64) -> Void = { _, _ in }, each: (KafkaRecord) -> Void
    ) throws -> Int64 {
        var config = properties
        config["group.id"] = "streamscore-compare"
        config["enable.auto.commit"] = "false"
        config["enable.partition.eof"] = "false"
        let consumer = try KafkaConsumer(config: KafkaConfig(config))
        defer { _ = consumer.close(timeout: .seconds(5)) }
        let count: Int
        do {
            count = try consumer.partitionCount(topic, timeout: .seconds(10))
        } catch {
            throw Failure(description: "'\(topic)': \(error)")
        }
        var starts: [TopicPartition: Int64] = [:]
        var ends: [TopicPartition: Int64] = [:]
        for p in 0..<Int32(count) {
            let tp = TopicPartition(topic, p)
            let (low, high) = try consumer.watermarks(tp, timeout: .seconds(10))
            if high > low {
                starts[tp] = low
                ends[tp] = high
            }
        }
        let total = ends.reduce(0) { $0 + $1.value - starts[$1.key]! }
        guard total > 0 else { return 0 }
        try consumer.assign(starts)
        var read: Int64 = 0
        var next = starts
        var lastProgress = ContinuousClock.now
        var lastRecord = ContinuousClock.now
        while next.contains(where: { $0.value < ends[$0.key]! }) {
            let batch = consumer.poll(maxRecords: 1000, timeout: .milliseconds(200))
            for record in batch {
                let tp = record.topicPartition
                guard let end = ends[tp], record.offset < end else { continue }
                next[tp] = record.offset + 1
                read += 1
                each(record)
            }
            if !batch.isEmpty {
                lastRecord = .now
            } else {
                // Transaction markers and compacted offsets carry no record: the consumer's
                // position passing the end is the end too.
                for (tp, position) in consumer.positions(Array(ends.keys)) where position > next[tp]! {
                    next[tp] = position
                }
                if ContinuousClock.now - lastRecord > timeout {
                    let behind = next.filter { $0.value < ends[$0.key]! }.map { "\($0.key) at \($0.value) of \(ends[$0.key]!)" }
                    throw Failure(description: "'\(topic)': no records for \(timeout) with partitions left to read (\(behind.sorted().joined(separator: ", ")))")
                }
            }
            if ContinuousClock.now - lastProgress >= .milliseconds(200) {
                lastProgress = .now
                progress(read, total)
            }
        }
        progress(read, total)
        return read
    }
}
