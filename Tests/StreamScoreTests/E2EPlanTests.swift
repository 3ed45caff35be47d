@testable import streamscore
import Testing

/// How `bench e2e` lays out its runs: rounds of drains, and the median it reports.
@Suite("End-to-end benchmark plan")
struct E2EPlanTests {
    static func measurement(_ eventsPerSecond: Double, complete: Bool = true) -> E2ERunner.Measurement {
        var m = E2ERunner.Measurement(expected: 1_001)
        m.meter.records = 1_001
        m.meter.firstArrival = 0
        m.meter.lastArrival = Int64(1_000 / eventsPerSecond * 1e6)
        m.complete = complete
        return m
    }

    @Test("Each round of a drain writes to its own output topic, and the broker is told of every one")
    func roundsHaveTheirOwnOutputs() {
        let model = E2EPlan.Model(name: "mlp", path: "m.json", onnxPath: "m.onnx")
        let plan = E2EPlan(
            models: [model], caches: [.off, .local], repeats: [0.9], batches: [.init(maxRows: 256, maxWaitMs: 2)], rates: [0.5],
            kcat: false, peer: false, rounds: 3)
        #expect(plan.drains.count == 3, "passthrough and two cache modes")
        #expect(plan.drains.allSatisfy { $0.outputs.count == 3 })
        let outputs = plan.drains.flatMap(\.outputs) + plan.rateRuns.map(\.output)
        #expect(Set(outputs).count == outputs.count, "no two runs share an output topic")
        let topics = Set(plan.topics(ratePartitions: 8).map(\.name))
        #expect(Set(outputs).isSubset(of: topics))
    }

    @Test("The report keeps the median round, with every round's rate; one incomplete round marks the drain incomplete")
    func median() {
        let rates = [90_000.0, 120_000, 100_000, 80_000, 110_000]
        let m = E2EBench.median(rates.map { Self.measurement($0) })
        #expect(abs(m.meter.eventsPerSecond - 100_000) < 1)
        #expect(m.roundRates.count == 5 && m.complete)
        let even = E2EBench.median([110_000.0, 90_000, 100_000, 120_000].map { Self.measurement($0) })
        #expect(abs(even.meter.eventsPerSecond - 100_000) < 1, "the lower middle of an even count")
        let broken = E2EBench.median([Self.measurement(100_000), Self.measurement(90_000, complete: false), Self.measurement(95_000)])
        #expect(!broken.complete)
        #expect(E2EBench.median([Self.measurement(70_000)]).roundRates.isEmpty, "one round: no range")
    }
}
