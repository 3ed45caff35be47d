import Features
import Foundation
import Inference
@testable import streamscore
import Testing

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

    @Test("The bundled demo model's inputs are the default spec's")
    func demoModelMatchesDefaultSpec() throws {
        let model = try ModelLoader.load(path: packageRoot.appendingPathComponent("Models/fraud-xgb.json").path)
        let decoder = try EventDecoder(spec: FeatureSpec(inputs: FeatureInputsParser.demoInputs))
        #expect(model.inputNames == decoder.inputNames)
    }
}
