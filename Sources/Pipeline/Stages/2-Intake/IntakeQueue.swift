import Concurrency
import DequeModule
import KafkaBridge
import Synchronization

/// The bounded hand-off from the poll thread through the workers to the batcher.
///
/// It counts every record from the moment the poll thread pushes it until the batcher
/// takes it, decoded, *in fetch order* — so one bound (`capacity`) covers records waiting
/// for a worker, being decoded, and decoded but waiting for an earlier chunk. Workers
/// finish out of order; `takeDecoded` releases chunks strictly by sequence number, which
/// keeps every partition's outputs in offset order.
///
/// The poll thread never blocks here: it reads `recordCount` and pauses the consumer when
/// the queue is full (`BackPressure`).
final class IntakeQueue: Sendable {
    private struct State {
        var waiting = Deque<FetchedChunk>()
        var decoded: [UInt64: DecodedChunk] = [:]
        var nextSequence: UInt64 = 0
        var nextToRelease: UInt64 = 0
        var records = 0
        var highWater = 0
        var closed = false
    }

    let capacity: Int
    private let state = Mutex(State())
    /// Workers wait for a chunk to decode; the batcher for the next chunk in fetch order;
    /// the poll thread for room. Each change wakes only the waiters it concerns.
    private let work = WakeSignal()
    private let nextDecoded = WakeSignal()
    private let room = WakeSignal()

    init(capacity: Int) {
        precondition(capacity > 0, "intake capacity must be positive")
        self.capacity = capacity
    }

    /// Records currently held (waiting, decoding, or decoded and not yet batched).
    var recordCount: Int { state.withLock { $0.records } }

    /// The most records ever held at once.
    var highWater: Int { state.withLock { $0.highWater } }

    /// Waits until fewer than `limit` records are held, or until `deadline` (poll thread).
    func waitForRoom(below limit: Int, until deadline: ContinuousClock.Instant) {
        _ = room.wait(until: deadline) { state.withLock { $0.records < limit || $0.closed } ? true : nil }
    }

    /// Appends fetched records as one chunk (poll thread).
    func push(records: [KafkaRecord], tokens: [UInt64]) {
        state.withLock { s in
            s.waiting.append(FetchedChunk(sequence: s.nextSequence, records: records, tokens: tokens))
            s.nextSequence += 1
            s.records += records.count
            s.highWater = max(s.highWater, s.records)
        }
        work.wakeOne()
    }

    /// Next chunk to decode (workers); blocks until one is queued. nil once closed and empty.
    func takeForDecoding() -> FetchedChunk? {
        work.wait {
            state.withLock { s -> FetchedChunk?? in
                if let chunk = s.waiting.popFirst() { return .some(chunk) }
                return s.closed ? .some(nil) : nil
            }
        } ?? nil
    }

    /// Hands back a decoded chunk (workers).
    func finishDecoding(_ chunk: DecodedChunk) {
        let isNext = state.withLock { s in
            s.decoded[chunk.sequence] = chunk
            return chunk.sequence == s.nextToRelease
        }
        if isNext { nextDecoded.wakeOne() }
    }

    /// The next decoded chunk in fetch order (batcher), waiting until `deadline`.
    ///
    /// - Returns: `.chunk` and releases its records from the bound; `.timedOut`; or
    ///   `.finished` once closed and everything pushed has been taken.
    func takeDecoded(until deadline: ContinuousClock.Instant?) -> Take {
        let taken = nextDecoded.wait(until: deadline) {
            state.withLock { s -> Take? in
                if let chunk = s.decoded.removeValue(forKey: s.nextToRelease) {
                    s.nextToRelease += 1
                    s.records -= chunk.records.count
                    return .chunk(chunk)
                }
                if s.closed && s.nextToRelease == s.nextSequence { return .finished }
                return nil
            }
        } ?? .timedOut
        if case .chunk = taken { room.wakeOne() }
        return taken
    }

    enum Take {
        case chunk(DecodedChunk)
        case timedOut
        case finished
    }

    /// No more pushes: workers drain what is queued, then `takeForDecoding` returns nil.
    func close() {
        state.withLock { $0.closed = true }
        work.wakeAll()
        nextDecoded.wakeAll()
        room.wakeAll()
    }
}
