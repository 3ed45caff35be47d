import CoreMetrics
import Pipeline
import Prometheus

/// swift-metrics to the Prometheus registry, like swift-prometheus' own factory, but with
/// each family's `# HELP` text and histogram buckets taken from `MetricCatalog` (its
/// factory registers every family without help, and the registry allows one help text per
/// name). A name missing from the catalog is a programming error: a test scrapes the
/// worker and checks every family has help.
struct DescribedMetricsFactory: CoreMetrics.MetricsFactory {
    let registry: PrometheusCollectorRegistry

    private func help(_ label: String) -> String { MetricCatalog.entries[label]?.help ?? "" }

    private func durationBuckets(_ label: String) -> [Duration] {
        (MetricCatalog.entries[label]?.buckets ?? [0.001, 0.01, 0.1, 1, 10]).map { .nanoseconds(Int64(($0 * 1e9).rounded())) }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: help(label))
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: help(label))
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(name: label, labels: dimensions, help: help(label)) }
        let buckets = MetricCatalog.entries[label]?.buckets ?? [1, 10, 100, 1000]
        return registry.makeValueHistogram(name: label, labels: dimensions, buckets: buckets, help: help(label))
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(name: label, labels: dimensions, help: help(label))
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(name: label, labels: dimensions, buckets: durationBuckets(label), help: help(label))
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        switch handler {
        case let gauge as Prometheus.Gauge: registry.unregisterGauge(gauge)
        case let histogram as Prometheus.Histogram<Double>: registry.unregisterValueHistogram(histogram)
        default: break
        }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? Prometheus.Histogram<Duration> { registry.unregisterDurationHistogram(histogram) }
    }
}
