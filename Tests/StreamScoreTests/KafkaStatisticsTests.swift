import KafkaBridge
@testable import Pipeline
import Testing

/// librdkafka's statistics JSON to the consumer lag (`streamscore_consumer_lag`).
@Suite("Kafka statistics")
struct KafkaStatisticsTests {
    /// Trimmed from a real document of librdkafka 2.0.2 (STATISTICS.md's fields).
    static let document = #"""
    {"name":"rdkafka#consumer-1","type":"consumer","msg_cnt":0,
     "topics":{"transactions":{"topic":"transactions","partitions":{
       "0":{"partition":0,"fetch_state":"active","hi_offset":1200,"ls_offset":1200,"stored_offset":1150,"committed_offset":1000,"consumer_lag":200,"consumer_lag_stored":50},
       "1":{"partition":1,"fetch_state":"active","hi_offset":800,"ls_offset":800,"stored_offset":-1001,"committed_offset":700,"consumer_lag":100,"consumer_lag_stored":-1},
       "2":{"partition":2,"fetch_state":"offset-query","hi_offset":-1001,"consumer_lag":-1,"consumer_lag_stored":-1},
       "-1":{"partition":-1,"fetch_state":"none","consumer_lag":-1,"consumer_lag_stored":-1}}}}}
    """#

    @Test("lag from the stored offset, else the committed one; unknown stays unknown; the internal partition -1 is left out")
    func parse() throws {
        let statistics = try #require(KafkaStatistics.parse(Self.document))
        #expect(statistics.partitions.count == 3)
        #expect(statistics.partitions[TopicPartition("transactions", 0)]?.lag == 50)
        #expect(statistics.partitions[TopicPartition("transactions", 1)]?.lag == 100)
        #expect(statistics.partitions[TopicPartition("transactions", 2)] != nil)
        #expect(statistics.partitions[TopicPartition("transactions", 2)]?.lag == nil)
    }

    @Test("anything else is no statistics")
    func garbage() {
        #expect(KafkaStatistics.parse("not json") == nil)
        #expect(KafkaStatistics.parse("[1,2]") == nil)
        #expect(KafkaStatistics.parse("{}")?.partitions.isEmpty == true)
    }
}

/// The per-record histograms a scrape writes by hand (event age, scores).
@Suite("Histogram snapshots")
struct HistogramSnapshotTests {
    @Test("event ages: cumulative buckets, exact count and sum, ages over an hour only in +Inf")
    func eventAge() {
        let stats = PipelineStats()
        for ms: Int64 in [1, 2, 2, 40, 900, 7_200_000] { stats.recordLatency(milliseconds: ms) }
        let age = stats.histogramSnapshots()[0]
        #expect(age.name == "streamscore_event_age_seconds")
        func count(le bound: Double) -> UInt64? { age.bounds.firstIndex(of: bound).map { age.cumulativeCounts[$0] } }
        #expect(count(le: 0.001) == 1 && count(le: 0.0025) == 3 && count(le: 0.05) == 4 && count(le: 1) == 5)
        #expect(count(le: 3600) == 5, "two hours is over every finite bound")
        #expect(age.count == 6)
        #expect(abs(age.sum - (0.001 + 0.004 + 0.04 + 0.9 + 7200)) < 1e-9)
        stats.resetLatency()
        #expect(stats.histogramSnapshots()[0].count == 6, "a counter never goes back: the demo's reset leaves it")
    }

    @Test("scores: a batch's counts merge once, into cumulative buckets")
    func scores() {
        let stats = PipelineStats()
        var batch = ScoreCounts()
        for s: Float in [0.01, 0.05, 0.5, 0.97, 1.5] { batch.add(s) }
        stats.mergeScores(&batch)
        #expect(batch.isEmpty)
        let h = stats.histogramSnapshots()[1]
        func count(le bound: Double) -> UInt64? { h.bounds.firstIndex(of: bound).map { h.cumulativeCounts[$0] } }
        #expect(count(le: 0.05) == 2 && count(le: 0.5) == 3 && count(le: 0.99) == 4 && count(le: 1) == 4)
        #expect(h.count == 5 && abs(h.sum - 3.03) < 1e-6)
    }
}
