/// A feed-forward network of dense layers (relu, tanh, logistic or identity), ending either
/// in one unit whose activation gives the score (logistic: a probability) or, for a
/// multi-class model, in a softmax layer with one unit per class (`outputCount` scores per
/// row). A multinomial logistic regression is the one-layer case.
///
/// Scores rows in tiles of `tileRows`: each layer runs the register-blocked `DenseLayer`
/// kernel over the tile, ping-ponging between two buffers of the thread's scratch
/// (`ThreadScratch`), so a call allocates nothing on the heap after the thread's first.
public struct MultilayerPerceptron: Model {
    public let name: String
    public let version: String
    public var contentHash: String?
    public let inputNames: [String]?
    public let outputNames: [String]?
    public let layers: [DenseLayer]
    private let widest: Int

    static let tileRows = 64

    public var inputCount: Int { layers[0].inputs }
    public var outputCount: Int { layers[layers.count - 1].outputs }

    /// - Precondition: layers chain (each one's inputs = the previous one's outputs); only
    ///   the last layer is softmax, and the last layer has one unit unless it is softmax;
    ///   `outputNames`, when given, has one name per output.
    public init(name: String, version: String, inputNames: [String]?, outputNames: [String]? = nil, layers: [DenseLayer]) {
        precondition(!layers.isEmpty, "at least one layer")
        for (a, b) in zip(layers, layers.dropFirst()) { precondition(a.outputs == b.inputs, "layers must chain") }
        precondition(layers.dropLast().allSatisfy { $0.activation != .softmax }, "softmax only in the output layer")
        precondition(layers.last!.outputs == 1 || layers.last!.activation == .softmax, "one output unit, or softmax")
        precondition(outputNames == nil || outputNames!.count == layers.last!.outputs, "one name per output")
        self.name = name
        self.version = version
        self.inputNames = inputNames
        self.outputNames = outputNames
        self.layers = layers
        self.widest = layers.map(\.paddedOutputs).max()!
    }

    public func score(rows: UnsafeBufferPointer<Float>, rowCount: Int, into scores: UnsafeMutableBufferPointer<Float>) {
        let width = inputCount, outputs = outputCount
        precondition(rows.count >= rowCount * width && scores.count >= rowCount * outputs, "batch shape")
        guard rowCount > 0 else { return }
        SubnormalFlush.withFlushModes { scoreTiles(rows: rows, rowCount: rowCount, into: scores) }
    }

    private func scoreTiles(rows: UnsafeBufferPointer<Float>, rowCount: Int, into scores: UnsafeMutableBufferPointer<Float>) {
        let width = inputCount, outputs = outputCount
        let tile = Self.tileRows
        let a = ThreadScratch.floats(2 * tile * widest), b = a + tile * widest
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
            if outputs == 1 {
                for r in 0..<n { scores[start + r] = input[r * stride] }
            } else {
                for r in 0..<n {
                    for c in 0..<outputs { scores[(start + r) * outputs + c] = input[r * stride + c] }
                }
            }
            start += n
        }
    }

    /// Reference: every layer with the scalar loop (`outputCount` scores per row).
    public func scoreScalar(_ rows: [[Float]]) -> [Float] {
        rows.flatMap { row in
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
            return values
        }
    }
}
