import Foundation
@testable import Inference
import Testing

@Suite("Inference")
struct InferenceTests {
    @Test("SIMD dot product matches the scalar reference on odd lengths", arguments: [0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 74, 100])
    func dot(_ n: Int) {
        var g = SystemRandomNumberGenerator()
        let x = (0..<max(n, 1)).map { _ in Float.random(in: -2...2, using: &g) }
        let w = (0..<max(n, 1)).map { _ in Float.random(in: -2...2, using: &g) }
        let simd: Float = DotProduct.simd(x, w, n)
        let scalar: Float = DotProduct.scalar(x, w, n)
        let tolerance: Float = 1e-4 * max(1, abs(scalar))
        #expect(abs(simd - scalar) <= tolerance)
    }

    @Test("Four-row dot product matches four scalar ones", arguments: [1, 7, 8, 9, 74])
    func dot4(_ n: Int) {
        let x = (0..<(4 * n)).map { Float(($0 * 37) % 19) / 7 - 1.3 }
        let w = (0..<n).map { Float(($0 * 11) % 13) / 5 - 1.1 }
        let four = DotProduct.simd4(x, stride: n, w, n)
        for r in 0..<4 {
            let one: Float = x.withUnsafeBufferPointer { DotProduct.scalar($0.baseAddress! + r * n, w, n) }
            #expect(abs(four[r] - one) <= 1e-4 * max(1, abs(one)))
        }
    }

    @Test("Logistic regression scores a batch like the formula, row by row", arguments: [0, 1, 5, 33])
    func logistic(_ rows: Int) {
        let model = LogisticRegression(name: "m", version: "1", inputNames: nil, weights: [0.5, -1, 2, 0.25, 0.1, -0.3, 0.7, 1, -2], bias: -0.5)
        let batch: [[Float]] = (0..<rows).map { r in
            (0..<9).map { (c: Int) -> Float in Float((c * 7 + r * 3) % 11) / 5 - 1 }
        }
        let scores = model.score(batch)
        #expect(scores.count == rows)
        for (row, score) in zip(batch, scores) {
            var z = Double(model.bias)
            for (x, w) in zip(row, model.weights) { z += Double(x) * Double(w) }
            let expected = 1 / (1 + exp(-z))
            #expect(abs(Double(score) - expected) <= 1e-6)
        }
    }

    @Test("Softmax rows sum to 1, keep their order, and survive large logits")
    func softmax() {
        var values: [Float] = [1, 2, 3, 1000, 1001, -1000]
        values.withUnsafeMutableBufferPointer { v in
            Activation.softmax.apply(v.baseAddress!, 3)
            Activation.softmax.apply(v.baseAddress! + 3, 3)
        }
        #expect(abs(values[0..<3].reduce(0, +) - 1) <= 1e-6 && abs(values[3..<6].reduce(0, +) - 1) <= 1e-6)
        #expect(values[0] < values[1] && values[1] < values[2])
        #expect(abs(values[2] - 0.66524096) <= 1e-6)
        #expect(abs(values[4] - 0.7310586) <= 1e-6 && values[5] == 0, "no overflow at 1000")
    }

    @Test("Splitting a batch across threads gives the one-thread scores", arguments: [1, 2, 3])
    func parallel(threads: Int) throws {
        for file in ["xgb-binary.json", "sk-mlp-softmax.json"] {
            let model = try ModelLoader.load(path: packageRoot.appendingPathComponent("Tests/Fixtures/Models/\(file)").path)
            let split = ParallelModel(model, threads: threads, minimumRowsPerThread: 16)
            for count in [0, 1, 15, 16, 33, 64, 257] {
                let rows = ModelBenchmark.rows(count: count, inputs: model.inputCount)
                let grouped = (0..<count).map { Array(rows[($0 * model.inputCount)..<(($0 + 1) * model.inputCount)]) }
                #expect(split.score(grouped) == model.score(grouped), "\(file), \(count) rows, \(threads) threads")
            }
        }
    }

    @Test("Bad model files name the field", arguments: [
        (#"{"kind":"logistic"}"#, "format_version"),
        (#"{"format_version":2,"kind":"logistic"}"#, "format_version"),
        (#"{"format_version":1,"kind":"forest","name":"m","version":"1"}"#, "kind"),
        (#"{"format_version":1,"kind":"logistic","name":"m","version":"1","bias":0}"#, "weights"),
        (#"{"format_version":1,"kind":"logistic","name":"m","version":"1","weights":[],"bias":0}"#, "weights"),
        (#"{"format_version":1,"kind":"logistic","name":"m","version":"1","weights":[1,"a"],"bias":0}"#, "weights[1]"),
        (#"{"format_version":1,"kind":"logistic","name":"m","version":"1","weights":[1,2],"bias":"x"}"#, "bias"),
        (#"{"format_version":1,"kind":"logistic","name":"m","version":"1","weights":[1,2],"bias":0,"inputs":["a"]}"#, "inputs"),
        (#"{"format_version":1,"kind":"logistic","version":"1","weights":[1,2],"bias":0}"#, "name"),
        (#"{"format_version":1,"kind":"logistic","name":"m","version":"1","weights":[1,1e39],"bias":0}"#, "weights[1]"),
        (#"{"format_version":1,"kind":"logistic""#, "JSON"),
    ])
    func badFiles(_ json: String, _ field: String) {
        do {
            _ = try ModelLoader.load(data: Data(json.utf8))
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.description.contains(field), "\(error)")
        }
    }

    @Test("The bundled demo model loads with its input names")
    func bundled() throws {
        let model = try ModelLoader.load(path: packageRoot.appendingPathComponent("Models/fraud-logistic.json").path)
        #expect(model.identity == "fraud-demo@1")
        #expect(model.inputNames == ["amount", "distance_km", "txn_last_hour", "card_age_days"])
        // A planted-fraud-shaped row scores high, an ordinary one low.
        let scores = model.score([[1_500, 2_000, 10, 15], [60, 10, 1, 1_000]])
        #expect(scores[0] > 0.99)
        #expect(scores[1] < 0.01)
    }
}

@Suite("Vector math")
struct VectorMathTests {
    @Test("Vectorised exp matches Float.exp within a few ULP across the range, saturating like expf")
    func exp() {
        var worst: Float = 0
        var x: Float = -100
        while x <= 100 {
            let lanes = SIMD8<Float>((0..<8).map { x + Float($0) * 0.0173 })
            let got = VectorMath.exp(lanes)
            for i in 0..<8 {
                let want = Float.exp(lanes[i])
                if want == 0 || want.isInfinite || want < Float.leastNormalMagnitude {
                    #expect(got[i] == want || (want < Float.leastNormalMagnitude && got[i] < 1e-37), "\(lanes[i])")
                } else {
                    worst = max(worst, abs(got[i] - want) / want)
                }
            }
            x += 0.131
        }
        #expect(worst <= 4 * Float.ulpOfOne, "worst relative error \(worst)")
    }

    @Test("Vectorised sigmoid over odd lengths matches the scalar one")
    func sigmoid() {
        for count in [0, 1, 7, 8, 9, 17] {
            var values = (0..<count).map { Float($0) * 1.7 - 12 }
            let want = values.map(Activation.sigmoid)
            values.withUnsafeMutableBufferPointer { VectorMath.sigmoid($0.baseAddress!, count) }
            for (a, b) in zip(values, want) { #expect(abs(a - b) <= 1e-6) }
        }
    }
}
