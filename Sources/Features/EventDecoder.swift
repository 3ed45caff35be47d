/// Turns one event into a model input row, as a compiled `FeatureSpec` says.
///
/// Compiled once at start-up: every field path goes into one `PathTrie`, every entry
/// becomes a `Step` with its transforms resolved. Decoding is one validating pass over the
/// bytes (`JSONScanner`) that records the needed values as byte ranges, then one pass over
/// the steps that converts and transforms them into the row. No intermediate dictionary,
/// no allocation per event (ids with escapes aside). A key that appears twice takes its
/// last value, also for nested objects. Thread-safe (immutable); each call writes only its
/// `row`.
public struct EventDecoder: Sendable {
    public let spec: FeatureSpec
    /// Model inputs per row.
    public let inputCount: Int
    /// Their names (nil for `f32le`).
    public let inputNames: [String]?

    /// One spec entry, resolved into plain values (no reference-counted fields, so the
    /// per-event loop over the steps does no retain/release traffic).
    struct Step: Sendable {
        enum Missing: Sendable {
            case reject, nan
            case value(Double)
            /// A default category: `words[index]`'s bytes.
            case text(Int)
        }

        /// Index of the entry in `spec.inputs` (its field name, for errors).
        var input: Int
        var slot: Int
        var offset: Int
        var width: Int
        var type: FeatureSpec.Input.ValueType
        var missing: Missing
        var range: ClosedRange<Double>?
        var clip: ClosedRange<Double>?
        var log1p: Bool
        var mean: Double
        var std: Double
        /// One-hot vocabulary: `words[vocabulary]`.
        var vocabulary: Range<Int>
        var other: Bool
        var hash: FeatureSpec.Input.Hash?
        var seeded: UInt64
        var timestampUnit: FeatureSpec.Input.TimestampUnit
        var timestampPart: FeatureSpec.Input.TimestampPart?
    }

    let trie: PathTrie
    let steps: [Step]
    /// Vocabulary words and default categories, as ranges of `wordBytes` (UTF-8).
    let words: [Range<Int>]
    let wordBytes: [UInt8]
    let idSlot: Int?
    /// The slots of `spec.keyFields`.
    let keySlots: [Int]

    /// Compiles `spec`.
    /// - Throws: `FeatureSpecError` naming the entry and key (`inputs[2].clip`) and the reason.
    public init(spec: FeatureSpec) throws(FeatureSpecError) {
        self.spec = spec
        guard spec.maxEventBytes > 0 else { throw FeatureSpecError(path: "max_event_bytes", reason: "must be positive") }
        // The scanner recurses once per level, on worker threads with 1 MiB stacks.
        guard (1...1024).contains(spec.maxDepth) else { throw FeatureSpecError(path: "max_depth", reason: "must be between 1 and 1024") }
        if spec.format == .f32le {
            guard spec.rawInputCount > 0 else { throw FeatureSpecError(path: "inputs", reason: "f32le rows need a positive input count") }
            (inputCount, inputNames, trie, steps, idSlot) = (spec.rawInputCount, nil, PathTrie(paths: []), [], nil)
            (words, wordBytes, keySlots) = ([], [], [])
            return
        }
        guard !spec.inputs.isEmpty else { throw FeatureSpecError(path: "inputs", reason: "list at least one input") }
        var paths: [[PathTrie.Component]] = []
        for (k, input) in spec.inputs.enumerated() {
            do throws(FeatureSpecError) {
                paths.append(try PathTrie.components(input.field))
                try Self.check(input)
            } catch {
                throw FeatureSpecError(path: "inputs[\(k)].\(error.path)", reason: error.reason)
            }
        }
        var idPath: [PathTrie.Component]?
        if let idField = spec.idField {
            do throws(FeatureSpecError) {
                idPath = try PathTrie.components(idField)
            } catch {
                throw FeatureSpecError(path: "id_field", reason: error.reason)
            }
        }
        var keyPaths: [[PathTrie.Component]] = []
        for (k, field) in spec.keyFields.enumerated() {
            do throws(FeatureSpecError) {
                keyPaths.append(try PathTrie.components(field))
            } catch {
                throw FeatureSpecError(path: "key_fields[\(k)]", reason: error.reason)
            }
        }
        let trie = PathTrie(paths: paths + (idPath.map { [$0] } ?? []) + keyPaths)
        var steps: [Step] = []
        var words: [Range<Int>] = [], wordBytes: [UInt8] = []
        func word(_ text: String) -> Int {
            words.append(wordBytes.count..<(wordBytes.count + text.utf8.count))
            wordBytes += Array(text.utf8)
            return words.count - 1
        }
        var offset = 0
        for (k, (input, path)) in zip(spec.inputs, paths).enumerated() {
            let vocabularyStart = words.count
            for w in input.oneHot?.vocabulary ?? [] { _ = word(w) }
            let vocabulary = vocabularyStart..<words.count
            let missing: Step.Missing
            switch input.missing {
            case .reject: missing = .reject
            case .nan: missing = .nan
            case .value(let v): missing = .value(v)
            case .text(let t): missing = .text(word(t))
            }
            steps.append(Step(
                input: k, slot: trie.slot(for: path), offset: offset, width: input.width, type: input.type, missing: missing,
                range: input.range, clip: input.clip, log1p: input.log1p,
                mean: input.standardize?.mean ?? 0, std: input.standardize?.std ?? 1,
                vocabulary: vocabulary, other: input.oneHot?.other ?? false,
                hash: input.hash, seeded: FeatureHash.seeded(input.hash?.seed ?? 0),
                timestampUnit: input.timestampUnit ?? .epochMilliseconds, timestampPart: input.timestampPart))
            offset += input.width
        }
        let names = spec.inputNames!
        if let duplicate = Dictionary(grouping: names.indices, by: { names[$0] }).first(where: { $0.value.count > 1 }) {
            throw FeatureSpecError(path: "inputs", reason: "two inputs are named '\(duplicate.key)' (set `name` on one)")
        }
        self.trie = trie
        self.steps = steps
        self.words = words
        self.wordBytes = wordBytes
        self.idSlot = idPath.map { trie.slot(for: $0) }
        self.keySlots = keyPaths.map { trie.slot(for: $0) }
        self.inputCount = offset
        self.inputNames = names
    }

