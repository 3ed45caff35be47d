import Foundation

/// Rows of model inputs or expected scores read from CSV text (the `model verify` files).
///
/// One row per line, comma-separated; an optional first line of names (recognised by a
/// field that is not a number); an empty field or `nan` is a missing value (NaN).
public struct FeatureTable: Sendable {
    public var names: [String]?
    /// Row-major values, `rowCount × columnCount`.
    public var values: [Float]
    public var rowCount: Int
    public var columnCount: Int

    public struct ParseError: Error, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    public init(csv text: String) throws(ParseError) {
        var names: [String]?
        var values: [Float] = []
        var width: Int?
        var rows = 0
        // `\r\n` is a single Character in Swift, so split on any newline, not on "\n".
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if rows == 0 && names == nil && fields.contains(where: { !$0.isEmpty && Self.number($0) == nil }) {
                names = fields
                width = fields.count
                continue
            }
            if let width, fields.count != width {
                throw ParseError(line: index + 1, reason: "\(fields.count) fields; expected \(width)")
            }
            width = fields.count
            for (column, field) in fields.enumerated() {
                guard let v = Self.number(field) else {
                    throw ParseError(line: index + 1, reason: "field \(column + 1) '\(field)' is not a number")
                }
                values.append(v)
            }
            rows += 1
        }
        self.names = names
        self.values = values
        self.rowCount = rows
        self.columnCount = width ?? 0
    }

    /// A field's value: a number, or NaN for an empty field or `nan`.
    private static func number(_ field: String) -> Float? {
        if field.isEmpty || field.lowercased() == "nan" { return .nan }
        return Float(field)
    }

    public func row(_ i: Int) -> [Float] {
        Array(values[(i * columnCount)..<((i + 1) * columnCount)])
    }
}
