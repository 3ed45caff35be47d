import Foundation

/// Loads model files. Today: the native JSON format (`format_version` 1), kind `logistic`.
///
/// Native format:
/// ```json
/// {"format_version": 1, "kind": "logistic", "name": "fraud-demo", "version": "1",
///  "inputs": ["amount", "distance_km"], "weights": [0.003, 0.002], "bias": -8.0}
/// ```
/// `inputs` is optional; when present it must have one name per weight.
public enum ModelLoader {
    /// Reads and validates a model file.
    /// - Throws: `ModelError` naming the field and the reason.
    public static func load(path: String) throws(ModelError) -> any Model {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        return try load(data: data)
    }

    /// Parses model bytes.
    /// - Throws: `ModelError` naming the field and the reason.
    public static func load(data: Data) throws(ModelError) -> any Model {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw .invalidJSON(reason: "\(error)")
        }
        guard let root = object as? [String: Any] else {
            throw .invalidJSON(reason: "top level is not an object")
        }
        let fields = NativeFields(root)
        let formatVersion = try fields.integer("format_version")
        guard formatVersion == 1 else {
            throw .invalidField("format_version", reason: "unsupported version \(formatVersion); this build reads 1")
        }
        let kind = try fields.string("kind")
        switch kind {
        case "logistic":
            let weights = try fields.floats("weights")
            guard !weights.isEmpty else { throw .invalidField("weights", reason: "empty") }
            let names = try fields.optionalStrings("inputs")
            if let names, names.count != weights.count {
                throw .invalidField("inputs", reason: "\(names.count) names for \(weights.count) weights")
            }
            return LogisticRegression(
                name: try fields.string("name"), version: try fields.string("version"),
                inputNames: names, weights: weights, bias: try fields.float("bias"))
        default:
            throw .invalidField("kind", reason: "unknown model kind '\(kind)' (known: logistic)")
        }
    }
}

/// Typed access to a JSON object's fields with errors that name the field.
struct NativeFields {
    let root: [String: Any]
    init(_ root: [String: Any]) { self.root = root }

    private func value(_ key: String) throws(ModelError) -> Any {
        guard let value = root[key] else { throw .missingField(key) }
        return value
    }

    func string(_ key: String) throws(ModelError) -> String {
        guard let s = try value(key) as? String, !s.isEmpty else {
            throw .invalidField(key, reason: "expected a non-empty string")
        }
        return s
    }

    func integer(_ key: String) throws(ModelError) -> Int {
        guard let n = try value(key) as? NSNumber, let i = Int(exactly: n.doubleValue) else {
            throw .invalidField(key, reason: "expected an integer")
        }
        return i
    }

    func float(_ key: String) throws(ModelError) -> Float {
        let raw = try value(key)
        guard let n = raw as? NSNumber, !(raw is Bool) else { throw .invalidField(key, reason: "expected a number") }
        let f = Float(n.doubleValue)
        guard f.isFinite else { throw .invalidField(key, reason: "not finite") }
        return f
    }

    func floats(_ key: String) throws(ModelError) -> [Float] {
        guard let array = try value(key) as? [Any] else { throw .invalidField(key, reason: "expected an array of numbers") }
        var out: [Float] = []
        out.reserveCapacity(array.count)
        for (i, element) in array.enumerated() {
            guard let n = element as? NSNumber else { throw .invalidField("\(key)[\(i)]", reason: "expected a number") }
            let f = Float(n.doubleValue)
            guard f.isFinite else { throw .invalidField("\(key)[\(i)]", reason: "not finite") }
            out.append(f)
        }
        return out
    }

    func optionalStrings(_ key: String) throws(ModelError) -> [String]? {
        guard let raw = root[key] else { return nil }
        guard let array = raw as? [String] else { throw .invalidField(key, reason: "expected an array of strings") }
        return array
    }
}
