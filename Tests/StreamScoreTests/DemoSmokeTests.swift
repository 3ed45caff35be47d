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
        let demo = try WorkerProcess(
            ["demo", "--duration", "2", "--rate", "1000", "--partitions", "2", "--repeat-ratio", "0.5"], name: "demo", directory: empty)
        defer { demo.terminate() }
        #expect(demo.waitForExit(timeout: .seconds(60)) == 0, "stderr: \(demo.stderr)")
        let out = demo.stdout
        #expect(out.contains("-> model fraud-xgb@"), "stdout: \(out)")
        #expect(out.contains("score cache: the in-process tier alone"))
        #expect(out.contains("keyed on the feature row"), "by default the cache keys on the whole row")
        let scored = out.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("scored") }
        let count = scored?.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        #expect((count ?? 0) > 0, "no events scored: \(out)")
        // "score cache     50% hits (N hits, M of them in-process; ...": without Redis, every hit is in-process.
        let cacheLine = out.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("score cache ") }
        let numbers = cacheLine.map { line in line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) } } ?? []
        #expect(numbers.count >= 3 && numbers[1] > 0 && numbers[1] == numbers[2], "hits, then in-process hits: \(cacheLine ?? "no summary line")")
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path).isEmpty, "the demo wrote files into the working directory")
    }
}
