import Features
import KafkaBridge

/// Builds the output records for scored events, on the batcher thread.
///
/// Value, for a binary or regression model:
/// `{"id":…,"key":…,"score":…,"decision":"flag"|"pass","model":"name@version","cached":false}`;
/// for a multi-class model, the most probable class, its probability, and every class's:
/// `{"id":…,"key":…,"score":0.71,"class":"high","scores":{"low":0.09,"medium":0.2,"high":0.71},"model":…}`.
/// `cached` says whether the score came from the score cache. Key: the input key, unchanged;
/// headers: `streamscore.source.{topic,partition,offset,timestamp}`, `streamscore.model` and
/// `streamscore.cached`, then `topics.added_headers` (a backfill's `streamscore.backfill.run`),
/// then the input's headers named in `topics.forward_headers` (W3C
/// `traceparent` and `tracestate` by default, so trace context propagates), in input order.
///
/// Every record is written straight into one byte array, and the header values that repeat
/// (topic, partition, model, cached) are made once and shared, so a record costs a few
/// allocations rather than a dozen (`bench e2e`: the output stage was the worker's largest
/// after the broker's).
struct ScoredRecord {
    private let modelHeader: KafkaHeader
    private let modelJSON: [UInt8]
    private let cachedHeaders = (yes: KafkaHeader(Header.cached, "true"), no: KafkaHeader(Header.cached, "false"))
    private var source = SourceHeaders()
    /// Input headers copied to the output, by name.
    private let forwarded: Set<String>
    /// Added after StreamScore's own headers (`topics.addedHeaders`).
    private let added: [KafkaHeader]

    init(model: String, forwardHeaders: [String] = [], addedHeaders: [KafkaHeader] = []) {
        forwarded = Set(forwardHeaders)
        added = addedHeaders
        modelHeader = KafkaHeader(Header.model, model)
        var json: [UInt8] = []
        JSONWriter.appendString(model, to: &json)
        modelJSON = json
    }

