/// When to pause and resume the consumer, from the intake queue's fill level.
///
/// Pauses at `capacity`, resumes at or below `resumeBelow` (hysteresis, so a queue hovering
/// at the bound does not flap).
struct BackPressure {
    enum Action { case none, pause, resume }

    let capacity: Int
    let resumeBelow: Int
    private(set) var paused = false

    init(capacity: Int, resumeBelow: Int) {
        precondition(resumeBelow < capacity, "resume level must be below capacity")
        self.capacity = capacity
        self.resumeBelow = resumeBelow
    }

    mutating func update(records: Int) -> Action {
        if !paused && records >= capacity {
            paused = true
            return .pause
        }
        if paused && records <= resumeBelow {
            paused = false
            return .resume
        }
        return .none
    }

    /// How many records the next poll may take without passing the bound.
    func pollLimit(records: Int, pollBatch: Int) -> Int {
        // While paused, poll for one record: the call still serves rebalance callbacks,
        // and paused partitions deliver nothing (librdkafka discards their fetched data).
        paused ? 1 : max(1, min(pollBatch, capacity - records))
    }
}
