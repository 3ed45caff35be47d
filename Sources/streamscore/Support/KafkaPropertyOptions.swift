import ArgumentParser

/// `-X name=value`: librdkafka properties on the command line, as kcat takes them (for the
/// commands that take no configuration file: `produce`, `compare`).
struct KafkaPropertyOptions: ParsableArguments {
    @Option(name: .customShort("X"), help: ArgumentHelp("A librdkafka client property, as kcat takes it (repeatable). Example: -X security.protocol=SASL_SSL -X receive.message.max.bytes=200000000", valueName: "name=value"))
    var pairs: [String] = []

    func validate() throws {
        for p in pairs where !p.contains("=") || p.hasPrefix("=") {
            throw ValidationError("-X '\(p)': a property is name=value")
        }
    }

    var properties: [String: String] {
        var result: [String: String] = [:]
        for p in pairs {
            let parts = p.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[String(parts[0])] = String(parts[1])
        }
        return result
    }
}
