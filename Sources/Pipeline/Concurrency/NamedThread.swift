import Foundation

/// Starts a named thread (`streamscore.kafka.poll`, `streamscore.worker.3`) and lets the
/// starter wait for it to finish.
final class NamedThread: Sendable {
    let name: String
    private let finished = ConditionLock(false)

    init(_ name: String, _ body: @escaping @Sendable () -> Void) {
        self.name = name
        let thread = Thread { [finished] in
            // Set from the thread itself, Foundation also names the kernel thread (`top -H`,
            // /proc/PID/task/*/comm), which holds 15 bytes: `batcher`, `worker.0`, ….
            Thread.current.name = String(name.trimmingPrefix("streamscore.").prefix(15))
            body()
            finished.withLock { $0 = true }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Waits for the thread's body to return, or for `deadline`.
    /// - Returns: whether it finished.
    @discardableResult
    func join(until deadline: ContinuousClock.Instant? = nil) -> Bool {
        finished.wait(until: deadline) { $0 ? true : nil } ?? false
    }
}
