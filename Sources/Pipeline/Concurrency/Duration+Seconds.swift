extension Duration {
    /// The duration in seconds, as a `Double` (for sleeps, rates and display).
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
