import Features
import KafkaBridge

/// Builds the dead-letter record for an event that could not be scored.
///
/// The original is restorable from it: the value (null for a tombstone), the key, the
/// timestamp and the headers, unchanged. StreamScore's headers come first — why
/// (`streamscore.error.reason`, `.field`, `.message`), where it came from
/// (`streamscore.source.topic`, `.partition`, `.offset`, `.timestamp`), the added headers
/// (`topics.addedHeaders`) and `streamscore.original.headers`, N — and the original's N
/// headers follow, in order.
///
/// A dead letter always fits the producer's `message.max.bytes` (`limit`): when the
/// original does not, the value is cut to what fits, and the headers
/// `streamscore.original.value_size` and `.value_sha256` describe the whole original
/// (`streamscore.dead_letter.truncated` says what was cut: `value`, or for an original
/// whose key or headers alone are too large, `value,headers,key`).
struct DeadLetter {
    /// The producer's `message.max.bytes`, as librdkafka holds it.
    let messageMaxBytes: Int
    /// The largest record sent: `messageMaxBytes` less room for the batch's own framing.
    let limit: Int
    let topic: String
    /// Added after StreamScore's own headers, before the original's (`topics.addedHeaders`).
    let added: [KafkaHeader]
    private var source = SourceHeaders()

    /// Bytes kept free below `message.max.bytes` for the record batch header (61 bytes)
    /// that a batch of one record adds on the wire.
    static let batchMargin = 128

    init(topic: String, messageMaxBytes: Int, addedHeaders: [KafkaHeader] = []) {
        self.topic = topic
        self.added = addedHeaders
        self.messageMaxBytes = messageMaxBytes
        self.limit = Self.limit(messageMaxBytes: messageMaxBytes)
    }

    /// The largest dead letter (or output) sent under a producer's `message.max.bytes`.
    static func limit(messageMaxBytes: Int) -> Int {
        max(1024, messageMaxBytes - batchMargin)
    }

    mutating func make(input: KafkaRecord, reason: String, field: String?, message: String) -> OutgoingRecord {
        var headers = [KafkaHeader(Header.errorReason, reason)]
        if let field { headers.append(KafkaHeader(Header.errorField, field)) }
        headers.append(KafkaHeader(Header.errorMessage, message))
        headers += source.of(input)
        headers += added
        headers.append(KafkaHeader(name: Header.originalHeaders, value: SourceHeaders.decimal(Int64(input.headers.count))))
        var record = OutgoingRecord(
            topic: topic, key: input.key, value: input.value, headers: headers + input.headers,
            timestamp: input.timestamp >= 0 ? input.timestamp : nil, isTombstone: input.isTombstone)
        if record.wireSize > limit { truncate(&record, input: input, ownHeaders: headers) }
        return record
    }

    mutating func make(input: KafkaRecord, error: FeatureError) -> OutgoingRecord {
        make(input: input, reason: error.reason, field: error.field, message: error.description)
    }

    /// A tombstone (null value) cannot be scored: it is dead-lettered as one.
    mutating func tombstone(input: KafkaRecord) -> OutgoingRecord {
        make(input: input, reason: "tombstone", field: nil, message: "the record is a tombstone (null value): nothing to score")
    }

    /// Cuts the value (and, only when the key or headers alone do not fit, the original
    /// headers and the key) so the record fits `limit`, and says so in headers.
    private func truncate(_ record: inout OutgoingRecord, input: KafkaRecord, ownHeaders: [KafkaHeader]) {
        var headers = ownHeaders
        headers.append(KafkaHeader(name: Header.originalValueSize, value: SourceHeaders.decimal(Int64(input.value.count))))
        headers.append(KafkaHeader(Header.originalValueSHA256, SHA256.hex(input.value)))
        var cut = KafkaHeader(Header.deadLetterTruncated, "value")
        record.value = []
        record.headers = headers + [cut] + input.headers
        if record.wireSize > limit {
            // The key or the original headers are too large themselves: keep their sizes.
            cut = KafkaHeader(Header.deadLetterTruncated, "value,headers,key")
            headers.append(KafkaHeader(name: Header.originalKeySize, value: SourceHeaders.decimal(Int64(input.key?.count ?? 0))))
            record.headers = headers + [cut]
            let room = max(0, limit - record.wireSize)
            if let key = input.key { record.key = Array(key.prefix(room)) }
        }
        let room = max(0, limit - record.wireSize)
        record.value = Array(input.value.prefix(room))
    }
}
