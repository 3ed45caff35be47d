import Foundation

/// Synthetic card transactions: the reference event schema, deterministic for a seed.
///
/// About `fraudRatio` of events carry a planted fraud pattern (large amount, far from home,
/// a burst of recent transactions, a new card) that the bundled example model flags;
/// `repeatRatio` of events repeat an earlier card/merchant/amount (what a score cache
/// feeds on); `malformedRatio` of events are broken in one of the ways that must become
/// dead letters. Keyed by card id.
public struct TransactionGenerator: Sendable {
    public enum Kind: Equatable, Sendable {
        case normal
        case fraud
        case repeated
        /// Broken on purpose; the dead-letter reason the pipeline must report.
        case malformed(reason: String)
    }

    public struct Event: Sendable {
        public var key: [UInt8]
        public var value: [UInt8]
        public var kind: Kind
        /// The event's `id` field (empty when it has none).
        public var id: String
        /// Whether it carries the planted fraud pattern: a `.fraud` event, or a repeat of one.
        public var hasFraudPattern: Bool

        public init(key: [UInt8], value: [UInt8], kind: Kind, id: String = "", hasFraudPattern: Bool = false) {
            (self.key, self.value, self.kind, self.id, self.hasFraudPattern) = (key, value, kind, id, hasFraudPattern)
        }
    }

    private struct Shape {
        var card: Int
        var merchant: Int
        var amount: Double
        var fraud: Bool
        /// The rest of the transaction, drawn once: a repeat (a retry, a duplicate delivery)
        /// sends the same transaction again, with a new id and timestamp.
        var details: Details?
    }

    private struct Details {
        var country: Int
        var distance: Double
        var recentCount: Int
        var cardAge: Int
        var channel: String
        var mcc: Int
    }

    private var rng: SplitMix64
    private let seed: UInt64
    private let keys: Int
    private let repeatRatio: Double
    private let malformedRatio: Double
    private let fraudRatio: Double
    private var recent: [Shape] = []
    private var sequence = 0

    private static let countries = ["DE", "FR", "NL", "ES", "IT", "US", "GB", "BR", "NG", "IN"]
    private static let currencies = ["EUR", "EUR", "EUR", "EUR", "EUR", "USD", "GBP", "BRL", "NGN", "INR"]

    public init(seed: UInt64 = 1, keys: Int = 10_000, repeatRatio: Double = 0, malformedRatio: Double = 0, fraudRatio: Double = 0.01) {
        precondition(keys > 0, "at least one key")
        self.rng = SplitMix64(seed: seed)
        self.seed = seed
        self.keys = keys
        self.repeatRatio = repeatRatio
        self.malformedRatio = malformedRatio
        self.fraudRatio = fraudRatio
    }

    /// The next event, stamped with `timestamp` (ms since the epoch).
    public mutating func next(timestamp: Int64) -> Event {
        sequence += 1
        let id = "tx-\(seed)-\(sequence)"
        if rng.chance(malformedRatio) { return malformed(id: id, timestamp: timestamp) }
        var kind = Kind.normal
        let shape: Shape
        if !recent.isEmpty, rng.chance(repeatRatio) {
            shape = recent[rng.below(recent.count)]
            kind = .repeated
        } else if rng.chance(fraudRatio) {
            shape = Shape(card: rng.below(keys), merchant: rng.below(5_000), amount: rng.between(800, 3_000), fraud: true)
            kind = .fraud
        } else {
            let amount = min(500, max(1, exp(rng.gaussian() + 3.5)))
            shape = Shape(card: rng.below(keys), merchant: rng.below(5_000), amount: amount, fraud: false)
        }
        var full = shape
        if full.details == nil { full.details = details(fraud: shape.fraud) }
        if recent.count < 1_000 { recent.append(full) } else { recent[rng.below(1_000)] = full }
        let json = body(id: id, shape: full, timestamp: timestamp)
        return Event(key: Array(cardID(shape.card).utf8), value: Array(json.utf8), kind: shape.fraud && kind != .repeated ? .fraud : kind, id: "\(id)",
            hasFraudPattern: shape.fraud)
    }

    private func cardID(_ card: Int) -> String {
        let digits = String(card)
        return "card-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    private mutating func details(fraud: Bool) -> Details {
        Details(
            country: fraud ? rng.below(Self.countries.count - 5) + 5 : rng.below(5),
            distance: fraud ? rng.between(500, 5_000) : rng.between(0, 50),
            recentCount: fraud ? 6 + rng.below(10) : rng.below(4),
            cardAge: fraud ? 1 + rng.below(30) : 200 + rng.below(3_000),
            channel: fraud ? "ecom" : (rng.chance(0.7) ? "pos" : "ecom"),
            mcc: [5411, 5812, 5999, 4111, 5732, 7995][rng.below(6)])
    }

    private mutating func body(id: String, shape: Shape, timestamp: Int64) -> String {
        let d = shape.details ?? details(fraud: shape.fraud)
        return "{\"id\":\"\(id)\",\"card_id\":\"\(cardID(shape.card))\",\"merchant\":\"m-\(shape.merchant)\","
            + "\"amount\":\(Self.cents(shape.amount)),\"currency\":\"\(Self.currencies[d.country])\",\"mcc\":\(d.mcc),"
            + "\"country\":\"\(Self.countries[d.country])\",\"channel\":\"\(d.channel)\",\"timestamp\":\(timestamp),"
            + "\"distance_km\":\(Self.cents(d.distance)),\"txn_last_hour\":\(d.recentCount),\"card_age_days\":\(d.cardAge)}"
    }

    private mutating func malformed(id: String, timestamp: Int64) -> Event {
        let key = Array(cardID(rng.below(keys)).utf8)
        let complete = body(id: id, shape: Shape(card: 0, merchant: 0, amount: 10, fraud: false), timestamp: timestamp)
        switch rng.below(4) {
        case 0:
            return Event(key: key, value: Array("not json \(id)".utf8), kind: .malformed(reason: "malformed_json"))
        case 1:
            return Event(key: key, value: Array(complete.utf8.prefix(complete.utf8.count / 2)), kind: .malformed(reason: "malformed_json"))
        case 2:
            let missing = complete.replacingFirst("\"amount\":", with: "\"amount_x\":")
            return Event(key: key, value: Array(missing.utf8), kind: .malformed(reason: "missing_field"))
        default:
            let wrong = complete.replacingFirst("\"txn_last_hour\":", with: "\"txn_last_hour\":\"many\",\"ignored\":")
            return Event(key: key, value: Array(wrong.utf8), kind: .malformed(reason: "wrong_type"))
        }
    }

    /// Two decimals, as money and distances are written.
    private static func cents(_ x: Double) -> String {
        let c = Int((x * 100).rounded())
        let frac = c % 100
        return "\(c / 100).\(frac < 10 ? "0" : "")\(frac)"
    }
}

extension String {
    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
