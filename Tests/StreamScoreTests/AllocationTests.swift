import Concurrency
import AllocationCounter
import Foundation
import Inference
@testable import Pipeline
import RedisBridge
import Testing
@testable import ScoreCache

/// Heap allocations on the scoring path, counted by the allocator interposed in the test
/// binary (`Tests/AllocationCounter`).
@Suite("Allocations")
struct AllocationTests {
    /// Allocations the calling thread makes while running `body`.
    static func allocations(_ body: () -> Void) -> UInt {
        let before = streamscore_thread_allocations()
        body()
        return streamscore_thread_allocations() - before
    }

    @Test("The counter sees an allocation (so a zero below means none)")
    func counterWorks() {
        let count = Self.allocations {
            let array = [Int](repeating: 1, count: 1000)
            #expect(array.count == 1000)
        }
        #expect(count >= 1)
    }

    @Test("Scoring allocates nothing per call after warm-up, for every model kind and batch size",
          arguments: ModelFixtureTests.cases.map(\.model))
    func scoringDoesNotAllocate(_ file: String) throws {
        let model = try ModelLoader.load(path: ModelFixtureTests.directory.appendingPathComponent(file).path)
        let largest = 4096
        let rows = ModelBenchmark.rows(count: largest, inputs: model.inputCount)
        var scores = [Float](repeating: 0, count: largest * model.outputCount)
        try rows.withUnsafeBufferPointer { input in
            try scores.withUnsafeMutableBufferPointer { output in
                for batch in [1, 2, 7, 8, 9, 64, 257, largest] {
                    model.score(rows: input, rowCount: batch, into: output)  // warm-up
                    let count = Self.allocations {
                        for _ in 0..<20 { model.score(rows: input, rowCount: batch, into: output) }
                    }
                    try #require(count == 0, "\(file): \(count) allocations in 20 calls of \(batch) rows")
                }
            }
        }
    }

    @Test("The score cache's local tier allocates nothing for a batch's lookups, hits and inserts, once full")
    func localCacheDoesNotAllocate() {
        var configuration = ScoreCacheConfiguration()
        configuration.localCapacity = 512
        let cache = ScoreLookup(configuration: configuration, namespace: CacheNamespace(model: "m@1", hash: "s"))
        func keys(_ range: Range<Int>) -> ScoreKeys { ScoreKeys(range.map { Array("card-\(100_000 + $0)".utf8) }) }
        let (old, hot, fresh) = (keys(0..<512), keys(512..<768), keys(768..<1_024))
        var found: [Float?] = []
        let scores = [Float?](repeating: 0.5, count: 256)
        cache.storeLocally(old, scores: scores + scores)
        cache.storeLocally(hot, scores: scores)  // evicts 256 of the old
        cache.lookup(hot, into: &found)  // warm-up: `found` grows once
        let count = Self.allocations {
            for _ in 0..<10 {
                cache.lookup(hot, into: &found)  // 256 hits
                cache.storeLocally(fresh, scores: scores)  // 256 evictions, slots reused
                cache.storeLocally(hot, scores: scores)
            }
        }
        #expect(found.allSatisfy { $0 == 0.5 } && cache.counters.localHits == 2_816)
        #expect(count == 0, "\(count) allocations")
    }

    @Test("New scores wait for their acknowledgements without an allocation per score, once the buffers have grown")
    func writebackDoesNotAllocatePerScore() {
        let writeback = CacheWriteback(progress: EventCount())
        let keys = ScoreKeys((0..<256).map { Array("card-\(100_000 + $0)|merchant-\($0 % 97)|12.50".utf8) })
        func registerBatch() {
            writeback.register { pending in
                for i in 0..<keys.count { pending.append(key: i, of: keys, token: UInt64(i), score: 0.5) }
            }
        }
        var taken = CacheWriteback.Scores()
        for _ in 0..<2 {  // warm-up: both buffers grow to a batch
            registerBatch()
            writeback.take(into: &taken)
        }
        let count = Self.allocations {
            for _ in 0..<10 {
                registerBatch()
                writeback.take(into: &taken)
            }
        }
        #expect(taken.count == 256 && taken.tokens.last == 255 && taken.keys.key(255).elementsEqual(keys.key(255)))
        #expect(count == 0, "\(count) allocations for 2,560 scores")
    }
}
