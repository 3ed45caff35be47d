import RealModule

/// Binary logistic regression: `score = σ(w·x + b)`.
///
/// Weights are stored contiguously; scoring takes four rows per SIMD dot-product call
/// (`DotProduct.simd4`), checked against `DotProduct.scalar` in tests.
public struct LogisticRegression: Model {
    public let name: String
    public let version: String
    public var contentHash: String?
    public let inputNames: [String]?
    public let weights: [Float]
    public let bias: Float

    public var inputCount: Int { weights.count }

    public init(name: String, version: String, inputNames: [String]?, weights: [Float], bias: Float) {
        precondition(inputNames == nil || inputNames!.count == weights.count, "one name per weight")
        self.name = name
        self.version = version
        self.inputNames = inputNames
        // Subnormal weights are zero here, as the scoring modes would read them (`SubnormalFlush`).
        self.weights = weights.map(SubnormalFlush.flushed)
        self.bias = SubnormalFlush.flushed(bias)
    }

    public func score(rows: UnsafeBufferPointer<Float>, rowCount: Int, into scores: UnsafeMutableBufferPointer<Float>) {
        let n = weights.count
        precondition(rows.count >= rowCount * n && scores.count >= rowCount, "batch shape")
        guard rowCount > 0 else { return }
        SubnormalFlush.withFlushModes { scoreRows(rows: rows, rowCount: rowCount, into: scores) }
    }

    private func scoreRows(rows: UnsafeBufferPointer<Float>, rowCount: Int, into scores: UnsafeMutableBufferPointer<Float>) {
        let n = weights.count
        weights.withUnsafeBufferPointer { w in
            let wp = w.baseAddress!
            let xp = rows.baseAddress!
            var r = 0
            while r &+ 4 <= rowCount {
                let z = DotProduct.simd4(xp + r &* n, stride: n, wp, n) + bias
                for j in 0..<4 { scores[r &+ j] = z[j] }
                r &+= 4
            }
            // The last rows go through the same four-lane kernel (stride 0: every lane reads
            // the one row), so a row's score never depends on its place in the batch.
            while r < rowCount {
                scores[r] = DotProduct.simd4(xp + r &* n, stride: 0, wp, n)[0] + bias
                r &+= 1
            }
        }
        // The sigmoid eight rows at a time (vectorised exp), not one libm call per row.
        VectorMath.sigmoid(scores.baseAddress!, rowCount)
    }

    /// Reference: the scalar dot product, row by row.
    public func scoreScalar(_ rows: [[Float]]) -> [Float] {
        rows.map { row in
            let z = row.withUnsafeBufferPointer { x in
                weights.withUnsafeBufferPointer { w in DotProduct.scalar(x.baseAddress!, w.baseAddress!, weights.count) }
            }
            return 1 / (1 + Float.exp(-(z + bias)))
        }
    }
}
