import Foundation
import KafkaBridge
import Testing

/// `delivery.mode: exactly_once` against a real Kafka-protocol broker process (noida-db:
/// read_committed, aborted-transaction markers, offsets in transactions), which
/// librdkafka's mock cluster does not implement.
@Suite("Exactly-once on a real broker", .serialized, .enabled(if: NoidaBroker.executable != nil, Comment(rawValue: NoidaBroker.missing)))
struct ExactlyOnceTests {
    static let events = 50_000

    @Test("50,000 events (1% malformed) over 8 partitions, SIGKILLed 10 times while they arrive: read_committed sees every input exactly once")
    func killedTenTimes() throws {
        let bed = try ExactlyOnceBed(delivery: "exactly_once")
        let producer = try bed.produce(Self.events, rate: 4_000)
        let kills = try bed.killRepeatedly(10, instance: "fraud-0")
        #expect(producer.waitForExit(timeout: .seconds(60)) == 0, "\(producer.stderr)")
        let last = try bed.finish(instance: "fraud-0")
        #expect(kills == 10)
        let inputs = try bed.inputs()
        #expect(inputs.count == Self.events)
        let committed = try bed.expectExactlyOnce(inputs)
        let uncommitted = try bed.sources(isolation: "read_uncommitted")
        let extra = uncommitted.values.reduce(0, +) - committed.values.reduce(0, +)
        #expect(extra >= 0)
        Swift.print("exactly-once, 10 kills: \(committed.count) inputs once each for read_committed; read_uncommitted sees \(extra) more (aborted or never committed)")
        #expect(last.stderr.contains("exactly_once"), "the worker says its delivery mode")
    }

    @Test("The same run at-least-once: nothing lost, and the duplicates exactly-once removes")
    func atLeastOnceShowsDuplicates() throws {
        let bed = try ExactlyOnceBed(delivery: "at_least_once")
        let producer = try bed.produce(Self.events, rate: 4_000)
        _ = try bed.killRepeatedly(10, instance: "fraud-0")
        #expect(producer.waitForExit(timeout: .seconds(60)) == 0, "\(producer.stderr)")
        _ = try bed.finish(instance: "fraud-0")
        let inputs = try bed.inputs()
        let seen = try bed.sources(isolation: "read_committed")
        #expect(inputs.subtracting(seen.keys).isEmpty, "at-least-once loses nothing either")
        let duplicates = seen.values.reduce(0) { $0 + $1 - 1 }
        #expect(duplicates > 0, "10 kills with a 1 s commit interval leave duplicates")
        Swift.print("at-least-once, 10 kills: \(duplicates) duplicate outputs")
    }

    @Test("Two workers in one group, one killed again and again: read_committed still sees every input exactly once")
    func twoWorkersOneKilled() throws {
        let bed = try ExactlyOnceBed(delivery: "exactly_once")
        let steady = try bed.worker(instance: "fraud-steady")
        // The steady worker leads the group before the other joins, and the other is killed
        // while it owns partitions, not in the middle of a rebalance: noida-db's coordinator
        // can hand one static member's partitions to another when a member dies mid-join
        // (measured: both then score them), which a real broker's generations prevent.
        try #require(eventually(timeout: .seconds(30)) { ExactlyOnceBed.hasPartitions(steady) }, "\(steady.stderr.suffix(2000))")
        let producer = try bed.produce(Self.events / 2, rate: 2_500)
        _ = try bed.killRepeatedly(6, instance: "fraud-flaky", whileAssigned: true)
        #expect(producer.waitForExit(timeout: .seconds(60)) == 0, "\(producer.stderr)")
        // Its last restart finishes its partitions: with --instance it is a static member,
        // so each restart takes its own partitions back at once (noida-db never expires a
        // killed member's session, so a takeover by the steady worker cannot happen there).
        let last = try bed.finish(instance: "fraud-flaky")
        let inputs = try bed.inputs()
        let caughtUp = eventually(timeout: .seconds(90)) {
            ((try? bed.sources(isolation: "read_committed")) ?? [:]).count == inputs.count
        }
        steady.signal(SIGTERM)
        #expect(steady.waitForExit(timeout: .seconds(30)) == 0, "\(steady.stderr.suffix(3000))")
        #expect(caughtUp, "steady: \(steady.stderr.suffix(2000))\nlast flaky: \(last.stderr.suffix(2000))")
        try bed.expectExactlyOnce(inputs)
    }

    @Test("A zombie: a second process with the same transactional id fences the first, which stops with exit 1 and commits nothing more")
    func fencedZombie() throws {
        let bed = try ExactlyOnceBed(delivery: "exactly_once")
        // Slow enough that the zombie always has a transaction open.
        let producer = try bed.produce(Self.events / 5, rate: 500)
        // The same --instance: the same transactional id ({group}-{instance}) and the same
        // static group member, as when Kubernetes recreates a StatefulSet pod whose old
        // process is frozen, not dead.
        let zombie = try bed.worker(instance: "fraud-0")
        try #require(eventually(timeout: .seconds(30)) { zombie.stderr.contains("partitions assigned") }, "\(zombie.stderr.suffix(2000))")
        Thread.sleep(forTimeInterval: 2)
        zombie.signal(SIGSTOP)  // a paused process: its transaction is open, it thinks it owns it
        let successor = try bed.worker(instance: "fraud-0")
        #expect(eventually(timeout: .seconds(30)) { successor.stderr.contains("pipeline started") }, "\(successor.stderr.suffix(2000))")
        Thread.sleep(forTimeInterval: 1)
        zombie.signal(SIGCONT)
        let zombieExit = zombie.waitForExit(timeout: .seconds(60))
        #expect(zombieExit == 1, "the zombie must stop: \(zombie.stderr.suffix(3000))")
        #expect(zombie.stderr.contains("fenced"), "\(zombie.stderr.suffix(3000))")
        #expect(producer.waitForExit(timeout: .seconds(60)) == 0)
        let inputs = try bed.inputs()
        let caughtUp = eventually(timeout: .seconds(90)) {
            ((try? bed.sources(isolation: "read_committed")) ?? [:]).count == inputs.count
        }
        successor.signal(SIGTERM)
        #expect(successor.waitForExit(timeout: .seconds(30)) == 0, "\(successor.stderr.suffix(3000))")
        #expect(caughtUp)
        // The zombie's open transaction is invisible to read_committed.
        try bed.expectExactlyOnce(inputs)
    }
}
