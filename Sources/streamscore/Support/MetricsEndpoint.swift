import Hummingbird
import KafkaBridge
import RedisBridge
import Logging
import Metrics
import Pipeline
import Prometheus
import ServiceLifecycle
import Synchronization

/// Metrics bootstrap: swift-metrics to a Prometheus registry. Once per process, before
/// the first pipeline is created (metrics made before it would go nowhere).
enum MetricsSetup {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(DescribedMetricsFactory(registry: registry))
        Gauge(label: "streamscore_build_info", dimensions: [
            ("version", StreamScore.version), ("librdkafka", KafkaLibrary.version), ("hiredis", RedisLibrary.version),
        ]).record(1)
        return registry
    }()

    static func bootstrap() { _ = registry }
}

/// The worker's HTTP endpoint (`metrics.listen`): `GET /metrics` in the Prometheus text
/// format, `GET /health` (200 while the pipeline runs, 503 once it stopped or failed).
enum MetricsEndpoint {
    /// `http://127.0.0.1:9464/metrics` (an IPv6 address in brackets) for the bound address.
    static func url(ip: String?, boundPort: Int?, host: String, port: Int) -> String {
        let ip = ip ?? host
        let hostPart = ip.contains(":") ? "[\(ip)]" : ip
        return "http://\(hostPart):\(boundPort ?? port)/metrics"
    }

    static func service(host: String, port: Int, pipeline: ScoringPipeline, logger: Logger) -> any Service {
        let registry = MetricsSetup.registry
        let metrics = PipelineMetrics(pipeline: pipeline)
        let process = ProcessMetrics()
        let router = Router()
        router.get("metrics") { _, _ -> Response in
            metrics.publish()
            process.publish()
            var body = registry.emitToBuffer()
            for histogram in pipeline.stats.histogramSnapshots() { HistogramText.append(histogram, into: &body) }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("health") { _, _ -> Response in
            let (status, text): (HTTPResponse.Status, String) =
                switch pipeline.outcome {
                case nil: pipeline.isStopping ? (.serviceUnavailable, "stopping\n") : (.ok, "ok\n")
                case .failed(let error)?: (.serviceUnavailable, "failed: \(error)\n")
                case _?: (.serviceUnavailable, "stopped\n")
                }
            return Response(status: status, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        // Hummingbird logs its own shutdown at error level ("Waiting on child channel:
        // CancellationError()", "Server shutdown error: Already closed") whenever the
        // service group stops, cleanly or after a failure, and operators alert on error:
        // keep only its critical lines. A server that cannot start (a port in use) still
        // stops the worker, as the error its service throws.
        var quiet = logger
        quiet.logLevel = .critical
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "streamscore"),
            onServerRunning: { channel in
                logger.info("metrics served", metadata: ["url": "\(url(ip: channel.localAddress?.ipAddress, boundPort: channel.localAddress?.port, host: host, port: port))"])
            },
            logger: quiet)
    }
}
