/// A configuration problem: the key at fault and why. Printed before anything connects.
struct ConfigError: Error, CustomStringConvertible {
    let key: String
    let reason: String

    var description: String { "configuration error: \(key): \(reason)" }
}
