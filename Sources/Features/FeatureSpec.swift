/// What the configuration says about turning an event into a model input row: the event
/// format, and one entry per model input (or per group of inputs for one-hot and hashed
/// categories), in the model's input order. `EventDecoder` compiles it once at start-up.
public struct FeatureSpec: Sendable, Equatable {
    public enum Format: String, Sendable, CaseIterable {
        /// A JSON object; inputs are read from it by path.
        case json
        /// The value is the row itself: `inputCount` little-endian float32s.
        case f32le
    }

    public var format: Format
    /// The model inputs, for `json` (empty for `f32le`).
    public var inputs: [Input]
    /// Inputs per row, for `f32le`.
    public var rawInputCount: Int
    /// The event field copied into output records as `id` (a string or a number); nil for
    /// none (`f32le` has none).
    public var idField: String?
    /// Events longer than this are `too_large`, rejected before parsing.
    public var maxEventBytes: Int
    /// Deepest nesting accepted anywhere in an event.
    public var maxDepth: Int
    /// Accept numbers written as JSON strings (`"12.5"`) where a number is expected.
    public var numbersInStrings: Bool
    /// Event fields whose values, together, identify a repeated event for the score cache
    /// (`EventDecoder.Scratch.key`); empty for none.
    public var keyFields: [String] = []

    public init(
        inputs: [Input], idField: String? = "id", maxEventBytes: Int = 1 << 20, maxDepth: Int = 64,
        numbersInStrings: Bool = false
    ) {
        self.format = .json
        self.inputs = inputs
        self.rawInputCount = 0
        self.idField = idField
        self.maxEventBytes = maxEventBytes
        self.maxDepth = maxDepth
        self.numbersInStrings = numbersInStrings
    }

    /// Pre-featurised events: each value is `count` little-endian float32s.
    public static func float32Rows(count: Int, maxEventBytes: Int = 1 << 20) -> FeatureSpec {
        var spec = FeatureSpec(inputs: [], idField: nil, maxEventBytes: maxEventBytes)
        spec.format = .f32le
        spec.rawInputCount = count
        return spec
    }

    /// Top-level numeric fields, one input each, no transforms.
    public static func numbers(_ fields: [String], idField: String? = "id") -> FeatureSpec {
        FeatureSpec(inputs: fields.map { Input(field: $0) }, idField: idField)
    }

    /// One entry of the spec. Numeric transforms apply in a fixed order: `range` check on
    /// the value read, then `clip`, `log1p`, `standardize`.
    public struct Input: Sendable, Equatable {
        public enum ValueType: String, Sendable, CaseIterable {
            case number, string, bool, timestamp
        }

        /// What a missing field (absent or `null`) becomes.
        public enum Missing: Sendable, Equatable {
            /// The event is a dead letter (`missing_field`).
            case reject
            /// This value, before transforms (numbers, bools, timestamps as epoch seconds).
            case value(Double)
            /// This category (string inputs).
            case text(String)
            /// NaN in every input of the entry, no transforms (tree models route it).
            case nan
        }

        public struct Standardize: Sendable, Equatable {
            public var mean: Double
            public var std: Double
            public init(mean: Double, std: Double) { (self.mean, self.std) = (mean, std) }
        }

        /// One input per vocabulary entry (1 where the value equals it), plus one for any
        /// other value when `other`; an unknown value without `other` is all zeros.
        public struct OneHot: Sendable, Equatable {
            public var vocabulary: [String]
            public var other: Bool
            public init(vocabulary: [String], other: Bool = false) { (self.vocabulary, self.other) = (vocabulary, other) }
        }

        /// The string's bucket: `FeatureHash.bucket(utf8, seed:, buckets:)`, either one-hot
        /// over `buckets` inputs or as one input holding the bucket number (`asIndex`).
        public struct Hash: Sendable, Equatable {
            public var buckets: Int
            public var seed: UInt64
            public var asIndex: Bool
            public init(buckets: Int, seed: UInt64 = 0, asIndex: Bool = false) {
                (self.buckets, self.seed, self.asIndex) = (buckets, seed, asIndex)
            }
        }

        public enum TimestampUnit: String, Sendable, CaseIterable {
            case epochMilliseconds = "epoch_ms"
            case epochSeconds = "epoch_s"
            case rfc3339
        }

        public enum TimestampPart: String, Sendable, CaseIterable {
            /// 0–23, UTC.
            case hourOfDay = "hour_of_day"
            /// 0 (Monday) – 6 (Sunday), UTC.
            case dayOfWeek = "day_of_week"
            /// Seconds since 1970-01-01T00:00:00Z.
            case epochSeconds = "epoch_s"
        }

        /// Dotted path into the event: `amount`, `merchant.country`, `items[0].price`.
        public var field: String
        /// The input's name (checked against the model's), default `field`.
        public var name: String?
        public var type: ValueType
        public var missing: Missing
        /// Values outside are dead letters (`out_of_range`).
        public var range: ClosedRange<Double>?
        public var clip: ClosedRange<Double>?
        public var log1p: Bool
        public var standardize: Standardize?
        public var oneHot: OneHot?
        public var hash: Hash?
        public var timestampUnit: TimestampUnit?
        public var timestampPart: TimestampPart?

        public init(
            field: String, name: String? = nil, type: ValueType = .number, missing: Missing = .reject,
            range: ClosedRange<Double>? = nil, clip: ClosedRange<Double>? = nil, log1p: Bool = false,
            standardize: Standardize? = nil, oneHot: OneHot? = nil, hash: Hash? = nil,
            timestampUnit: TimestampUnit? = nil, timestampPart: TimestampPart? = nil
        ) {
            self.field = field
            self.name = name
            self.type = type
            self.missing = missing
            self.range = range
            self.clip = clip
            self.log1p = log1p
            self.standardize = standardize
            self.oneHot = oneHot
            self.hash = hash
            self.timestampUnit = timestampUnit
            self.timestampPart = timestampPart
        }

        /// Model inputs this entry fills.
        public var width: Int {
            if let oneHot { return oneHot.vocabulary.count + (oneHot.other ? 1 : 0) }
            if let hash { return hash.asIndex ? 1 : hash.buckets }
            return 1
        }

        /// The names of those inputs: `name`, `name=value` (and `name=*` for any other value)
        /// for one-hot, `name#k` for hashed buckets. (XGBoost refuses `<`, `[` and `]` in
        /// feature names, so none of these use them.)
        public var inputNames: [String] {
            let base = name ?? field
            if let oneHot { return oneHot.vocabulary.map { "\(base)=\($0)" } + (oneHot.other ? ["\(base)=*"] : []) }
            if let hash, !hash.asIndex { return (0..<hash.buckets).map { "\(base)#\($0)" } }
            return [base]
        }
    }

    /// Model inputs the spec fills.
    public var inputCount: Int { format == .f32le ? rawInputCount : inputs.reduce(0) { $0 + $1.width } }

    /// Their names, in order (nil for `f32le`).
    public var inputNames: [String]? { format == .f32le ? nil : inputs.flatMap(\.inputNames) }
}

/// A spec that cannot be compiled: `path` names the entry and key
/// (`inputs[2].standardize.std`), `reason` says why.
public struct FeatureSpecError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) { (self.path, self.reason) = (path, reason) }
    public var description: String { "\(path): \(reason)" }
}
