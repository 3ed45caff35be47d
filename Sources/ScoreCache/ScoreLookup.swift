import Concurrency
import RedisBridge

/// The score cache's reading side: scores already computed, looked up by key in an
/// in-process LRU tier in front of Redis. New scores enter the tier at once
/// (`storeLocally`); Redis is written by `ScoreWriter`, once the outputs carrying them are
/// acknowledged.
///
/// One instance per thread that scores (the batcher; it owns its Redis connection). Keys
/// are namespaced (`CacheNamespace`). A lookup serves what it can from the local tier and
/// asks Redis for the rest with one `MGET`. Redis failures never fail a call: they count
/// as errors, feed the circuit breaker (`CacheConnection`), and the keys are simply
/// misses. Values are the score's shortest decimal text (it reads back exactly); any other
/// string at a key is a miss and an error (a key holding another Redis type reads as
/// absent: `MGET` answers nil for it).
public final class ScoreLookup {
    /// What the lookups did, key by key (`streamscore_cache_requests_total{result}`), and
    /// how often they asked Redis.
    public struct Counters: Sendable, Equatable {
        public var hits = 0
        public var localHits = 0
        public var misses = 0
        public var errors = 0
        public var bypassed = 0
        public var redisReads = 0
        /// Time of the last Redis round trip, in seconds.
        public var lastRoundTrip = 0.0

        public init() {}
    }

    /// One lookup between `beginLookup` and `finishLookup`: the keys the local tier lacked
    /// and the `MGET` sent for them. A caller may keep several, and finish them in the
    /// order it began them (Redis answers in order); buffers are reused.
    public struct Lookup: Sendable {
        /// Keys (indexes) the local tier lacked.
        var remaining: [Int] = []
        /// An `MGET` is out on connection `generation`, and sending it took `sendTime`.
        var awaitingReply = false
        var generation = 0
        var sendTime: Duration = .zero

        public init() {}
    }

    public let configuration: ScoreCacheConfiguration
    /// `{prefix}:{model}:{hash}:`, the start of every Redis key.
    public let keyPrefix: [UInt8]
    public private(set) var counters = Counters()
    private var local: LocalScoreCache
    /// The lookup of the convenience methods that keep none of their own.
    private var ownLookup = Lookup()
    /// The `MGET` being built (reused: no allocation per key).
    private var commands = RedisCommands()
    private let redis: CacheConnection?

    /// - Parameters:
    ///   - namespace: the model and the hash of what else decides its scores.
    ///   - onTransition: called once per breaker state change (to log it), with the reason
    ///     of the last failure when the breaker opens.
    public init(
        configuration: ScoreCacheConfiguration, namespace: CacheNamespace,
        onTransition: @escaping (CircuitBreaker.State, _ reason: String?) -> Void = { _, _ in }
    ) {
        self.configuration = configuration
        self.keyPrefix = namespace.keyPrefix(configuration.prefix)
        self.local = LocalScoreCache(capacity: configuration.localCapacity, ttl: configuration.localTTL)
        self.redis = configuration.redis.map { CacheConnection(url: $0, configuration: configuration, onTransition: onTransition) }
    }

    /// The breaker's state (closed without Redis).
    public var breakerState: CircuitBreaker.State { redis?.breaker.state ?? .closed }

    /// Why the last Redis call failed (nil: none has yet).
    public var lastFailure: String? { redis?.lastFailure }

    /// Whether a lookup can go to Redis (it reads, and there is one).
    public var asksRedis: Bool { reads && redis != nil }

    public var reads: Bool { configuration.mode.reads }
    public var writes: Bool { configuration.mode.writes }

    /// The cached score of each key (nil: a miss). Keys should be unique (one `MGET` slot
    /// each); at most one Redis round trip.
    public func lookup(_ keys: [[UInt8]]) -> [Float?] {
        var found: [Float?] = []
        lookup(ScoreKeys(keys), into: &found)
        return found
    }

    /// The cached score of each key into `found` (nil: a miss; resized to `keys.count`,
    /// its capacity reused). The local tier first, then one `MGET` for the keys it lacks.
    public func lookup(_ keys: ScoreKeys, into found: inout [Float?], now: ContinuousClock.Instant = .now) {
        beginLookup(keys, into: &found, now: now)
        finishLookup(keys, into: &found, now: now)
    }

    /// The first half of `lookup`: fills `found` from the local tier and sends one `MGET`
    /// for the rest without waiting for it, so the caller can work while Redis answers.
    /// `finishLookup` with the same keys and `found` must follow before the next lookup.
    public func beginLookup(_ keys: ScoreKeys, into found: inout [Float?], now: ContinuousClock.Instant = .now) {
        beginLookup(keys, into: &found, lookup: &ownLookup, now: now)
    }

    /// The second half of `lookup`: reads the `MGET` reply, if one was sent, into `found`.
    public func finishLookup(_ keys: ScoreKeys, into found: inout [Float?], now: ContinuousClock.Instant = .now) {
        finishLookup(keys, into: &found, lookup: &ownLookup, now: now)
    }

