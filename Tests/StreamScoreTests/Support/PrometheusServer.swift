import Foundation
@testable import streamscore

/// A real Prometheus (Debian's `prometheus` package) on a free loopback port, scraping one
/// worker every second and evaluating the project's alert rules; queried over its HTTP API.
final class PrometheusServer {
    let port: Int
    private let process: Process
    private let directory: URL

    /// - Parameters:
    ///   - target: the worker's metrics endpoint, `127.0.0.1:PORT`.
    ///   - rules: rule files (absolute paths).
    init(scraping target: String, rules: [String]) throws {
        port = try freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("prometheus"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files: [\(rules.map { "\"\($0)\"" }.joined(separator: ", "))]
            scrape_configs:
              - job_name: streamscore
                static_configs:
                  - targets: ["\(target)"]
            """
        let configURL = directory.appendingPathComponent("prometheus.yml")
        try config.write(to: configURL, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        process.arguments = [
            "--config.file=\(configURL.path)", "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
        ]
        let log = directory.appendingPathComponent("prometheus.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? httpGet(port: port, path: "/-/ready"))?.status == 200 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "prometheus did not start: \(self.log)"])
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    var log: String { (try? String(contentsOf: directory.appendingPathComponent("prometheus.log"), encoding: .utf8)) ?? "" }

    /// GET an API path with query parameters; the decoded JSON and the HTTP status.
    func api(_ path: String, _ parameters: [(String, String)] = []) throws -> (status: Int, json: [String: Any]) {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let query = parameters.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
        let response = try httpGet(port: port, path: path + (query.isEmpty ? "" : "?" + query))
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] ?? [:]
        return (response.status, json)
    }

    /// An instant query's samples: labels and value.
    func query(_ expression: String) throws -> [(labels: [String: String], value: Double)] {
        let (_, json) = try api("/api/v1/query", [("query", expression)])
        let results = ((json["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
        return results.compactMap { result in
            guard let value = result["value"] as? [Any], value.count == 2, let text = value[1] as? String, let v = Double(text) else { return nil }
            return (result["metric"] as? [String: String] ?? [:], v)
        }
    }

    /// A range query's values for a single series (the first), oldest first.
    func range(_ expression: String, seconds: Int) throws -> [Double] {
        let now = Date().timeIntervalSince1970
        let (_, json) = try api("/api/v1/query_range", [
            ("query", expression), ("start", String(now - Double(seconds))), ("end", String(now)), ("step", "1"),
        ])
        let results = ((json["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
        let values = (results.first?["values"] as? [[Any]]) ?? []
        return values.compactMap { ($0.last as? String).flatMap(Double.init) }
    }
}
