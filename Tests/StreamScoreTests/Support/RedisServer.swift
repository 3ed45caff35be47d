import Foundation
import RedisBridge
@testable import streamscore

/// A real `redis-server` on a free loopback port, for one test (no persistence). It listens on
/// 127.0.0.1, and on ::1 too where the machine has IPv6.
final class RedisServer {
    let port: Int
    let password: String?
    private var process: Process?

    init(password: String? = nil, port: Int? = nil) throws {
        self.port = try port ?? Self.freePort()
        self.password = password
        try start()
    }

    deinit { stop() }

    var url: String { password.map { "redis://:\($0)@127.0.0.1:\(port)" } ?? "redis://127.0.0.1:\(port)" }

    /// Starts (or restarts) the server on the same port and waits until it answers.
    func start() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        var arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "-::1", "--save", "", "--appendonly", "no", "--daemonize", "no"]
        if let password { arguments += ["--requirepass", password] }
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if Self.accepts(port) { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "redis-server did not start on port \(port)"])
    }

    /// Kills the server at once (SIGKILL: no goodbye to the clients).
    func kill() {
        guard let p = process, p.isRunning else { return }
        Foundation.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    func stop() { kill() }

    /// How many times `command` ran on the server (`INFO commandstats`).
    func calls(_ command: String) throws -> Int {
        let admin = RedisConnection(url: try RedisURL(parsing: url))
        guard case .string(let text) = try admin.command(["INFO", "commandstats"]) else { return -1 }
        let line = String(decoding: text, as: UTF8.self).split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_\(command):") }
        guard let line, let calls = line.split(separator: "=").dropFirst().first?.split(separator: ",").first else { return 0 }
        return Int(calls) ?? -1
    }

    static func freePort() throws -> Int { try freeLoopbackPort() }

    /// Whether this machine has the IPv6 loopback (a container may not).
    static let hasIPv6Loopback: Bool = {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0 }
        }
    }()

    static func accepts(_ port: Int) -> Bool {
        guard let fd = connectLoopback(port: port) else { return false }
        close(fd)
        return true
    }
}
