import Foundation
import Concurrency
import KafkaBridge
import ScoreCache
import Logging

/// The graceful stop, run on the poll thread once polling has stopped: let workers and the
/// batcher finish what was fetched, flush the producer (every delivery reported), store and
/// commit, close the consumer (leaving the group), stop the delivery thread.
///
/// Each step waits at most until the overall deadline (`shutdown.timeout`); a step that
/// misses it ends the run as `shutdownTimedOut`, committing only what was acknowledged.
struct ShutdownSequence {
    /// Kept free before `shutdown.timeout` for what follows the sequence: stopping the
    /// delivery thread (up to one 100 ms poll), destroying the clients, exiting.
    static let exitReserve: Duration = .milliseconds(500)

    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let intake: IntakeQueue
    let tracker: OffsetTracker
    let pollLoop: PollLoop
    let control: PipelineControl
    let stats: PipelineStats
    let logger: Logger
    let deadline: ContinuousClock.Instant

    func run(workers: [NamedThread], batcher: NamedThread, cacheWriter: NamedThread?, writeback: CacheWriteback?) {
        logger.info("stopping: draining in-flight records", metadata: ["in_flight": "\(tracker.inFlight())"])
        pollLoop.shutdownDeadline.withLock { $0 = deadline }
        intake.close()
        var timedOut: String?
        for worker in workers where !worker.join(until: deadline) { timedOut = "decoding" }
        if timedOut == nil, !batcher.join(until: deadline) { timedOut = "scoring" }
        if timedOut == nil {
            let remaining = ContinuousClock.now.duration(to: deadline)
            if !producer.flush(timeout: max(remaining, .zero)) { timedOut = "flushing the producer" }
        }
        // Every delivery is reported: the cache writer writes what they released, and stops.
        writeback?.close()
        if let cacheWriter, !cacheWriter.join(until: deadline) {
            logger.warning("score cache writes still pending at the shutdown deadline")
        }
        pollLoop.storeCompleted()
        if pollLoop.transactions != nil {
            // Exactly-once: the batcher committed the last transaction, offsets included.
        } else if let range = pollLoop.range {
            // A range commits to no group: its checkpoint is the record of what is done.
            if let error = range.save(force: true) {
                logger.error("cannot write the final checkpoint", metadata: ["error": "\(error)"])
            }
        } else {
            do {
                try consumer.commit(timeout: deadline.timeLeft)
            } catch {
                logger.warning("final commit failed", metadata: ["error": "\(error)"])
            }
        }
        // Leaving the group needs its coordinator: with every broker down, give up at the
        // deadline (the group drops this member after its session timeout).
        if !consumer.close(timeout: deadline.timeLeft) {
            logger.warning("could not leave the consumer group by the shutdown deadline (brokers unreachable?)")
            timedOut = timedOut ?? "leaving the consumer group"
        }
        producer.close()
        control.finish(timedOutIn: timedOut)
        logger.info("stopped", metadata: [
            "uncommitted": "\(tracker.inFlight())",
            "consumed": "\(stats.consumed.load(ordering: .relaxed))",
            "outputs": "\(stats.outputsAcknowledged.load(ordering: .relaxed))",
            "dead_letters": "\(stats.deadLettersAcknowledged.load(ordering: .relaxed))",
            "pauses": "\(stats.pauses.load(ordering: .relaxed))",
            "active_seconds": "\(String(format: "%.3f", stats.activeSeconds))",
            "batches": "\(stats.batches.load(ordering: .relaxed))",
            "cache_hits": "\(stats.cache.hits.load(ordering: .relaxed))",
            "cache_misses": "\(stats.cache.misses.load(ordering: .relaxed))",
            "cache_errors": "\(stats.cache.errors.load(ordering: .relaxed))",
            "redis_reads": "\(stats.cache.redisReads.load(ordering: .relaxed))",
            "redis_writes": "\(stats.cache.redisWrites.load(ordering: .relaxed))",
            "cache_write_errors": "\(stats.cache.writeErrors.load(ordering: .relaxed))",
        ])
    }
}
