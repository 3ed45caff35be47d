/// Faults the development broker can inject, for the fault suite (`make faults`) and for
/// trying a worker against a misbehaving cluster by hand (`streamscore broker --control`).
public enum BrokerFault: Equatable, Sendable {
    /// The next `count` requests of a Kafka API (0 Produce, 1 Fetch, 8 OffsetCommit, …)
    /// fail with the Kafka protocol error `code` (1 OFFSET_OUT_OF_RANGE, 6
    /// NOT_LEADER_FOR_PARTITION, 10 MESSAGE_TOO_LARGE, 29 TOPIC_AUTHORIZATION_FAILED, …).
    case requestErrors(apiKey: Int16, count: Int, code: Int32)
    /// Every broker answers each request this much later (0: at once).
    case roundTrip(milliseconds: Int32)
    /// Every broker closes its connections and refuses new ones, or comes back.
    case brokersDown
    case brokersUp

    /// The control line's grammar, for `--help` and error messages.
    public static let grammar = "errors API COUNT CODE | rtt MS | down | up"

    /// Parses one control line: `errors 1 1 1`, `rtt 3000`, `down`, `up`.
    public init?(line: String) {
        let words = line.split(separator: " ").map(String.init)
        switch words.first {
        case "errors":
            guard words.count == 4, let api = Int16(words[1]), let count = Int(words[2]), count > 0, let code = Int32(words[3]) else { return nil }
            self = .requestErrors(apiKey: api, count: count, code: code)
        case "rtt":
            guard words.count == 2, let ms = Int32(words[1]), ms >= 0 else { return nil }
            self = .roundTrip(milliseconds: ms)
        case "down" where words.count == 1: self = .brokersDown
        case "up" where words.count == 1: self = .brokersUp
        default: return nil
        }
    }
}

extension DevelopmentBroker {
    /// Injects a fault into the running cluster.
    public func inject(_ fault: BrokerFault) {
        switch fault {
        case .requestErrors(let api, let count, let code): cluster.failNextRequests(apiKey: api, count: count, code: code)
        case .roundTrip(let ms): for id in cluster.brokerIDs { cluster.setRoundTrip(broker: id, milliseconds: ms) }
        case .brokersDown: for id in cluster.brokerIDs { cluster.setBroker(id, up: false) }
        case .brokersUp: for id in cluster.brokerIDs { cluster.setBroker(id, up: true) }
        }
    }
}
