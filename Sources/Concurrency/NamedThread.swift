#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts a named thread (`streamscore.kafka.poll`, `streamscore.worker.3`) and lets the
/// starter wait for it to finish.
///
/// The thread names itself in the kernel first thing (`top -H`, `/proc/PID/task/*/comm`),
/// without the `streamscore.` prefix and cut to the kernel's 15 bytes: `kafka.poll`,
/// `worker.0`, `batcher`. It is a plain POSIX thread with a 1 MiB stack. Foundation's
/// `Thread.name`, used before, named the kernel thread only when the setter saw its own
/// pthread handle, which the starting thread stores after `pthread_create` returns: in 6 of
/// 9 runs a thread kept the name it inherited from its creator.
public final class NamedThread: Sendable {
    public let name: String
    private let finished = ConditionLock(false)

    /// Starts `body` on a new thread named `name`.
    public init(_ name: String, _ body: @escaping @Sendable () -> Void) {
        self.name = name
        let start = Start(kernelName: String(name.trimmingPrefix("streamscore.").prefix(15)), body: body, finished: finished)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, 1 << 20)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let context = Unmanaged.passRetained(start).toOpaque()
        let result = pthread_create(&thread, &attributes, { context in
            let start = Unmanaged<Start>.fromOpaque(context!).takeRetainedValue()
            start.run()
            return nil
        }, context)
        precondition(result == 0, "pthread_create failed: \(result)")
    }

    /// Waits for the thread's body to return, or for `deadline`.
    /// - Returns: whether it finished.
    @discardableResult
    public func join(until deadline: ContinuousClock.Instant? = nil) -> Bool {
        finished.wait(until: deadline) { $0 ? true : nil } ?? false
    }

    /// Whether the body has returned.
    public var isFinished: Bool { finished.read { $0 } }

    /// What the new thread runs: name itself, the body, then mark the join.
    private final class Start: Sendable {
        let kernelName: String
        let body: @Sendable () -> Void
        let finished: ConditionLock<Bool>

        init(kernelName: String, body: @escaping @Sendable () -> Void, finished: ConditionLock<Bool>) {
            (self.kernelName, self.body, self.finished) = (kernelName, body, finished)
        }

        /// Names the calling thread in the kernel. Glibc's `pthread_setname_np` is a GNU
        /// extension Swift does not import; writing `/proc/thread-self/comm` is what it does.
        static func nameKernelThread(_ name: String) {
            #if canImport(Glibc)
            let fd = open("/proc/thread-self/comm", O_WRONLY)
            guard fd >= 0 else { return }
            defer { close(fd) }
            var bytes = Array(name.utf8)
            _ = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
            #else
            _ = pthread_setname_np(name)
            #endif
        }

        func run() {
            Self.nameKernelThread(kernelName)
            body()
            finished.withLock { $0 = true }
        }
    }
}
