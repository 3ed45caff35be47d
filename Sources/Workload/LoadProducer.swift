import Foundation
import KafkaBridge
import Synchronization

/// Produces generated transactions to a topic at a steady rate (or as fast as the client
/// allows), stamping each record with its creation time, and counts acknowledgements.
public final class LoadProducer: Sendable {
    public struct Summary: Sendable {
        public var sent: Int
        public var acknowledged: Int
        public var failed: Int
        public var malformed: Int
        public var fraud: Int
        public var elapsed: Duration
    }

    private let producer: KafkaProducer
    private let stopFlag = Atomic<Bool>(false)

    /// - Throws: `KafkaError` naming a rejected property.
    public init(bootstrapServers: String, properties: [String: String] = [:]) throws(KafkaError) {
        let counters = Counters()
        producer = try KafkaProducer(
            config: KafkaConfig(["bootstrap.servers": bootstrapServers, "linger.ms": "1", "enable.idempotence": "true", "socket.nagle.disable": "true"])
                .merging(properties),
            onDelivery: { report in
                if report.error == nil { counters.acknowledged.add(1, ordering: .relaxed) }
                else { counters.failed.add(1, ordering: .relaxed) }
            })
        self.counters = counters
    }

    private let counters: Counters
    private final class Counters: Sendable {
        let acknowledged = Atomic<Int>(0)
        let failed = Atomic<Int>(0)
    }

    /// Records acknowledged so far.
    public var acknowledgedCount: Int { counters.acknowledged.load(ordering: .relaxed) }

    /// Makes a running `produce` return early (after flushing what it sent).
    public func stop() { stopFlag.store(true, ordering: .relaxed) }

    /// Produces `count` events (nil: until `stop`) at `rate` events/s (nil: unthrottled),
    /// then waits for every acknowledgement. Blocks the calling thread.
    ///
    /// - Parameters:
    ///   - history: event and record timestamps `start + i × step` ms (a synthetic past)
    ///     instead of the time of sending.
    ///   - progress: called about every 100 ms with the number sent so far.
    ///   - sentEvent: called with each event once it is handed to the producer.
    public func produce(
        topic: String, count: Int?, rate: Double?, generator: TransactionGenerator,
        history: (start: Int64, step: Int64)? = nil,
        progress: (Int) -> Void = { _ in }, sentEvent: (TransactionGenerator.Event) -> Void = { _ in }
    ) throws(KafkaError) -> Summary {
        var generator = generator
        let start = ContinuousClock.now
        var lastProgress = start
        var sent = 0, malformed = 0, fraud = 0
        while count.map({ sent < $0 }) ?? true, !stopFlag.load(ordering: .relaxed) {
            if let rate {
                let due = start + .seconds(Double(sent) / rate)
                let now = ContinuousClock.now
                if due > now { Thread.sleep(forTimeInterval: (due - now).inSeconds) }
            }
            let now = history.map { $0.start + Int64(sent) * $0.step } ?? Int64(Date().timeIntervalSince1970 * 1000)
            let event = generator.next(timestamp: now)
            if case .malformed = event.kind { malformed += 1 }
            if event.kind == .fraud { fraud += 1 }
            try producer.send(OutgoingRecord(topic: topic, key: event.key, value: event.value, timestamp: now), token: 1)
            sentEvent(event)
            sent += 1
            if ContinuousClock.now - lastProgress >= .milliseconds(100) {
                lastProgress = .now
                progress(sent)
            }
        }
        _ = producer.flush(timeout: .seconds(60))
        progress(sent)
        return Summary(
            sent: sent, acknowledged: acknowledgedCount, failed: counters.failed.load(ordering: .relaxed),
            malformed: malformed, fraud: fraud, elapsed: ContinuousClock.now - start)
    }

    /// Stops the delivery thread.
    public func close() { producer.close() }
}
