import Features
import Foundation
import KafkaBridge
@testable import Pipeline
import Testing

/// Dead letters: the original restorable, and always small enough to send.
@Suite("Dead letters")
struct DeadLetterTests {
    func input(value: [UInt8], key: [UInt8]? = Array("card-1".utf8), headers: [KafkaHeader] = [], tombstone: Bool = false) -> KafkaRecord {
        KafkaRecord(
            topic: "tx", partition: 3, offset: 42, timestamp: 1_700_000_000_123, key: key, value: value,
            headers: headers, isTombstone: tombstone)
    }

    @Test("The original's value, key, timestamp and headers are restorable; StreamScore's headers come first")
    func restorable() {
        let original = [KafkaHeader("traceparent", "00-abc-def-01"), KafkaHeader("streamscore.source.offset", "7")]
        var letters = DeadLetter(topic: "tx.dlq", messageMaxBytes: 1_000_000)
        let record = letters.make(input: input(value: Array("{bad".utf8), headers: original), error: .malformedJSON("x"))
        #expect(record.topic == "tx.dlq")
        #expect(record.value == Array("{bad".utf8))
        #expect(record.key == Array("card-1".utf8))
        #expect(record.timestamp == 1_700_000_000_123)
        #expect(!record.isTombstone)
        let count = record.headers.first { $0.name == Header.originalHeaders }.map(\.text)
        #expect(count == "2")
        #expect(Array(record.headers.suffix(2)) == original, "the original headers last, unchanged and in order")
        #expect(record.headers.first { $0.name == Header.sourceOffset }?.text == "42", "ours first: a first-match reader finds this stage's")
        #expect(!record.headers.contains { $0.name == Header.deadLetterTruncated })
    }

    @Test("A tombstone stays null, and its reason says so")
    func tombstone() {
        var letters = DeadLetter(topic: "tx.dlq", messageMaxBytes: 1_000_000)
        let record = letters.tombstone(input: input(value: [], tombstone: true))
        #expect(record.isTombstone)
        #expect(record.headers.first { $0.name == Header.errorReason }?.text == "tombstone")
    }

    @Test("An original too large to dead-letter whole is cut to fit, with its size and SHA-256", arguments: [1_000_000, 65_536, 2_000])
    func truncated(limit: Int) {
        let value = (0..<999_800).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var letters = DeadLetter(topic: "tx.dlq", messageMaxBytes: limit)
        let record = letters.make(input: input(value: value, headers: [KafkaHeader("h", "v")]), error: .tooLarge(size: 999_800, limit: 1_048_576))
        #expect(record.wireSize <= limit - DeadLetter.batchMargin)
        #expect(record.wireSize > limit - DeadLetter.batchMargin - 64, "as much of the value as fits")
        #expect(record.value == Array(value.prefix(record.value.count)))
        #expect(record.headers.first { $0.name == Header.originalValueSize }?.text == "999800")
        #expect(record.headers.first { $0.name == Header.originalValueSHA256 }?.text == SHA256.hex(value))
        #expect(record.headers.first { $0.name == Header.deadLetterTruncated }?.text == "value")
        #expect(record.headers.last == KafkaHeader("h", "v"), "the original headers are kept")
    }

    @Test("A key too large by itself is cut too, after the value and the headers")
    func hugeKey() {
        let key = [UInt8](repeating: 65, count: 5_000)
        var letters = DeadLetter(topic: "tx.dlq", messageMaxBytes: 4_096)
        let record = letters.make(input: input(value: [1, 2, 3], key: key, headers: [KafkaHeader("h", "v")]), error: .malformedJSON("x"))
        #expect(record.wireSize <= 4_096 - DeadLetter.batchMargin)
        #expect(record.headers.first { $0.name == Header.deadLetterTruncated }?.text == "value,headers,key")
        #expect(record.headers.first { $0.name == Header.originalKeySize }?.text == "5000")
        #expect(record.key.map { key.starts(with: $0) } == true)
    }
}

@Suite("SHA-256")
struct SHA256Tests {
    @Test("FIPS 180-4 vectors and a long input (checked with Python's hashlib)")
    func vectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // hashlib.sha256(bytes((i * 31) & 255 for i in range(999_800))).hexdigest()
        let long = (0..<999_800).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(SHA256.hex(long) == "29c6c9b607974bed9f3028a301d5d6ce7e79824354c894c359c6975e3970be76")
    }
}

@Suite("Consumer properties")
struct ConsumerPropertiesTests {
    @Test("kafka.instance_id becomes group.instance.id (static membership); the defaults bound a dead or wedged member")
    func staticMembership() {
        var c = PipelineConfiguration(
            bootstrapServers: "b:9092", groupID: "g", topics: .init(input: "i", output: "o", deadLetter: "d"), features: .numbers(["x"]))
        #expect(c.consumerConfig["group.instance.id"] == nil)
        #expect(c.consumerConfig["session.timeout.ms"] == "10000")
        #expect(c.consumerConfig["max.poll.interval.ms"] == "60000")
        c.instanceID = "scorer-0"
        #expect(c.consumerConfig["group.instance.id"] == "scorer-0")
        #expect(throws: Never.self) { try c.validateKafkaProperties() }
        #expect(c.producerMessageMaxBytes == 1_000_000, "librdkafka's default, read from librdkafka")
        c.producerProperties["message.max.bytes"] = "200000"
        #expect(c.producerMessageMaxBytes == 200_000)
    }
}
