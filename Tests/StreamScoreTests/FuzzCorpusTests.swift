import Features
import Foundation
@testable import streamscore_fuzz
import Testing

/// The fuzz target's property over the committed corpus of nasty inputs, and over the big
/// cases too large to commit. `make fuzz` searches for new ones.
@Suite("Decoder fuzz corpus")
struct FuzzCorpusTests {
    static let directory = packageRoot.appendingPathComponent("Tests/Fixtures/FuzzCorpus")

    @Test("Every corpus input decodes to a row or a typed reason")
    func corpus() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).sorted()
        #expect(files.count >= 40)
        for file in files {
            let data = try Data(contentsOf: Self.directory.appendingPathComponent(file))
            data.withUnsafeBytes { FeatureFuzz.check($0) }
        }
    }

    @Test("Big inputs: a 10 MB string, 100,000 levels of nesting, a 1 MB number, 100,000 members")
    func bigInputs() {
        let cases: [(String, [UInt8], String?)] = [
            ("10 MB string", Array(#"{"id":1,"card":""#.utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 10 << 20) + Array(#""}"#.utf8), nil),
            ("deep nesting", Array(#"{"a":"#.utf8) + [UInt8](repeating: UInt8(ascii: "["), count: 100_000) + [UInt8](repeating: UInt8(ascii: "]"), count: 100_000) + [UInt8(ascii: "}")], "malformed_json"),
            ("1 MB number", Array(#"{"id":1,"amount":"#.utf8) + [UInt8](repeating: UInt8(ascii: "9"), count: 1 << 20) + [UInt8(ascii: "}")], "non_finite"),
            ("many members", Array(("{" + (0..<100_000).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + ",\"id\":1}").utf8), nil),
        ]
        for (name, bytes, reason) in cases {
            bytes.withUnsafeBytes { FeatureFuzz.check($0) }
            if let reason {
                guard case .failure(let error) = FeatureFuzz.decoder.decode(bytes) else {
                    Issue.record("\(name): accepted")
                    continue
                }
                #expect(error.reason == reason, "\(name): \(error)")
            }
        }
    }
}
