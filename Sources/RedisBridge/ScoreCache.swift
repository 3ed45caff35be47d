/// Scores already computed, looked up by key: an in-process LRU tier in front of
/// Redis.
///
/// One instance per thread that scores (it owns its Redis connection). Keys are
/// namespaced `{prefix}:{model name}@{version}:{hash}:{key}`, the hash being of the
/// model file and the feature spec, so a new model version, model file or feature
/// spec never reads an old entry. A lookup serves what it can from the local tier and
/// asks Redis for the rest with one `MGET`; a store writes the local tier and Redis
/// with one pipelined `SET … PX ttl`. Redis failures never fail a call: they count as
/// errors, feed the circuit breaker, and the keys are simply misses (or not written).
/// A failure is a broken or timed-out connection, or Redis refusing the command
/// (`OOM` at `maxmemory`, `MISCONF`, `READONLY` on a replica, `NOPERM`, `LOADING`,
/// …); the breaker's transitions carry the last one's reason. Values are the score's
/// shortest decimal text (it reads back exactly); any other string at a key is a miss
/// and an error (a key holding another Redis type reads as absent: `MGET` answers nil
/// for it).
public final class ScoreCache {
    public struct Configuration: Sendable, Equatable {
        public enum Mode: String, Sendable, CaseIterable {
            /// Read, then write what was scored.
            case readWrite = "read_write"
            /// Read only; nothing new is written.
            case readOnly = "read_only"
            /// Write what was scored; never read (warming a cache).
            case writeOnly = "write_only"
            /// No cache at all.
            case bypass

            /// Whether the cache is read (`read_write`, `read_only`).
            public var reads: Bool { self == .readWrite || self == .readOnly }
            /// Whether new scores are written (`read_write`, `write_only`).
            public var writes: Bool { self == .readWrite || self == .writeOnly }
        }

        /// Nil: the in-process tier alone.
        public var redis: RedisURL?
        public var mode: Mode = .readWrite
        public var prefix = "streamscore"
        /// Redis entries expire after this (`PX`).
        public var ttl: Duration = .seconds(3600)
        /// Entries in the in-process tier (at most `maximumLocalCapacity`). Each takes about
        /// 140–170 bytes: its index buckets at start-up, its slot and key bytes once used.
        public var localCapacity = 100_000
        public static let maximumLocalCapacity = 50_000_000
        public var localTTL: Duration = .seconds(60)
        /// Longest a lookup or store waits on Redis (connect and each read or write).
        public var timeout: Duration = .milliseconds(20)
        public var failureThreshold = 3
        public var openDuration: Duration = .seconds(2)

        public init(redis: RedisURL? = nil, mode: Mode = .readWrite) {
            self.redis = redis
            self.mode = mode
        }
    }

    /// What the cache did, key by key (`streamscore_cache_requests_total{result}`), and how
    /// often it talked to Redis.
    public struct Counters: Sendable, Equatable {
        public var hits = 0
        public var localHits = 0
        public var misses = 0
        public var errors = 0
        public var bypassed = 0
        public var redisReads = 0
        public var redisWrites = 0
        /// Keys written to Redis, refused or lost on the way (`streamscore_cache_writes_total
        /// {result=ok|error}`), and not sent because the breaker was open (`skipped`).
        public var keysWritten = 0
        public var writeErrors = 0
        public var writesSkipped = 0
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

    public let configuration: Configuration
    /// `{prefix}:{model}:{spec}:`, the start of every Redis key.
    public let namespace: [UInt8]
    /// `configuration.ttl` in milliseconds, as `SET … PX` takes it.
    private let ttlArgument: [UInt8]
    public private(set) var counters = Counters()
    public private(set) var breaker: CircuitBreaker
    private var local: LocalScoreCache
    /// The lookup of the convenience methods that keep none of their own.
    private var ownLookup = Lookup()
    /// The `MGET` or `SET`s being built (reused: no allocation per key).
    private var commands = RedisCommands()
    private let connection: RedisConnection?
    private let onTransition: (CircuitBreaker.State, _ reason: String?) -> Void
    /// Why the last Redis call failed (nil: none has yet).
    public private(set) var lastFailure: String?

    /// - Parameters:
    ///   - model: `name@version`.
    ///   - featureSpec: a hash of what else decides a score: the model file and the feature
    ///     spec (any stable text; the pipeline's is `CacheKey.namespaceHash`).
    ///   - onTransition: called once per breaker state change (to log it), with the reason
    ///     of the last failure when the breaker opens.
    public init(
        configuration: Configuration, model: String, featureSpec: String,
        onTransition: @escaping (CircuitBreaker.State, _ reason: String?) -> Void = { _, _ in }
    ) {
        self.configuration = configuration
        self.namespace = Array("\(configuration.prefix):\(model):\(featureSpec):".utf8)
        self.ttlArgument = Array(String(configuration.ttl.inMilliseconds).utf8)
        self.breaker = CircuitBreaker(failureThreshold: configuration.failureThreshold, openDuration: configuration.openDuration)
        self.local = LocalScoreCache(capacity: configuration.localCapacity, ttl: configuration.localTTL)
        self.connection = configuration.redis.map {
            RedisConnection(
                url: $0, connectTimeout: configuration.timeout, commandTimeout: configuration.timeout,
                initialBackoff: .milliseconds(100), maximumBackoff: configuration.openDuration)
        }
        self.onTransition = onTransition
    }

