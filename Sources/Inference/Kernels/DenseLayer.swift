/// One fully connected layer, `out = activation(x · W + b)`, over a tile of rows.
///
/// Weights are stored input-major and padded: `weights[k * paddedOutputs + o]`, with
/// `paddedOutputs` a multiple of 8, so one `SIMD8<Float>` load covers eight output units
/// for one input. The kernel is register-blocked: four rows × sixteen outputs (eight
/// `SIMD8` accumulators) per inner loop, broadcasting one input value per row and
/// multiply-adding it into the accumulators (`DenseKernel.fma`); the scalar reference walks
/// the same math one product at a time.
public struct DenseLayer: Sendable {
    public let inputs: Int
    public let outputs: Int
    public let paddedOutputs: Int
    public let activation: Activation
    /// `inputs × paddedOutputs`, zero in the padding.
    @usableFromInline let weights: [Float]
    /// `paddedOutputs`, zero in the padding.
    @usableFromInline let bias: [Float]

    /// - Parameter weights: `outputs` rows of `inputs` values (as ONNX/PyTorch store them).
    public init(weights rows: [[Float]], bias: [Float], activation: Activation) {
        precondition(!rows.isEmpty && rows.count == bias.count, "one bias per output unit")
        let inputs = rows[0].count
        precondition(rows.allSatisfy { $0.count == inputs }, "every output unit has one weight per input")
        self.inputs = inputs
        self.outputs = rows.count
        self.paddedOutputs = (rows.count + 7) / 8 * 8
        self.activation = activation
        var w = [Float](repeating: 0, count: inputs * paddedOutputs)
        // Subnormal weights and biases are zero here (`SubnormalFlush`), as the scoring
        // modes would read them.
        for (o, row) in rows.enumerated() {
            for (k, value) in row.enumerated() { w[k * paddedOutputs + o] = SubnormalFlush.flushed(value) }
        }
        self.weights = w
        self.bias = bias.map(SubnormalFlush.flushed) + [Float](repeating: 0, count: paddedOutputs - rows.count)
    }

    /// Computes `rows` rows: input rows are `inputStride` floats apart, output rows
    /// `paddedOutputs` apart (padding lanes are written too).
    @inlinable
    func forward(_ x: UnsafePointer<Float>, inputStride: Int, rows: Int, into y: UnsafeMutablePointer<Float>) {
        weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                DenseKernel.simd(
                    x: x, inputStride: inputStride, rows: rows, inputs: inputs,
                    w: w.baseAddress!, b: b.baseAddress!, paddedOutputs: paddedOutputs, y: y)
            }
        }
        for r in 0..<rows { activation.apply(y + r &* paddedOutputs, outputs) }
    }

    /// Reference: the same layer, one multiply-add at a time.
    func forwardScalar(_ x: UnsafePointer<Float>, inputStride: Int, rows: Int, into y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            for o in 0..<paddedOutputs {
                var sum = bias[o]
                for k in 0..<inputs { sum += x[r * inputStride + k] * weights[k * paddedOutputs + o] }
                y[r * paddedOutputs + o] = sum
            }
            activation.apply(y + r * paddedOutputs, outputs)
        }
    }
}

/// The register-blocked matrix kernel behind `DenseLayer`.
@usableFromInline
enum DenseKernel {
    @inlinable
    static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// `acc + a·b`: one fused multiply-add per lane when built for a CPU that has FMA
    /// (`STREAMSCORE_FMA`, set by the Makefile's release build together with
    /// `-target-cpu`); otherwise a multiply and an add, which vectorise on any target
    /// (`addingProduct` without FMA hardware becomes a libm call per lane).
    @inlinable @inline(__always)
    static func fma(_ acc: SIMD8<Float>, _ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        #if STREAMSCORE_FMA
        return acc.addingProduct(a, b)
        #else
        return acc + a * b
        #endif
    }

    @inlinable
    static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// `y[r, o] = b[o] + Σ_k x[r, k] · w[k, o]` for all rows and padded outputs.
    @inlinable
    static func simd(
        x: UnsafePointer<Float>, inputStride: Int, rows: Int, inputs: Int,
        w: UnsafePointer<Float>, b: UnsafePointer<Float>, paddedOutputs: Int, y: UnsafeMutablePointer<Float>
    ) {
        precondition(paddedOutputs % 8 == 0 && inputStride >= inputs, "dense kernel shape")
        var r = 0
        while r < rows {
            let blockRows = min(4, rows &- r)
            // Rows past the end of a short block read row 0 of the block again: their
            // results are computed and dropped, which keeps the inner loop branch-free.
            let x0 = x + r &* inputStride
            let x1 = blockRows > 1 ? x0 + inputStride : x0
            let x2 = blockRows > 2 ? x0 + 2 &* inputStride : x0
            let x3 = blockRows > 3 ? x0 + 3 &* inputStride : x0
            var o = 0
            while o < paddedOutputs {
                let pair = o &+ 16 <= paddedOutputs
                let bias0 = load(b + o)
                let bias1 = pair ? load(b + (o &+ 8)) : SIMD8<Float>()
                var a00 = bias0, a10 = bias0, a20 = bias0, a30 = bias0
                var a01 = bias1, a11 = bias1, a21 = bias1, a31 = bias1
                var wp = w + o
                if pair {
                    for k in 0..<inputs {
                        let w0 = load(wp), w1 = load(wp + 8)
                        let v0 = SIMD8(repeating: x0[k]), v1 = SIMD8(repeating: x1[k])
                        let v2 = SIMD8(repeating: x2[k]), v3 = SIMD8(repeating: x3[k])
                        a00 = fma(a00, v0, w0); a01 = fma(a01, v0, w1)
                        a10 = fma(a10, v1, w0); a11 = fma(a11, v1, w1)
                        a20 = fma(a20, v2, w0); a21 = fma(a21, v2, w1)
                        a30 = fma(a30, v3, w0); a31 = fma(a31, v3, w1)
                        wp += paddedOutputs
                    }
                } else {
                    for k in 0..<inputs {
                        let w0 = load(wp)
                        a00 = fma(a00, SIMD8(repeating: x0[k]), w0)
                        a10 = fma(a10, SIMD8(repeating: x1[k]), w0)
                        a20 = fma(a20, SIMD8(repeating: x2[k]), w0)
                        a30 = fma(a30, SIMD8(repeating: x3[k]), w0)
                        wp += paddedOutputs
                    }
                }
                let y0 = y + (r &* paddedOutputs &+ o)
                store(a00, y0)
                if pair { store(a01, y0 + 8) }
                if blockRows > 1 { store(a10, y0 + paddedOutputs); if pair { store(a11, y0 + (paddedOutputs &+ 8)) } }
                if blockRows > 2 { store(a20, y0 + 2 &* paddedOutputs); if pair { store(a21, y0 + (2 &* paddedOutputs &+ 8)) } }
                if blockRows > 3 { store(a30, y0 + 3 &* paddedOutputs); if pair { store(a31, y0 + (3 &* paddedOutputs &+ 8)) } }
                o &+= pair ? 16 : 8
            }
            r &+= 4
        }
    }
}
