import Features
import KafkaBridge

/// Builds the dead-letter record for an event that could not be scored.
///
/// The value is the original bytes, unchanged; the key is the input key; headers say why
/// (`streamscore.error.reason`, `.field`, `.message`) and where it came from
/// (`streamscore.source.topic`, `.partition`, `.offset`, `.timestamp`).
enum DeadLetter {
    static func make(input: KafkaRecord, reason: String, field: String?, message: String, topic: String) -> OutgoingRecord {
        var headers = [KafkaHeader(Header.errorReason, reason)]
        if let field { headers.append(KafkaHeader(Header.errorField, field)) }
        headers.append(KafkaHeader(Header.errorMessage, message))
        var source = SourceHeaders()
        headers += source.of(input)
        return OutgoingRecord(topic: topic, key: input.key, value: input.value, headers: headers)
    }

    static func make(input: KafkaRecord, error: FeatureError, topic: String) -> OutgoingRecord {
        make(input: input, reason: error.reason, field: error.field, message: error.description, topic: topic)
    }
}
