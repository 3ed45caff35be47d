#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an event's id lies in its bytes: copied into output records without decoding.
public struct EventID: Sendable, Equatable {
    /// The id's bytes within the event (a string's contents between the quotes, escapes
    /// unresolved, or a number's digits).
    public var range: Range<Int>
    public var isNumber: Bool
    public var hasEscapes: Bool

    /// The id as text, escapes resolved.
    public func text(in event: UnsafeRawBufferPointer) -> String {
        JSONText.text(UnsafeRawBufferPointer(rebasing: event[range]), escaped: hasEscapes)
    }

    public func text(in event: [UInt8]) -> String {
        event.withUnsafeBytes { text(in: $0) }
    }
}

extension EventDecoder {
    /// Per-thread working memory for `decode`: one recorded value per trie slot. Make one
    /// per decoding thread and reuse it, so decoding allocates nothing.
    public struct Scratch {
        var found: [JSONScanner.Value?]
        /// After a successful `decode` with `keyFields`: the values of those fields (their
        /// raw JSON text, 0x1F between them), or nil when one is missing or not a scalar.
        /// Valid until the next `decode`.
        public var key: [UInt8]? { hasKey ? keyBytes : nil }
        var keyBytes: [UInt8] = []
        var hasKey = false

        public init(for decoder: EventDecoder) {
            found = Array(repeating: nil, count: max(1, decoder.trie.slotCount))
            keyBytes.reserveCapacity(256)
        }
    }

    /// Decodes `bytes` into `row` (`inputCount` floats).
    ///
    /// - Returns: where the event's id is (nil when the spec has no id field), or the
    ///   reason the event is a dead letter. `row` is unspecified on failure.
    public func decode(
        _ bytes: UnsafeRawBufferPointer, into row: UnsafeMutableBufferPointer<Float>, scratch: inout Scratch
    ) -> Result<EventID?, FeatureError> {
        precondition(row.count >= inputCount, "row buffer too small")
        guard bytes.count <= spec.maxEventBytes else { return .failure(.tooLarge(size: bytes.count, limit: spec.maxEventBytes)) }
        scratch.hasKey = false
        if spec.format == .f32le { return decodeFloats(bytes, into: row) }
        let result: Result<EventID?, FeatureError> = scratch.found.withUnsafeMutableBufferPointer { found in
            trie.nodes.withUnsafeBufferPointer { nodes in
                trie.keyBytes.withUnsafeBufferPointer { keys in
                    var scanner = JSONScanner(
                        bytes, maxDepth: spec.maxDepth, nodes: nodes, keys: keys, found: found.baseAddress!, slotCount: trie.slotCount)
                    do throws(JSONScanner.Failure) {
                        try scanner.scanDocument()
                    } catch {
                        return .failure(.malformedJSON("\(error.message) at byte \(error.offset)"))
                    }
                    return convert(found.baseAddress!, event: bytes, into: row.baseAddress!)
                }
            }
        }
        if case .success = result, !keySlots.isEmpty { buildKey(&scratch) }
        return result
    }

    /// The cache key: each key field's raw JSON text (strings without their quotes), with
    /// 0x1F between them; none when a key field is missing, null or a container.
    private func buildKey(_ scratch: inout Scratch) {
        scratch.keyBytes.removeAll(keepingCapacity: true)
        for (k, slot) in keySlots.enumerated() {
            guard let value = scratch.found[slot] else { return }
            switch value.kind {
            case .string, .number, .literalTrue, .literalFalse: break
            case .null, .object, .array: return
            }
            if k > 0 { scratch.keyBytes.append(0x1F) }
            scratch.keyBytes.append(contentsOf: value.bytes)
        }
        scratch.hasKey = true
    }

