/// Why a model file could not be loaded. Each case names the field at fault.
public enum ModelError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// The bytes are not valid JSON.
    case invalidJSON(reason: String)
    /// A required field is absent.
    case missingField(String)
    /// A field is present but unusable.
    case invalidField(String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read model file \(path): \(reason)"
        case .invalidJSON(let reason): "model file is not valid JSON: \(reason)"
        case .missingField(let field): "model file: missing field '\(field)'"
        case .invalidField(let field, let reason): "model file: field '\(field)': \(reason)"
        }
    }
}
