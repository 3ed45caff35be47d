internal import Chiredis

/// The commands of one pipeline, encoded as Redis's wire protocol (RESP: `*argc`, then
/// `$length` and the bytes of each argument) in one buffer that hiredis sends as it is
/// (`redisAppendFormattedCommand`). Reused across pipelines (`removeAll` keeps the
/// capacity), so an `MGET` of a batch's keys or a batch of `SET`s costs no allocation per
/// key, in Swift or in hiredis, once the buffer has grown.
public struct RedisCommands: Sendable {
    private(set) var bytes: [UInt8] = []
    /// Number of commands.
    public private(set) var count = 0
    /// Arguments the current command still expects (`start` declares them).
    private var expected = 0

    public init() {}

    /// Commands given as arrays of arguments (tests, `AUTH`, `SELECT`).
    public init(_ commands: [[[UInt8]]]) {
        for command in commands {
            guard let name = command.first else { continue }
            start(name, arguments: command.count - 1)
            for argument in command.dropFirst() { append(argument) }
        }
    }

    public var isEmpty: Bool { count == 0 }

    public mutating func removeAll() {
        precondition(expected == 0, "the last command lacks \(expected) arguments")
        bytes.removeAll(keepingCapacity: true)
        count = 0
    }

    /// Begins a command named `name` (`MGET`, `SET`) that takes `arguments` more arguments,
    /// which must follow before the next command or the send.
    public mutating func start(_ name: [UInt8], arguments: Int) {
        precondition(expected == 0, "the last command lacks \(expected) arguments")
        bytes.append(UInt8(ascii: "*"))
        appendDecimal(arguments + 1)
        appendCRLF()
        count += 1
        expected = 1
        append(name)
        expected = arguments
    }

    /// One argument of the current command.
    public mutating func append(_ argument: some Collection<UInt8>) {
        header(length: argument.count)
        bytes.append(contentsOf: argument)
        appendCRLF()
    }

    /// One argument of the current command, `prefix` then `rest` (a namespaced key).
    public mutating func append(_ prefix: [UInt8], _ rest: some Collection<UInt8>) {
        header(length: prefix.count + rest.count)
        bytes.append(contentsOf: prefix)
        bytes.append(contentsOf: rest)
        appendCRLF()
    }

    /// A score as its shortest round-tripping decimal text (Swift's `description`, which
    /// `Float(_:)` reads back exactly).
    public mutating func append(_ score: Float) {
        var text = score.description  // short: held inline, not on the heap
        text.withUTF8 { append($0) }
    }

    /// The encoded pipeline, complete (every command has its arguments).
    func withEncoded<T>(_ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        precondition(expected == 0, "the last command lacks \(expected) arguments")
        return bytes.withUnsafeBufferPointer(body)
    }

    private mutating func header(length: Int) {
        precondition(expected > 0, "more arguments than the command's start declared")
        expected -= 1
        bytes.append(UInt8(ascii: "$"))
        appendDecimal(length)
        appendCRLF()
    }

    private mutating func appendCRLF() {
        bytes.append(13)
        bytes.append(10)
    }

    private mutating func appendDecimal(_ value: Int) {
        precondition(value >= 0)
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// hiredis's own encoding of `commands` (`redisFormatCommandArgv`), for tests that
    /// check this one against it.
    static func hiredisEncoding(of commands: [[[UInt8]]]) -> [UInt8] {
        var out: [UInt8] = []
        for command in commands {
            let flat = command.flatMap { $0 }
            flat.withUnsafeBufferPointer { buffer in
                let base = buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!
                var offset = 0
                var argv: [UnsafePointer<CChar>?] = []
                for argument in command {
                    argv.append(UnsafeRawPointer(base + offset).assumingMemoryBound(to: CChar.self))
                    offset += argument.count
                }
                var lengths = command.map(\.count)
                var target: UnsafeMutablePointer<CChar>?
                let length = redisFormatCommandArgv(&target, Int32(command.count), &argv, &lengths)
                if let target, length > 0 {
                    target.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
                        out.append(contentsOf: UnsafeBufferPointer(start: $0, count: Int(length)))
                    }
                    redisFreeCommand(target)
                }
            }
        }
        return out
    }
}
