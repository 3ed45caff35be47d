/// Why an event could not become a feature row. Each is data for the dead-letter topic,
/// never a crash: `reason` is the stable label (`streamscore.error.reason`, metric label),
/// `field` the input at fault when there is one.
public enum FeatureError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformedJSON(String)
    case missingField(String)
    case wrongType(field: String, expected: String)
    case outOfRange(field: String, value: Double, range: ClosedRange<Double>)
    case tooLarge(size: Int, limit: Int)
    case nonFinite(field: String)
    /// A transform made a finite value non-finite: `log1p` of a value at or below -1,
    /// `standardize` with a zero `std`, a value too large for float32.
    case nonFiniteTransform(field: String, transform: String, input: Double)
    case badRowLength(size: Int, expected: Int)

    /// All reasons, in a fixed order (for counters).
    public static let reasons = [
        "malformed_json", "missing_field", "wrong_type", "out_of_range", "too_large", "non_finite", "bad_row_length",
    ]

    public var reason: String {
        switch self {
        case .malformedJSON: "malformed_json"
        case .missingField: "missing_field"
        case .wrongType: "wrong_type"
        case .outOfRange: "out_of_range"
        case .tooLarge: "too_large"
        case .nonFinite, .nonFiniteTransform: "non_finite"
        case .badRowLength: "bad_row_length"
        }
    }

    public var field: String? {
        switch self {
        case .missingField(let f), .wrongType(let f, _), .nonFinite(let f), .outOfRange(let f, _, _), .nonFiniteTransform(let f, _, _): f
        case .malformedJSON, .tooLarge, .badRowLength: nil
        }
    }

    public var description: String {
        switch self {
        case .malformedJSON(let why): "malformed JSON: \(why)"
        case .missingField(let f): "missing field '\(f)'"
        case .wrongType(let f, let expected): "field '\(f)': expected \(expected)"
        case .outOfRange(let f, let value, let range): "field '\(f)': \(value) is outside [\(range.lowerBound), \(range.upperBound)]"
        case .tooLarge(let size, let limit): "event is \(size) bytes; the limit is \(limit)"
        case .nonFinite(let f): "field '\(f)': value is not finite"
        case .nonFiniteTransform(let f, "log1p", let input):
            "field '\(f)': log1p(\(input)) is not finite (log1p needs values above -1: clip the field first, e.g. clip: [0, 1e9])"
        case .nonFiniteTransform(let f, "float32", let input):
            "field '\(f)': \(input) does not fit a float32 (clip the field, or standardize it)"
        case .nonFiniteTransform(let f, let transform, let input):
            "field '\(f)': \(transform) of \(input) is not finite (check its std)"
        case .badRowLength(let size, let expected): "row is \(size) bytes; expected \(expected) (little-endian float32s)"
        }
    }
}
