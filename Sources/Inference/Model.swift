/// A model that scores a whole batch of feature rows in one call.
///
/// Rows are row-major `Float`s, `inputCount` per row. Implementations allocate nothing per
/// call after warm-up and hold no mutable state while scoring, so several threads may score
/// disjoint batches with one instance at once (`ParallelModel` does); loading happens once,
/// before any scoring.
public protocol Model: Sendable {
    /// Identity for output records and lineage headers: `name@version`.
    var name: String { get }
    var version: String { get }
    /// Number of inputs per row.
    var inputCount: Int { get }
    /// Scores per row: 1 for binary and regression models (the score), the class count for
    /// multi-class ones (one probability per class, summing to 1).
    var outputCount: Int { get }
    /// Class labels of a multi-class model, in output order, when the file carries them.
    var outputNames: [String]? { get }
    /// Input names when the model file carries them, in input order.
    var inputNames: [String]? { get }
    /// Kind, shape and memory, for `streamscore model inspect`.
    var summary: ModelSummary { get }
    /// A hash of the bytes the model was loaded from (`ModelLoader` sets it; nil for a
    /// model built in code). The score cache keys on it beside `name@version`, because a
    /// native file's version is whatever its writer put there: a model retrained and
    /// written under the same version must still never read the old one's scores.
    var contentHash: String? { get set }

    /// Scores `rowCount` rows of `rows` into the first `rowCount * outputCount` elements of
    /// `scores`, row-major (`outputCount` per row).
    ///
    /// - Precondition: `rows.count >= rowCount * inputCount` and
    ///   `scores.count >= rowCount * outputCount`.
    func score(rows: UnsafeBufferPointer<Float>, rowCount: Int, into scores: UnsafeMutableBufferPointer<Float>)
}

extension Model {
    public var outputCount: Int { 1 }
    public var outputNames: [String]? { nil }

    /// `name@version`, as written in output records.
    public var identity: String { "\(name)@\(version)" }

    /// Convenience for tests and tools: scores rows given as arrays (`outputCount` scores
    /// per row, row-major).
    public func score(_ rows: [[Float]]) -> [Float] {
        let flat = rows.flatMap { $0 }
        var out = [Float](repeating: 0, count: rows.count * outputCount)
        flat.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                score(rows: input, rowCount: rows.count, into: output)
            }
        }
        return out
    }
}