    /// Convenience for tests and tools (allocates its scratch and row).
    public func decode(_ bytes: [UInt8]) -> Result<(id: String?, row: [Float]), FeatureError> {
        var row = [Float](repeating: 0, count: inputCount)
        var scratch = Scratch(for: self)
        return bytes.withUnsafeBytes { raw in
            row.withUnsafeMutableBufferPointer { decode(raw, into: $0, scratch: &scratch) }
                .map { id in (id: id?.text(in: raw), row: row) }
        }
    }

    private func decodeFloats(_ bytes: UnsafeRawBufferPointer, into row: UnsafeMutableBufferPointer<Float>) -> Result<EventID?, FeatureError> {
        guard bytes.count == inputCount * 4 else { return .failure(.badRowLength(size: bytes.count, expected: inputCount * 4)) }
        for k in 0..<inputCount {
            let value = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self)))
            guard value.isFinite || value.isNaN else { return .failure(.nonFinite(field: "[\(k)]")) }
            row[k] = value
        }
        return .success(nil)
    }

    /// Turns the recorded values into the row, step by step.
    private func convert(
        _ found: UnsafeMutablePointer<JSONScanner.Value?>, event: UnsafeRawBufferPointer, into row: UnsafeMutablePointer<Float>
    ) -> Result<EventID?, FeatureError> {
        let failure: FeatureError? = steps.withUnsafeBufferPointer { steps in
            words.withUnsafeBufferPointer { words in
                wordBytes.withUnsafeBytes { wordBytes in
                    let vocabulary = Vocabulary(words: words, bytes: wordBytes)
                    for k in steps.indices {
                        let step = steps[k]
                        if let error = apply(step, found[step.slot], vocabulary, into: row + step.offset) { return error }
                    }
                    return nil
                }
            }
        }
        if let failure { return .failure(failure) }
        guard let idSlot else { return .success(nil) }
        guard let id = found[idSlot], id.kind != .null else { return .failure(.missingField(spec.idField!)) }
        guard id.kind == .string || id.kind == .number else {
            return .failure(.wrongType(field: spec.idField!, expected: "a string or a number"))
        }
        let start = id.bytes.baseAddress! - event.baseAddress!
        return .success(EventID(range: start..<(start + id.bytes.count), isNumber: id.kind == .number, hasEscapes: id.hasEscapes))
    }

    /// The words of one-hot vocabularies and default categories, for one `decode` call.
    struct Vocabulary {
        let words: UnsafeBufferPointer<Range<Int>>
        let bytes: UnsafeRawBufferPointer
        func word(_ k: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[words[k]]) }
    }

    /// The field name of a step, for errors.
    private func field(_ step: Step) -> String { spec.inputs[step.input].field }

    /// One entry: its value (nil: missing) into `out[0..<step.width]`; nil or the reason.
    @inline(__always)
    private func apply(_ step: Step, _ value: JSONScanner.Value?, _ vocabulary: Vocabulary, into out: UnsafeMutablePointer<Float>) -> FeatureError? {
        guard let value, value.kind != .null else {
            switch step.missing {
            case .reject:
                return .missingField(field(step))
            case .nan:
                out.update(repeating: .nan, count: step.width)
                return nil
            case .value(let x):
                return number(step, step.type == .timestamp ? part(step, seconds: x) : x, into: out)
            case .text(let word):
                return category(step, vocabulary.word(word), escaped: false, vocabulary, into: out)
            }
        }
        switch step.type {
        case .number:
            if value.kind == .number { return number(step, JSONText.double(value.bytes), into: out) }
            if value.kind == .string, spec.numbersInStrings, !value.hasEscapes, !value.bytes.isEmpty,
               JSONText.numberEnd(value.bytes, from: 0) == value.bytes.count {
                return number(step, JSONText.double(value.bytes), into: out)
            }
            return .wrongType(field: field(step), expected: spec.numbersInStrings ? "a number (or a number in a string)" : "a number")
        case .bool:
            switch value.kind {
            case .literalTrue: return number(step, 1, into: out)
            case .literalFalse: return number(step, 0, into: out)
            default: return .wrongType(field: field(step), expected: "true or false")
            }
        case .timestamp:
            let seconds: Double
            switch (step.timestampUnit, value.kind) {
            case (.epochMilliseconds, .number): seconds = JSONText.double(value.bytes) / 1000
            case (.epochSeconds, .number): seconds = JSONText.double(value.bytes)
            case (.rfc3339, .string):
                guard !value.hasEscapes, let s = Timestamp.rfc3339(value.bytes) else {
                    return .wrongType(field: field(step), expected: "an RFC 3339 timestamp")
                }
                seconds = s
            case (.rfc3339, _): return .wrongType(field: field(step), expected: "an RFC 3339 timestamp")
            default: return .wrongType(field: field(step), expected: "a number (\(step.timestampUnit.rawValue))")
            }
            guard seconds.isFinite else { return .nonFinite(field: field(step)) }
            guard Timestamp.validSeconds.contains(seconds) else {
                return .outOfRange(field: field(step), value: seconds, range: Timestamp.validSeconds)
            }
            return number(step, part(step, seconds: seconds), into: out)
        case .string:
            guard value.kind == .string else { return .wrongType(field: field(step), expected: "a string") }
            return category(step, value.bytes, escaped: value.hasEscapes, vocabulary, into: out)
        }
    }

    private func part(_ step: Step, seconds: Double) -> Double {
        switch step.timestampPart {
        case .hourOfDay?: Timestamp.hourOfDay(seconds)
        case .dayOfWeek?: Timestamp.dayOfWeek(seconds)
        case .epochSeconds?, nil: seconds
        }
    }

    /// The numeric transforms, in their fixed order: range check, clip, log1p, standardize.
    @inline(__always)
    private func number(_ step: Step, _ raw: Double, into out: UnsafeMutablePointer<Float>) -> FeatureError? {
        guard raw.isFinite else { return .nonFinite(field: field(step)) }
        if let range = step.range, !range.contains(raw) { return .outOfRange(field: field(step), value: raw, range: range) }
        var x = raw
        if let clip = step.clip { x = min(max(x, clip.lowerBound), clip.upperBound) }
        if step.log1p {
            let before = x
            x = libmLog1p(x)
            guard x.isFinite else { return .nonFiniteTransform(field: field(step), transform: "log1p", input: before) }
        }
        x = (x - step.mean) / step.std
        let value = Float(x)
        guard value.isFinite else {
            return .nonFiniteTransform(field: field(step), transform: x.isFinite ? "float32" : "standardize", input: x)
        }
        out.pointee = value
        return nil
    }

    /// One-hot or hashed category of a string's bytes.
    @inline(__always)
    private func category(
        _ step: Step, _ bytes: UnsafeRawBufferPointer, escaped: Bool, _ vocabulary: Vocabulary, into out: UnsafeMutablePointer<Float>
    ) -> FeatureError? {
        if let hash = step.hash {
            var h = step.seeded
            JSONText.forEachByte(bytes, escaped: escaped) { b in
                h = (h ^ UInt64(b)) &* FeatureHash.prime
                return true
            }
            let bucket = Int(h % UInt64(hash.buckets))
            if hash.asIndex {
                out.pointee = Float(bucket)
            } else {
                out.update(repeating: 0, count: step.width)
                out[bucket] = 1
            }
            return nil
        }
        out.update(repeating: 0, count: step.width)
        for (k, w) in step.vocabulary.enumerated() where JSONText.equals(bytes, escaped: escaped, vocabulary.word(w)) {
            out[k] = 1
            return nil
        }
        if step.other { out[step.vocabulary.count] = 1 }
        return nil
    }
}

/// The C library's `log1p`, named apart from `Step.log1p` (the flag).
@inline(__always)
private func libmLog1p(_ x: Double) -> Double { log1p(x) }
