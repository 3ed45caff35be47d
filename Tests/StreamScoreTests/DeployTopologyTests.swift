import Foundation
import Pipeline
import Testing
@testable import streamscore
import Workload

/// The deployment kit's topology as local processes: `streamscore broker`, `redis-server`,
/// the worker with `--metrics`, and Prometheus (Debian's package) scraping it with the
/// project's alert rules. What an operator would see on the dashboard is asked of
/// Prometheus' HTTP API.
@Suite("Deploy topology", .serialized)
struct DeployTopologyTests {
    static let alerts = packageRoot.appendingPathComponent("deploy/prometheus/alerts.yml").path
    static let dashboard = packageRoot.appendingPathComponent("deploy/grafana/streamscore.json")

    @Test("lag rises while a backlog builds and falls to 0 once drained; event age and outputs match what was produced; alerts and dashboard queries evaluate on live series")
    func topology() throws {
        let (input, output, dlq, group) = (uniqueName("in"), uniqueName("out"), uniqueName("dlq"), uniqueName("group"))
        let broker = try BrokerProcess(partitions: 4, topics: [input, output, dlq])
        let redis = try RedisServer()
        let reader = TopicReader(bootstrap: broker.bootstrap)
        func produce(_ count: Int, seed: Int, rate: Int? = nil) throws -> WorkerProcess {
            try WorkerProcess(["produce", "--bootstrap", broker.bootstrap, "--topic", input, "--count", "\(count)",
                               "--seed", "\(seed)", "--malformed-ratio", "0.01"] + (rate.map { ["--rate", "\($0)"] } ?? []),
                              name: "produce-\(seed)")
        }
        // A backlog built while the worker is stopped (not started yet).
        let first = try produce(10_000, seed: 1)
        #expect(first.waitForExit(timeout: .seconds(60)) == 0, "\(first.stderr)")

        let port = try RedisServer.freePort()
        let prometheus = try PrometheusServer(scraping: "127.0.0.1:\(port)", rules: [Self.alerts])
        let config = try writeWorkerConfig(input: input, output: output, deadLetter: dlq, group: group, statisticsMs: 1000)
        // Throttled below the producer's rate, so the lag also grows while it runs.
        let worker = try WorkerProcess(["run", "--config", config, "--bootstrap", broker.bootstrap, "--redis", redis.url,
                                        "--metrics", "127.0.0.1:\(port)", "--max-rate", "2500"])
        defer { worker.terminate() }
        let started = Date()
        // Once Prometheus sees the backlog, more arrives faster than the worker takes it.
        try #require(eventually(timeout: .seconds(60)) {
            ((try? prometheus.query("streamscore_consumer_lag_assigned"))?.first?.value ?? 0) > 0
        }, "no lag in Prometheus: \(worker.stderr)")
        let second = try produce(15_000, seed: 2, rate: 6_000)
        #expect(second.waitForExit(timeout: .seconds(60)) == 0, "\(second.stderr)")
        let total = 25_000
        try #require(eventually(timeout: .seconds(90)) {
            ((try? reader.count(output, partitions: 4)) ?? 0) + ((try? reader.count(dlq, partitions: 4)) ?? 0) >= total
        }, "not every event scored or dead-lettered: \(worker.stderr)")
        try #require(eventually(timeout: .seconds(30)) {
            (try? prometheus.query("streamscore_consumer_lag_assigned"))?.first?.value == 0
        }, "the lag did not fall to 0 in Prometheus: \(prometheus.log)")

        // The lag over the run, one sample a second: it rose (the backlog grew while the
        // worker fell behind), peaked near the backlog, and ended at 0.
        let seconds = Int(Date().timeIntervalSince(started)) + 5
        let lag = try prometheus.range("streamscore_consumer_lag_assigned", seconds: seconds)
        let peak = try #require(lag.max())
        let peakAt = lag.firstIndex(of: peak)!
        #expect(peak > 10_000, "the backlog was 10,000, then grew: \(lag)")
        #expect(lag[..<peakAt].contains { $0 < peak - 2_000 }, "the lag rose while the producer outran the worker: \(lag)")
        #expect(lag.last == 0)
        let lagSeconds = try prometheus.range("max(streamscore_consumer_lag_seconds)", seconds: seconds)
        #expect((lagSeconds.max() ?? 0) > 1, "records waited while the worker fell behind: \(lagSeconds)")
        #expect(try prometheus.query("max(streamscore_consumer_lag_seconds)").first?.value == 0)

        // Outputs and event ages: one per event produced.
        let outputs = try reader.count(output, partitions: 4), deadLetters = try reader.count(dlq, partitions: 4)
        try #require(eventually(timeout: .seconds(10)) {
            (try? prometheus.query("streamscore_event_age_seconds_count"))?.first?.value == Double(total)
        }, "event ages counted: \(String(describing: try? prometheus.query("streamscore_event_age_seconds_count")))")
        #expect(try prometheus.query("streamscore_outputs_total").first?.value == Double(outputs))
        #expect(try prometheus.query("sum(streamscore_dead_letters_total)").first?.value == Double(deadLetters))
        #expect(outputs + deadLetters == total)
        let ageP99 = try #require(try prometheus.query("histogram_quantile(0.99, sum by (le) (streamscore_event_age_seconds_bucket))").first?.value)
        #expect(ageP99 > 1 && ageP99 < Double(seconds + 30), "the backlog's events waited seconds, not more than the run: \(ageP99)")

        // The alert rules load and evaluate on these series.
        let rules = try prometheus.api("/api/v1/rules").json
        let evaluated = ((rules["data"] as? [String: Any])?["groups"] as? [[String: Any]] ?? []).flatMap { $0["rules"] as? [[String: Any]] ?? [] }
        #expect(evaluated.count == 7, "alerts.yml's rules: \(evaluated.count)")
        for rule in evaluated {
            #expect(rule["health"] as? String == "ok", "rule \(rule["name"] ?? "?"): \(rule["lastError"] ?? "")")
        }

        // Every dashboard query parses and evaluates, and names only series the worker exports.
        let scrape = try httpGet(port: port, path: "/metrics").body
        let exported = Self.families(scrape)
        let expressions = try Self.dashboardExpressions()
        #expect(expressions.count > 20)
        for expression in expressions {
            let concrete = expression.replacingOccurrences(of: "$__rate_interval", with: "1m")
                .replacingOccurrences(of: "$job", with: ".+").replacingOccurrences(of: "$instance", with: ".+")
            let (status, json) = try prometheus.api("/api/v1/query", [("query", concrete)])
            #expect(status == 200 && json["status"] as? String == "success", "\(expression): \(json["error"] ?? "")")
        }
        let alertText = try String(contentsOfFile: Self.alerts, encoding: .utf8)
        for name in Self.metricNames(in: expressions.joined(separator: "\n") + alertText) {
            #expect(exported.contains(name), "\(name) is queried but not exported")
        }

        worker.signal(SIGTERM)
        #expect(worker.waitForExit(timeout: .seconds(30)) == 0, "\(worker.stderr)")
    }

    /// The sample names a scrape holds (a histogram's `_bucket`, `_sum` and `_count`).
    static func families(_ text: String) -> Set<String> {
        var names: Set<String> = []
        for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            let name = String(parts[2])
            names.insert(name)
            if parts[3] == "histogram" { names.formUnion(["_bucket", "_sum", "_count"].map { name + $0 }) }
        }
        return names
    }

    /// Every PromQL expression of the dashboard: the panels' targets and the variables' inner queries.
    static func dashboardExpressions() throws -> [String] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dashboard)) as? [String: Any] ?? [:]
        var expressions: [String] = []
        for panel in json["panels"] as? [[String: Any]] ?? [] {
            #expect(panel["type"] as? String == "row" || !((panel["description"] as? String) ?? "").isEmpty,
                    "panel \(panel["title"] ?? "?") has no description")
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                if let expr = target["expr"] as? String { expressions.append(expr) }
            }
        }
        for variable in (json["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? [] {
            if let query = (variable["query"] as? [String: Any])?["query"] as? String,
               query.hasPrefix("label_values("), let comma = query.lastIndex(of: ",") {
                // label_values(SELECTOR, label): the selector is PromQL.
                expressions.append(String(query[query.index(query.startIndex, offsetBy: 13)..<comma]))
            }
        }
        return expressions
    }

    /// Metric names an expression text refers to (the worker's and the process' series).
    static func metricNames(in text: String) -> Set<String> {
        let regex = /\b(?:streamscore|process)_[a-z0-9_]+\b/
        return Set(text.matches(of: regex).map { String($0.output) })
    }
}
