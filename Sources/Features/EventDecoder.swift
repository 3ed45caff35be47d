/// Turns one JSON event into a model input row: the listed numeric fields of the top-level
/// object, in order, plus the event's id.
///
/// One validating pass over the bytes, no intermediate dictionary; a field that appears
/// twice takes its last value. Thread-safe (immutable); each call writes only its `row`.
public struct EventDecoder: Sendable {
    /// Top-level numeric fields, one per model input, in input order.
    public let fields: [String]
    /// The field copied into output records as `id` (a string or a number).
    public let idField: String
    /// Events longer than this are rejected as `too_large` before parsing.
    public let maxEventBytes: Int
    /// Deepest nesting accepted anywhere in the event.
    public let maxDepth: Int

    private let names: [[UInt8]]

    public init(numericFields: [String], idField: String = "id", maxEventBytes: Int = 1 << 20, maxDepth: Int = 64) {
        precondition(!numericFields.isEmpty, "at least one feature field")
        self.fields = numericFields
        self.idField = idField
        self.maxEventBytes = maxEventBytes
        self.maxDepth = maxDepth
        self.names = (numericFields + [idField]).map { Array($0.utf8) }
    }

    public var inputCount: Int { fields.count }

    /// Decodes `bytes` into `row` (`inputCount` floats).
    ///
    /// - Returns: the event's id, or the reason the event is a dead letter. `row` is
    ///   unspecified on failure.
    public func decode(_ bytes: UnsafeRawBufferPointer, into row: UnsafeMutableBufferPointer<Float>) -> Result<String, FeatureError> {
        precondition(row.count >= fields.count, "row buffer too small")
        guard bytes.count <= maxEventBytes else { return .failure(.tooLarge(size: bytes.count, limit: maxEventBytes)) }
        let slots = names.count
        return withUnsafeTemporaryAllocation(of: JSONScanner.Member?.self, capacity: slots) { found in
            found.initialize(repeating: nil)
            var scanner = JSONScanner(bytes, maxDepth: maxDepth)
            do throws(JSONScanner.Failure) {
                try scanner.scanObject { member in
                    if let slot = slotIndex(member) { found[slot] = member }
                }
            } catch {
                return .failure(.malformedJSON("\(error.message) at byte \(error.offset)"))
            }
            for (k, field) in fields.enumerated() {
                guard let member = found[k] else { return .failure(.missingField(field)) }
                guard member.kind == .number else { return .failure(.wrongType(field: field, expected: "a number")) }
                let value = Float(JSONText.double(member.value))
                guard value.isFinite else { return .failure(.nonFinite(field: field)) }
                row[k] = value
            }
            guard let id = found[slots - 1] else { return .failure(.missingField(idField)) }
            guard id.kind == .string || id.kind == .number else {
                return .failure(.wrongType(field: idField, expected: "a string or a number"))
            }
            return .success(JSONText.text(id.value, hasEscapes: id.valueHasEscapes))
        }
    }

    /// Convenience for tests and tools.
    public func decode(_ bytes: [UInt8]) -> Result<(id: String, row: [Float]), FeatureError> {
        var row = [Float](repeating: 0, count: fields.count)
        let result = bytes.withUnsafeBytes { raw in
            row.withUnsafeMutableBufferPointer { decode(raw, into: $0) }
        }
        return result.map { (id: $0, row: row) }
    }

    private func slotIndex(_ member: JSONScanner.Member) -> Int? {
        if member.keyHasEscapes {
            let key = Array(JSONText.unescape(member.key).utf8)
            return names.firstIndex(of: key)
        }
        let key = member.key
        outer: for (slot, name) in names.enumerated() where name.count == key.count {
            for k in 0..<key.count where name[k] != key[k] { continue outer }
            return slot
        }
        return nil
    }
}
