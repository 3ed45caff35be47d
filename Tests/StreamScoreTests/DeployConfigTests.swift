import Foundation
import Inference
import Pipeline
import Testing
@testable import streamscore

/// The configurations the deployment kit ships load with the worker's own loader, and the
/// grace periods leave the graceful stop its time.
@Suite("Deploy configuration")
struct DeployConfigTests {
    static func text(_ path: String) throws -> String {
        try String(contentsOf: packageRoot.appendingPathComponent(path), encoding: .utf8)
    }

    /// The `streamscore.yaml: |` block of the Kubernetes ConfigMap, dedented.
    static func configMapConfig() throws -> String {
        let lines = try text("deploy/k8s/configmap.yaml").split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "streamscore.yaml: |" })
        return lines[(start + 1)...].prefix { $0.hasPrefix("    ") || $0.isEmpty }.map { String($0.dropFirst(4)) }.joined(separator: "\n")
    }

    @Test("the Kubernetes ConfigMap's configuration loads, with the pod name as the instance, and its model loads")
    func kubernetesConfig() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("k8s") + ".yaml").path
        try Self.configMapConfig().write(toFile: path, atomically: true, encoding: .utf8)
        let settings = try Settings(ConfigLoader(path: path, environment: ["STREAMSCORE_INSTANCE": "streamscore-7d9f-abcde"]))
        #expect(settings.pipeline.instanceID == "streamscore-7d9f-abcde")
        #expect(settings.metricsListen?.host == "0.0.0.0" && settings.metricsListen?.port == 9464)
        _ = try ModelLoader.load(path: packageRoot.appendingPathComponent(settings.modelPath).path, format: settings.modelFormat)
        // The kubelet's SIGKILL comes after terminationGracePeriodSeconds: later than the worker's own deadline.
        let grace = try #require(try Self.text("deploy/k8s/deployment.yaml").firstMatch(of: /terminationGracePeriodSeconds: (\d+)/).flatMap { Int($0.1) })
        #expect(Duration.seconds(grace) > settings.pipeline.shutdownTimeout + .seconds(5))
    }

    @Test("docker-compose.yml's worker: the shipped configuration with its environment loads; its stop grace period exceeds the shutdown timeout")
    func composeConfig() throws {
        let compose = try Self.text("docker-compose.yml")
        let worker = try #require(compose.range(of: "\n  worker:\n")).upperBound
        let section = compose[worker...].prefix { _ in true }.split(separator: "\n  loadgen:").first ?? ""
        var environment: [String: String] = [:]
        for match in section.matches(of: /\n\s+(STREAMSCORE_[A-Z_]+): (\S+)/) { environment[String(match.1)] = String(match.2) }
        #expect(environment.count >= 3, "\(environment)")
        let settings = try Settings(ConfigLoader(path: packageRoot.appendingPathComponent("Configs/streamscore.yaml").path, environment: environment))
        #expect(settings.pipeline.bootstrapServers == "kafka:9092")
        #expect(settings.metricsListen?.port == 9464)
        let grace = try #require(section.firstMatch(of: /stop_grace_period: (\d+)s/).flatMap { Int($0.1) })
        #expect(Duration.seconds(grace) > settings.pipeline.shutdownTimeout)
        // The image's working directory holds Configs/ and Models/: the shipped paths resolve there.
        let dockerfile = try Self.text("Dockerfile")
        #expect(dockerfile.contains("WORKDIR /opt/streamscore") && dockerfile.contains("COPY Models ./Models"))
        #expect(FileManager.default.fileExists(atPath: packageRoot.appendingPathComponent(settings.modelPath).path))
    }
}
