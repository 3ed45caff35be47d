import Concurrency
import KafkaBridge

/// Committing, on the poll thread: completed offsets go to librdkafka as they advance
/// (`OffsetTracker.takeAdvanced` → `KafkaConsumer.store`; its auto-commit timer commits
/// them), and a revoke drains and commits explicitly. The shutdown sequence's final
/// commit is in `ShutdownSequence`.
extension PollLoop {
    /// Hands offsets that advanced since the last call to librdkafka (committed by the
    /// auto-commit timer, or by the next explicit commit).
    ///
    /// Reading a bounded range, the offsets go to the range's progress instead (a backfill
    /// commits to no group; its checkpoint records what is done), and the stop is requested
    /// once every partition of the range is acknowledged.
    func storeCompleted() {
        let advanced = tracker.takeAdvanced()
        guard let range else {
            if !advanced.isEmpty { consumer.store(advanced) }
            return
        }
        if !advanced.isEmpty { range.acknowledged(advanced) }
        range.settle { self.tracker.inFlight([TopicPartition(range.topic, $0)]) }
        if let error = range.save() {
            logger.error("cannot write the checkpoint", metadata: ["error": "\(error)"])
        }
        if range.isComplete, !control.isStopping { control.requestStop("range complete") }
    }

    /// Waits (bounded) for the revoked partitions' in-flight records, then commits what
    /// completed. Records still in flight at the deadline are left to the next owner.
    func drain(_ partitions: [TopicPartition]) {
        var deadline = ContinuousClock.now + configuration.rebalanceDrainTimeout
        if let stop = shutdownDeadline.withLock({ $0 }) { deadline = min(deadline, stop) }
        var seen = progress.current
        while tracker.inFlight(partitions) > 0 && control.failure == nil {
            storeCompleted()
            // Wakes on the next round of delivery reports (or a failure), not on a timer.
            guard let next = progress.wait(after: seen, until: deadline) else { break }
            seen = next
        }
        let left = tracker.inFlight(partitions)
        if left > 0 {
            logger.warning("revoked partitions still had records in flight", metadata: ["records": "\(left)"])
        }
        storeCompleted()
        do {
            try consumer.commit(timeout: deadline.timeLeft)
        } catch {
            logger.warning("commit on revoke failed", metadata: ["error": "\(error)"])
        }
    }
}
