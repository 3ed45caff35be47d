import Foundation

/// One `/proc/…/stat` line (a process's or a thread's): its name (`comm`, which may hold
/// spaces and parentheses, hence read up to the last `)`) and its numbered fields as
/// proc(5) counts them (state is field 3, utime 14, stime 15, …).
struct ProcStat {
    let name: String
    private let fields: [Substring]

    /// Reads `path` (`/proc/self/stat`, `/proc/PID/task/TID/stat`); nil when it is gone.
    init?(path: String) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        name = String(text[text.index(after: open)..<close])
        fields = text[text.index(after: close)...].split(separator: " ")
    }

    /// Field `n` (3 or more) as a number.
    func field(_ n: Int) -> Double? {
        fields.count > n - 3 ? Double(fields[n - 3]) : nil
    }

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// User plus system CPU seconds (fields 14 and 15).
    var cpuSeconds: Double? {
        guard let user = field(14), let system = field(15) else { return nil }
        return (user + system) / Self.ticksPerSecond
    }
}
