import Foundation

/// A plain HTTP/1.1 GET to a loopback port: how `bench e2e` (and the tests) read a worker's
/// `/metrics` and `/health` (no HTTP client library needed). Returns the status code and
/// the body.
func httpGet(port: Int, path: String) throws -> (status: Int, body: String) {
    guard let fd = connectLoopback(port: port) else {
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot connect to 127.0.0.1:\(port)"])
    }
    defer { close(fd) }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        response += buffer[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let headerEnd = text.range(of: "\r\n\r\n"), let status = Int(text.split(separator: " ").dropFirst().first ?? "") else {
        throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "not an HTTP response: \(text.prefix(200))"])
    }
    let headers = text[..<headerEnd.lowerBound].lowercased()
    let body = String(text[headerEnd.upperBound...])
    return (status, headers.contains("transfer-encoding: chunked") ? dechunk(body) : body)
}

/// The body of a `Transfer-Encoding: chunked` response: each chunk's size line (hex) and
/// the CRLF after its data removed, up to the last (zero) chunk.
private func dechunk(_ body: String) -> String {
    var bytes = Substring(body).utf8[...]
    var out: [UInt8] = []
    while let lineEnd = bytes.firstRange(of: "\r\n".utf8) {
        let sizeText = String(decoding: bytes[..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
        guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size > 0 else { break }
        let start = lineEnd.upperBound
        guard let end = bytes.index(start, offsetBy: size, limitedBy: bytes.endIndex) else { break }
        out += bytes[start..<end]
        bytes = bytes[end...].dropFirst(2)
    }
    return String(decoding: out, as: UTF8.self)
}

/// The value of one sample line (`name{labels} value`) in Prometheus text, or nil.
func prometheusValue(_ text: String, _ sample: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(sample + " ") {
        return Double(line.dropFirst(sample.count + 1))
    }
    return nil
}

/// A loopback TCP port nobody listens on now (bound once, then released).
func freeLoopbackPort() throws -> Int {
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
    guard bound else { throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "no free loopback port"]) }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A TCP connection to 127.0.0.1:`port` (the caller closes it), or nil when nothing listens.
func connectLoopback(port: Int) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
    if connected { return fd }
    close(fd)
    return nil
}
