import Features
import KafkaBridge

/// Builds the output record for a scored event.
///
/// Value, for a binary or regression model:
/// `{"id":…,"key":…,"score":…,"decision":"flag"|"pass","model":"name@version","cached":false}`;
/// for a multi-class model, the most probable class, its probability, and every class's:
/// `{"id":…,"key":…,"score":0.71,"class":"high","scores":{"low":0.09,"medium":0.2,"high":0.71},"model":…}`.
/// `cached` says whether the score came from the score cache. Key: the input key, unchanged;
/// headers: `streamscore.source.{topic,partition,offset,timestamp}`, `streamscore.model` and
/// `streamscore.cached`.
enum ScoredRecord {
    static func make(
        input: KafkaRecord, id: EventID?, score: Float, threshold: Float, model: String, cached: Bool, topic: String
    ) -> OutgoingRecord {
        var json = opening(input, id: id)
        json += ",\"score\":\(score),\"decision\":\"\(score >= threshold ? "flag" : "pass")\""
        return closing(json, input: input, model: model, cached: cached, topic: topic)
    }

    static func make(
        input: KafkaRecord, id: EventID?, probabilities: ArraySlice<Float>, classes: [String], model: String, cached: Bool,
        topic: String
    ) -> OutgoingRecord {
        precondition(probabilities.count == classes.count && !classes.isEmpty, "one probability per class")
        let top = probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
        var json = opening(input, id: id)
        json += ",\"score\":\(probabilities[top]),\"class\":"
        JSONWriter.appendString(classes[top - probabilities.startIndex], to: &json)
        json += ",\"scores\":{"
        for (i, (label, p)) in zip(classes, probabilities).enumerated() {
            if i > 0 { json += "," }
            JSONWriter.appendString(label, to: &json)
            json += ":\(p)"
        }
        json += "}"
        return closing(json, input: input, model: model, cached: cached, topic: topic)
    }

    private static func opening(_ input: KafkaRecord, id: EventID?) -> String {
        var json = "{\"id\":"
        if let id {
            // A string id's bytes are valid JSON string contents already (validated, escapes
            // kept); a number id is written as a string, as before.
            json += "\""
            json += String(decoding: input.value[id.range], as: UTF8.self)
            json += "\""
        } else {
            json += "null"
        }
        json += ",\"key\":"
        if let key = input.key {
            JSONWriter.appendString(String(decoding: key, as: UTF8.self), to: &json)
        } else {
            json += "null"
        }
        return json
    }

    private static func closing(_ body: String, input: KafkaRecord, model: String, cached: Bool, topic: String) -> OutgoingRecord {
        var json = body
        json += ",\"model\":"
        JSONWriter.appendString(model, to: &json)
        json += cached ? ",\"cached\":true}" : ",\"cached\":false}"
        var headers = SourceHeaders.of(input)
        headers.append(KafkaHeader(Header.model, model))
        headers.append(KafkaHeader(Header.cached, cached ? "true" : "false"))
        return OutgoingRecord(topic: topic, key: input.key, value: Array(json.utf8), headers: headers)
    }
}

/// Header names StreamScore writes (its lineage contract with downstream readers).
public enum Header {
    public static let sourceTopic = "streamscore.source.topic"
    public static let sourcePartition = "streamscore.source.partition"
    public static let sourceOffset = "streamscore.source.offset"
    public static let sourceTimestamp = "streamscore.source.timestamp"
    public static let model = "streamscore.model"
    public static let cached = "streamscore.cached"
    public static let errorReason = "streamscore.error.reason"
    public static let errorField = "streamscore.error.field"
    public static let errorMessage = "streamscore.error.message"
}

enum SourceHeaders {
    static func of(_ input: KafkaRecord) -> [KafkaHeader] {
        [
            KafkaHeader(Header.sourceTopic, input.topic),
            KafkaHeader(Header.sourcePartition, String(input.partition)),
            KafkaHeader(Header.sourceOffset, String(input.offset)),
            KafkaHeader(Header.sourceTimestamp, String(input.timestamp)),
        ]
    }
}

/// Minimal JSON text output for the records StreamScore writes.
enum JSONWriter {
    /// Appends `s` as a JSON string literal (quotes, backslash and control characters escaped).
    static func appendString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
