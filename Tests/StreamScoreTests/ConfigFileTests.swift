import Foundation
@testable import streamscore
import Testing

@Suite("Configuration file")
struct ConfigFileTests {
    @Test("Configs/streamscore.yaml parses, documents every key, and equals the built-in defaults")
    func documentedDefaults() throws {
        let path = packageRoot.appendingPathComponent("Configs/streamscore.yaml").path
        let loader = try ConfigLoader(path: path, environment: [:])
        let defaults = ConfigLoader()
        for key in ConfigSchema.keys {
            #expect(loader.sources[key.path]?.hasPrefix(path) == true, "\(key.path) is not in the documented file")
            #expect(loader.values[key.path] == defaults.values[key.path], "\(key.path): file and built-in default differ")
        }
        _ = try Settings(loader)
    }

    @Test("Layers: file, then environment, then flags")
    func layers() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("c") + ".yaml").path
        try "batch:\n  max_rows: 10\n  max_wait_ms: 7\nkafka:\n  group_id: g1\n".write(toFile: path, atomically: true, encoding: .utf8)
        var loader = try ConfigLoader(path: path, environment: ["STREAMSCORE_BATCH_MAX_ROWS": "20", "STREAMSCORE_FEATURES_INPUTS": "amount, distance_km,txn_last_hour,card_age_days", "STREAMSCORE_KAFKA_GROUP_ID": "g2"])
        loader.set("kafka.group_id", "g3", flag: "--group")
        let settings = try Settings(loader)
        #expect(settings.pipeline.batchMaxRows == 20)
        #expect(settings.pipeline.batchMaxWait == .milliseconds(7))
        #expect(settings.pipeline.groupID == "g3")
        #expect(settings.pipeline.features.inputs.map(\.field) == ["amount", "distance_km", "txn_last_hour", "card_age_days"])
    }
}
