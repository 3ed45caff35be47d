import Concurrency

/// Shared run state of one pipeline: stop requests, the first failure, and the outcome.
///
/// Written by any stage, read by all; stages poll `isStopping` between units of work.
final class PipelineControl: Sendable {
    enum Outcome: Sendable {
        case stopped(reason: String)
        case failed(PipelineError)
    }

    private struct State {
        var stopReason: String?
        /// When the first stop was asked for: the shutdown deadline counts from here.
        var stopRequestedAt: ContinuousClock.Instant?
        var failure: PipelineError?
        var outcome: Outcome?
        /// Called once the outcome is published (`whenFinished`).
        var onFinish: [@Sendable (Outcome) -> Void] = []
    }

    private let state = ConditionLock(State())
    /// Announced on a failure, so that a wait for acknowledgements (a revoke's drain)
    /// stops waiting.
    private let failureAnnouncement: EventCount?

    init(announcingFailureOn failureAnnouncement: EventCount? = nil) {
        self.failureAnnouncement = failureAnnouncement
    }

    /// Asks for a graceful stop; the first reason given wins.
    func requestStop(_ reason: String) {
        state.withLock { s in
            if s.stopReason == nil { (s.stopReason, s.stopRequestedAt) = (reason, .now) }
        }
    }

    /// When the stop was asked for (nil while running).
    var stopRequestedAt: ContinuousClock.Instant? { state.read { $0.stopRequestedAt } }

    /// Records a failure (the first wins) and asks for a stop.
    func fail(_ error: PipelineError) {
        state.withLock { s in
            if s.failure == nil { s.failure = error }
            if s.stopReason == nil { (s.stopReason, s.stopRequestedAt) = ("failure", .now) }
        }
        failureAnnouncement?.announce()
    }

    var isStopping: Bool { state.read { $0.stopReason != nil } }
    var failure: PipelineError? { state.read { $0.failure } }

    /// Publishes the final outcome (poll thread, after the shutdown sequence).
    func finish(timedOutIn stage: String?) {
        let (outcome, callbacks) = state.withLock { s in
            if let failure = s.failure {
                s.outcome = .failed(failure)
            } else if let stage {
                s.outcome = .failed(.shutdownTimedOut(stage: stage))
            } else {
                s.outcome = .stopped(reason: s.stopReason ?? "stopped")
            }
            defer { s.onFinish = [] }
            return (s.outcome!, s.onFinish)
        }
        for callback in callbacks { callback(outcome) }
    }

    /// Calls `body` with the outcome once it is published (at once if it is).
    func whenFinished(_ body: @escaping @Sendable (Outcome) -> Void) {
        let outcome = state.withLock { s in
            if s.outcome == nil { s.onFinish.append(body) }
            return s.outcome
        }
        if let outcome { body(outcome) }
    }

    var outcome: Outcome? { state.read { $0.outcome } }

    /// Blocks until the outcome is published or `deadline` passes.
    func waitForOutcome(until deadline: ContinuousClock.Instant?) -> Outcome? {
        state.wait(until: deadline) { $0.outcome }
    }
}
