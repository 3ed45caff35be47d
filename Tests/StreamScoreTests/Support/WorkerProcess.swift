import Foundation
import Testing

/// The package's root directory (where `Models/` and `Configs/` are).
let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // Support
    .deletingLastPathComponent()  // StreamScoreTests
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()

/// A `streamscore` child process with its stdout and stderr captured to files.
final class WorkerProcess: @unchecked Sendable {
    // Test helper: `process` is only driven from the test's own thread.
    let process = Process()
    let stdoutURL: URL
    let stderrURL: URL
    let name: String

    /// The built `streamscore` executable, beside the test bundle.
    static var binary: URL {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("streamscore")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return packageRoot.appendingPathComponent(".build/debug/streamscore")
    }

    /// Starts `streamscore arguments` in `directory` (default: the package root).
    init(_ arguments: [String], name: String = "streamscore", environment: [String: String] = [:], directory: URL = packageRoot) throws {
        self.name = name
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("proc"))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        stdoutURL = dir.appendingPathComponent("stdout")
        stderrURL = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = Self.binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("STREAMSCORE_") }
        env.merge(environment) { _, new in new }
        process.environment = env
        process.currentDirectoryURL = directory
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits for a stdout line starting with `prefix` and returns the rest of it.
    func waitForLine(prefix: String, timeout: Duration = .seconds(30)) -> String? {
        var found: String?
        _ = eventually(timeout: timeout) {
            found = stdout.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
            return found != nil || !process.isRunning
        }
        return found
    }

    func signal(_ sig: Int32) {
        if process.isRunning { kill(process.processIdentifier, sig) }
    }

    /// Waits for exit; returns the exit status, or nil if still running at the timeout
    /// (the process is then killed).
    func waitForExit(timeout: Duration = .seconds(60)) -> Int32? {
        if eventually(timeout: timeout, { !process.isRunning }) {
            return process.terminationStatus
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return nil
    }

    /// Ends the process if it still runs.
    func terminate() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { terminate() }
}

/// A `streamscore broker` process for tests that need the broker outside the test process.
final class BrokerProcess {
    let worker: WorkerProcess
    let bootstrap: String

    init(partitions: Int, topics: [String]) throws {
        worker = try WorkerProcess(["broker", "--partitions", String(partitions), "--topics", topics.joined(separator: ",")], name: "broker")
        bootstrap = try #require(worker.waitForLine(prefix: "BOOTSTRAP="), "broker did not print BOOTSTRAP=: \(worker.stderr)")
    }

    deinit { worker.terminate() }
}

/// Writes a worker configuration file for a test and returns its path.
func writeWorkerConfig(
    input: String, output: String, deadLetter: String, group: String, extra: String = "", statisticsMs: Int? = nil
) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("config") + ".yaml").path
    let yaml = """
        kafka:
          group_id: \(group)
          consumer:
            session.timeout.ms: "6000"
            heartbeat.interval.ms: "500"\(statisticsMs.map { "\n    statistics.interval.ms: \"\($0)\"" } ?? "")
        topics:
          input: \(input)
          output: \(output)
          dead_letter: \(deadLetter)
        commit:
          interval_ms: 200
        shutdown:
          timeout_ms: 20000
        logging:
          level: info
        \(extra)
        """
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
