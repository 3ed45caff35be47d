import ArgumentParser
import Foundation
import Logging
import Pipeline
import ServiceLifecycle

/// `streamscore broker`: a local development Kafka cluster (librdkafka's mock cluster).
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run a local Kafka cluster for development and tests; prints BOOTSTRAP=<host:port,...> first.",
        discussion: """
            The cluster is librdkafka's mock cluster: the real Kafka protocol on loopback, usable \
            by kcat and any Kafka client. It keeps data in memory (about 5 MiB per partition), \
            cannot look up offsets by timestamp and does not enforce transactions. Runs until \
            SIGTERM or SIGINT.

            A topic written name:N gets N partitions instead of --partitions.

            With --control, each line on standard input injects a fault and is answered \
            on stdout with "CONTROL ok <line>" (or "CONTROL error <line>"): \
            "errors API COUNT CODE" fails the next COUNT requests of a Kafka API \
            (0 Produce, 1 Fetch, 8 OffsetCommit) with a Kafka error code \
            (1 OFFSET_OUT_OF_RANGE, 6 NOT_LEADER_FOR_PARTITION, 10 MESSAGE_TOO_LARGE); \
            "rtt MS" delays every response; "down" and "up" take every broker down \
            (connections refused) and back. The fault suite (make faults) drives it this way.

            Example:
              streamscore broker --partitions 8 --topics transactions,scores,transactions.dlq
              streamscore broker --partitions 96 --topics backlog,live:8
              streamscore broker --control      # then type: rtt 200
            """
    )

    @Option(name: .long, help: "Partitions per topic.")
    var partitions = 8

    @Option(name: .long, help: ArgumentHelp("Topics to create, comma-separated; name:N for N partitions.", valueName: "a,b:N,c"))
    var topics = "transactions,scores,transactions.dlq"

    @Option(name: .long, help: "Number of brokers in the cluster.")
    var brokers = 1

    @Flag(name: .long, help: ArgumentHelp("Read fault injections from standard input, one per line: \(BrokerFault.grammar)."))
    var control = false

    func validate() throws {
        guard partitions > 0 else { throw ValidationError("--partitions must be positive") }
        guard brokers > 0 else { throw ValidationError("--brokers must be positive") }
        _ = try parsedTopics()
    }

    /// Each topic and its partition count.
    func parsedTopics() throws -> [(name: String, partitions: Int)] {
        try topics.split(separator: ",").filter { !$0.isEmpty }.map { item in
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2, !parts[0].isEmpty else { throw ValidationError("--topics: name or name:N; got '\(item)'") }
            guard parts.count == 2 else { return (String(parts[0]), partitions) }
            guard let n = Int(parts[1]), n > 0 else { throw ValidationError("--topics: '\(item)': N must be a positive number") }
            return (String(parts[0]), n)
        }
    }

    func run() async throws {
        let topics = try parsedTopics()
        let names = topics.map(\.name)
        let broker = try DevelopmentBroker(brokers: brokers, topics: [], partitions: partitions)
        for topic in topics { try broker.createTopic(topic.name, partitions: topic.partitions) }
        Terminal.out("BOOTSTRAP=\(broker.bootstrapServers)")
        Terminal.err("mock Kafka cluster: \(brokers) broker(s), topics \(names.joined(separator: ", ")) with \(partitions) partitions; stop with Ctrl-C")
        if control {
            // stdin is read on a thread of its own: readLine blocks.
            Thread {
                Thread.current.name = "broker.control"
                while let line = readLine() {
                    let text = line.trimmingCharacters(in: .whitespaces)
                    guard !text.isEmpty else { continue }
                    if let fault = BrokerFault(line: text) {
                        broker.inject(fault)
                        Terminal.out("CONTROL ok \(text)")
                    } else {
                        Terminal.out("CONTROL error \(text): expected \(BrokerFault.grammar)")
                    }
                }
            }.start()
        }
        let group = ServiceGroup(
            services: [UntilShutdown()], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "streamscore.broker"))
        try await group.run()
        withExtendedLifetime(broker) {}
    }
}

/// A service that only waits for the group's graceful shutdown.
struct UntilShutdown: Service {
    func run() async throws {
        try? await gracefulShutdown()
    }
}
