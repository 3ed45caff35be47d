import Foundation
import Testing

/// `streamscore demo` as a user runs it after installing the binary: from a directory with
/// no StreamScore files in it (the model is built into the binary).
@Suite("Demo")
struct DemoSmokeTests {
    @Test("The demo runs from an empty directory and scores with the bundled model")
    func runsWithoutTheCheckout() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("demo-cwd"))
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let demo = try WorkerProcess(["demo", "--duration", "2", "--rate", "1000", "--partitions", "2"], name: "demo", directory: empty)
        defer { demo.terminate() }
        #expect(demo.waitForExit(timeout: .seconds(60)) == 0, "stderr: \(demo.stderr)")
        let out = demo.stdout
        #expect(out.contains("-> model fraud-xgb@"), "stdout: \(out)")
        #expect(out.contains("score cache: the in-process tier alone"))
        let scored = out.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("scored") }
        let count = scored?.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        #expect((count ?? 0) > 0, "no events scored: \(out)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path).isEmpty, "the demo wrote files into the working directory")
    }
}
