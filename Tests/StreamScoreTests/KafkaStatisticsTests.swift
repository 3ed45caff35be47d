import KafkaBridge
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
