import Foundation
import Testing

/// A noida-db process serving Kafka on a free loopback port with a data directory of its
/// own: a real Kafka-protocol broker (record timestamps, offsets by time), which
/// librdkafka's mock cluster is not. `make test` installs it into `.venv-broker`.
/// Its clients must raise `receive.message.max.bytes` (it ignores fetch size limits).
final class NoidaBroker {
    static let clientProperties = ["receive.message.max.bytes": "200000000"]

    /// The native server inside the venv's package (started directly, so that its PID is
    /// the server's and stopping it stops the server).
    static var executable: URL? {
        let lib = packageRoot.appendingPathComponent(".venv-broker/lib")
        guard let pythons = try? FileManager.default.contentsOfDirectory(atPath: lib.path) else { return nil }
        for python in pythons.sorted() {
            let binary = lib.appendingPathComponent(python).appendingPathComponent("site-packages/noida_db/noida-db")
            if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
        }
        return nil
    }

    static let missing = "noida-db is not installed in .venv-broker (make test installs it with pip; it could not): the backfill's time bounds are not tested against a real broker"

    let process = Process()
    let bootstrap: String
    let dataDirectory: URL

    init() throws {
        let executable = try #require(Self.executable, "\(Self.missing)")
        dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("noida"))
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        let port = try Self.freePort()
        bootstrap = "127.0.0.1:\(port)"
        process.executableURL = executable
        process.arguments = ["start", "--only", "kafka", "--kafka-port", "\(port)", "--host", "127.0.0.1", "--data-dir", dataDirectory.path]
        let log = dataDirectory.appendingPathComponent("noida.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.run()
        let up = eventually(timeout: .seconds(30)) { Self.accepts(port: port) || !process.isRunning }
        try #require(up && process.isRunning, "noida-db did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }

    deinit {
        if process.isRunning {
            process.terminate()
            let stopped = eventually(timeout: .seconds(10)) { !process.isRunning }
            if !stopped { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: dataDirectory)
    }

    /// A port nothing listens on (bound to port 0 and released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound, "cannot find a free port")
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
