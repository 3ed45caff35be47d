import Dispatch
import Foundation
import Synchronization

/// A second SIGINT/SIGTERM during a graceful stop exits at once.
///
/// swift-service-lifecycle turns the first signal into a graceful shutdown; this watcher
/// counts signals alongside it and ends the process on the second, without committing:
/// the records in flight are replayed by the next run (at-least-once).
struct SignalEscalation {
    private let sources: [DispatchSourceSignal]

    /// Starts watching; keep the value alive for as long as the watch should last.
    init() {
        let queue = DispatchQueue(label: "streamscore.signals")
        let count = Counter()
        sources = [SIGINT, SIGTERM].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                if count.value.add(1, ordering: .relaxed).newValue >= 2 {
                    Terminal.err("second signal: exiting immediately; uncommitted records will be replayed")
                    _exit(130)
                }
            }
            source.resume()
            return source
        }
    }

    /// Stops watching.
    func cancel() {
        for source in sources { source.cancel() }
    }

    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }
}
