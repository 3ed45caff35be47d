import Features
import Foundation

/// The decoder under libFuzzer (`make fuzz`), and a replayer of saved inputs (the corpus in
/// `Tests/Fixtures/FuzzCorpus`, which `make test` replays through `FuzzCorpusTests`).
///
/// Every input is decoded with a spec that exercises each path: nested members, array
/// elements, every value type and transform, ids. The property checked is the decoder's
/// contract: it returns a row or a typed reason for any bytes, never crashes or hangs, and a
/// returned row holds only finite numbers (or NaN where `missing: nan` says so).
enum FeatureFuzz {
    static let decoder: EventDecoder = {
        typealias Input = FeatureSpec.Input
        let spec = FeatureSpec(
            inputs: [
                Input(field: "amount", clip: 0...10_000, log1p: true, standardize: .init(mean: 3, std: 2)),
                Input(field: "m.geo.lat", missing: .value(0), range: -90...90),
                Input(field: "items[2].price", missing: .nan),
                Input(field: "country", type: .string, missing: .text("DE"), oneHot: .init(vocabulary: ["DE", "FR", "é"], other: true)),
                Input(field: "card", type: .string, missing: .text(""), hash: .init(buckets: 8, seed: 3)),
                Input(field: "online", type: .bool, missing: .value(0)),
                Input(field: "ts", type: .timestamp, missing: .value(0), timestampUnit: .epochMilliseconds, timestampPart: .hourOfDay),
                Input(field: "at", type: .timestamp, missing: .nan, timestampUnit: .rfc3339, timestampPart: .dayOfWeek),
                Input(field: "n", missing: .value(1)),
            ],
            maxEventBytes: 16 << 20, maxDepth: 64, numbersInStrings: true)
        return try! EventDecoder(spec: spec)
    }()

    /// One scratch for every input, as a decode worker reuses its own: what one event leaves
    /// behind must not leak into the next. (The fuzzer and the replayer are single-threaded.)
    nonisolated(unsafe) static var scratch = EventDecoder.Scratch(for: decoder)

    /// Decodes `bytes`; traps (a finding) if the contract does not hold.
    static func check(_ bytes: UnsafeRawBufferPointer) {
        var row = [Float](repeating: 0, count: decoder.inputCount)
        let result = row.withUnsafeMutableBufferPointer { decoder.decode(bytes, into: $0, scratch: &scratch) }
        if case .success(let id?) = result {
            precondition(id.range.lowerBound >= 0 && id.range.upperBound <= bytes.count, "id outside the event")
        }
        switch result {
        case .success(let id):
            for (k, v) in row.enumerated() where !v.isFinite {
                precondition(v.isNaN && (k == 2 || k == 17), "input \(k) is \(v)")
            }
            if let id { _ = id.text(in: bytes) }
        case .failure(let error):
            precondition(FeatureError.reasons.contains(error.reason), "unknown reason \(error.reason)")
            _ = error.description
        }
    }
}

#if STREAMSCORE_FUZZ
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FeatureFuzz.check(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzer(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// SwiftPM links an executable's entry point as `<module>_main`; with `-parse-as-library`
/// there is none, so this one hands the command line to libFuzzer's driver.
@_cdecl("streamscore_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzer(&count, &arguments) { data, size in fuzzOne(data, size) }
}
#else
/// Replays files (or every file in directories) given as arguments.
@main
struct Replay {
    static func main() throws {
        var count = 0
        for argument in CommandLine.arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("no such file: \(argument)\n".utf8))
                exit(2)
            }
            let files = isDirectory.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: argument).sorted().map { "\(argument)/\($0)" }
                : [argument]
            for file in files {
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                data.withUnsafeBytes { FeatureFuzz.check($0) }
                count += 1
            }
        }
        print("replayed \(count) inputs")
    }
}
#endif
