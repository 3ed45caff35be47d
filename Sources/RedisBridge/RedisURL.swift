/// Where the score cache lives: `redis://[user:password@]host:port[/db]`.
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

    /// Parses `redis://[user:password@]host[:port][/db]` (port 6379 and database 0 when left out).
    public init(parsing text: String) throws(ParseError) {
        guard text.hasPrefix("redis://") else { throw ParseError(reason: "'\(text)': expected redis://[user:password@]host:port[/db]") }
        var rest = Substring(text.dropFirst("redis://".count))
        var user: String?, password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = credentials[..<colon].isEmpty ? nil : String(credentials[..<colon])
                password = String(credentials[credentials.index(after: colon)...])
            } else {
                password = String(credentials)
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let n = Int(db), n >= 0 else { throw ParseError(reason: "'\(text)': the database must be a non-negative integer") }
                database = n
            }
            rest = rest[..<slash]
        }
        var port = 6379
        var host = rest
        if let colon = rest.lastIndex(of: ":") {
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65_535).contains(p) else {
                throw ParseError(reason: "'\(text)': the port must be between 1 and 65535")
            }
            port = p
            host = rest[..<colon]
        }
        guard !host.isEmpty else { throw ParseError(reason: "'\(text)': no host") }
        self.init(host: String(host), port: port, user: user, password: password, database: database)
    }

    /// The URL with the password hidden (for logs).
    public var description: String {
        let credentials = password == nil ? "" : "\(user ?? ""):***@"
        return "redis://\(credentials)\(host):\(port)/\(database)"
    }
}