    /// Top-level numeric fields, one input each (a spec that cannot fail to compile).
    public init(numericFields: [String], idField: String = "id", maxEventBytes: Int = 1 << 20, maxDepth: Int = 64) {
        var spec = FeatureSpec.numbers(numericFields, idField: idField)
        spec.maxEventBytes = maxEventBytes
        spec.maxDepth = maxDepth
        do {
            try self.init(spec: spec)
        } catch {
            preconditionFailure("numeric fields: \(error)")
        }
    }

    /// Entry-level rules: which transforms go with which type, and their parameters.
    private static func check(_ input: FeatureSpec.Input) throws(FeatureSpecError) {
        typealias E = FeatureSpecError
        if let name = input.name, name.isEmpty { throw E(path: "name", reason: "must not be empty") }
        let numeric = input.type != .string
        if !numeric {
            if input.oneHot == nil && input.hash == nil {
                throw E(path: "type", reason: "a string input needs one_hot or hash to become numbers")
            }
            if input.oneHot != nil && input.hash != nil { throw E(path: "hash", reason: "use one_hot or hash, not both") }
            for (key, present) in [("clip", input.clip != nil), ("log1p", input.log1p), ("standardize", input.standardize != nil), ("range", input.range != nil)] where present {
                throw E(path: key, reason: "applies to number, bool and timestamp inputs, not string")
            }
        } else {
            if input.oneHot != nil { throw E(path: "one_hot", reason: "applies to string inputs (set type: string)") }
            if input.hash != nil { throw E(path: "hash", reason: "applies to string inputs (set type: string)") }
        }
        if let oneHot = input.oneHot {
            guard !oneHot.vocabulary.isEmpty else { throw E(path: "one_hot.vocabulary", reason: "list at least one value") }
            if let d = Dictionary(grouping: oneHot.vocabulary, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
                throw E(path: "one_hot.vocabulary", reason: "'\(d)' is listed twice")
            }
        }
        if let hash = input.hash, !(1...65_536).contains(hash.buckets) {
            throw E(path: "hash.buckets", reason: "must be between 1 and 65536")
        }
        if let s = input.standardize {
            guard s.mean.isFinite else { throw E(path: "standardize.mean", reason: "must be finite") }
            guard s.std.isFinite, s.std > 0 else { throw E(path: "standardize.std", reason: "must be positive") }
        }
        for (key, r) in [("clip", input.clip), ("range", input.range)] {
            if let r, !(r.lowerBound.isFinite && r.upperBound.isFinite) { throw E(path: key, reason: "bounds must be finite") }
        }
        if input.type == .timestamp {
            guard input.timestampUnit != nil else { throw E(path: "unit", reason: "a timestamp needs unit: epoch_ms, epoch_s or rfc3339") }
            guard input.timestampPart != nil else {
                throw E(path: "extract", reason: "a timestamp needs extract: hour_of_day, day_of_week or epoch_s")
            }
        } else {
            if input.timestampUnit != nil { throw E(path: "unit", reason: "applies to timestamp inputs") }
            if input.timestampPart != nil { throw E(path: "extract", reason: "applies to timestamp inputs") }
        }
        switch (input.missing, input.type) {
        case (.text, .string), (.reject, _), (.nan, _), (.value, .number), (.value, .bool), (.value, .timestamp): break
        case (.text, _): throw E(path: "default", reason: "a text default needs type: string")
        case (.value(let v), .string): throw E(path: "default", reason: "\(v): a string input's default is a string")
        }
        if case .value(let v) = input.missing, !v.isFinite { throw E(path: "default", reason: "must be finite") }
        if case .value(let v) = input.missing, input.type == .timestamp, !Timestamp.validSeconds.contains(v) {
            throw E(path: "default", reason: "a timestamp default is epoch seconds between years 0001 and 9999")
        }
        if case .text(let t) = input.missing, let oneHot = input.oneHot, !oneHot.other, !oneHot.vocabulary.contains(t) {
            throw E(path: "default", reason: "'\(t)' is not in one_hot.vocabulary and there is no other bucket")
        }
    }
}
