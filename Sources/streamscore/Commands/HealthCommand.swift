import ArgumentParser

/// `streamscore health`: asks a worker on this host whether it is scoring, for container
/// health checks (the image carries no HTTP client).
struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Exit 0 when the worker on this host answers GET /health with 200, 1 otherwise.",
        discussion: """
            For a container's health check: the worker must serve its metrics endpoint \
            (--metrics or metrics.listen) on this port, on any local address.

            Example (Dockerfile):
              HEALTHCHECK CMD ["streamscore", "health", "--port", "9464"]
            """
    )

    @Option(help: ArgumentHelp("The port of the worker's metrics endpoint on 127.0.0.1. Example: --port 9464", valueName: "port"))
    var port: Int = 9464

    func run() throws {
        do {
            let (status, body) = try httpGet(port: port, path: "/health")
            print("\(status) \(body)", terminator: body.hasSuffix("\n") ? "" : "\n")
            if status != 200 { throw ExitCode(1) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            print("unhealthy: \(error)")
            throw ExitCode(1)
        }
    }
}
