import Features
import Yams

/// Reads `features.inputs` from YAML: a list with one entry per model input (or group of
/// inputs), each a field name alone (a number, no transforms) or a mapping of the entry's
/// keys (see `Configs/streamscore.yaml`). Errors name the entry and key
/// (`features.inputs[2].clip`); the rules between keys are `EventDecoder`'s.
enum FeatureInputsParser {
    static let keys: Set<String> = [
        "field", "name", "type", "default", "missing", "range", "clip", "log1p", "standardize", "one_hot", "hash",
        "unit", "extract",
    ]

    static func parse(_ node: Node, key: String) throws(ConfigError) -> [FeatureSpec.Input] {
        guard case .sequence(let sequence) = node else {
            throw ConfigError(key: key, reason: "expected a list of inputs (field names or mappings)")
        }
        var inputs: [FeatureSpec.Input] = []
        for (k, element) in sequence.enumerated() {
            inputs.append(try entry(element, path: "\(key)[\(k)]"))
        }
        return inputs
    }

    /// The bundled demo model's inputs (`Models/fraud-xgb.json`, trained by
    /// `scripts/make_model_fixtures.py` on the same featurisation), the default.
    static let demoInputs: [FeatureSpec.Input] = [
        .init(field: "amount", log1p: true),
        .init(field: "distance_km", log1p: true),
        .init(field: "txn_last_hour"),
        .init(field: "card_age_days", log1p: true),
        .init(field: "country", type: .string, oneHot: .init(vocabulary: ["DE", "FR", "NL", "ES", "IT"], other: true)),
        .init(field: "channel", type: .string, oneHot: .init(vocabulary: ["pos", "ecom"])),
        .init(field: "timestamp", name: "hour_of_day", type: .timestamp, timestampUnit: .epochMilliseconds, timestampPart: .hourOfDay),
    ]

    /// Numeric inputs from a comma-separated list of fields (`STREAMSCORE_FEATURES_INPUTS`).
    static func fields(_ list: String) -> [FeatureSpec.Input] {
        list.split(separator: ",").map { FeatureSpec.Input(field: $0.trimmingCharacters(in: .whitespaces)) }
    }

    private static func entry(_ node: Node, path: String) throws(ConfigError) -> FeatureSpec.Input {
        if case .scalar(let scalar) = node {
            guard !scalar.string.isEmpty else { throw ConfigError(key: path, reason: "expected a field name") }
            return FeatureSpec.Input(field: scalar.string)
        }
        guard case .mapping(let mapping) = node else {
            throw ConfigError(key: path, reason: "expected a field name or a mapping with `field`")
        }
        var values: [String: Node] = [:]
        for (k, v) in mapping {
            guard let name = k.string, keys.contains(name) else {
                throw ConfigError(key: "\(path).\(k.string ?? "?")", reason: "unknown key (known: \(keys.sorted().joined(separator: ", ")))")
            }
            values[name] = v
        }
        func sub(_ key: String) -> String { "\(path).\(key)" }
        guard let fieldNode = values["field"] else { throw ConfigError(key: sub("field"), reason: "every input needs a field") }
        var input = FeatureSpec.Input(field: try string(fieldNode, sub("field")))
        if let n = values["name"] { input.name = try string(n, sub("name")) }
        if let n = values["type"] { input.type = try choice(n, sub("type")) }
        if let n = values["missing"] {
            let raw = try string(n, sub("missing"))
            switch raw {
            case "nan": input.missing = .nan
            case "reject": input.missing = .reject
            default: throw ConfigError(key: sub("missing"), reason: "expected nan or reject (or set `default`); got '\(raw)'")
            }
        }
        if let n = values["default"] {
            guard values["missing"] == nil else { throw ConfigError(key: sub("default"), reason: "set `default` or `missing`, not both") }
            if input.type == .string {
                input.missing = .text(try string(n, sub("default")))
            } else if input.type == .bool, let b = try? boolean(n, sub("default")) {
                input.missing = .value(b ? 1 : 0)
            } else {
                input.missing = .value(try number(n, sub("default")))
            }
        }
        if let n = values["range"] { input.range = try bounds(n, sub("range")) }
        if let n = values["clip"] { input.clip = try bounds(n, sub("clip")) }
        if let n = values["log1p"] { input.log1p = try boolean(n, sub("log1p")) }
        if let n = values["standardize"] {
            let m = try fields(n, sub("standardize"), allowed: ["mean", "std"])
            guard let mean = m["mean"], let std = m["std"] else {
                throw ConfigError(key: sub("standardize"), reason: "expected {mean: …, std: …}")
            }
            input.standardize = .init(mean: try number(mean, sub("standardize.mean")), std: try number(std, sub("standardize.std")))
        }
        if let n = values["one_hot"] {
            let m = try fields(n, sub("one_hot"), allowed: ["vocabulary", "other"])
            guard let vocabulary = m["vocabulary"], case .sequence(let words) = vocabulary else {
                throw ConfigError(key: sub("one_hot.vocabulary"), reason: "expected a list of values")
            }
            var list: [String] = []
            for word in words {
                guard case .scalar(let s) = word else { throw ConfigError(key: sub("one_hot.vocabulary"), reason: "expected a list of values") }
                list.append(s.string)
            }
            input.oneHot = .init(vocabulary: list, other: try m["other"].map { n throws(ConfigError) in try boolean(n, sub("one_hot.other")) } ?? false)
        }
        if let n = values["hash"] {
            let m = try fields(n, sub("hash"), allowed: ["buckets", "seed", "as"])
            guard let buckets = m["buckets"] else { throw ConfigError(key: sub("hash.buckets"), reason: "required") }
            var hash = FeatureSpec.Input.Hash(buckets: try integer(buckets, sub("hash.buckets")))
            if let seed = m["seed"] {
                let value = try integer(seed, sub("hash.seed"))
                guard value >= 0 else { throw ConfigError(key: sub("hash.seed"), reason: "must not be negative") }
                hash.seed = UInt64(value)
            }
            if let mode = m["as"] {
                switch try string(mode, sub("hash.as")) {
                case "one_hot": hash.asIndex = false
                case "index": hash.asIndex = true
                case let other: throw ConfigError(key: sub("hash.as"), reason: "expected one_hot or index; got '\(other)'")
                }
            }
            input.hash = hash
        }
        if let n = values["unit"] { input.timestampUnit = try choice(n, sub("unit")) }
        if let n = values["extract"] { input.timestampPart = try choice(n, sub("extract")) }
        return input
    }

