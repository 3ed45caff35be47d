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
        guard let stat = ProcStat(path: "/proc/self/stat") else { return }
        // proc(5): num_threads 20, starttime 22, vsize 23, rss 24 (pages).
        if let now = stat.cpuSeconds {
            lastCPU.withLock { last in
                if now > last { cpu.increment(by: now - last) }
                last = now
            }
        }
        if let n = stat.field(20) { threads.record(n) }
        if let vsize = stat.field(23) { virtual.record(vsize) }
        if let pages = stat.field(24) { resident.record(pages * Double(sysconf(Int32(_SC_PAGESIZE)))) }
        if let start = stat.field(22), let boot = Self.bootTime { startTime.record(boot + start / ProcStat.ticksPerSecond) }
        if let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") { openFDs.record(fds.count) }
    }

    /// Seconds since the epoch at boot (`btime` in /proc/stat).
    private static let bootTime: Double? = {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6)) }
    }()
}
