import AllocationCounter
import Features
import Foundation
import Testing

/// The compiled feature spec: paths, types, transforms, missing values, typed reasons.
@Suite("Feature spec")
struct FeatureSpecTests {
    typealias Input = FeatureSpec.Input

    static func decoder(_ inputs: [Input], numbersInStrings: Bool = false) throws -> EventDecoder {
        try EventDecoder(spec: FeatureSpec(inputs: inputs, numbersInStrings: numbersInStrings))
    }

    static func row(_ decoder: EventDecoder, _ json: String) throws -> [Float] {
        try decoder.decode(Array(json.utf8)).get().row
    }

    static func reason(_ decoder: EventDecoder, _ json: String) -> FeatureError? {
        if case .failure(let error) = decoder.decode(Array(json.utf8)) { return error }
        return nil
    }

    @Test("Nested paths and array elements, in one pass; the rest of the event is only validated")
    func paths() throws {
        let d = try Self.decoder([
            Input(field: "merchant.geo.lat"), Input(field: "items[1].price"), Input(field: "items[0].price"), Input(field: "amount"),
        ])
        let event = #"{"id":"t","items":[{"price":2.5},{"price":4,"x":[1,{"y":null}]}],"amount":7,"merchant":{"geo":{"lat":-33.9,"lon":18.4}}}"#
        #expect(try Self.row(d, event) == [-33.9, 4, 2.5, 7])
        #expect(d.inputNames! == ["merchant.geo.lat", "items[1].price", "items[0].price", "amount"])
        #expect(Self.reason(d, #"{"id":"t","items":[{"price":1}],"amount":1,"merchant":{"geo":{"lat":1}}}"#) == .missingField("items[1].price"))
        #expect(Self.reason(d, #"{"id":"t","items":{"1":{"price":1}},"amount":1,"merchant":{"geo":{"lat":1}}}"#)?.reason == "missing_field")
    }

    @Test("Duplicate keys: the last one wins, also for a nested object")
    func duplicates() throws {
        let d = try Self.decoder([Input(field: "m.a", missing: .value(-1)), Input(field: "m.b", missing: .value(-1))])
        #expect(try Self.row(d, #"{"id":1,"m":{"a":1,"b":2},"m":{"b":3}}"#) == [-1, 3])
        #expect(try Self.row(d, #"{"id":1,"m":{"a":1,"a":5,"b":2}}"#) == [5, 2])
    }

    @Test("Numeric transforms in order: range check, clip, log1p, standardize")
    func transforms() throws {
        let d = try Self.decoder([
            Input(field: "a", clip: 0...100, log1p: true, standardize: .init(mean: 2, std: 0.5)),
            Input(field: "b", range: 0...10),
        ])
        let expected = Float((log1p(100.0) - 2) / 0.5)
        #expect(try Self.row(d, #"{"id":1,"a":250,"b":3}"#) == [expected, 3])
        #expect(try Self.row(d, #"{"id":1,"a":-5,"b":0}"#)[0] == Float((log1p(0.0) - 2) / 0.5))
        #expect(Self.reason(d, #"{"id":1,"a":1,"b":11}"#) == .outOfRange(field: "b", value: 11, range: 0...10))
    }

