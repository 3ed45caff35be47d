import Features
import Foundation
import Inference
import Pipeline
@testable import streamscore
import Testing
import Workload

/// The default feature spec against the Python featurisation the demo model was trained on
/// (`scripts/make_model_fixtures.py` writes both the events and its rows).
@Suite("Demo features")
struct DemoFeatureTests {
    static let directory = packageRoot.appendingPathComponent("Tests/Fixtures/Features")

    @Test("The default spec turns the fixture's events into the rows Python computed")
    func matchesTrainingFeaturisation() throws {
        let decoder = try EventDecoder(spec: FeatureSpec(inputs: FeatureInputsParser.demoInputs))
        let events = try String(contentsOf: Self.directory.appendingPathComponent("demo.events.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        let rows = try FeatureTable(csv: String(contentsOf: Self.directory.appendingPathComponent("demo.rows.csv"), encoding: .utf8))
        #expect(events.count == rows.rowCount && events.count >= 300)
        #expect(decoder.inputNames == rows.names)
        for (i, event) in events.enumerated() {
            let (id, row) = try decoder.decode(Array(event.utf8)).get()
            #expect(id == "tx-\(i)")
            for (k, (got, want)) in zip(row, rows.row(i)).enumerated() {
                #expect(abs(got - want) <= 1e-6 * max(1, abs(want)), "event \(i), input \(rows.names![k]): \(got) against \(want)")
            }
        }
    }

    @Test("One reused scratch decodes 20,000 generated events exactly as fresh ones do")
    func scratchReuse() throws {
        let decoder = try EventDecoder(spec: FeatureSpec(inputs: FeatureInputsParser.demoInputs))
        var generator = TransactionGenerator(seed: 9, keys: 1_000, malformedRatio: 0.05)
        var scratch = EventDecoder.Scratch(for: decoder)
        var row = [Float](repeating: 0, count: decoder.inputCount)
        for n in 0..<20_000 {
            let event = generator.next(timestamp: 1_700_000_000_000 + Int64(n)).value
            let fresh = decoder.decode(event)
            let reused = event.withUnsafeBytes { raw in
                row.withUnsafeMutableBufferPointer { decoder.decode(raw, into: $0, scratch: &scratch) }.map { $0?.text(in: raw) }
            }
            switch (fresh, reused) {
            case (.success(let a), .success(let id)):
                try #require(a.id == id && a.row == row, "event \(n)")
            case (.failure(let a), .failure(let b)):
                try #require(a == b, "event \(n)")
            default:
                Issue.record("event \(n): \(fresh) against \(reused)")
                return
            }
        }
    }

    @Test("The bundled demo model's inputs are the default spec's")
    func demoModelMatchesDefaultSpec() throws {
        let model = try ModelLoader.load(path: packageRoot.appendingPathComponent("Models/fraud-xgb.json").path)
        let decoder = try EventDecoder(spec: FeatureSpec(inputs: FeatureInputsParser.demoInputs))
        #expect(model.inputNames == decoder.inputNames)
    }

    @Test("The model built into the binary is Models/fraud-xgb.json: same identity, same scores")
    func embeddedModelIsTheFile() throws {
        let file = try ModelLoader.load(path: packageRoot.appendingPathComponent("Models/fraud-xgb.json").path)
        let embedded = try BundledModel.load()
        #expect(embedded.identity == file.identity)
        #expect(embedded.inputNames == file.inputNames)
        var generator = TransactionGenerator(seed: 3, keys: 500, malformedRatio: 0)
        let decoder = try EventDecoder(spec: FeatureSpec(inputs: FeatureInputsParser.demoInputs))
        let rows = try (0..<256).map { n in
            try decoder.decode(generator.next(timestamp: 1_700_000_000_000 + Int64(n)).value).get().row
        }
        #expect(embedded.score(rows) == file.score(rows))
    }
}
