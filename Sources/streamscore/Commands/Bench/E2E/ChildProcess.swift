import Foundation

/// A process the end-to-end benchmark starts (the broker, a worker, a peer, a kcat pipe's
/// two ends), with its stderr kept in a file and its CPU time and peak RSS read from /proc.
final class ChildProcess {
    let name: String
    let process = Process()
    let stderrURL: URL
    private let stdoutPipe: Pipe?

    /// - Parameters:
    ///   - stdin, stdout: connect to another process (a kcat pipe); by default stdout goes
    ///     to the stderr file and stdin is empty.
    ///   - captureStdout: read stdout through `readLine` (the broker's `BOOTSTRAP=` line).
    init(
        name: String, executable: String, arguments: [String], environment: [String: String] = [:],
        stdin: Pipe? = nil, stdout: Pipe? = nil, captureStdout: Bool = false, logDirectory: URL
    ) throws {
        self.name = name
        stderrURL = logDirectory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: stderrURL)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("STREAMSCORE_") }
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardInput = stdin ?? FileHandle.nullDevice
        process.standardError = log
        if captureStdout {
            let pipe = Pipe()
            process.standardOutput = pipe
            stdoutPipe = pipe
        } else {
            process.standardOutput = stdout ?? log
            stdoutPipe = nil
        }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// The first stdout line starting with `prefix` (its rest), reading until it comes or
    /// the process ends.
    func readLine(prefix: String) -> String? {
        guard let handle = stdoutPipe?.fileHandleForReading else { return nil }
        var buffer = ""
        while true {
            let data = handle.availableData
            if data.isEmpty { return nil }
            buffer += String(decoding: data, as: UTF8.self)
            for line in buffer.split(separator: "\n") where line.hasPrefix(prefix) {
                return String(line.dropFirst(prefix.count))
            }
        }
    }

    /// The latest CPU time and peak RSS read while it ran (a kcat consumer exits on its own
    /// at the end of the input, before the run is over).
    private var sampled = (cpu: 0.0, rss: 0.0)
    /// Each thread's name and CPU seconds, by thread id, as last read (a thread that ended
    /// keeps its last reading).
    private var threads: [Int: (name: String, cpu: Double)] = [:]
    /// When the threads were last read: every thread's stat file is a read of its own, so
    /// the progress ticks (20 a second) read them at most twice a second, on the same two
    /// cores as the run being measured.
    private var threadsSampledAt: ContinuousClock.Instant?

    /// Reads CPU time and peak RSS now, and every thread's CPU time if the last reading is
    /// half a second old (or `allThreads`), keeping them for after the process exits.
    func sample(allThreads: Bool = false) {
        guard process.isRunning else { return }
        sampled = (max(sampled.cpu, ProcStat(path: "/proc/\(pid)/stat")?.cpuSeconds ?? 0), max(sampled.rss, currentPeakRSSMiB))
        guard allThreads || threadsSampledAt.map({ $0.duration(to: .now) >= .milliseconds(500) }) ?? true else { return }
        threadsSampledAt = .now
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        for task in tasks {
            guard let tid = Int(task), let stat = ProcStat(path: "/proc/\(pid)/task/\(task)/stat"), let cpu = stat.cpuSeconds else { continue }
            threads[tid] = (stat.name, max(threads[tid]?.cpu ?? 0, cpu))
        }
    }

    /// CPU seconds by thread kind (`ThreadKind.of`), summed over the threads of a kind:
    /// now, or as last sampled once it has exited.
    var cpuSecondsByThread: [String: Double] {
        sample(allThreads: true)
        var result: [String: Double] = [:]
        for (_, thread) in threads { result[ThreadKind.of(thread.name), default: 0] += thread.cpu }
        return result
    }

    /// User plus system CPU seconds: now, or the last sample once it has exited.
    var cpuSeconds: Double {
        sample()
        return sampled.cpu
    }

    /// Peak resident set size in MiB (VmHWM): now, or the last sample once it has exited.
    var peakRSSMiB: Double {
        sample()
        return sampled.rss
    }

    private var currentPeakRSSMiB: Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kib / 1024
    }

    /// The last lines of its log, for error messages.
    var logTail: String {
        let text = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(8).joined(separator: "\n")
    }

    /// Waits up to `timeout` for the process to exit; returns its status, or nil (then it
    /// is killed).
    @discardableResult
    func waitForExit(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    func stop(grace: Duration = .seconds(10)) {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        waitForExit(timeout: grace)
    }

    /// The program's path on `PATH`, or nil.
    static func find(_ program: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    deinit {
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }
}
