internal import Chiredis
#if canImport(Glibc)
import Glibc
#endif

/// One synchronous connection to Redis over hiredis, for one thread (it is not shared and
/// not `Sendable`: each thread that talks to Redis opens its own).
///
/// Connects lazily. A connect has `connectTimeout` in all: resolving the host name (off
/// this thread: `HostResolver`), the TCP connect, `AUTH` and `SELECT` (as the URL asks)
/// share that one deadline. Every read and write after it has `commandTimeout`.
///
/// A connection error closes the context. When the other side closed it (a restart,
/// `CLIENT KILL`, an idle timeout, a proxy's reset), the next command reconnects at once:
/// one failed call. After a connect that fails, or a reply that timed out (a Redis too
/// slow or hung), the next connect waits for the back-off (doubling from `initialBackoff`
/// to `maximumBackoff`, reset by a successful connect), so a dead or hung Redis costs a
/// thrown `backingOff` per call, not a timeout per call.
public final class RedisConnection {
    public let url: RedisURL
    public let connectTimeout: Duration
    public let commandTimeout: Duration
    public let initialBackoff: Duration
    public let maximumBackoff: Duration

    private var context: UnsafeMutablePointer<redisContext>?
    private let resolver: HostResolver
    private var backoff: Duration
    private var retryAt: ContinuousClock.Instant?
    private var backOffCause = ""
    /// Inside `connect`'s `AUTH` and `SELECT`.
    private var handshaking = false
    /// The socket timeout in force (the connect's, during `AUTH` and `SELECT`).
    private var timeout: Duration

    /// Round trips made (one per `pipeline` or `command` call that reached Redis).
    public private(set) var roundTrips = 0
    /// Counts connects: a reply awaited on an older connection will never come.
    public private(set) var generation = 0

    public convenience init(
        url: RedisURL, connectTimeout: Duration = .milliseconds(250), commandTimeout: Duration = .milliseconds(50),
        initialBackoff: Duration = .milliseconds(100), maximumBackoff: Duration = .seconds(5)
    ) {
        self.init(
            url: url, connectTimeout: connectTimeout, commandTimeout: commandTimeout,
            initialBackoff: initialBackoff, maximumBackoff: maximumBackoff, resolver: HostResolver(host: url.host))
    }

    init(
        url: RedisURL, connectTimeout: Duration, commandTimeout: Duration,
        initialBackoff: Duration, maximumBackoff: Duration, resolver: HostResolver
    ) {
        self.url = url
        self.resolver = resolver
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.backoff = initialBackoff
        self.timeout = connectTimeout
    }

    deinit { close() }

    public var isConnected: Bool { context != nil }

    /// Connects now if not connected (commands do it themselves).
    /// - Throws: `RedisError.connect` or `.backingOff`.
    public func connect() throws(RedisError) {
        guard context == nil else { return }
        _ = Self.brokenPipesIgnored
        if let retryAt, ContinuousClock.now < retryAt {
            throw .backingOff(retryInSeconds: (retryAt - ContinuousClock.now).inSeconds, cause: backOffCause)
        }
        let deadline = ContinuousClock.now + connectTimeout
        let c: UnsafeMutablePointer<redisContext>
        do throws(RedisError) {
            c = try open(by: deadline)
        } catch {
            failed(error)
            throw error
        }
        redisEnableKeepAlive(c)
        context = c
        generation += 1
        handshaking = true
        defer { handshaking = false }
        do throws(RedisError) {
            if let password = url.password {
                let auth = url.user.map { ["AUTH", $0, password] } ?? ["AUTH", password]
                if case .error(let why) = try handshake(auth.map { Array($0.utf8) }, by: deadline) { throw RedisError.server("AUTH: \(why)") }
            }
            if url.database != 0, case .error(let why) = try handshake(["SELECT", String(url.database)].map { Array($0.utf8) }, by: deadline) {
                throw RedisError.server("SELECT \(url.database): \(why)")
            }
        } catch {
            close()
            let failure: RedisError = if case .connect = error { error } else { .connect(error.description) }
            failed(failure)
            throw failure
        }
        setTimeout(c, commandTimeout)
        backoff = initialBackoff
        retryAt = nil
    }

