import Concurrency
import RedisBridge

/// The score cache's writing side: new scores into Redis with one pipelined `SET … PX ttl`
/// per call, on a connection and behind a breaker of its own. Used by the cache writer
/// thread (`CacheWriter`), once the outputs carrying the scores are acknowledged.
///
/// Redis failures never fail a call: refused or lost keys count as write errors and feed
/// the breaker; while it is open, keys are skipped (not sent). Each `SET` answers for
/// itself: Redis at `maxmemory` (`OOM`), unable to persist (`MISCONF`) or a replica
/// (`READONLY`) refuses them one by one.
public final class ScoreWriter {
    /// What the writes did (`streamscore_cache_writes_total{result=ok|error|skipped}`), and
    /// how often they went to Redis.
    public struct Counters: Sendable, Equatable {
        public var redisWrites = 0
        public var keysWritten = 0
        public var writeErrors = 0
        public var writesSkipped = 0
        /// Time of the last Redis round trip, in seconds.
        public var lastRoundTrip = 0.0

        public init() {}
    }

    public let configuration: ScoreCacheConfiguration
    /// `{prefix}:{model}:{hash}:`, the start of every Redis key.
    public let keyPrefix: [UInt8]
    /// `configuration.ttl` in milliseconds, as `SET … PX` takes it.
    private let ttlArgument: [UInt8]
    public private(set) var counters = Counters()
    /// The `SET`s being built (reused: no allocation per key).
    private var commands = RedisCommands()
    private let redis: CacheConnection

    /// - Parameters:
    ///   - url: the Redis to write to.
    ///   - namespace: the model and the hash of what else decides its scores.
    ///   - onTransition: called once per breaker state change (to log it), with the reason
    ///     of the last failure when the breaker opens.
    public init(
        url: RedisURL, configuration: ScoreCacheConfiguration, namespace: CacheNamespace,
        onTransition: @escaping (CircuitBreaker.State, _ reason: String?) -> Void = { _, _ in }
    ) {
        self.configuration = configuration
        self.keyPrefix = namespace.keyPrefix(configuration.prefix)
        self.ttlArgument = Array(String(configuration.ttl.inMilliseconds).utf8)
        self.redis = CacheConnection(url: url, configuration: configuration, onTransition: onTransition)
    }

    /// The breaker's state.
    public var breakerState: CircuitBreaker.State { redis.breaker.state }

    /// Why the last Redis call failed (nil: none has yet).
    public var lastFailure: String? { redis.lastFailure }

    /// Redis round trips made (a failed attempt that reached Redis counts).
    public var roundTrips: Int { redis.connection.roundTrips }

    /// Writes `entries` (a test's and a tool's form).
    public func store(_ entries: [(key: [UInt8], score: Float)]) {
        store(ScoreKeys(entries.map(\.key)), scores: entries.map(\.score))
    }

    /// Writes `scores[i]` for key `i` with one pipelined `SET … PX` (built in a reused
    /// buffer: nothing allocated per key).
    public func store(_ keys: ScoreKeys, scores: [Float]) {
        precondition(scores.count == keys.count, "one score per key")
        guard configuration.mode.writes, keys.count > 0 else { return }
        guard redis.allows() else {
            counters.writesSkipped += keys.count
            return
        }
        commands.removeAll()
        for i in 0..<keys.count {
            commands.start(Self.set, arguments: 4)
            commands.append(keyPrefix, keys.key(i))
            commands.append(scores[i])
            commands.append(Self.px)
            commands.append(ttlArgument)
        }
        let start = ContinuousClock.now
        let replies: [RedisReply]
        do throws(RedisError) {
            replies = try redis.connection.pipeline(commands)
        } catch {
            counters.lastRoundTrip = (ContinuousClock.now - start).inSeconds
            counters.writeErrors += keys.count
            redis.failed(error.description)
            return
        }
        counters.lastRoundTrip = (ContinuousClock.now - start).inSeconds
        counters.redisWrites += 1
        var refused: RedisReply?, refusals = 0
        for reply in replies {
            guard case .error = reply else { continue }
            refusals += 1
            refused = refused ?? reply
        }
        counters.writeErrors += refusals
        counters.keysWritten += keys.count - refusals
        if let refused {
            redis.failed(CacheConnection.refusal(refused))
        } else {
            redis.succeeded()
        }
    }

    private static let set = Array("SET".utf8)
    private static let px = Array("PX".utf8)
}
