import Concurrency
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Turns Redis's host name into addresses off the connecting thread, so that a slow DNS
/// costs a connect attempt no more than its deadline.
///
/// hiredis resolves the name itself with a blocking `getaddrinfo`, on the thread that
/// connects: the batcher. A resolver that does not answer holds it for the resolver's own
/// timeout (5 s a try by default), every time the breaker probes Redis, and no event is
/// scored meanwhile. Here the question goes to another thread; the connect waits for the
/// answer until its deadline, then fails like any connect that timed out. The question
/// stays out, and an answer that comes later serves the next attempt. hiredis is then
/// given a numeric address, which it parses without asking anyone. A numeric host is
/// never sent to the resolver.
final class HostResolver: Sendable {
    /// Asks for the addresses of a name (blocking): numeric addresses, IPv4 first.
    typealias Lookup = @Sendable (_ host: String) -> Result<[String], Failure>

    struct Failure: Error, Equatable {
        var reason: String
    }

    let host: String
    private let lookup: Lookup
    /// The question out, if one is: a later attempt waits for it rather than asking again.
    private let pending = Mutex<Question?>(nil)

    init(host: String, lookup: @escaping Lookup = HostResolver.system) {
        self.host = host
        self.lookup = lookup
    }

    /// The host's addresses, by `deadline`.
    /// - Throws: `RedisError.connect` when the name does not resolve, or not in time.
    func addresses(by deadline: ContinuousClock.Instant) throws(RedisError) -> [String] {
        if Self.isNumeric(host) { return [host] }
        let question = pending.withLock { pending in
            if let pending { return pending }
            let question = Question()
            pending = question
            let (host, lookup) = (host, lookup)
            // One short-lived named thread per question (at most one out per host).
            _ = NamedThread("streamscore.redis.resolve") { question.answer(lookup(host)) }
            return question
        }
        let wait = max(.zero, deadline - .now)
        guard question.wait(until: deadline) else {
            throw .connect("resolving '\(host)': no answer within \(wait.inMilliseconds) ms (still asking; a later answer serves the next attempt)")
        }
        pending.withLock { if $0 === question { $0 = nil } }
        switch question.result {
        case .success(let addresses) where !addresses.isEmpty: return addresses
        case .success: throw .connect("resolving '\(host)': no address")
        case .failure(let failure): throw .connect("resolving '\(host)': \(failure.reason)")
        }
    }

    /// One question to the resolver, answered once.
    private final class Question: Sendable {
        private let answered = ConditionLock<Result<[String], Failure>?>(nil)

        var result: Result<[String], Failure> { answered.read { $0 } ?? .failure(Failure(reason: "no answer")) }

        func answer(_ result: Result<[String], Failure>) {
            answered.withLock { $0 = result }
        }

        /// Whether it was answered by `deadline`.
        func wait(until deadline: ContinuousClock.Instant) -> Bool {
            answered.wait(until: deadline) { $0 == nil ? nil : true } ?? false
        }
    }

    static func isNumeric(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// `getaddrinfo`, IPv4 addresses before IPv6 ones (hiredis's preference), each once.
    static let system: Lookup = { host in
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else { return .failure(Failure(reason: String(cString: gai_strerror(status)))) }
        defer { freeaddrinfo(list) }
        var v4: [String] = [], v6: [String] = []
        var entry = list
        while let info = entry?.pointee {
            entry = info.ai_next
            guard let address = info.ai_addr else { continue }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            switch info.ai_family {
            case AF_INET:
                var ip = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in.self).sin_addr
                guard inet_ntop(AF_INET, &ip, &text, socklen_t(text.count)) != nil else { continue }
                v4.append(HostResolver.string(text))
            case AF_INET6:
                var ip = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in6.self).sin6_addr
                guard inet_ntop(AF_INET6, &ip, &text, socklen_t(text.count)) != nil else { continue }
                v6.append(HostResolver.string(text))
            default:
                continue
            }
        }
        var seen = Set<String>()
        return .success((v4 + v6).filter { seen.insert($0).inserted })
    }

    private static func string(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
