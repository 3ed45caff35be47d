/// What the poll loop does next, from the intake queue's fill level.
///
/// Two levels. A full intake first makes the loop *hold*: it waits for room without
/// fetching, which costs nothing and absorbs the bursts of a backlog drain. If the intake
/// stays full for `pauseAfter`, the consumer *pauses* its partitions (librdkafka stops
/// fetching and drops what it prefetched) and the loop goes back to polling, so rebalance
/// callbacks are served while scoring catches up. It resumes at or below `resumeBelow`
/// (hysteresis, so a queue hovering at the bound does not flap). Pausing is kept for
/// sustained pressure because a resumed partition takes a fetch round trip or more to
/// deliver again.
struct BackPressure {
    enum Step: Equatable {
        /// Poll for at most `limit` records.
        case poll(limit: Int)
        /// Intake full: wait for room without polling.
        case hold
        /// Pause the assigned partitions now.
        case pause
        /// Resume the paused partitions now.
        case resume
        /// Paused: poll only to serve callbacks, then wait for the intake to drain.
        case servePaused
    }

    let capacity: Int
    let resumeBelow: Int
    let pollBatch: Int
    let pauseAfter: Duration
    private(set) var paused = false
    private var fullSince: ContinuousClock.Instant?

    init(capacity: Int, resumeBelow: Int, pollBatch: Int, pauseAfter: Duration) {
        precondition(resumeBelow < capacity, "resume level must be below capacity")
        self.capacity = capacity
        self.resumeBelow = resumeBelow
        self.pollBatch = pollBatch
        self.pauseAfter = pauseAfter
    }

    mutating func next(records: Int, now: ContinuousClock.Instant) -> Step {
        if paused {
            guard records <= resumeBelow else { return .servePaused }
            paused = false
            return .resume
        }
        guard records >= capacity else {
            fullSince = nil
            return .poll(limit: min(pollBatch, capacity - records))
        }
        let since = fullSince ?? now
        fullSince = since
        guard now - since >= pauseAfter else { return .hold }
        fullSince = nil
        paused = true
        return .pause
    }
}