    /// Sends every command in one write, then reads every reply: one round trip.
    /// A reply that is a Redis error comes back as `.error`; a broken connection or a
    /// timeout throws (the connection is closed and reopened by a later call).
    public func pipeline(_ commands: RedisCommands) throws(RedisError) -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        try send(commands)
        return try receive(commands.count)
    }

    /// `pipeline` with commands given as arrays of arguments.
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        try pipeline(RedisCommands(commands))
    }

    /// The first half of `pipeline`: writes every command and returns without waiting, so
    /// the caller can work while Redis answers. Redis answers in the order commands were
    /// sent: read each send's replies with `receive(commands.count)`, in that order.
    public func send(_ commands: RedisCommands) throws(RedisError) {
        guard !commands.isEmpty else { return }
        try connect()
        guard let c = context else { throw .io("not connected") }
        try append(commands, to: c)
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(c, &done) == REDIS_OK else { throw broken(c) }
        }
        roundTrips += 1
    }

    /// The second half of `pipeline`: reads `count` replies (waiting at most
    /// `commandTimeout` for each).
    public func receive(_ count: Int) throws(RedisError) -> [RedisReply] {
        guard let c = context else { throw .io("not connected") }
        var replies: [RedisReply] = []
        replies.reserveCapacity(count)
        for _ in 0..<count {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(c, &raw) == REDIS_OK, let raw else { throw broken(c) }
            replies.append(RedisReply(raw.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
        return replies
    }

    /// One command, one round trip.
    public func command(_ arguments: [String]) throws(RedisError) -> RedisReply {
        try pipeline([arguments.map { Array($0.utf8) }])[0]
    }

    public func close() {
        if let context { redisFree(context) }
        context = nil
    }

    /// A TCP connection to the first of the host's addresses that takes one by `deadline`
    /// (hiredis is handed numeric addresses only, so it never resolves a name itself).
    private func open(by deadline: ContinuousClock.Instant) throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        let addresses = try resolver.addresses(by: deadline)
        var why = "no address"
        for address in addresses {
            let remaining = deadline - .now
            guard remaining >= .milliseconds(1) else {
                why = "timed out after \(connectTimeout.inMilliseconds) ms"
                break
            }
            guard let c = redisConnectWithTimeout(address, Int32(url.port), Self.timeval(remaining)) else {
                throw .connect("out of memory")
            }
            if c.pointee.err == 0 { return c }
            why = Self.errorString(c)
            redisFree(c)
            if address != url.host { why += " (\(address))" }
        }
        throw .connect("\(url.address): \(why)")
    }

    /// One round trip of the connect (`AUTH`, `SELECT`), waiting no later than `deadline`.
    private func handshake(_ command: [[UInt8]], by deadline: ContinuousClock.Instant) throws(RedisError) -> RedisReply {
        let remaining = deadline - .now
        guard remaining >= .milliseconds(1), let c = context else {
            throw .connect("timed out after \(connectTimeout.inMilliseconds) ms")
        }
        setTimeout(c, min(remaining, commandTimeout))
        return try pipeline([command])[0]
    }

    /// Appends the encoded commands to hiredis's output buffer (nothing is written yet).
    private func append(_ commands: RedisCommands, to c: UnsafeMutablePointer<redisContext>) throws(RedisError) {
        let status = commands.withEncoded { encoded in
            encoded.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(c, $0.baseAddress, $0.count) }
        }
        guard status == REDIS_OK else { throw broken(c) }
    }

    /// Closes a context that hiredis reports broken. A closed connection is reopened by the
    /// next call; after a timeout, the next connect waits for the back-off.
    private func broken(_ c: UnsafeMutablePointer<redisContext>) -> RedisError {
        let why = Self.errorString(c)
        let timedOut = c.pointee.err == REDIS_ERR_IO && why == Self.wouldBlock
        close()
        guard timedOut else { return .io(why) }
        let error = RedisError.io("no reply within \(timeout.inMilliseconds) ms")
        if !handshaking { failed(error) }  // (`connect` backs off for its handshake itself)
        return error
    }

    /// Every read and write on `c` waits at most `timeout` from now on.
    private func setTimeout(_ c: UnsafeMutablePointer<redisContext>, _ timeout: Duration) {
        redisSetTimeout(c, Self.timeval(timeout))
        self.timeout = timeout
    }

    /// What a read or write that timed out reports (`EAGAIN`'s text).
    private static let wouldBlock = String(cString: strerror(EAGAIN))

    /// A connect failed, or a reply timed out: the next connect waits for the back-off.
    private func failed(_ error: RedisError) {
        backOffCause = error.description
        retryAt = .now + backoff
        backoff = min(backoff * 2, maximumBackoff)
    }

    private static func errorString(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// hiredis writes with `write(2)`, which raises SIGPIPE when Redis has closed the
    /// connection, and SIGPIPE ends the process. Ignored once, before the first connect:
    /// the write then fails with EPIPE, a connection error like any other (the breaker
    /// opens, scoring goes on). Kafka's client sends with MSG_NOSIGNAL and is unaffected.
    private static let brokenPipesIgnored: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    private static func timeval(_ d: Duration) -> Glibc.timeval {
        let micros = d.inMicroseconds
        return Glibc.timeval(tv_sec: Int(micros / 1_000_000), tv_usec: Int(micros % 1_000_000))
    }
}
