/// What a worker promises about each input record's output (`delivery.mode`).
public enum DeliveryMode: Sendable, Equatable {
    /// Offsets are committed after the broker acknowledged the outputs: nothing is lost,
    /// and a crash or a lost partition scores what was in flight again.
    case atLeastOnce
    /// Outputs, dead letters and the input offsets commit in one Kafka transaction:
    /// read_committed readers see each input's output once, whatever crashes.
    case exactlyOnce(Transactions)

    /// How exactly-once transactions are cut and named.
    public struct Transactions: Sendable, Equatable {
        /// The producer's `transactional.id`: one per worker process, stable across its
        /// restarts (`delivery.transactional_id`, default `{group}-{instance}`).
        public var transactionalID: String
        /// A transaction is committed this long after it began (`delivery.transaction_interval_ms`)…
        public var interval: Duration = .milliseconds(100)
        /// …or once it holds this many records (`delivery.transaction_max_records`).
        public var maxRecords = 10_000

        public init(transactionalID: String) {
            self.transactionalID = transactionalID
        }
    }

    public var transactions: Transactions? {
        if case .exactlyOnce(let t) = self { return t }
        return nil
    }

    public var isExactlyOnce: Bool { transactions != nil }

    /// The configuration's spelling.
    public var name: String { isExactlyOnce ? "exactly_once" : "at_least_once" }
}