    mutating func make(input: KafkaRecord, id: EventID?, score: Float, threshold: Float, cached: Bool, topic: String) -> OutgoingRecord {
        var json = opening(input, id: id)
        json += #","score":"#.utf8
        json += score.description.utf8
        json += (score >= threshold ? #","decision":"flag""# : #","decision":"pass""#).utf8
        return closing(&json, input: input, cached: cached, topic: topic)
    }

    mutating func make(
        input: KafkaRecord, id: EventID?, probabilities: ArraySlice<Float>, classes: [String], cached: Bool, topic: String
    ) -> OutgoingRecord {
        precondition(probabilities.count == classes.count && !classes.isEmpty, "one probability per class")
        let top = probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
        var json = opening(input, id: id)
        json += #","score":"#.utf8
        json += probabilities[top].description.utf8
        json += #","class":"#.utf8
        JSONWriter.appendString(classes[top - probabilities.startIndex], to: &json)
        json += #","scores":{"#.utf8
        for (i, (label, p)) in zip(classes, probabilities).enumerated() {
            if i > 0 { json.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(label, to: &json)
            json.append(UInt8(ascii: ":"))
            json += p.description.utf8
        }
        json.append(UInt8(ascii: "}"))
        return closing(&json, input: input, cached: cached, topic: topic)
    }

    /// The record passed on as it came, with its source headers (`pipeline.mode: passthrough`).
    mutating func passthrough(_ input: KafkaRecord, topic: String) -> OutgoingRecord {
        var headers = source.of(input, extra: added.count)
        headers += added
        forward(input, into: &headers)
        return OutgoingRecord(topic: topic, key: input.key, value: input.value, headers: headers, isTombstone: input.isTombstone)
    }

    private func forward(_ input: KafkaRecord, into headers: inout [KafkaHeader]) {
        guard !forwarded.isEmpty else { return }
        for header in input.headers where forwarded.contains(header.name) { headers.append(header) }
    }

    private func opening(_ input: KafkaRecord, id: EventID?) -> [UInt8] {
        var json: [UInt8] = []
        json.reserveCapacity(112 + (id?.range.count ?? 0) + (input.key?.count ?? 0) + modelJSON.count)
        json += #"{"id":"#.utf8
        if let id {
            // A string id's bytes are valid JSON string contents already (validated, escapes
            // kept); a number id is written as a string.
            json.append(UInt8(ascii: "\""))
            json += input.value[id.range]
            json.append(UInt8(ascii: "\""))
        } else {
            json += "null".utf8
        }
        json += #","key":"#.utf8
        if let key = input.key {
            JSONWriter.appendString(bytes: key, to: &json)
        } else {
            json += "null".utf8
        }
        return json
    }

    private mutating func closing(_ json: inout [UInt8], input: KafkaRecord, cached: Bool, topic: String) -> OutgoingRecord {
        json += #","model":"#.utf8
        json += modelJSON
        json += (cached ? #","cached":true}"# : #","cached":false}"#).utf8
        var headers = source.of(input, extra: 2 + added.count)
        headers.append(modelHeader)
        headers.append(cached ? cachedHeaders.yes : cachedHeaders.no)
        headers += added
        forward(input, into: &headers)
        return OutgoingRecord(topic: topic, key: input.key, value: json, headers: headers)
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
    /// A backfill's run id, on each of its outputs and dead letters.
    public static let backfillRun = "streamscore.backfill.run"
    public static let errorReason = "streamscore.error.reason"
    public static let errorField = "streamscore.error.field"
    public static let errorMessage = "streamscore.error.message"
    /// Dead letters: how many of the original's headers follow StreamScore's (the last N).
    public static let originalHeaders = "streamscore.original.headers"
    /// Dead letters sent truncated: the original value's size and SHA-256 (hex), the
    /// original key's size, and what was cut (`value`, or `value,headers,key`).
    public static let originalValueSize = "streamscore.original.value_size"
    public static let originalValueSHA256 = "streamscore.original.value_sha256"
    public static let originalKeySize = "streamscore.original.key_size"
    public static let deadLetterTruncated = "streamscore.dead_letter.truncated"
}

/// The `streamscore.source.*` headers of an output or dead letter. The topic's and the
/// partition's values are made once and shared (arrays are copied on write only).
struct SourceHeaders {
    private var topic: (name: String, header: KafkaHeader)?
    private var partitions: [KafkaHeader?] = []

    mutating func of(_ input: KafkaRecord, extra: Int = 0) -> [KafkaHeader] {
        var headers: [KafkaHeader] = []
        headers.reserveCapacity(4 + extra)
        if topic?.name != input.topic { topic = (input.topic, KafkaHeader(Header.sourceTopic, input.topic)) }
        headers.append(topic!.header)
        let p = Int(input.partition)
        if p >= 0 && p < 65536 {
            if p >= partitions.count { partitions += Array(repeating: nil, count: p + 1 - partitions.count) }
            if partitions[p] == nil { partitions[p] = KafkaHeader(name: Header.sourcePartition, value: Self.decimal(Int64(p))) }
            headers.append(partitions[p]!)
        } else {
            headers.append(KafkaHeader(name: Header.sourcePartition, value: Self.decimal(Int64(p))))
        }
        headers.append(KafkaHeader(name: Header.sourceOffset, value: Self.decimal(input.offset)))
        headers.append(KafkaHeader(name: Header.sourceTimestamp, value: Self.decimal(input.timestamp)))
        return headers
    }

    /// `n` in decimal ASCII.
    static func decimal(_ n: Int64) -> [UInt8] {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var v = n.magnitude, i = 20
            repeat {
                i -= 1
                digits[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            } while v > 0
            if n < 0 {
                i -= 1
                digits[i] = UInt8(ascii: "-")
            }
            return Array(digits[i...])
        }
    }
}

/// Minimal JSON text output for the records StreamScore writes.
enum JSONWriter {
    /// Appends `s` as a JSON string literal (quotes, backslash and control characters escaped).
    static func appendString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendString(bytes: $0, to: &out) }
    }

    /// Appends UTF-8 bytes as a JSON string literal; invalid UTF-8 is replaced (U+FFFD), as
    /// `String(decoding:as:)` does.
    static func appendString<Bytes: Collection<UInt8>>(bytes: Bytes, to out: inout [UInt8]) {
        // Fast path: printable ASCII with nothing to escape, copied as it is.
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x80 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            out.append(UInt8(ascii: "\""))
            out += bytes
            out.append(UInt8(ascii: "\""))
            return
        }
        out.append(UInt8(ascii: "\""))
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            switch scalar {
            case "\"": out += #"\""#.utf8
            case "\\": out += #"\\"#.utf8
            case "\n": out += #"\n"#.utf8
            case "\r": out += #"\r"#.utf8
            case "\t": out += #"\t"#.utf8
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8
            default: out += String(scalar).utf8
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