    /// `beginLookup` with the caller's own `lookup`, so that several can be out at once
    /// (finished in the order they began).
    public func beginLookup(_ keys: ScoreKeys, into found: inout [Float?], lookup: inout Lookup, now: ContinuousClock.Instant = .now) {
        precondition(!lookup.awaitingReply, "finishLookup first")
        found.removeAll(keepingCapacity: true)
        found.append(contentsOf: repeatElement(nil, count: keys.count))
        guard reads else {
            counters.bypassed += keys.count
            return
        }
        lookup.remaining.removeAll(keepingCapacity: true)
        let hits = local.lookup(keys, into: &found, missing: &lookup.remaining, now: now)
        counters.hits += hits
        counters.localHits += hits
        guard !lookup.remaining.isEmpty else { return }
        guard let redis else {
            counters.misses += lookup.remaining.count
            return
        }
        guard redis.allows() else {
            counters.bypassed += lookup.remaining.count
            return
        }
        commands.removeAll()
        commands.start(Self.mget, arguments: lookup.remaining.count)
        for i in lookup.remaining { commands.append(keyPrefix, keys.key(i)) }
        let start = ContinuousClock.now
        do throws(RedisError) {
            try redis.connection.send(commands)
        } catch {
            failed(lookup, because: error.description)
            return
        }
        lookup.sendTime = ContinuousClock.now - start
        lookup.awaitingReply = true
        lookup.generation = redis.connection.generation
    }

    /// `finishLookup` for a `lookup` of the caller's: the oldest one still out.
    public func finishLookup(_ keys: ScoreKeys, into found: inout [Float?], lookup: inout Lookup, now: ContinuousClock.Instant = .now) {
        guard lookup.awaitingReply, let connection = redis?.connection else { return }
        lookup.awaitingReply = false
        // Sent on a connection that has since broken (and maybe been replaced): its reply
        // is gone. Its keys are errors; the breaker has heard of the break from the call
        // that met it, and one break is one failure.
        guard connection.isConnected, connection.generation == lookup.generation else {
            counters.errors += lookup.remaining.count
            return
        }
        let start = ContinuousClock.now
        let replies: [RedisReply]
        do throws(RedisError) {
            replies = try connection.receive(1)
        } catch {
            failed(lookup, because: error.description)
            return
        }
        counters.lastRoundTrip = (lookup.sendTime + (ContinuousClock.now - start)).inSeconds
        counters.redisReads += 1
        guard case .array(let values) = replies[0], values.count == lookup.remaining.count else {
            // Redis refused the MGET (NOAUTH, LOADING, NOPERM, …): a failure like a lost
            // connection, though it answered at once.
            failed(lookup, because: CacheConnection.refusal(replies[0]))
            return
        }
        redis?.succeeded()
        for (i, value) in zip(lookup.remaining, values) {
            switch value {
            case .string(let text):
                if let score = Float(String(decoding: text, as: UTF8.self)), score.isFinite {
                    found[i] = score
                    counters.hits += 1
                    remember(keys, i, score, now: now)
                } else {
                    counters.misses += 1
                    counters.errors += 1
                }
            case .null:
                // With lookups out at once, the batch before may have scored this key
                // since the local tier was asked: ask it again before calling it a miss.
                if let score = keys.withKey(i, { local.get($0, fingerprint: keys.fingerprints[i], now: now) }) {
                    found[i] = score
                    counters.hits += 1
                    counters.localHits += 1
                } else {
                    counters.misses += 1
                }
            default:
                counters.misses += 1
                counters.errors += 1
            }
        }
    }

    /// A lookup's `MGET` failed (not sent, broken, timed out, refused): its keys are errors
    /// (and misses), and the breaker hears of it.
    private func failed(_ lookup: Lookup, because reason: String) {
        counters.errors += lookup.remaining.count
        redis?.failed(reason)
    }

    /// Remembers scores in the local tier (at once: it lives and dies with this process,
    /// so a score whose output then fails to send, which stops the worker, goes with it).
    /// `scores[i]` is key `i`'s; a nil or non-finite score is skipped.
    public func storeLocally(_ keys: ScoreKeys, scores: [Float?], now: ContinuousClock.Instant = .now) {
        guard writes || reads else { return }
        local.store(keys, scores: scores, now: now)
    }

    /// Remembers `entries` in the local tier (a test's and a tool's form).
    public func storeLocally(_ entries: [(key: [UInt8], score: Float)]) {
        storeLocally(ScoreKeys(entries.map(\.key)), scores: entries.map(\.score))
    }

    /// Key `i`'s score into the local tier.
    private func remember(_ keys: ScoreKeys, _ i: Int, _ score: Float, now: ContinuousClock.Instant) {
        keys.withKey(i) { local.set($0, fingerprint: keys.fingerprints[i], score, now: now) }
    }

    private static let mget = Array("MGET".utf8)

    /// Redis round trips made (a failed attempt that reached Redis counts).
    public var roundTrips: Int { redis?.connection.roundTrips ?? 0 }
}
