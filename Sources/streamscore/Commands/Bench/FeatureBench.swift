import Concurrency
import ArgumentParser
import Features
import Foundation
import Pipeline
import Workload

/// `streamscore bench features`: events decoded into model rows per second, one thread.
struct FeatureBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Time decoding events into model rows: events/s on one thread (median of repeated runs after warm-up).",
        discussion: """
            Events are the generator's reference transactions (`streamscore produce` writes the \
            same), or JSON lines from --input; the feature spec is the configuration's \
            (features.*; the default is the demo model's). With the default spec the same events \
            are also decoded by hand-written Foundation code (JSONSerialization into a dictionary; \
            JSONDecoder into a Codable struct), checked to give the same rows, and timed in the \
            same run. Allocations per event are measured by the test suite (FeatureSpecTests), \
            not here.

            Examples:
              streamscore bench features
              streamscore bench features --events 200000 --json
              streamscore bench features --write-events /tmp/events.jsonl   (for scripts/bench_json.sh)
            """
    )

    @Option(help: ArgumentHelp("Configuration file for the feature spec (default: built-in defaults).", valueName: "file"))
    var config: String?

    @Option(help: "Events in the pool the timed runs walk through.")
    var events = 100_000

    @Option(help: ArgumentHelp("Events to decode, one JSON object per line (default: generated).", valueName: "events.jsonl"))
    var input: String?

    @Option(name: .customLong("write-events"), help: ArgumentHelp("Write the event pool as JSON lines and exit.", valueName: "file"))
    var writeEvents: String?

    @Flag(help: "Print each event's outcome (its row, or the dead-letter reason) instead of timing.")
    var explain = false

    @Flag(help: "Skip the Foundation baselines.")
    var noBaselines = false

    @Flag(help: "Print a JSON array of {decoder, events_per_s, ns_per_event, mb_per_s} (ours with the rows' checksum).")
    var json = false

    func run() throws {
        let spec: FeatureSpec
        do {
            spec = try Settings.features(ConfigLoader(path: config))
        } catch {
            Terminal.err("streamscore: \(error)")
            throw ExitCode(2)
        }
        let decoder = try EventDecoder(spec: spec)
        let pool = try loadPool()
        if let writeEvents {
            try Data(pool.flatMap { $0 + [0x0A] }).write(to: URL(fileURLWithPath: writeEvents))
            return
        }
        if explain {
            for event in pool {
                let text = String(decoding: event.prefix(60), as: UTF8.self)
                switch decoder.decode(event) {
                case .success(let r): print("\(text.padding(toLength: 60, withPad: " ", startingAt: 0)) row \(r.row.prefix(4))…")
                case .failure(let e): print("\(text.padding(toLength: 60, withPad: " ", startingAt: 0)) \(e.reason): \(e)")
                }
            }
            return
        }
        let bytes = pool.reduce(0) { $0 + $1.count }
        var results: [(String, Double)] = []
        var row = [Float](repeating: 0, count: decoder.inputCount)
        var scratch = EventDecoder.Scratch(for: decoder)
        var failures = 0
        let ours = Self.measure(pool.count) { i in
            pool[i].withUnsafeBytes { raw in
                row.withUnsafeMutableBufferPointer { out in
                    if case .failure = decoder.decode(raw, into: out, scratch: &scratch) { failures += 1 }
                }
            }
        }
        results.append(("streamscore", ours))
        // The sum of every row value over one pass: the same events decoded elsewhere
        // (scripts/bench_json.sh) must give the same sum.
        var checksum = 0.0
        for event in pool {
            if case .success(let r) = decoder.decode(event) { checksum += r.row.reduce(0.0) { $0 + Double($1) } }
        }
        let baselines = !noBaselines && spec.inputs == FeatureInputsParser.demoInputs && spec.format == .json
        if baselines {
            try Self.checkBaselines(pool.prefix(2_000), decoder: decoder)
            let jsonDecoder = JSONDecoder()
            results.append(("Foundation JSONSerialization", Self.measure(pool.count) { i in
                _ = row.withUnsafeMutableBufferPointer { FeatureBaselines.serialization(pool[i], into: $0) }
            }))
            results.append(("Foundation JSONDecoder (Codable)", Self.measure(pool.count) { i in
                _ = row.withUnsafeMutableBufferPointer { FeatureBaselines.codable(pool[i], decoder: jsonDecoder, into: $0) }
            }))
        }
        let meanBytes = Double(bytes) / Double(pool.count)
        if json {
            let objects = results.map { name, rate in
                "{\"decoder\":\"\(name)\",\"events_per_s\":\(rate),\"ns_per_event\":\(1e9 / rate),\"mb_per_s\":\(rate * meanBytes / 1e6)"
                    + (name == "streamscore" ? ",\"checksum\":\(String(format: "%.3f", checksum))}" : "}")
            }
            print("[" + objects.joined(separator: ",") + "]")
            return
        }
        print("\(pool.count) events, \(Int(meanBytes)) bytes on average, \(decoder.inputCount) inputs, 1 thread" + (failures > 0 ? ", \(failures / max(1, pool.count)) dead letters per pass" : ""))
        print("decoder                              events/s   ns/event      MB/s   vs streamscore")
        for (name, rate) in results {
            print(name.padding(toLength: 34, withPad: " ", startingAt: 0)
                + String(format: " %10.0f %10.1f %9.1f %12.2fx", rate, 1e9 / rate, rate * meanBytes / 1e6, ours / rate))
        }
    }

    private func loadPool() throws -> [[UInt8]] {
        guard events > 0 else { throw ValidationError("--events: must be positive") }
        if let input {
            guard let data = FileManager.default.contents(atPath: input) else { throw ValidationError("--input: cannot read \(input)") }
            let lines = data.split(separator: 0x0A).map { Array($0) }.filter { !$0.isEmpty }
            guard !lines.isEmpty else { throw ValidationError("--input: no events in \(input)") }
            return lines
        }
        var generator = TransactionGenerator(seed: 1, keys: 10_000)
        return (0..<events).map { i in generator.next(timestamp: 1_700_000_000_000 + Int64(i) * 37).value }
    }

    /// Events per second: the median of 7 timed runs, each at least 200 ms of whole passes
    /// through the pool (after one warm-up pass).
    static func measure(_ count: Int, _ decode: (Int) -> Void) -> Double {
        let clock = ContinuousClock()
        for i in 0..<count { decode(i) }
        var rates: [Double] = []
        for _ in 0..<7 {
            var done = 0
            let start = clock.now
            repeat {
                for i in 0..<count { decode(i) }
                done += count
            } while clock.now - start < .milliseconds(200)
            rates.append(Double(done) / (clock.now - start).inSeconds)
        }
        return rates.sorted()[rates.count / 2]
    }

    /// The baselines must compute the same rows, or the comparison means nothing.
    static func checkBaselines(_ events: ArraySlice<[UInt8]>, decoder: EventDecoder) throws {
        let jsonDecoder = JSONDecoder()
        for event in events {
            guard case .success(let ours) = decoder.decode(event) else { continue }
            for (name, fill) in [
                ("JSONSerialization", { (row: UnsafeMutableBufferPointer<Float>) in FeatureBaselines.serialization(event, into: row) }),
                ("JSONDecoder", { (row: UnsafeMutableBufferPointer<Float>) in FeatureBaselines.codable(event, decoder: jsonDecoder, into: row) }),
            ] {
                var row = [Float](repeating: 0, count: decoder.inputCount)
                let ok = row.withUnsafeMutableBufferPointer { fill($0) }
                guard ok, row == ours.row else {
                    throw ValidationError("the \(name) baseline disagrees with the decoder on \(String(decoding: event, as: UTF8.self))")
                }
            }
        }
    }
}
