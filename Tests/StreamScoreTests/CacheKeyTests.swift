import Features
import Foundation
import Inference
@testable import Pipeline
import Testing
@testable import ScoreCache

/// The hash in the score cache's Redis keys, after `name@version`.
@Suite("Score cache keys")
struct CacheKeyTests {
    static func spec(keyFields: [String] = ["card_id", "amount"], mean: Double = 50) -> FeatureSpec {
        var spec = FeatureSpec(inputs: [
            .init(field: "amount", standardize: .init(mean: mean, std: 10)),
            .init(field: "merchant", type: .string, hash: .init(buckets: 8)),
        ])
        spec.keyFields = keyFields
        return spec
    }

    static let model = LogisticRegression(name: "m", version: "1", inputNames: nil, weights: [1, 2, 3, 4, 5, 6, 7, 8, 9], bias: 0)

    @Test("A spec that keys on other fields, or decodes rows otherwise, gets a namespace of its own; one that differs only in limits or its id field shares it")
    func spec() {
        func hash(_ spec: FeatureSpec) -> String { CacheKey.namespaceHash(spec: spec, model: Self.model) }
        let base = hash(Self.spec())
        #expect(base == hash(Self.spec()), "the same spec, the same namespace")
        #expect(base.count == 16)
        #expect(hash(Self.spec(keyFields: ["account_id", "amount"])) != base, "card 42 is not account 42")
        #expect(hash(Self.spec(keyFields: ["amount", "card_id"])) != base)
        #expect(hash(Self.spec(keyFields: [])) != base, "keys hashed from the row are another kind of key")
        #expect(hash(Self.spec(mean: 51)) != base, "another transform, another row")
        var limits = Self.spec()
        limits.maxEventBytes = 4_096
        limits.maxDepth = 8
        limits.idField = "event_id"
        #expect(hash(limits) == base, "limits and the id field do not change a score")
    }

    @Test("A model file retrained under the same name and version gets a namespace of its own; the same file, loaded again or spread over threads, the same")
    func modelContent() throws {
        let path = packageRoot.appendingPathComponent("Models/bench/fraud-mlp.json").path
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        var root = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
        var layers = try #require(root["layers"] as? [[String: Any]])
        var biases = try #require(layers[0]["bias"] as? [Double])
        biases[0] += 0.25  // retrained: one parameter moved; name and version as before
        layers[0]["bias"] = biases
        root["layers"] = layers
        let retrained = try JSONSerialization.data(withJSONObject: root)

        let first = try ModelLoader.load(data: original), again = try ModelLoader.load(data: original)
        let second = try ModelLoader.load(data: retrained)
        #expect(first.identity == second.identity, "\(first.identity) and \(second.identity): the writer kept the version")
        #expect(first.contentHash != nil && first.contentHash != second.contentHash)
        let spec = FeatureSpec.numbers((0..<first.inputCount).map { "x\($0)" })
        func hash(_ model: any Model) -> String { CacheKey.namespaceHash(spec: spec, model: model) }
        #expect(hash(first) != hash(second), "the retrained model never reads the old one's scores")
        #expect(hash(first) == hash(again))
        #expect(hash(first) == hash(ParallelModel(first, threads: 2)))
    }

    @Test("A row's key is 128 bits of two hashes: the same row, the same key; a row one bit apart, another")
    func rowKey() {
        func key(_ row: [Float]) -> String {
            var out: [UInt8] = []
            row.withUnsafeBufferPointer { CacheKey.appendRowHash($0, to: &out) }
            return String(decoding: out, as: UTF8.self)
        }
        let row: [Float] = [12.5, 3, 0, 1, .nan]
        #expect(key(row) == key(row))
        #expect(key(row).count == 32 && key(row).allSatisfy(\.isHexDigit))
        var flipped = row
        flipped[2] = Float(bitPattern: flipped[2].bitPattern ^ 1)
        #expect(key(flipped) != key(row))
        #expect(key(flipped).prefix(16) != key(row).prefix(16) && key(flipped).suffix(16) != key(row).suffix(16), "both halves move")
        #expect(key([0]) != key([0, 0]) && key([]) != key([0]), "the length counts")
    }

    @Test("Rows that differ little (small integers, one-hot bits, one or two bits flipped) never share either half of a key")
    func rowKeyHalves() {
        // 13 inputs, as the bench spec: 52 bytes, six words and a 4-byte tail.
        func expectNoCollision(_ rows: [[Float]], _ what: Comment) {
            let distinct = Set(rows.map { $0.map(\.bitPattern) }).count
            let halves = rows.map { row in row.withUnsafeBytes { CacheKey.rowHash($0) } }
            // A 64-bit collision among 10⁵ random rows: odds near 1 in 10⁹.
            #expect(Set(halves.map(\.0)).count == distinct && Set(halves.map(\.1)).count == distinct, what)
        }
        expectNoCollision(
            (0..<60_000).flatMap { i -> [[Float]] in
                var row = [Float](repeating: 0, count: 13)
                (row[0], row[3], row[4 + i % 5], row[12]) = (Float(i % 317), Float(i / 317), 1, Float(i % 24))
                var other = row
                other[12] += 100
                return [row, other]
            }, "small integers and one-hot bits")
        expectNoCollision(
            (0..<(13 * 32 * 13 * 32)).map { i in
                var row = [Float](repeating: 1, count: 13)
                for (k, bit) in [(i % 13, (i / 13) % 32), ((i / 416) % 13, i / 5408)] {
                    row[k] = Float(bitPattern: row[k].bitPattern ^ (1 << UInt32(bit)))
                }
                return row
            }, "one or two bits flipped")
        expectNoCollision(
            (0..<177_147).map { i in (0..<13).map { k in Float(k < 11 ? (i / Int(pow(3, Double(k)))) % 3 : 0) } },
            "every row of 0, 1 and 2")
    }
}

