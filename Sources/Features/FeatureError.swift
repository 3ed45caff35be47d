/// Why an event could not become a feature row. Each is data for the dead-letter topic,
/// never a crash: `reason` is the stable label (`streamscore.error.reason`, metric label),
/// `field` the input at fault when there is one.
public enum FeatureError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformedJSON(String)
    case missingField(String)
    case wrongType(field: String, expected: String)
    case tooLarge(size: Int, limit: Int)
    case nonFinite(field: String)

    /// All reasons, in a fixed order (for counters).
    public static let reasons = ["malformed_json", "missing_field", "wrong_type", "too_large", "non_finite"]

    public var reason: String {
        switch self {
        case .malformedJSON: "malformed_json"
        case .missingField: "missing_field"
        case .wrongType: "wrong_type"
        case .tooLarge: "too_large"
        case .nonFinite: "non_finite"
        }
    }

    public var field: String? {
        switch self {
        case .missingField(let f), .wrongType(let f, _), .nonFinite(let f): f
        case .malformedJSON, .tooLarge: nil
        }
    }

    public var description: String {
        switch self {
        case .malformedJSON(let why): "malformed JSON: \(why)"
        case .missingField(let f): "missing field '\(f)'"
        case .wrongType(let f, let expected): "field '\(f)': expected \(expected)"
        case .tooLarge(let size, let limit): "event is \(size) bytes; the limit is \(limit)"
        case .nonFinite(let f): "field '\(f)': value is not finite"
        }
    }
}
