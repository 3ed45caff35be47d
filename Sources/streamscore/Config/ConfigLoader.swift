import Features
import Foundation
import Yams

/// Reads configuration in three layers: the YAML file (or built-in defaults), then
/// `STREAMSCORE_…` environment variables, then command-line flags (applied by the caller
/// through `set`). Unknown keys and ill-typed values are errors that name the key.
struct ConfigLoader {
    private(set) var values: [String: ConfigValue] = [:]
    private(set) var sources: [String: String] = [:]

    /// Defaults only.
    init() {
        for key in ConfigSchema.keys {
            if let value = key.defaultValue { values[key.path] = value }
            sources[key.path] = "default"
        }
    }

    /// Defaults, then the file at `path` (if given), then the environment.
    /// - Throws: `ConfigError` naming the key.
    init(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) {
        self.init()
        if let path { try readFile(path) }
        try readEnvironment(environment)
    }

    private mutating func readFile(_ path: String) throws(ConfigError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(key: path, reason: "cannot read the configuration file (\(error.localizedDescription))")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError(key: path, reason: "not valid YAML: \(error)")
        }
        guard let root else { return }  // empty file: defaults
        guard case .mapping(let mapping) = root else {
            throw ConfigError(key: path, reason: "the top level must be a mapping of sections")
        }
        try read(mapping, prefix: "", file: path)
    }

    private mutating func read(_ mapping: Node.Mapping, prefix: String, file: String) throws(ConfigError) {
        for (keyNode, valueNode) in mapping {
            guard let name = keyNode.string else {
                throw ConfigError(key: prefix.isEmpty ? "(top level)" : prefix, reason: "keys must be strings")
            }
            let path = prefix.isEmpty ? name : "\(prefix).\(name)"
            let location = "\(file):\(keyNode.mark.map { "\($0.line)" } ?? "?")"
            if let key = ConfigSchema.key(path) {
                values[path] = try Self.value(valueNode, for: key)
                sources[path] = location
            } else if ConfigSchema.isSection(path), case .mapping(let inner) = valueNode {
                try read(inner, prefix: path, file: file)
            } else {
                throw ConfigError(key: path, reason: "unknown key (\(location))")
            }
        }
    }

    private static func value(_ node: Node, for key: ConfigSchema.Key) throws(ConfigError) -> ConfigValue {
        switch (key.kind, node) {
        case (.properties, .mapping(let mapping)):
            var properties: [String: String] = [:]
            for (k, v) in mapping {
                guard let name = k.string, case .scalar(let scalar) = v else {
                    throw ConfigError(key: key.path, reason: "librdkafka properties must be 'name: value' pairs")
                }
                properties[name] = scalar.string
            }
            return .properties(properties)
        case (.properties, _):
            throw ConfigError(key: key.path, reason: "expected a mapping of librdkafka properties")
        case (.stringList, .sequence(let sequence)):
            var list: [String] = []
            for element in sequence {
                guard case .scalar(let scalar) = element else {
                    throw ConfigError(key: key.path, reason: "expected a list of strings")
                }
                list.append(scalar.string)
            }
            return .list(list)
        case (.stringList, _):
            throw ConfigError(key: key.path, reason: "expected a list of strings")
        case (.featureInputs, _):
            return .inputs(try FeatureInputsParser.parse(node, key: key.path))
        case (_, .scalar(let scalar)):
            return .scalar(scalar.string)
        default:
            throw ConfigError(key: key.path, reason: "expected a single value, not a list or mapping")
        }
    }

    private mutating func readEnvironment(_ environment: [String: String]) throws(ConfigError) {
        var known = Dictionary(uniqueKeysWithValues: ConfigSchema.keys.map { (ConfigSchema.environmentName($0.path), $0) })
        for (alias, path) in ConfigSchema.environmentAliases { known[alias] = ConfigSchema.key(path) }
        for (name, raw) in environment where name.hasPrefix("STREAMSCORE_") {
            guard let key = known[name] else {
                throw ConfigError(key: name, reason: "environment variable does not match any configuration key")
            }
            switch key.kind {
            case .properties:
                throw ConfigError(key: name, reason: "librdkafka properties can only be set in the configuration file")
            case .stringList:
                values[key.path] = .list(raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            case .featureInputs:
                values[key.path] = .inputs(FeatureInputsParser.fields(raw))
            default:
                values[key.path] = .scalar(raw)
            }
            sources[key.path] = "environment \(name)"
        }
    }

    /// Sets a key from a command-line flag (the last layer).
    mutating func set(_ path: String, _ value: String, flag: String) {
        precondition(ConfigSchema.key(path) != nil, "unknown key \(path)")
        values[path] = .scalar(value)
        sources[path] = "flag \(flag)"
    }

    // MARK: typed access; each error names the key

    /// A string that may be empty (meaning: not set).
    func optionalString(_ path: String) -> String? {
        guard case .scalar(let s)? = values[path], !s.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return s.trimmingCharacters(in: .whitespaces)
    }

    func string(_ path: String) throws(ConfigError) -> String {
        guard case .scalar(let s)? = values[path], !s.isEmpty else {
            throw ConfigError(key: path, reason: "expected a non-empty string")
        }
        return s
    }

    func integer(_ path: String) throws(ConfigError) -> Int {
        guard case .scalar(let s)? = values[path], let n = Int(s.trimmingCharacters(in: .whitespaces)) else {
            throw ConfigError(key: path, reason: "expected an integer, got \(describe(path))")
        }
        if case .integer(let minimum)? = ConfigSchema.key(path)?.kind, n < minimum {
            throw ConfigError(key: path, reason: "must be at least \(minimum), got \(n)")
        }
        return n
    }

    func number(_ path: String) throws(ConfigError) -> Double {
        guard case .scalar(let s)? = values[path], let x = Double(s.trimmingCharacters(in: .whitespaces)), x.isFinite else {
            throw ConfigError(key: path, reason: "expected a number, got \(describe(path))")
        }
        return x
    }

    func list(_ path: String) throws(ConfigError) -> [String] {
        guard case .list(let l)? = values[path] else {
            throw ConfigError(key: path, reason: "expected a list of strings")
        }
        return l
    }

    func boolean(_ path: String) throws(ConfigError) -> Bool {
        guard case .scalar(let s)? = values[path], ["true", "false"].contains(s.trimmingCharacters(in: .whitespaces)) else {
            throw ConfigError(key: path, reason: "expected true or false, got \(describe(path))")
        }
        return s.trimmingCharacters(in: .whitespaces) == "true"
    }

    func inputs(_ path: String) -> [FeatureSpec.Input] {
        guard case .inputs(let inputs)? = values[path] else { return [] }
        return inputs
    }

    func properties(_ path: String) -> [String: String] {
        guard case .properties(let p)? = values[path] else { return [:] }
        return p
    }

    private func describe(_ path: String) -> String {
        switch values[path] {
        case .scalar(let s)?: "'\(s)' (from \(sources[path] ?? "?"))"
        case .list?: "a list"
        case .properties?: "a mapping"
        case .inputs?: "a list of inputs"
        case nil: "nothing"
        }
    }
}
