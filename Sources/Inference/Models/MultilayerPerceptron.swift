/// A feed-forward network of dense layers (relu, tanh, logistic or identity), ending in one
/// unit whose activation gives the score (logistic: a probability).
///
/// Scores rows in tiles of `tileRows`: each layer runs the register-blocked `DenseLayer`
/// kernel over the tile, ping-ponging between two stack buffers, so a call allocates
/// nothing on the heap.
public struct MultilayerPerceptron: Model {
    public let name: String
    public let version: String
    public let inputNames: [String]?
    public let layers: [DenseLayer]
    private let widest: Int

    static let tileRows = 64

    public var inputCount: Int { layers[0].inputs }

    /// - Precondition: layers chain (each one's inputs = the previous one's outputs) and the
    ///   last layer has one output.
    public init(name: String, version: String, inputNames: [String]?, layers: [DenseLayer]) {
        precondition(!layers.isEmpty, "at least one layer")
        for (a, b) in zip(layers, layers.dropFirst()) { precondition(a.outputs == b.inputs, "layers must chain") }
        precondition(layers.last!.outputs == 1, "one output unit")
        self.name = name
        self.version = version
        self.inputNames = inputNames
        self.layers = layers
        self.widest = layers.map(\.paddedOutputs).max()!
    }

    public func score(rows: UnsafeBufferPointer<Float>, rowCount: Int, into scores: UnsafeMutableBufferPointer<Float>) {
        let width = inputCount
        precondition(rows.count >= rowCount * width && scores.count >= rowCount, "batch shape")
        guard rowCount > 0 else { return }
        let tile = Self.tileRows
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * tile * widest) { scratch in
            let a = scratch.baseAddress!, b = a + tile * widest
            var start = 0
            while start < rowCount {
                let n = min(tile, rowCount - start)
                var input = UnsafePointer(rows.baseAddress! + start * width)
                var stride = width
                var output = a
                for layer in layers {
                    layer.forward(input, inputStride: stride, rows: n, into: output)
                    input = UnsafePointer(output)
                    stride = layer.paddedOutputs
                    output = output == a ? b : a
                }
                for r in 0..<n { scores[start + r] = input[r * stride] }
                start += n
            }
        }
    }

    /// Reference: every layer with the scalar loop.
    public func scoreScalar(_ rows: [[Float]]) -> [Float] {
        rows.map { row in
            var values = row
            for layer in layers {
                var out = [Float](repeating: 0, count: layer.paddedOutputs)
                values.withUnsafeBufferPointer { x in
                    out.withUnsafeMutableBufferPointer { y in
                        layer.forwardScalar(x.baseAddress!, inputStride: values.count, rows: 1, into: y.baseAddress!)
                    }
                }
                values = Array(out.prefix(layer.outputs))
            }
            return values[0]
        }
    }
}
