import RedisBridge
import Testing
@testable import ScoreCache

/// The open-addressing table the local tier and the batch deduplication index keys by.
@Suite("Fingerprint table")
struct FingerprintTableTests {
    @Test("Inserts, finds and removes like a dictionary, through collisions and wrap-around")
    func matchesDictionary() {
        var table = FingerprintTable(capacity: 512)  // 1,024 buckets
        let buckets = UInt64(table.capacity * 2)
        var reference: [UInt64: Int32] = [:]
        var rng = SystemRandomNumberGenerator()
        // At most 400 fingerprints (no growth), all at home in the last 24 buckets or the
        // first 16: long probe runs that wrap past the last bucket, and backward-shift
        // deletions inside them.
        func fingerprint() -> UInt64 {
            (UInt64.random(in: 0..<10, using: &rng) << 32) | ((buckets - 24 + UInt64.random(in: 0..<40, using: &rng)) % buckets)
        }
        for step in 0..<20_000 {
            let f = fingerprint()
            switch step % 5 {
            case 0, 1:
                let value = Int32(step)
                let had = table.findOrInsert(f, value)
                #expect(had == reference[f])
                if had == nil { reference[f] = value }
            case 2:
                table.set(f, Int32(step))
                reference[f] = Int32(step)
            case 3:
                table.remove(f)
                reference[f] = nil
            default:
                #expect(table.find(f) == reference[f])
            }
            #expect(table.count == reference.count)
        }
        for (f, v) in reference { #expect(table.find(f) == v) }
        #expect(table.capacity == 512, "did not grow")
    }

    @Test("removeAll empties it and keeps it usable")
    func removeAll() {
        var table = FingerprintTable(capacity: 4)
        for f in UInt64(0)..<100 { _ = table.findOrInsert(f &* 0x9E37_79B9_7F4A_7C15, Int32(f)) }
        #expect(table.count == 100 && table.capacity >= 100, "grew past its first capacity")
        table.removeAll()
        #expect(table.count == 0)
        #expect((UInt64(0)..<100).allSatisfy { table.find($0 &* 0x9E37_79B9_7F4A_7C15) == nil })
        _ = table.findOrInsert(7, 1)
        #expect(table.find(7) == 1)
    }
}
