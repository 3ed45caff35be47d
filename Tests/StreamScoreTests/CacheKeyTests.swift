import Features
@testable import Pipeline
import Testing

/// The feature spec's part of the score cache's Redis keys.
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

    @Test("A spec that keys on other fields, or decodes rows otherwise, gets a namespace of its own; one that differs only in limits or its id field shares it")
    func specHash() {
        let base = CacheKey.specHash(Self.spec())
        #expect(base == CacheKey.specHash(Self.spec()), "the same spec, the same namespace")
        #expect(base.count == 16)
        #expect(CacheKey.specHash(Self.spec(keyFields: ["account_id", "amount"])) != base, "card 42 is not account 42")
        #expect(CacheKey.specHash(Self.spec(keyFields: ["amount", "card_id"])) != base)
        #expect(CacheKey.specHash(Self.spec(keyFields: [])) != base, "keys hashed from the row are another kind of key")
        #expect(CacheKey.specHash(Self.spec(mean: 51)) != base, "another transform, another row")
        var limits = Self.spec()
        limits.maxEventBytes = 4_096
        limits.maxDepth = 8
        limits.idField = "event_id"
        #expect(CacheKey.specHash(limits) == base, "limits and the id field do not change a score")
    }
}
