/// A model that scores a whole batch of feature rows in one call.
///
/// Rows are row-major `Float`s, `inputCount` per row. Implementations allocate nothing per
/// call after warm-up and are safe to call from one thread at a time per instance (the
/// pipeline's batcher); loading happens once, before any scoring.
public protocol Model: Sendable {
    /// Identity for output records and lineage headers: `name@version`.
    var name: String { get }
    var version: String { get }
    /// Number of inputs per row.
    var inputCount: Int { get }
    /// Input names when the model file carries them, in input order.
    var inputNames: [String]? { get }
    /// Kind, shape and memory, for `streamscore model inspect`.
    var summary: ModelSummary { get }

    /// Scores `rowCount` rows of `rows` into the first `rowCount` elements of `scores`.
    ///
    /// - Precondition: `rows.count >= rowCount * inputCount` and `scores.count >= rowCount`.
    func score(rows: UnsafeBufferPointer<Float>, rowCount: Int, into scores: UnsafeMutableBufferPointer<Float>)
}

extension Model {
    /// `name@version`, as written in output records.
    public var identity: String { "\(name)@\(version)" }

    /// Convenience for tests and tools: scores rows given as arrays.
    public func score(_ rows: [[Float]]) -> [Float] {
        let flat = rows.flatMap { $0 }
        var out = [Float](repeating: 0, count: rows.count)
        flat.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                score(rows: input, rowCount: rows.count, into: output)
            }
        }
        return out
    }
}
