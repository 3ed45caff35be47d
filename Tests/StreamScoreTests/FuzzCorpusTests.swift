import Features
import Foundation
@testable import streamscore_fuzz
import Testing

/// The fuzz target's property over the committed corpus of nasty inputs, and over the big
/// cases too large to commit. `make fuzz` searches for new ones.
@Suite("Decoder fuzz corpus")
struct FuzzCorpusTests {
    static let directory = packageRoot.appendingPathComponent("Tests/Fixtures/FuzzCorpus")

    static let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()) ?? []

    /// The replayer (`streamscore-fuzz` built normally), beside the test bundle.
    static var replayer: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("streamscore-fuzz")
    }

    @Test("The corpus is there")
    func corpusPresent() {
        #expect(Self.files.count >= 40)
    }

    /// Each input in a process of its own: one that traps the decoder fails its own case,
    /// named, and the rest of the run goes on.
    @Test("Every corpus input decodes to a row or a typed reason", arguments: files)
    func corpus(_ file: String) throws {
        let process = Process()
        process.executableURL = Self.replayer
        process.arguments = [Self.directory.appendingPathComponent(file).path]
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(
            process.terminationReason == .exit && process.terminationStatus == 0,
            "\(file): \(process.terminationReason == .uncaughtSignal ? "trapped (signal \(process.terminationStatus))" : "exit \(process.terminationStatus)"): \(String(decoding: stderr.suffix(2_000), as: UTF8.self))")
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
