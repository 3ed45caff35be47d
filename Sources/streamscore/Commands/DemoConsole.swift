import Concurrency
import Foundation
import Pipeline
import ServiceLifecycle
import Synchronization
import Workload

/// The demo's load and live view: produces generated events on a thread of its own and
/// prints one status line per second until the duration passes or shutdown begins.
final class DemoConsole: Service, Sendable {
    private let pipeline: ScoringPipeline
    private let producer: LoadProducer
    private let topic: String
    private let rate: Double
    private let duration: Double
    private let malformedRatio: Double
    private let repeatRatio: Double
    private let summary = SummaryBox()
    /// The first scored record, and the flags against the planted fraud.
    let detection: DemoDetection

    init(
        pipeline: ScoringPipeline, producer: LoadProducer, topic: String, rate: Double, duration: Double, malformedRatio: Double,
        repeatRatio: Double, detection: DemoDetection
    ) {
        self.detection = detection
        self.repeatRatio = repeatRatio
        self.pipeline = pipeline
        self.producer = producer
        self.topic = topic
        self.rate = rate
        self.duration = duration
        self.malformedRatio = malformedRatio
    }

    func run() async throws {
        let (producer, topic, rate, malformedRatio, repeatRatio, summary, detection) =
            (self.producer, self.topic, self.rate, self.malformedRatio, self.repeatRatio, self.summary, self.detection)
        // Start the load once the worker owns its partitions, so the first seconds' latency
        // measures scoring, not the group forming (the mock cluster delays a new group's
        // first rebalance by 3 s).
        Terminal.out("  joining the consumer group…")
        while pipeline.stats.assignments.load(ordering: .relaxed) == 0 && !pipeline.isStopping {
            try? await Task.sleep(for: .milliseconds(50))
        }
        Terminal.out("  partitions assigned; producing")
        Thread.detachNewThread {
            let generator = TransactionGenerator(seed: 42, keys: 50_000, repeatRatio: repeatRatio, malformedRatio: malformedRatio)
            let result = try? producer.produce(topic: topic, count: nil, rate: rate, generator: generator, sentEvent: detection.planted)
            summary.value.withLock { $0 = result }
        }
        let stats = pipeline.stats
        let started = ContinuousClock.now
        await cancelWhenGracefulShutdown {
            var last = (consumed: 0, out: 0, at: ContinuousClock.now)
            let end = ContinuousClock.now + .milliseconds(Int(self.duration * 1000))
            while ContinuousClock.now < end && !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let now = ContinuousClock.now
                let consumed = stats.consumed.load(ordering: .relaxed)
                let out = stats.outputsAcknowledged.load(ordering: .relaxed) + stats.deadLettersAcknowledged.load(ordering: .relaxed)
                let seconds = (now - last.at).inSeconds
                let latency = stats.takeLatencyWindow().interval
                Terminal.out(String(
                    format: "t=%3.0fs  in %6.0f/s  out %6.0f/s  e2e p50 %6.1f ms  p99 %6.1f ms  batch %5.1f rows  cache hits %3.0f%%  flagged %5d  dead letters %4d  intake %5d",
                    (now - started).inSeconds, Double(consumed - last.consumed) / seconds, Double(out - last.out) / seconds,
                    latency.p50, latency.p99, self.meanBatchRows, self.cacheHitPercent, stats.flagged.load(ordering: .relaxed),
                    stats.deadLettersAcknowledged.load(ordering: .relaxed), self.pipeline.intakeDepth.current))
                last = (consumed, out, now)
                if now - started < .milliseconds(2_500) && now - started >= .milliseconds(1_500) {
                    // After two seconds: the consumer's first fetch after joining (about a
                    // second on the mock cluster) is behind us; the summary measures from here.
                    stats.resetLatency()
                }
            }
        }
        producer.stop()
        while summary.value.withLock({ $0 }) == nil { try? await Task.sleep(for: .milliseconds(20)) }
    }

    private var meanBatchRows: Double {
        let batches = pipeline.stats.batches.load(ordering: .relaxed)
        return batches == 0 ? 0 : Double(pipeline.stats.batchRows.load(ordering: .relaxed)) / Double(batches)
    }

    private var cacheHitPercent: Double {
        let s = pipeline.stats.cache
        let hits = s.hits.load(ordering: .relaxed)
        let all = hits + s.misses.load(ordering: .relaxed) + s.bypassed.load(ordering: .relaxed) + s.errors.load(ordering: .relaxed)
        return all == 0 ? 0 : 100 * Double(hits) / Double(all)
    }

    /// Stops the load producer's delivery thread.
    func close() { producer.close() }

    /// Prints what happened over the whole run.
    func printSummary() {
        let stats = pipeline.stats
        let total = stats.takeLatencyWindow().total
        let produced = summary.value.withLock { $0 }
        Terminal.out("")
        Terminal.out("summary")
        Terminal.out("  produced        \(produced?.sent ?? 0) events (planted fraud \(produced?.fraud ?? 0), malformed \(produced?.malformed ?? 0))")
        Terminal.out("  consumed        \(stats.consumed.load(ordering: .relaxed))")
        Terminal.out("  scored          \(stats.outputsAcknowledged.load(ordering: .relaxed))")
        detection.finish(outputs: stats.outputsAcknowledged.load(ordering: .relaxed))
        Terminal.out("  detection       \(detection.report)")
        Terminal.out("  dead letters    \(stats.deadLettersAcknowledged.load(ordering: .relaxed)) \(stats.deadLettersByReason.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        Terminal.out(String(format: "  e2e latency     p50 %.1f ms  p99 %.1f ms  max %.1f ms  (%llu events after the first 2 s)", total.p50, total.p99, total.max, total.count))
        Terminal.out(String(format: "  batches         %d, mean %.1f rows", stats.batches.load(ordering: .relaxed), meanBatchRows))
        Terminal.out("  back-pressure   \(stats.pauses.load(ordering: .relaxed)) pauses")
        Terminal.out(String(
            format: "  score cache     %.0f%% hits (%d hits, %d of them in-process; %d misses, %d errors, %d bypassed)",
            cacheHitPercent, stats.cache.hits.load(ordering: .relaxed), stats.cache.localHits.load(ordering: .relaxed),
            stats.cache.misses.load(ordering: .relaxed), stats.cache.errors.load(ordering: .relaxed), stats.cache.bypassed.load(ordering: .relaxed)))
        if pipeline.configuration.cache?.redis != nil {
            Terminal.out(String(
                format: "  Redis           %d reads, %d writes (%d keys written, %d refused or lost, %d skipped while failing)",
                stats.cache.redisReads.load(ordering: .relaxed), stats.cache.redisWrites.load(ordering: .relaxed), stats.cache.writesOK.load(ordering: .relaxed),
                stats.cache.writeErrors.load(ordering: .relaxed), stats.cache.writesSkipped.load(ordering: .relaxed)))
        }
    }
}

/// The generator thread's result, handed to the console.
private final class SummaryBox: Sendable {
    let value = Mutex<LoadProducer.Summary?>(nil)
}
