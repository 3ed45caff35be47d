import CoreMetrics
import Foundation
import Synchronization

/// The process series Prometheus' client libraries export (`process_cpu_seconds_total`,
/// `process_resident_memory_bytes`, …), read from `/proc/self` at each scrape (Linux; on
/// other systems they stay absent).
final class ProcessMetrics: Sendable {
    private let cpu = FloatingPointCounter(label: "process_cpu_seconds_total")
    private let resident = Gauge(label: "process_resident_memory_bytes")
    private let virtual = Gauge(label: "process_virtual_memory_bytes")
    private let startTime = Gauge(label: "process_start_time_seconds")
    private let openFDs = Gauge(label: "process_open_fds")
    private let threads = Gauge(label: "process_threads")
    private let lastCPU = Mutex<Double>(0)

    /// Reads `/proc/self/stat` and counts `/proc/self/fd`.
    func publish() {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return }
        // Fields after "pid (comm)": state is field 3; utime 14, stime 15, num_threads 20,
        // starttime 22, vsize 23, rss 24 (pages).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        func field(_ n: Int) -> Double? { fields.count > n - 3 ? Double(fields[n - 3]) : nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let user = field(14), let system = field(15) {
            let now = (user + system) / ticks
            lastCPU.withLock { last in
                if now > last { cpu.increment(by: now - last) }
                last = now
            }
        }
        if let n = field(20) { threads.record(n) }
        if let vsize = field(23) { virtual.record(vsize) }
        if let pages = field(24) { resident.record(pages * Double(sysconf(Int32(_SC_PAGESIZE)))) }
        if let start = field(22), let boot = Self.bootTime { startTime.record(boot + start / ticks) }
        if let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") { openFDs.record(fds.count) }
    }

    /// Seconds since the epoch at boot (`btime` in /proc/stat).
    private static let bootTime: Double? = {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6)) }
    }()
}
