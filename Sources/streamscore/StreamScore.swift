import ArgumentParser

/// `streamscore`: score a Kafka stream with a machine-learning model.
@main
struct StreamScore: AsyncParsableCommand {
    /// The worker's version (`streamscore --version`, `streamscore_build_info`).
    static let version = "0.9.0"

    static let configuration = CommandConfiguration(
        commandName: "streamscore",
        abstract: "Score a Kafka stream with a machine-learning model, topic to topic, at-least-once.",
        discussion: """
            Start with `streamscore demo` (no set-up: an in-process Kafka cluster, a synthetic \
            transaction stream and the bundled fraud model), then run the worker against your \
            cluster with `streamscore run --config Configs/streamscore.yaml`.
            """,
        version: version,
        subcommands: [DemoCommand.self, RunCommand.self, BackfillCommand.self, CompareCommand.self, BrokerCommand.self, ProduceCommand.self, ModelCommand.self, BenchCommand.self, HealthCommand.self]
    )
}
