import Concurrency
import Foundation
@testable import RedisBridge
import Testing
@testable import ScoreCache

/// The hiredis bridge against a real `redis-server`.
@Suite("Redis bridge", .serialized)
struct RedisBridgeTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test("URLs: redis://[user:password@]host:port[/db], with defaults and errors", arguments: [
        ("redis://localhost", RedisURL(host: "localhost")),
        ("redis://127.0.0.1:6380/2", RedisURL(host: "127.0.0.1", port: 6380, database: 2)),
        ("redis://:secret@cache:7000", RedisURL(host: "cache", port: 7000, password: "secret")),
        ("redis://scorer:p%40ss:w@cache:7000/1", RedisURL(host: "cache", port: 7000, user: "scorer", password: "p@ss:w", database: 1)),
        ("redis://sc%3Aorer:a@b%25%2F@cache", RedisURL(host: "cache", user: "sc:orer", password: "a@b%/")),
        ("redis://[::1]:6380/2", RedisURL(host: "::1", port: 6380, database: 2)),
        ("redis://:secret@[fd00::5]", RedisURL(host: "fd00::5", password: "secret")),
    ])
    func urls(_ text: String, _ expected: RedisURL) throws {
        #expect(try RedisURL(parsing: text) == expected)
        #expect(!RedisURL(host: "h", password: "secret").description.contains("secret"))
    }

    @Test("Malformed URLs are refused with the reason, and the password is never in it", arguments: [
        "http://x", "redis://", "redis://h:0", "redis://h:99999", "redis://h/x", "redis://:secret@h:99999", "redis://u:secret@h/x",
        "redis://u:secret%@h", "redis://u:secret%4@h", "redis://u:secret%zz@h", "rediss://:secret@h",
        "redis://::1", "redis://:secret@::1:6379", "redis://[::1", "redis://[::1]6379", "redis://[]:6379", "redis://[::1]:0",
    ])
    func badURLs(_ text: String) {
        do {
            _ = try RedisURL(parsing: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(!error.reason.contains("secret"), "\(error.reason)")
            #expect(error.reason.hasPrefix("'\(RedisURL.hidingPassword(text))': "), "\(error.reason)")
        }
    }

    @Test("An IPv6 address is written back in brackets")
    func ipv6Description() throws {
        #expect(RedisURL(host: "::1", port: 7000).description == "redis://[::1]:7000/0")
        #expect(RedisURL(host: "::1", port: 7000).address == "[::1]:7000" && RedisURL(host: "cache").address == "cache:6379")
        #expect(try RedisURL(parsing: RedisURL(host: "::1", port: 7000, password: "p").description.replacing("***", with: "p")) == RedisURL(host: "::1", port: 7000, password: "p"))
    }

    @Test("A Redis at an IPv6 address is connected to", .enabled(if: RedisServer.hasIPv6Loopback, "this machine has no ::1"))
    func ipv6() throws {
        let server = try RedisServer()
        let redis = RedisConnection(url: try RedisURL(parsing: "redis://[::1]:\(server.port)"))
        #expect(try redis.command(["PING"]) == .status("PONG"))
    }

    @Test("A password with escaped characters is sent decoded: AUTH succeeds")
    func escapedPassword() throws {
        let server = try RedisServer(password: "p@ss:w/rd%")
        let redis = RedisConnection(url: try RedisURL(parsing: "redis://:p%40ss%3Aw%2Frd%25@127.0.0.1:\(server.port)"))
        #expect(try redis.command(["PING"]) == .status("PONG"))
    }

    @Test("A pipeline is one round trip; replies become Swift values")
    func pipeline() throws {
        let server = try RedisServer()
        let redis = RedisConnection(url: try RedisURL(parsing: server.url))
        let replies = try redis.pipeline([
            ["SET", "a", "1"].map(Self.bytes), ["SET", "b", "x\u{0}y"].map(Self.bytes), ["MGET", "a", "b", "c"].map(Self.bytes),
            ["INCR", "n"].map(Self.bytes), ["LPUSH", "a", "z"].map(Self.bytes),
        ])
        #expect(redis.roundTrips == 1)
        #expect(replies[0] == .status("OK") && replies[1] == .status("OK"))
        #expect(replies[2] == .array([.string(Self.bytes("1")), .string([0x78, 0, 0x79]), .null]))
        #expect(replies[3] == .integer(1))
        guard case .error(let why) = replies[4] else { Issue.record("expected WRONGTYPE"); return }
        #expect(why.hasPrefix("WRONGTYPE"))
        let stats = try redis.command(["INFO", "commandstats"])
        guard case .string(let text) = stats else { Issue.record("INFO"); return }
        #expect(String(decoding: text, as: UTF8.self).contains("cmdstat_mget:calls=1"))
    }

    @Test("Commands are encoded byte for byte as hiredis encodes them")
    func encodingMatchesHiredis() {
        let long = [UInt8](repeating: 0x61, count: 1_000)
        let binary: [UInt8] = [0, 13, 10, 0x24, 0x2A, 255]
        let commands: [[[UInt8]]] = [
            [Self.bytes("PING")],
            [Self.bytes("SET"), Self.bytes(""), binary, Self.bytes("PX"), Self.bytes("86400000")],
            [Self.bytes("MGET")] + (0..<12).map { Self.bytes("ss:m@1:spec:card-\($0)") } + [long, Array(long.prefix(10)), Array(long.prefix(99))],
        ]
        #expect(RedisCommands(commands).withEncoded(Array.init) == RedisCommands.hiredisEncoding(of: commands))

        var built = RedisCommands()
        built.start(Self.bytes("SET"), arguments: 4)
        built.append(Self.bytes("ns:"), Self.bytes("card-1|m-2|12.50")[...])
        built.append(Float(0.1))
        built.append(Self.bytes("PX"))
        built.append(Self.bytes("1000"))
        let expected = RedisCommands.hiredisEncoding(of: [["SET", "ns:card-1|m-2|12.50", "0.1", "PX", "1000"].map(Self.bytes)])
        #expect(built.withEncoded(Array.init) == expected)
        #expect(built.count == 1)
        built.removeAll()
        #expect(built.isEmpty && built.withEncoded(Array.init).isEmpty)
    }

    @Test("Sending a lookup's MGET allocates no more for 256 keys than for 8")
    func mgetAllocationsDoNotGrowWithKeys() throws {
        let server = try RedisServer()
        var configuration = ScoreCacheConfiguration()
        configuration.redis = try RedisURL(parsing: server.url)
        configuration.localCapacity = 0
        let cache = ScoreLookup(configuration: configuration, namespace: CacheNamespace(model: "m@1", hash: "s"))
        func keys(_ n: Int) -> ScoreKeys { ScoreKeys((0..<n).map { Array("card-\(100_000 + $0)|merchant-\($0 % 97)|12.50".utf8) }) }
        let (few, many) = (keys(8), keys(256))
        var found: [Float?] = []
        cache.lookup(many, into: &found)  // warm-up: connect, buffers grow
        func sendAllocations(_ keys: ScoreKeys) -> UInt {
            let count = AllocationTests.allocations { cache.beginLookup(keys, into: &found) }
            cache.finishLookup(keys, into: &found)
            return count
        }
        let (a, b) = (sendAllocations(few), sendAllocations(many))
        #expect(cache.counters.redisReads == 3 && cache.counters.errors == 0)
        #expect(b <= a, "MGET of 8 keys: \(a) allocations; of 256: \(b)")
    }

    @Test("Writing to a Redis that has gone away is an error, not SIGPIPE: the process lives")
    func brokenPipeIsAnError() throws {
        let server = try RedisServer()
        let redis = RedisConnection(url: try RedisURL(parsing: server.url))
        #expect(try redis.command(["PING"]) == .status("PONG"))
        server.kill()
        // Two lookups in flight, as the batcher keeps them: the first write reaches the dead
        // peer's socket, which answers with a reset; the second write then raises SIGPIPE
        // unless it is ignored (the default action ends the process, and this test run).
        var (writes, failures) = (0, 0)
        let failed = eventually(timeout: .seconds(10)) {
            writes += 1
            do throws(RedisError) {
                try redis.send(RedisCommands([[Self.bytes("PING")]]))
            } catch {
                failures += 1
            }
            return failures >= 1 && writes >= 3
        }
        #expect(failed, "\(writes) writes, \(failures) failed")
    }

    @Test("AUTH and SELECT follow the URL; a wrong password fails the connect with the reason")
    func authAndSelect() throws {
        let server = try RedisServer(password: "s3cret")
        let redis = RedisConnection(url: try RedisURL(parsing: "redis://:s3cret@127.0.0.1:\(server.port)/3"))
        #expect(try redis.command(["SET", "k", "v"]) == .status("OK"))
        let db0 = RedisConnection(url: try RedisURL(parsing: "redis://:s3cret@127.0.0.1:\(server.port)/0"))
        #expect(try db0.command(["EXISTS", "k"]) == .integer(0), "db 3's key is not in db 0")
        let wrong = RedisConnection(url: try RedisURL(parsing: "redis://:nope@127.0.0.1:\(server.port)"))
        do {
            _ = try wrong.command(["PING"])
            Issue.record("connected with a wrong password")
        } catch {
            #expect(error.description.contains("AUTH"), "\(error)")
        }
    }

    @Test("A slow server times out the command and backs off; a dropped connection reconnects at once; a dead server backs off; a restarted one is reconnected")
    func failures() throws {
        let server = try RedisServer()
        let url = try RedisURL(parsing: server.url)
        let redis = RedisConnection(url: url, commandTimeout: .milliseconds(50), initialBackoff: .milliseconds(200))
        #expect(try redis.command(["PING"]) == .status("PONG"))
        // Another client pauses every client for 300 ms: our read times out.
        let other = RedisConnection(url: url)
        _ = try other.command(["CLIENT", "PAUSE", "300"])
        // Had the pause ended the call, GET would have answered (nil) instead of throwing.
        let timedOut = #expect(throws: RedisError.self) { try redis.command(["GET", "x"]) }
        #expect(timedOut?.description == "redis: connection error: no reply within 50 ms")
        #expect(!redis.isConnected)
        let hung = #expect(throws: RedisError.self) { try redis.command(["PING"]) }
        #expect(
            hung?.description.hasPrefix("redis: not connected (redis: connection error: no reply within 50 ms); next attempt in ") == true,
            "a slow Redis is given the back-off before the next connect: \(String(describing: hung))")
        let reconnected = eventually(timeout: .seconds(10)) { (try? redis.command(["PING"])) == .status("PONG") }
        #expect(reconnected, "reconnected after the back-off")

        server.kill()
        #expect(throws: RedisError.self) { try redis.command(["PING"]) }  // the dropped connection
        do {
            _ = try redis.command(["PING"])
            Issue.record("a dead server answered")
        } catch {
            guard case .connect = error else { Issue.record("expected a reconnect at once, got \(error)"); return }
        }
        do {
            _ = try redis.command(["PING"])
            Issue.record("a dead server answered")
        } catch {
            guard case .backingOff = error else { Issue.record("expected a back-off after a failed connect, got \(error)"); return }
            #expect(error.description.hasPrefix("redis: not connected (redis: cannot connect: 127.0.0.1:\(server.port): Connection refused); next attempt in "), "\(error)")
        }
        try server.start()
        let back = eventually(timeout: .seconds(10)) { (try? redis.command(["PING"])) == .status("PONG") }
        #expect(back, "reconnected once the server is back")
    }

    @Test("A host name is resolved off the connecting thread: a resolver that does not answer costs a connect its timeout, not more, and its late answer serves the next attempt")
    func slowResolver() throws {
        let server = try RedisServer()
        let asked = Asked()
        let answer = ConditionLock(false)  // the resolver answers only when the test says so
        let resolver = HostResolver(host: "redis.test") { host in
            asked.add(host)
            _ = answer.wait { $0 ? true : nil }
            return .success(["127.0.0.1"])
        }
        let redis = RedisConnection(
            url: RedisURL(host: "redis.test", port: server.port), connectTimeout: .milliseconds(50), commandTimeout: .seconds(1),
            initialBackoff: .milliseconds(100), maximumBackoff: .milliseconds(200), resolver: resolver)
        // The resolver has not answered (it cannot yet): the connect's deadline ended the attempt.
        do {
            _ = try redis.command(["PING"])
            Issue.record("answered before the resolver did")
        } catch {
            #expect(error.description.contains("resolving 'redis.test': no answer within"), "\(error)")
        }
        answer.withLock { $0 = true }
        let back = eventually(timeout: .seconds(10)) { (try? redis.command(["PING"])) == .status("PONG") }
        #expect(back, "the late answer serves a later attempt")
        #expect(asked.hosts == ["redis.test"], "one question, however many attempts waited for it")
    }

    @Test("Host names resolve (IPv4 first); a name that does not resolve fails the connect with the reason; a numeric host is never looked up")
    func hostNames() throws {
        let server = try RedisServer()
        let byName = RedisConnection(url: RedisURL(host: "localhost", port: server.port))
        #expect(try byName.command(["PING"]) == .status("PONG"))
        let nowhere = RedisConnection(url: RedisURL(host: "no-such-host.invalid", port: server.port), connectTimeout: .seconds(2))
        do {
            _ = try nowhere.command(["PING"])
            Issue.record("connected to a name that does not resolve")
        } catch {
            guard case .connect(let why) = error else { Issue.record("expected a connect error, got \(error)"); return }
            #expect(why.hasPrefix("resolving 'no-such-host.invalid': "), "\(why)")
        }
        let asked = Asked()
        let numeric = HostResolver(host: "127.0.0.1") { asked.add($0); return .success([]) }
        #expect(try numeric.addresses(by: .now) == ["127.0.0.1"])
        #expect(try HostResolver(host: "::1").addresses(by: .now) == ["::1"])
        #expect(asked.hosts.isEmpty)
    }

    @Test("AUTH and SELECT share the connect's deadline: a Redis that accepts but does not answer fails the connect in time")
    func handshakeDeadline() throws {
        let server = try RedisServer(password: "s3cret")
        let url = try RedisURL(parsing: server.url + "/2")
        let admin = RedisConnection(url: url)
        _ = try admin.command(["CLIENT", "PAUSE", "600"])
        let redis = RedisConnection(url: url, connectTimeout: .milliseconds(80), commandTimeout: .seconds(2))
        // With the command timeout (2 s) the AUTH would have waited out the pause (600 ms) and
        // connected: the connect's deadline (80 ms) ended it.
        let failed = #expect(throws: RedisError.self) { try redis.connect() }
        #expect(failed?.description.hasPrefix("redis: cannot connect: redis: connection error: no reply within ") == true, "\(String(describing: failed))")
        #expect(!redis.isConnected)
    }

    @Test("INFO tells the version and the memory settings; a memory limit with noeviction gets advice; an INFO that ACLs refuse still means Redis answers")
    func serverInfo() throws {
        let server = try RedisServer()
        let redis = RedisConnection(url: try RedisURL(parsing: server.url))
        let plain = try RedisServerInfo.fetch(redis)
        #expect(plain.version?.split(separator: ".").count == 3, "\(String(describing: plain.version))")
        #expect(plain.maxMemory == 0 && plain.evictionPolicy == "noeviction" && plain.advice == nil, "no limit: nothing to refuse")
        _ = try redis.command(["CONFIG", "SET", "maxmemory", "10mb"])
        let limited = try RedisServerInfo.fetch(redis)
        #expect(limited.maxMemory == 10 << 20)
        #expect(limited.advice?.contains("maxmemory 10 MiB and maxmemory-policy noeviction") == true, "\(String(describing: limited.advice))")
        _ = try redis.command(["CONFIG", "SET", "maxmemory-policy", "volatile-lru"])
        #expect(try RedisServerInfo.fetch(redis).advice == nil)
        _ = try redis.command(["ACL", "SETUSER", "default", "-info"])
        let refused = try RedisServerInfo.fetch(RedisConnection(url: try RedisURL(parsing: server.url)))
        #expect(refused.version == nil && refused.advice == nil)
        #expect(refused.refusal?.hasPrefix("NOPERM") == true, "\(String(describing: refused.refusal))")
    }

    /// The host names a resolver was asked for.
    final class Asked: @unchecked Sendable {
        private let lock = NSLock()
        private var asked: [String] = []
        func add(_ host: String) { lock.withLock { asked.append(host) } }
        var hosts: [String] { lock.withLock { asked } }
    }
}
