import Foundation

/// Typed access to a JSON object's fields with errors that name the field by its path
/// (`learner.objective.name`, `layers[1].weights[3]`).
struct JSONFields {
    let object: [String: Any]
    let path: String

    init(_ object: [String: Any], path: String = "") {
        self.object = object
        self.path = path
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func value(_ key: String) throws(ModelError) -> Any {
        guard let value = object[key] else { throw .missingField(name(key)) }
        return value
    }

    func has(_ key: String) -> Bool { object[key] != nil }

    /// JSON `true`/`false`. (`is Bool` also matches the numbers 0 and 1 on Linux, where
    /// any NSNumber bridges to Bool; JSONSerialization marks real booleans with type "c".)
    static func isBoolean(_ raw: Any) -> Bool {
        guard let n = raw as? NSNumber else { return raw is Bool }
        return String(cString: n.objCType) == "c"
    }

    func object(_ key: String) throws(ModelError) -> JSONFields {
        guard let inner = try value(key) as? [String: Any] else { throw .invalidField(name(key), reason: "expected an object") }
        return JSONFields(inner, path: name(key))
    }

    func array(_ key: String) throws(ModelError) -> [Any] {
        guard let array = try value(key) as? [Any] else { throw .invalidField(name(key), reason: "expected an array") }
        return array
    }

    func objects(_ key: String) throws(ModelError) -> [JSONFields] {
        var out: [JSONFields] = []
        for (i, element) in try array(key).enumerated() {
            guard let inner = element as? [String: Any] else { throw .invalidField("\(name(key))[\(i)]", reason: "expected an object") }
            out.append(JSONFields(inner, path: "\(name(key))[\(i)]"))
        }
        return out
    }

    func string(_ key: String) throws(ModelError) -> String {
        guard let s = try value(key) as? String, !s.isEmpty else { throw .invalidField(name(key), reason: "expected a non-empty string") }
        return s
    }

    func integer(_ key: String) throws(ModelError) -> Int {
        let raw = try value(key)
        if let s = raw as? String, let i = Int(s) { return i }  // XGBoost writes numbers as strings
        guard let n = raw as? NSNumber, !Self.isBoolean(raw), let i = Int(exactly: n.doubleValue) else {
            throw .invalidField(name(key), reason: "expected an integer")
        }
        return i
    }

    func float(_ key: String) throws(ModelError) -> Float {
        let raw = try value(key)
        guard let n = raw as? NSNumber, !Self.isBoolean(raw) else { throw .invalidField(name(key), reason: "expected a number") }
        let f = Float(n.doubleValue)
        guard f.isFinite else { throw .invalidField(name(key), reason: "not finite") }
        return f
    }

    func floats(_ key: String) throws(ModelError) -> [Float] {
        try Self.floats(try array(key), field: name(key))
    }

    static func floats(_ array: [Any], field: String) throws(ModelError) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(array.count)
        for (i, element) in array.enumerated() {
            guard let n = element as? NSNumber, !Self.isBoolean(element) else { throw .invalidField("\(field)[\(i)]", reason: "expected a number") }
            let f = Float(n.doubleValue)
            guard f.isFinite else { throw .invalidField("\(field)[\(i)]", reason: "not finite") }
            out.append(f)
        }
        return out
    }

    func integers(_ key: String) throws(ModelError) -> [Int] {
        var out: [Int] = []
        for (i, element) in try array(key).enumerated() {
            guard let n = element as? NSNumber, !Self.isBoolean(element), let v = Int(exactly: n.doubleValue) else {
                throw .invalidField("\(name(key))[\(i)]", reason: "expected an integer")
            }
            out.append(v)
        }
        return out
    }

    func optionalStrings(_ key: String) throws(ModelError) -> [String]? {
        guard let raw = object[key] else { return nil }
        guard let array = raw as? [String] else { throw .invalidField(name(key), reason: "expected an array of strings") }
        return array
    }
}