    /// One of an enumeration's raw values.
    private static func choice<T: RawRepresentable & CaseIterable>(_ node: Node, _ key: String) throws(ConfigError) -> T
    where T.RawValue == String {
        let raw = try string(node, key)
        guard let value = T(rawValue: raw) else {
            throw ConfigError(key: key, reason: "expected one of \(T.allCases.map(\.rawValue).joined(separator: ", ")); got '\(raw)'")
        }
        return value
    }

    private static func string(_ node: Node, _ key: String) throws(ConfigError) -> String {
        guard case .scalar(let s) = node, !s.string.isEmpty else { throw ConfigError(key: key, reason: "expected a non-empty string") }
        return s.string
    }

    private static func number(_ node: Node, _ key: String) throws(ConfigError) -> Double {
        guard case .scalar(let s) = node, let x = Double(s.string), x.isFinite else {
            throw ConfigError(key: key, reason: "expected a finite number")
        }
        return x
    }

    private static func integer(_ node: Node, _ key: String) throws(ConfigError) -> Int {
        guard case .scalar(let s) = node, let x = Int(s.string) else { throw ConfigError(key: key, reason: "expected an integer") }
        return x
    }

    private static func boolean(_ node: Node, _ key: String) throws(ConfigError) -> Bool {
        guard case .scalar(let s) = node, ["true", "false"].contains(s.string) else {
            throw ConfigError(key: key, reason: "expected true or false")
        }
        return s.string == "true"
    }

    private static func bounds(_ node: Node, _ key: String) throws(ConfigError) -> ClosedRange<Double> {
        guard case .sequence(let pair) = node, pair.count == 2 else { throw ConfigError(key: key, reason: "expected [low, high]") }
        let low = try number(pair[0], key), high = try number(pair[1], key)
        guard low <= high else { throw ConfigError(key: key, reason: "low \(low) is above high \(high)") }
        return low...high
    }

    private static func fields(_ node: Node, _ key: String, allowed: Set<String>) throws(ConfigError) -> [String: Node] {
        guard case .mapping(let mapping) = node else { throw ConfigError(key: key, reason: "expected a mapping") }
        var result: [String: Node] = [:]
        for (k, v) in mapping {
            guard let name = k.string, allowed.contains(name) else {
                throw ConfigError(key: "\(key).\(k.string ?? "?")", reason: "unknown key (known: \(allowed.sorted().joined(separator: ", ")))")
            }
            result[name] = v
        }
        return result
    }
}
