import Dispatch

/// Splits a large batch across threads: each thread scores a contiguous slice of the rows
/// with the same model, into its own slice of the output.
///
/// Models hold no mutable state while scoring (parameters are immutable, scratch lives on
/// the stack), so one instance can score disjoint slices concurrently. Slices are at least
/// `minimumRowsPerThread` rows, so small batches stay on the calling thread and pay no
/// hand-off. The threads are Dispatch's global pool (`concurrentPerform`), which the
/// calling thread joins for the first slice.
public struct ParallelModel: Model {
    public private(set) var base: any Model
    public let threads: Int
    public let minimumRowsPerThread: Int

    /// - Precondition: `threads >= 1` and `minimumRowsPerThread >= 1`.
    public init(_ base: any Model, threads: Int, minimumRowsPerThread: Int = 64) {
        precondition(threads >= 1 && minimumRowsPerThread >= 1, "at least one thread and one row per thread")
        self.base = base
        self.threads = threads
        self.minimumRowsPerThread = minimumRowsPerThread
    }

    public var name: String { base.name }
    public var version: String { base.version }
    public var contentHash: String? {
        get { base.contentHash }
        set { base.contentHash = newValue }
    }
    public var inputCount: Int { base.inputCount }
    public var inputNames: [String]? { base.inputNames }
    public var outputCount: Int { base.outputCount }
    public var outputNames: [String]? { base.outputNames }
    public var summary: ModelSummary { base.summary }

    public func score(rows: UnsafeBufferPointer<Float>, rowCount: Int, into scores: UnsafeMutableBufferPointer<Float>) {
        let parts = min(threads, rowCount / minimumRowsPerThread)
        guard parts > 1 else {
            base.score(rows: rows, rowCount: rowCount, into: scores)
            return
        }
        let width = inputCount, outputs = outputCount
        precondition(rows.count >= rowCount * width && scores.count >= rowCount * outputs, "batch shape")
        // Each slice touches only its own rows of the input and the output.
        nonisolated(unsafe) let input = rows, output = scores
        let base = self.base
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let start = rowCount * part / parts, end = rowCount * (part + 1) / parts
            base.score(
                rows: UnsafeBufferPointer(rebasing: input[(start * width)..<(end * width)]), rowCount: end - start,
                into: UnsafeMutableBufferPointer(rebasing: output[(start * outputs)..<(end * outputs)]))
        }
    }
}
