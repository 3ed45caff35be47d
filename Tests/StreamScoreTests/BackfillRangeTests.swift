import Foundation
import KafkaBridge
import Pipeline
import Testing
import Workload

/// Backfill bounds (`--from`, `--to`, `--partitions`) and their resolution to offsets.
@Suite("Backfill range")
struct BackfillRangeTests {
    @Test("Bounds parse as kcat and rpk write them", arguments: [
        ("beginning", OffsetBound.beginning),
        ("end", .end),
        ("1200", .offset(1200)),
        ("0:1200,3:900", .offsets([0: 1200, 3: 900])),
        ("2026-11-28T00:00:00Z", .time(1_795_824_000_000)),
        ("2026-11-28T01:30:00+01:30", .time(1_795_824_000_000)),
        ("@1732752000000", .time(1_732_752_000_000)),
        ("-2h", .ago(.seconds(7200))),
        ("-30m", .ago(.seconds(1800))),
        ("-7d", .ago(.seconds(604_800))),
        ("-90s", .ago(.seconds(90))),
    ])
    func parses(_ text: String, _ expected: OffsetBound) throws {
        #expect(try OffsetBound(parsing: text, argument: "--from") == expected)
    }

    @Test("A bad bound is refused naming the argument and the value", arguments: ["tomorrow", "-5", "-2w", "@x", "0:1,0:2", "1:", "2026-13-01T00:00:00Z", ""])
    func refuses(_ text: String) {
        #expect {
            try OffsetBound(parsing: text, argument: "--to")
        } throws: { error in
            let e = error as! OffsetBound.ParseError
            return e.argument == "--to" && e.description.hasPrefix("--to: '\(text)'")
        }
    }

    @Test("Partition lists: single partitions and ranges")
    func partitionLists() throws {
        #expect(try BackfillRange.partitions(parsing: "0,3-5") == [0, 3, 4, 5])
        #expect(try BackfillRange.partitions(parsing: "2,1,2") == [1, 2])
        for bad in ["", "a", "5-3", "-1", "1-"] {
            #expect(throws: BackfillRange.ResolveError.self) { try BackfillRange.partitions(parsing: bad) }
        }
    }

    /// A topic of three partitions with records at known times: partition p holds offsets
    /// `low..<high`, offset o written at `1000 × o` ms.
    struct Table: BackfillRange.Cluster {
        var marks: [Int32: (low: Int64, high: Int64)] = [0: (0, 100), 1: (10, 50), 2: (0, 0)]
        /// false: the lookup fails; nil: it answers "no record that late" to every time, as
        /// librdkafka's mock cluster does.
        var timesWork: Bool? = true

        func partitionCount(_ topic: String) throws(KafkaError) -> Int { marks.count }
        func watermarks(_ tp: TopicPartition) throws(KafkaError) -> (low: Int64, high: Int64) { marks[tp.partition]! }
        func offsets(forTimes times: [TopicPartition: Int64]) throws(KafkaError) -> [TopicPartition: Int64?] {
            guard let timesWork else { return times.mapValues { _ in nil } }
            guard timesWork else { throw KafkaError(code: -167, message: "unsupported") }
            return Dictionary(uniqueKeysWithValues: times.map { tp, ms -> (TopicPartition, Int64?) in
                let (low, high) = marks[tp.partition]!
                let first = max(low, (ms + 999) / 1000)
                return (tp, first < high ? first : nil)
            })
        }
    }

    static func resolve(_ from: String, _ to: String, partitions: [Int32]? = nil, cluster: Table = Table()) throws -> [Int32: Range<Int64>] {
        let range = try BackfillRange.resolve(
            topic: "tx", partitions: partitions, from: OffsetBound(parsing: from, argument: "--from"),
            to: OffsetBound(parsing: to, argument: "--to"), cluster: cluster, now: 1_000_000)
        return Dictionary(uniqueKeysWithValues: range.partitions.map { ($0.partition, $0.from..<$0.to) })
    }

    @Test("Offsets resolve per partition, clamped to what each holds; a partition not listed takes beginning or end")
    func offsets() throws {
        #expect(try Self.resolve("beginning", "end") == [0: 0..<100, 1: 10..<50, 2: 0..<0])
        #expect(try Self.resolve("20", "60") == [0: 20..<60, 1: 20..<50, 2: 0..<0])
        #expect(try Self.resolve("0:5", "1:30", partitions: [0, 1]) == [0: 5..<100, 1: 10..<30])
        #expect(try Self.resolve("beginning", "end", partitions: [1]) == [1: 10..<50])
    }

    @Test("A time resolves to the first record at or after it; none that late: an empty range, not from 0")
    func times() throws {
        // Partition 0 has records at 0…99 s, partition 1 at 10…49 s.
        #expect(try Self.resolve("@30000", "@60000") == [0: 30..<60, 1: 30..<50, 2: 0..<0])
        #expect(try Self.resolve("@70000", "end") == [0: 70..<100, 1: 50..<50, 2: 0..<0])
        // now = 1,000,000 ms: -950s is 50 s.
        #expect(try Self.resolve("-950s", "end", partitions: [0]) == [0: 50..<100])
    }

    @Test("Bad ranges name the argument: --to before --from, an unknown partition, a start in the future, a time on a cluster that cannot look one up")
    func badRanges() {
        func argument(_ from: String, _ to: String, partitions: [Int32]? = nil, cluster: Table = Table()) -> String? {
            do {
                _ = try Self.resolve(from, to, partitions: partitions, cluster: cluster)
                return nil
            } catch let error as BackfillRange.ResolveError {
                return error.argument
            } catch {
                return "\(error)"
            }
        }
        #expect(argument("60", "20") == "--to")
        #expect(argument("@60000", "@20000") == "--to")
        #expect(argument("beginning", "end", partitions: [7]) == "--partitions")
        #expect(argument("5:1", "end", partitions: [0]) == "--from")
        #expect(argument("@2000000", "end") == "--from")
        var noTimes = Table()
        noTimes.timesWork = false
        #expect(argument("-1h", "end", cluster: noTimes) == "--from")
        #expect(argument("beginning", "end", cluster: noTimes) == nil, "offsets need no time lookup")
        var mockLike = Table()
        mockLike.timesWork = nil
        #expect(argument("-1h", "end", cluster: mockLike) == "--from", "a cluster that finds no record for any time is refused, not read as empty")
        #expect(argument("beginning", "@900000", cluster: mockLike) == "--to")
    }

    /// A mock cluster with one topic of `partitions` holding `events` generated events, and
    /// each partition's end offset.
    static func history(partitions: Int, events: Int, seed: UInt64) throws -> (cluster: MockCluster, topic: String, ends: [Int32: Int64]) {
        let cluster = try MockCluster(brokers: 1)
        let topic = uniqueName("history")
        try cluster.createTopic(topic, partitions: partitions)
        let written = try EventWriter(bootstrap: cluster.bootstrapServers).write(events, to: topic, generator: TransactionGenerator(seed: seed))
        return (cluster, topic, Dictionary(grouping: written, by: \.partition).mapValues { Int64($0.count) })
    }

    @Test("On the mock cluster: offset bounds resolve against the real end offsets, snapshotted; a time lookup is refused with the reason")
    func mockCluster() throws {
        let (cluster, topic, ends) = try Self.history(partitions: 4, events: 400, seed: 3)
        let consumer = try KafkaConsumer(config: KafkaConfig(["bootstrap.servers": cluster.bootstrapServers, "group.id": uniqueName("backfill"), "log_level": "3"]))
        defer { consumer.close() }
        let range = try BackfillRange.resolve(topic: topic, partitions: nil, from: .offset(10), to: .end, cluster: consumer, now: 0)
        #expect(range.partitions.map(\.partition) == [0, 1, 2, 3])
        for p in range.partitions { #expect(p.from == min(10, ends[p.partition] ?? 0) && p.to == (ends[p.partition] ?? 0)) }
        #expect(range.total == 400 - range.partitions.reduce(0) { $0 + min(10, $1.to) })
        // Records written after the snapshot are not part of it.
        _ = try EventWriter(bootstrap: cluster.bootstrapServers).write(40, to: topic, generator: TransactionGenerator(seed: 4))
        #expect(range.total == 400 - range.partitions.reduce(0) { $0 + min(10, $1.to) })
        #expect {
            try BackfillRange.resolve(topic: topic, partitions: nil, from: .ago(.seconds(3600)), to: .end, cluster: consumer, now: Int64(Date().timeIntervalSince1970 * 1000))
        } throws: { error in
            let e = error as! BackfillRange.ResolveError
            return e.argument == "--from" && e.reason.contains("cannot look up offsets by time")
        }
    }
}
