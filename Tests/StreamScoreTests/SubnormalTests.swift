import Foundation
@testable import Inference
import Testing

/// Subnormal floats in a network: flushed at load, and scored with the CPU's flush modes
/// on only while a model scores.
@Suite("Subnormal weights")
struct SubnormalTests {
    /// Opaque to the optimiser: a runtime value.
    @inline(never) static func runtime(_ x: Float) -> Float { x }

    static let tiny: Float = 1e-40  // subnormal (the smallest normal float is ~1.18e-38)

    /// Every other weight is normal (o − i)/10; the rest subnormal, or zero in the twin.
    static func weight(_ o: Int, _ i: Int, subnormal: Bool) -> Float {
        if (o + i) % 2 == 0 { return Float(o - i) / 10 }
        return subnormal ? tiny : 0
    }

    static func input(_ r: Int, _ i: Int) -> Float {
        if r % 3 == 0 { return 1e-20 * Float(i + 1) }
        return Float(r % 7 - i) / 5
    }

    /// Two layers whose weights are half subnormal, and the same with those at zero.
    static func network(subnormal: Bool) -> MultilayerPerceptron {
        func weights(_ outputs: Int, _ inputs: Int) -> [[Float]] {
            (0..<outputs).map { o in (0..<inputs).map { i in weight(o, i, subnormal: subnormal) } }
        }
        return MultilayerPerceptron(name: "sub", version: "1", inputNames: nil, layers: [
            DenseLayer(weights: weights(16, 8), bias: [Float](repeating: subnormal ? tiny : 0, count: 16), activation: .relu),
            DenseLayer(weights: weights(1, 16), bias: [0.1], activation: .logistic),
        ])
    }

    @Test("weights and biases are flushed at load; scores equal the flushed twin's, within 1e-6 of float64 with subnormals kept")
    func flushedAtLoad() {
        let model = Self.network(subnormal: true), twin = Self.network(subnormal: false)
        for layer in model.layers {
            #expect(!layer.weights.contains { $0.isSubnormal } && !layer.bias.contains { $0.isSubnormal })
        }
        // Inputs small enough that products underflow into subnormals too.
        let rows: [[Float]] = (0..<100).map { r in (0..<8).map { i in Self.input(r, i) } }
        let scores = model.score(rows), expected = twin.score(rows)
        #expect(scores == expected)
        // float64 with every subnormal weight kept.
        for (r, row) in rows.enumerated() {
            var hidden = [Double](repeating: 0, count: 16)
            for o in 0..<16 {
                var sum = Double(Self.tiny)
                for i in 0..<8 { sum += Double(row[i]) * Double(Self.weight(o, i, subnormal: true)) }
                hidden[o] = max(0, sum)
            }
            var z = 0.1
            for i in 0..<16 { z += hidden[i] * Double(Self.weight(0, i, subnormal: true)) }
            #expect(abs(Double(scores[r]) - 1 / (1 + exp(-z))) < 1e-6, "row \(r)")
        }
    }

    @Test("the flush modes last only while a model scores: the thread keeps IEEE subnormals after")
    func modeRestored() {
        let model = Self.network(subnormal: true)
        _ = model.score([[Float](repeating: 1e-20, count: 8)])
        let half = Self.runtime(Float.leastNormalMagnitude) / Self.runtime(2)
        #expect(half.isSubnormal, "FTZ leaked out of the score call")
        #expect((Self.runtime(Self.tiny) * Self.runtime(1)).isSubnormal, "DAZ leaked out of the score call")
        let logistic = LogisticRegression(name: "l", version: "1", inputNames: nil, weights: [Self.tiny, 1], bias: Self.tiny)
        #expect(logistic.weights[0] == 0 && logistic.bias == 0)
        _ = logistic.score([[1, 2]])
        #expect((Self.runtime(Float.leastNormalMagnitude) / Self.runtime(4)).isSubnormal)
    }
}
