/// Where the score cache lives: `redis://[user:password@]host:port[/db]`. The user and
/// password are percent-decoded, as redis-py, go-redis and ioredis read them
/// (`redis://:p%40ss@cache` is the password `p@ss`); an IPv6 address is in brackets
/// (`redis://[::1]:6379`), as in any URL.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String?
    public var password: String?
    public var database: Int

    public init(host: String, port: Int = 6379, user: String? = nil, password: String? = nil, database: Int = 0) {
        (self.host, self.port, self.user, self.password, self.database) = (host, port, user, password, database)
    }

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var reason: String
        public var description: String { reason }
    }

    /// Parses `redis://[user:password@]host[:port][/db]` (port 6379 and database 0 when left
    /// out; `host` may be `[IPv6 address]`). An error quotes the text with the password hidden.
    public init(parsing text: String) throws(ParseError) {
        var quoted: String { "'\(Self.hidingPassword(text))'" }  // only for an error
        guard !text.hasPrefix("rediss://") else {
            throw ParseError(reason: "\(quoted): TLS (rediss://) is not supported: Debian's hiredis 0.14 has none; reach Redis over a TLS tunnel with redis://")
        }
        guard text.hasPrefix("redis://") else { throw ParseError(reason: "\(quoted): expected redis://[user:password@]host:port[/db]") }
        var rest = Substring(text.dropFirst("redis://".count))
        var user: String?, password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let colon = credentials.firstIndex(of: ":")
            let (userPart, passwordPart) = colon.map { (credentials[..<$0], credentials[credentials.index(after: $0)...]) } ?? ("", credentials)
            guard let u = Self.percentDecoded(userPart), let p = Self.percentDecoded(passwordPart) else {
                throw ParseError(reason: "\(quoted): a '%' in the user or password must start an escape such as %40 (@) or %25 (%)")
            }
            (user, password) = (u.isEmpty ? nil : u, p)
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let n = Int(db), n >= 0 else { throw ParseError(reason: "\(quoted): the database must be a non-negative integer") }
                database = n
            }
            rest = rest[..<slash]
        }
        var port = 6379
        var host = rest
        var portText: Substring?
        if rest.first == "[" {
            // An IPv6 address, in brackets as in any URL: redis://[::1]:6379.
            guard let close = rest.firstIndex(of: "]") else { throw ParseError(reason: "\(quoted): no ']' after the IPv6 address") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { throw ParseError(reason: "\(quoted): expected ':port' after ']'") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            guard rest[rest.index(after: colon)...].firstIndex(of: ":") == nil else {
                throw ParseError(reason: "\(quoted): an IPv6 address goes in brackets, as in redis://[::1]:6379")
            }
            portText = rest[rest.index(after: colon)...]
            host = rest[..<colon]
        }
        if let portText {
            guard let p = Int(portText), (1...65_535).contains(p) else {
                throw ParseError(reason: "\(quoted): the port must be between 1 and 65535")
            }
            port = p
        }
        guard !host.isEmpty else { throw ParseError(reason: "\(quoted): no host") }
        self.init(host: String(host), port: port, user: user, password: password, database: database)
    }

    /// `text` with each `%XX` escape decoded (nil: a `%` that starts none, or bytes that are
    /// not UTF-8).
    static func percentDecoded(_ text: Substring) -> String? {
        let utf8 = Array(text.utf8)
        var bytes: [UInt8] = []
        var i = 0
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        while i < utf8.count {
            guard utf8[i] == UInt8(ascii: "%") else {
                bytes.append(utf8[i])
                i += 1
                continue
            }
            guard i + 2 < utf8.count, let high = hex(utf8[i + 1]), let low = hex(utf8[i + 2]) else { return nil }
            bytes.append(high << 4 | low)
            i += 3
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// `text` with whatever stands between `://` and the last `@` past it, but a user, hidden.
    static func hidingPassword(_ text: String) -> String {
        guard let scheme = text.firstRange(of: "://"), let at = text[scheme.upperBound...].lastIndex(of: "@") else { return text }
        let credentials = text[scheme.upperBound..<at]
        let user = credentials.firstIndex(of: ":").map { credentials[..<$0] } ?? ""
        return text[..<scheme.upperBound] + user + ":***" + text[at...]
    }

    /// `host:port`, an IPv6 address in brackets (`[::1]:6379`).
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The URL with the password hidden (for logs).
    public var description: String {
        let credentials = password == nil ? "" : "\(user ?? ""):***@"
        return "redis://\(credentials)\(address)/\(database)"
    }
}
