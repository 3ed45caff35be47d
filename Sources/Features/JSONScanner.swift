/// A validating single-pass JSON reader over raw bytes that reports the top-level
/// object's members to a visitor without building any intermediate values.
///
/// It checks the whole document (grammar, string escapes, nesting depth) so malformed
/// input is rejected even where no needed field lies; number and string values are handed
/// over as byte ranges for the caller to convert only when it needs them.
struct JSONScanner {
    enum ValueKind { case string, number, literalTrue, literalFalse, null, object, array }

    /// A top-level member: the key's raw bytes (between the quotes, escapes unresolved)
    /// and the value's raw bytes (strings: between the quotes).
    struct Member {
        var key: UnsafeRawBufferPointer
        var keyHasEscapes: Bool
        var kind: ValueKind
        var value: UnsafeRawBufferPointer
        var valueHasEscapes: Bool
    }

    struct Failure: Error {
        var message: String
        var offset: Int
    }

    private let bytes: UnsafeRawBufferPointer
    private var i = 0
    private let maxDepth: Int

    init(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Scans a document whose top level must be an object, calling `visit` per member
    /// (duplicates included, in order: the visitor decides that the last one wins).
    mutating func scanObject(_ visit: (Member) -> Void) throws(Failure) {
        skipSpace()
        guard peek() == UInt8(ascii: "{") else { throw fail("expected an object") }
        i += 1
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                skipSpace()
                guard peek() == UInt8(ascii: "\"") else { throw fail("expected a member name") }
                let (key, keyEscapes) = try scanString()
                skipSpace()
                guard peek() == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                skipSpace()
                let start = i
                let kind = try scanValue(depth: 1)
                var value = UnsafeRawBufferPointer(rebasing: bytes[start..<i])
                var valueEscapes = false
                if kind == .string {
                    value = UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<(i - 1)])
                    valueEscapes = value.contains(UInt8(ascii: "\\"))
                }
                visit(Member(key: key, keyHasEscapes: keyEscapes, kind: kind, value: value, valueHasEscapes: valueEscapes))
                skipSpace()
                let c = peek()
                if c == UInt8(ascii: ",") { i += 1; continue }
                if c == UInt8(ascii: "}") { i += 1; break }
                throw fail("expected ',' or '}'")
            }
        }
        skipSpace()
        guard i == bytes.count else { throw fail("trailing bytes after the object") }
    }

    private func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

    private func fail(_ message: String) -> Failure {
        Failure(message: i < bytes.count ? message : "\(message) (input ends)", offset: i)
    }

    private mutating func skipSpace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    private mutating func scanValue(depth: Int) throws(Failure) -> ValueKind {
        guard let c = peek() else { throw fail("expected a value") }
        switch c {
        case UInt8(ascii: "\""):
            _ = try scanString()
            return .string
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard depth < maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
            try scanContainer(depth: depth + 1)
            return c == UInt8(ascii: "{") ? .object : .array
        case UInt8(ascii: "t"): try literal("true"); return .literalTrue
        case UInt8(ascii: "f"): try literal("false"); return .literalFalse
        case UInt8(ascii: "n"): try literal("null"); return .null
        default:
            try scanNumber()
            return .number
        }
    }

    private mutating func scanContainer(depth: Int) throws(Failure) {
        let isObject = bytes[i] == UInt8(ascii: "{")
        let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        i += 1
        skipSpace()
        if peek() == close { i += 1; return }
        while true {
            skipSpace()
            if isObject {
                guard peek() == UInt8(ascii: "\"") else { throw fail("expected a member name") }
                _ = try scanString()
                skipSpace()
                guard peek() == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                skipSpace()
            }
            _ = try scanValue(depth: depth)
            skipSpace()
            let c = peek()
            if c == UInt8(ascii: ",") { i += 1; continue }
            if c == close { i += 1; return }
            throw fail(isObject ? "expected ',' or '}'" : "expected ',' or ']'")
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("invalid literal") }
        let expected = UnsafeRawBufferPointer(start: word.utf8Start, count: n)
        for k in 0..<n where bytes[i + k] != expected[k] { throw fail("invalid literal") }
        i += n
    }

    /// Scans a string starting at its opening quote; returns its contents and whether it
    /// has escapes. Validates escapes and UTF-8, rejects raw control characters.
    private mutating func scanString() throws(Failure) -> (UnsafeRawBufferPointer, Bool) {
        i += 1
        let start = i
        var escapes = false
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                let content = UnsafeRawBufferPointer(rebasing: bytes[start..<i])
                i += 1
                return (content, escapes)
            }
            if c == UInt8(ascii: "\\") {
                escapes = true
                i += 1
                guard let e = peek() else { break }
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 1
                case UInt8(ascii: "u"):
                    guard i + 5 <= bytes.count else { throw fail("truncated \\u escape") }
                    for k in 1...4 where JSONText.hexValue(bytes[i + k]) == nil { throw fail("invalid \\u escape") }
                    i += 5
                default:
                    throw fail("invalid escape")
                }
            } else if c < 0x20 {
                throw fail("control character in string")
            } else if c < 0x80 {
                i += 1
            } else {
                try skipUTF8Sequence()
            }
        }
        throw fail("unterminated string")
    }

    private mutating func skipUTF8Sequence() throws(Failure) {
        let c = bytes[i]
        let length: Int
        var minimum: UInt32
        var scalar: UInt32
        switch c {
        case 0xC2...0xDF: length = 2; minimum = 0x80; scalar = UInt32(c & 0x1F)
        case 0xE0...0xEF: length = 3; minimum = 0x800; scalar = UInt32(c & 0x0F)
        case 0xF0...0xF4: length = 4; minimum = 0x10000; scalar = UInt32(c & 0x07)
        default: throw fail("invalid UTF-8")
        }
        guard i + length <= bytes.count else { throw fail("invalid UTF-8") }
        for k in 1..<length {
            let b = bytes[i + k]
            guard b & 0xC0 == 0x80 else { throw fail("invalid UTF-8") }
            scalar = scalar << 6 | UInt32(b & 0x3F)
        }
        guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else {
            throw fail("invalid UTF-8")
        }
        i += length
    }

    /// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    private mutating func scanNumber() throws(Failure) {
        if peek() == UInt8(ascii: "-") { i += 1 }
        guard let first = peek(), JSONText.isDigit(first) else { throw fail("invalid value") }
        i += 1
        if first != UInt8(ascii: "0") { while let d = peek(), JSONText.isDigit(d) { i += 1 } }
        if peek() == UInt8(ascii: ".") {
            i += 1
            guard let d = peek(), JSONText.isDigit(d) else { throw fail("invalid number") }
            while let d = peek(), JSONText.isDigit(d) { i += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            i += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { i += 1 }
            guard let d = peek(), JSONText.isDigit(d) else { throw fail("invalid number") }
            while let d = peek(), JSONText.isDigit(d) { i += 1 }
        }
    }
}