    /// Whether a lookup can go to Redis (it reads, and there is one).
    public var asksRedis: Bool { reads && connection != nil }

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
        guard let connection else {
            counters.misses += lookup.remaining.count
            return
        }
        guard breakerAllows() else {
            counters.bypassed += lookup.remaining.count
            return
        }
        commands.removeAll()
        commands.start(Self.mget, arguments: lookup.remaining.count)
        for i in lookup.remaining { commands.append(namespace, keys.key(i)) }
        let start = ContinuousClock.now
        do throws(RedisError) {
            try connection.send(commands)
        } catch {
            failed(lookup, because: error.description)
            return
        }
        lookup.sendTime = ContinuousClock.now - start
        lookup.awaitingReply = true
        lookup.generation = connection.generation
    }

    /// `finishLookup` for a `lookup` of the caller's: the oldest one still out.
    public func finishLookup(_ keys: ScoreKeys, into found: inout [Float?], lookup: inout Lookup, now: ContinuousClock.Instant = .now) {
        guard lookup.awaitingReply, let connection else { return }
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
            failed(lookup, because: Self.refusal(replies[0]))
            return
        }
        transition(breaker.record(success: true))
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
        failure(reason)
    }

    /// A Redis call failed: the breaker hears of it, with the reason for its log.
    private func failure(_ reason: String) {
        lastFailure = reason
        transition(breaker.record(success: false))
    }

    /// The reason in a reply that is not the one asked for.
    private static func refusal(_ reply: RedisReply) -> String {
        switch reply {
        case .error(let message): "redis: \(message)"
        case .array(let values): "redis: \(values.count) values for another number of keys"
        default: "redis: unexpected reply \(reply)"
        }
    }

    /// Remembers scores in the local tier only (at once: it lives and dies with this
    /// process, so a score whose output then fails to send, which stops the worker, goes
    /// with it). `scores[i]` is key `i`'s; a nil or non-finite score is skipped.
    public func storeLocally(_ keys: ScoreKeys, scores: [Float?], now: ContinuousClock.Instant = .now) {
        guard writes || reads else { return }
        local.store(keys, scores: scores, now: now)
    }

    /// Key `i`'s score into the local tier.
    private func remember(_ keys: ScoreKeys, _ i: Int, _ score: Float, now: ContinuousClock.Instant) {
        keys.withKey(i) { local.set($0, fingerprint: keys.fingerprints[i], score, now: now) }
    }

    /// Remembers scores: in the local tier, and in Redis with one pipelined `SET … PX`.
    public func store(_ entries: [(key: [UInt8], score: Float)]) {
        store(ScoreKeys(entries.map(\.key)), scores: entries.map(\.score))
    }

    /// Remembers `scores[i]` for key `i`: in the local tier, and in Redis with one
    /// pipelined `SET … PX` (built in a reused buffer: nothing allocated per key).
    public func store(_ keys: ScoreKeys, scores: [Float], now: ContinuousClock.Instant = .now) {
        precondition(scores.count == keys.count, "one score per key")
        guard writes, keys.count > 0 else { return }
        for i in 0..<keys.count { remember(keys, i, scores[i], now: now) }
        guard let connection else { return }
        guard breakerAllows() else {
            counters.writesSkipped += keys.count
            return
        }
        commands.removeAll()
        for i in 0..<keys.count {
            commands.start(Self.set, arguments: 4)
            commands.append(namespace, keys.key(i))
            commands.append(scores[i])
            commands.append(Self.px)
            commands.append(ttlArgument)
        }
        let replies: [RedisReply]
        do throws(RedisError) {
            replies = try timed { () throws(RedisError) in try connection.pipeline(commands) }
        } catch {
            counters.writeErrors += keys.count
            failure(error.description)
            return
        }
        counters.redisWrites += 1
        // Each SET answers for itself: Redis at `maxmemory` (`OOM`), unable to persist
        // (`MISCONF`) or a replica (`READONLY`) refuses them one by one.
        var refused: RedisReply?, refusals = 0
        for reply in replies {
            guard case .error = reply else { continue }
            refusals += 1
            refused = refused ?? reply
        }
        counters.writeErrors += refusals
        counters.keysWritten += keys.count - refusals
        if let refused {
            failure(Self.refusal(refused))
        } else {
            transition(breaker.record(success: true))
        }
    }

    private static let mget = Array("MGET".utf8)
    private static let set = Array("SET".utf8)
    private static let px = Array("PX".utf8)

    /// Redis round trips made (reads and writes; a failed attempt that reached Redis counts).
    public var roundTrips: Int { connection?.roundTrips ?? 0 }

    private func timed<T>(_ body: () throws(RedisError) -> T) throws(RedisError) -> T {
        let start = ContinuousClock.now
        defer {
            let d = ContinuousClock.now - start
            counters.lastRoundTrip = d.inSeconds
        }
        return try body()
    }

    /// Whether a call may go to Redis now; an open breaker whose time is up lets this one
    /// through as its probe (half-open, reported like every transition).
    private func breakerAllows() -> Bool {
        let before = breaker.state
        let allowed = breaker.allows()
        if breaker.state != before { transition(breaker.state) }
        return allowed
    }

    private func transition(_ state: CircuitBreaker.State?) {
        if let state { onTransition(state, state == .open ? lastFailure : nil) }
    }
}
