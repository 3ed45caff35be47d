import Foundation
import Pipeline
import ServiceLifecycle

/// A backfill's progress and summary. On a terminal: a progress bar redrawn five times a
/// second (records done of the range, percent, rate, ETA, dead letters). Otherwise (or with
/// `--json`): a line every five seconds on stderr, as text or as a JSON object with every
/// partition. "Done" counts records whose output or dead letter the broker acknowledged.
struct BackfillReporter: Service {
    let pipeline: ScoringPipeline
    let progress: RangeProgress
    let json: Bool
    /// Done when this run began (a resume starts part way).
    let doneAtStart: Int64
    let started: ContinuousClock.Instant

    init(pipeline: ScoringPipeline, progress: RangeProgress, json: Bool) {
        self.pipeline = pipeline
        self.progress = progress
        self.json = json
        self.doneAtStart = progress.done
        self.started = .now
    }

    func run() async throws {
        let interactive = Terminal.isInteractive && !json
        let interval: Duration = interactive ? .milliseconds(200) : .seconds(5)
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                report(interactive: interactive)
            }
        }
        if interactive {
            report(interactive: true)
            Terminal.endProgress()
        }
    }

    private func report(interactive: Bool) {
        let (done, total) = (progress.done, progress.total)
        let elapsed = (ContinuousClock.now - started).inSeconds
        let rate = elapsed > 0 ? Double(done - doneAtStart) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : nil
        let deadLetters = pipeline.stats.deadLettersAcknowledged.load(ordering: .relaxed)
        if json {
            let object: [String: Any] = [
                "event": "progress", "done": done, "total": total, "rate": Int(rate.rounded()),
                "eta_seconds": eta.map { Int($0.rounded()) } as Any, "dead_letters": deadLetters,
                "partitions": progress.partitions.map { ["partition": $0.partition, "done": $0.done, "total": $0.total] },
            ]
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                Terminal.err(String(decoding: data, as: UTF8.self))
            }
            return
        }
        let line = "backfill \(Terminal.bar(Int(done), of: Int(total)))  \(done)/\(total)  \(Self.rate(rate))  ETA \(eta.map(Self.duration) ?? "?")"
            + (deadLetters > 0 ? "  dead letters \(deadLetters)" : "")
        if interactive { Terminal.progress(line) } else { Terminal.err(line) }
    }

    /// The final summary: what was scored, dead letters by reason, cache hits, time, rate.
    static func summary(
        pipeline: ScoringPipeline, progress: RangeProgress, plan: BackfillPlan, elapsed: Duration, doneAtStart: Int64, json: Bool
    ) {
        let stats = pipeline.stats
        let outputs = stats.outputsAcknowledged.load(ordering: .relaxed)
        let deadLetters = stats.deadLettersAcknowledged.load(ordering: .relaxed)
        let seconds = elapsed.inSeconds
        let done = progress.done - doneAtStart
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let complete = progress.isComplete
        if json {
            let object: [String: Any] = [
                "event": "summary", "run": plan.checkpoint.run, "complete": complete, "resumed": plan.resumed,
                "topic": progress.topic, "output_topic": plan.checkpoint.request.outputTopic,
                "records": progress.total, "done": progress.done, "done_this_run": done,
                "scored": outputs, "dead_letters": deadLetters, "dead_letters_by_reason": stats.deadLettersByReason,
                "cache_hits": stats.cache.hits.load(ordering: .relaxed), "elapsed_seconds": seconds, "rate": rate,
                "checkpoint": plan.path,
            ]
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) {
                Terminal.out(String(decoding: data, as: UTF8.self))
            }
            return
        }
        let reasons = stats.deadLettersByReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        Terminal.out("""
            backfill \(plan.checkpoint.run) of \(progress.topic) into \(plan.checkpoint.request.outputTopic): \
            \(complete ? "complete" : "NOT complete"), \(progress.done) of \(progress.total) records done
              this run: \(outputs) scored, \(deadLetters) dead letters\(reasons.isEmpty ? "" : " (\(reasons))"), \
            \(stats.cache.hits.load(ordering: .relaxed)) cache hits, \(String(format: "%.1f", seconds)) s, \(Self.rate(rate))
              checkpoint: \(plan.path)
            """)
    }

    static func rate(_ perSecond: Double) -> String {
        perSecond >= 10_000 ? String(format: "%.1fk rec/s", perSecond / 1000) : String(format: "%.0f rec/s", perSecond)
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