    @Test("Missing values: reject, a default (before transforms), or NaN; null counts as missing")
    func missing() throws {
        let d = try Self.decoder([
            Input(field: "a"), Input(field: "b", missing: .value(3), log1p: true), Input(field: "c", missing: .nan, log1p: true),
            Input(field: "d", type: .string, missing: .text("FR"), oneHot: .init(vocabulary: ["DE", "FR"])),
        ])
        let r = try Self.row(d, #"{"id":1,"a":1,"c":null}"#)
        #expect(r[0] == 1 && r[1] == Float(log1p(3.0)) && r[2].isNaN && Array(r[3...]) == [0, 1])
        #expect(Self.reason(d, #"{"id":1,"a":null}"#) == .missingField("a"))
        #expect(Self.reason(d, #"{"id":1}"#) == .missingField("a"))
    }

    @Test("Strings: one-hot with and without an other bucket, escapes resolved; hashed buckets")
    func categories() throws {
        let d = try Self.decoder([
            Input(field: "country", type: .string, oneHot: .init(vocabulary: ["DE", "FR", "é"], other: true)),
            Input(field: "channel", type: .string, oneHot: .init(vocabulary: ["pos", "ecom"])),
            Input(field: "merchant", type: .string, hash: .init(buckets: 8, seed: 7)),
            Input(field: "merchant", name: "merchant_bucket", type: .string, hash: .init(buckets: 1000, seed: 1, asIndex: true)),
        ])
        #expect(d.inputCount == 4 + 2 + 8 + 1)
        #expect(d.inputNames!.prefix(6) == ["country=DE", "country=FR", "country=é", "country=*", "channel=pos", "channel=ecom"])
        let r = try Self.row(d, #"{"id":1,"country":"\u00e9","channel":"atm","merchant":"m-42"}"#)
        #expect(Array(r[0..<4]) == [0, 0, 1, 0])
        #expect(Array(r[4..<6]) == [0, 0], "unknown without other: all zeros")
        let bucket = FeatureHash.bucket(Array("m-42".utf8), seed: 7, buckets: 8)
        #expect(Array(r[6..<14]) == (0..<8).map { $0 == bucket ? 1 : 0 })
        #expect(r[14] == Float(FeatureHash.bucket(Array("m-42".utf8), seed: 1, buckets: 1000)))
        let escaped = try Self.row(d, #"{"id":1,"country":"XX","channel":"\u0070os","merchant":"m-\u0034\u0032"}"#)
        #expect(Array(escaped[0..<6]) == [0, 0, 0, 1, 1, 0])
        #expect(Array(escaped[6...]) == Array(r[6...]), "the hash sees the resolved string")
        #expect(Self.reason(d, #"{"id":1,"country":5,"channel":"pos","merchant":"m"}"#) == .wrongType(field: "country", expected: "a string"))
    }

    @Test("The hash is FNV-1a over the seed's bytes and the string, as documented for Python")
    func hashIsDocumented() {
        // Computed with the Python snippet in FeatureHash's documentation.
        #expect(FeatureHash.bucket(Array("card-000042".utf8), seed: 7, buckets: 1_000_003) == 922_822)
        #expect(FeatureHash.bucket(Array("".utf8), seed: 0, buckets: 97) == 89)
    }

    @Test("Bools and timestamps (epoch ms, epoch s, RFC 3339 with offsets)")
    func boolsAndTimes() throws {
        let d = try Self.decoder([
            Input(field: "online", type: .bool),
            Input(field: "ts", type: .timestamp, timestampUnit: .epochMilliseconds, timestampPart: .hourOfDay),
            Input(field: "ts", name: "dow", type: .timestamp, timestampUnit: .epochMilliseconds, timestampPart: .dayOfWeek),
            Input(field: "at", type: .timestamp, timestampUnit: .rfc3339, timestampPart: .epochSeconds),
            Input(field: "at", name: "at_hour", type: .timestamp, timestampUnit: .rfc3339, timestampPart: .hourOfDay),
        ])
        // 2026-11-29T19:31:10Z, a Sunday, is 1_795_980_670 s (Python's datetime agrees).
        let r = try Self.row(d, #"{"id":1,"online":true,"ts":1795980670000,"at":"2026-11-29T20:31:10.5+01:00"}"#)
        #expect(r[0] == 1)
        #expect(r[1] == 19 && r[2] == 6)
        #expect(r[3] == Float(1_795_980_670.5) && r[4] == 19)
        let z = try Self.row(d, #"{"id":1,"online":false,"ts":0,"at":"1970-01-01t00:00:00z"}"#)
        #expect(z[0] == 0 && z[1] == 0 && z[2] == 3 && z[3] == 0, "1970-01-01 was a Thursday")
        for bad in ["2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-11-29T19:31:10", "2026-11-29", "yesterday"] {
            #expect(Self.reason(d, #"{"id":1,"online":true,"ts":0,"at":"\#(bad)"}"#)?.reason == "wrong_type", "\(bad)")
        }
        #expect(Self.reason(d, #"{"id":1,"online":1,"ts":0,"at":"1970-01-01T00:00:00Z"}"#)?.reason == "wrong_type")
    }

    @Test("Numbers in every JSON form, correctly rounded; in strings only behind the option")
    func numbers() throws {
        let d = try Self.decoder([Input(field: "x")])
        for (text, value) in [
            ("0", 0.0), ("-0", -0.0), ("12.5", 12.5), ("1e3", 1000), ("1E+3", 1000), ("2.5e-3", 0.0025),
            ("123456789012345678901234567890", 1.2345678901234568e29), ("0.1", 0.1), ("9007199254740993", 9007199254740992),
            ("3.4028234663852886e38", 3.4028234663852886e38), ("4.9e-324", Double.leastNonzeroMagnitude), ("1e-400", 0),
        ] {
            let got = try Self.row(d, #"{"id":1,"x":\#(text)}"#)[0]
            #expect(got == Float(value), "\(text)")
        }
        #expect(Self.reason(d, #"{"id":1,"x":1e400}"#) == .nonFinite(field: "x"))
        #expect(Self.reason(d, #"{"id":1,"x":1e300}"#) == .nonFiniteTransform(field: "x", transform: "float32", input: 1e300), "finite as a double, not as a float")
        // A transform that makes a finite value non-finite is named, with the value it got.
        let logged = try Self.decoder([Input(field: "amount", log1p: true)])
        let negative = Self.reason(logged, #"{"id":1,"amount":-5}"#)
        #expect(negative == .nonFiniteTransform(field: "amount", transform: "log1p", input: -5))
        #expect(negative?.reason == "non_finite")
        #expect(negative?.description.contains("clip") == true)
        let clipped = try Self.decoder([Input(field: "amount", clip: 0...1e9, log1p: true)])
        #expect(try Self.row(clipped, #"{"id":1,"amount":-5}"#) == [0], "clip before log1p scores it")
        #expect(Self.reason(d, #"{"id":1,"x":"12.5"}"#)?.reason == "wrong_type")
        let lenient = try Self.decoder([Input(field: "x")], numbersInStrings: true)
        #expect(try Self.row(lenient, #"{"id":1,"x":"12.5"}"#) == [12.5])
        #expect(Self.reason(lenient, #"{"id":1,"x":"12.5kg"}"#)?.reason == "wrong_type")
    }

    @Test("Pre-featurised rows: little-endian float32s, length checked")
    func float32Rows() throws {
        let d = try EventDecoder(spec: .float32Rows(count: 3))
        let values: [Float] = [1.5, -2, .nan]
        let bytes = values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        let r = try d.decode(bytes).get()
        #expect(r.id == nil && r.row[0] == 1.5 && r.row[1] == -2 && r.row[2].isNaN)
        #expect(Self.reason(d, "abc") == .badRowLength(size: 3, expected: 12))
        let infinite = [Float.infinity, 0, 0].flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        guard case .failure(let error) = d.decode(infinite) else { Issue.record("accepted +inf"); return }
        #expect(error.reason == "non_finite")
    }

    @Test("Specs that cannot compile name the entry and key", arguments: [
        (Input(field: "a", clip: 1...1, log1p: true, standardize: .init(mean: 0, std: 0)), "inputs[0].standardize.std"),
        (Input(field: "a", type: .string), "inputs[0].type"),
        (Input(field: "a", oneHot: .init(vocabulary: ["x"])), "inputs[0].one_hot"),
        (Input(field: "a", type: .string, oneHot: .init(vocabulary: ["x", "x"])), "inputs[0].one_hot.vocabulary"),
        (Input(field: "a", type: .string, hash: .init(buckets: 0)), "inputs[0].hash.buckets"),
        (Input(field: "a", type: .timestamp, timestampPart: .hourOfDay), "inputs[0].unit"),
        (Input(field: "a..b"), "inputs[0].field"),
        (Input(field: "a[", type: .number), "inputs[0].field"),
        (Input(field: "a", type: .string, missing: .text("z"), oneHot: .init(vocabulary: ["x"])), "inputs[0].default"),
    ])
    func badSpecs(_ input: Input, _ path: String) {
        do {
            _ = try EventDecoder(spec: FeatureSpec(inputs: [input]))
            Issue.record("compiled: \(input)")
        } catch {
            #expect(error.path == path, "\(error)")
        }
    }

    @Test("Two inputs with the same name are refused")
    func duplicateNames() {
        #expect(throws: FeatureSpecError.self) { try EventDecoder(spec: .numbers(["a", "a"])) }
    }

    @Test("Decoding allocates nothing per event after warm-up")
    func noAllocation() throws {
        let d = try Self.decoder([
            Input(field: "amount", clip: 0...5000, log1p: true), Input(field: "merchant.country", type: .string, oneHot: .init(vocabulary: ["DE", "FR"], other: true)),
            Input(field: "card", type: .string, hash: .init(buckets: 16)), Input(field: "online", type: .bool),
            Input(field: "ts", type: .timestamp, timestampUnit: .epochMilliseconds, timestampPart: .hourOfDay),
            Input(field: "at", type: .timestamp, timestampUnit: .rfc3339, timestampPart: .dayOfWeek),
            Input(field: "items[0].price", missing: .nan),
        ])
        let event = Array(#"{"id":"tx-1-1234567890-abcdef","amount":123.45,"merchant":{"country":"D\u0045","name":"Caf\u00e9"},"card":"card-000042","online":true,"ts":1796068270000,"at":"2026-11-29T19:31:10Z","items":[{"price":1e2}],"pad":[1,2,3,{"x":"y"}]}"#.utf8)
        var row = [Float](repeating: 0, count: d.inputCount)
        var scratch = EventDecoder.Scratch(for: d)
        try event.withUnsafeBytes { raw in
            try row.withUnsafeMutableBufferPointer { out in
                _ = try d.decode(raw, into: out, scratch: &scratch).get()  // warm-up
                let before = streamscore_thread_allocations()
                for _ in 0..<1000 { _ = d.decode(raw, into: out, scratch: &scratch) }
                let count = streamscore_thread_allocations() - before
                #expect(count == 0, "\(count) allocations in 1000 events")
            }
        }
        #expect(Array(row[1...3]) == [1, 0, 0])
    }
}
