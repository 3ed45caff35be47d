@testable import Features
import Foundation
import KafkaBridge
import Testing
@testable import Pipeline

/// The output record, byte for byte: the encoder writes JSON straight into bytes, so its
/// escaping is checked against a JSON parser.
@Suite("Output records")
struct ScoredRecordTests {
    func input(key: [UInt8]?, value: String = #"{"id":"tx-1","amount":3}"#, partition: Int32 = 3, offset: Int64 = 1234567890123) -> KafkaRecord {
        KafkaRecord(topic: "in", partition: partition, offset: offset, timestamp: 1_700_000_000_123, key: key, value: Array(value.utf8))
    }

    @Test("A scored record: exact JSON, source, model and cached headers")
    func exact() throws {
        var encoder = ScoredRecord(model: "fraud@2")
        let record = input(key: Array("card-1".utf8))
        let id = EventID(range: 7..<11, isNumber: false, hasEscapes: false)
        let out = encoder.make(input: record, id: id, score: 0.75, threshold: 0.5, cached: true, topic: "scores")
        #expect(String(decoding: out.value, as: UTF8.self)
            == #"{"id":"tx-1","key":"card-1","score":0.75,"decision":"flag","model":"fraud@2","cached":true}"#)
        #expect(out.topic == "scores" && out.key == record.key)
        #expect(out.headers.map(\.name) == [Header.sourceTopic, Header.sourcePartition, Header.sourceOffset, Header.sourceTimestamp, Header.model, Header.cached])
        #expect(out.headers.map(\.text) == ["in", "3", "1234567890123", "1700000000123", "fraud@2", "true"])
        let second = encoder.make(input: input(key: nil, partition: 70, offset: 0), id: nil, score: 0.25, threshold: 0.5, cached: false, topic: "scores")
        #expect(String(decoding: second.value, as: UTF8.self)
            == #"{"id":null,"key":null,"score":0.25,"decision":"pass","model":"fraud@2","cached":false}"#)
        #expect(second.headers.map(\.text) == ["in", "70", "0", "1700000000123", "fraud@2", "false"])
    }

    @Test("Keys that need escaping, non-ASCII and invalid UTF-8 come out as valid JSON of the key's text")
    func escaping() throws {
        var encoder = ScoredRecord(model: "m\"odel\\1")
        for key: [UInt8] in [Array("q\"uo\\te\n\t\u{1}".utf8), Array("café ✓".utf8), [0x61, 0xFF, 0x62], []] {
            let out = encoder.make(input: input(key: key), id: nil, score: 1e-7, threshold: 0.5, cached: false, topic: "scores")
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(out.value)) as? [String: Any], "\(String(decoding: out.value, as: UTF8.self))")
            #expect(parsed["key"] as? String == String(decoding: key, as: UTF8.self))
            #expect(parsed["model"] as? String == "m\"odel\\1")
            #expect((parsed["score"] as? Double).map { abs($0 - 1e-7) < 1e-12 } == true)
        }
    }

    @Test("Decimal header values, negative and extreme")
    func decimals() {
        for n: Int64 in [0, 7, -1, 1_000_000, .max, .min + 1] {
            #expect(String(decoding: SourceHeaders.decimal(n), as: UTF8.self) == String(n))
        }
    }
}
