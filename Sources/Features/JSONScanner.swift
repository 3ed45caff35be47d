/// A validating single-pass JSON reader over raw bytes that records the values at the
/// paths of a `PathTrie`, without building any intermediate values.
///
/// It checks the whole document (grammar, string escapes, UTF-8, nesting depth), so
/// malformed input is rejected even where no needed field lies; values are recorded as
/// byte ranges for the caller to convert only when it needs them. Below a path nobody
/// needs, it only validates.
struct JSONScanner {
    enum ValueKind { case string, number, literalTrue, literalFalse, null, object, array }

    /// A recorded value: its raw bytes (strings: between the quotes, escapes unresolved).
    struct Value {
        var kind: ValueKind
        var bytes: UnsafeRawBufferPointer
        var hasEscapes: Bool
    }

    struct Failure: Error {
        var message: String
        var offset: Int
    }

    private let bytes: UnsafeRawBufferPointer
    private var i = 0
    private let maxDepth: Int
    private let nodes: UnsafeBufferPointer<PathTrie.Node>
    private let keys: UnsafeBufferPointer<UInt8>
    private let found: UnsafeMutablePointer<Value?>

    /// - Parameters:
    ///   - nodes, keys: the trie's arrays; `found`: one entry per trie slot, set to nil
    ///     here, filled by `scanDocument`.
    init(
        _ bytes: UnsafeRawBufferPointer, maxDepth: Int, nodes: UnsafeBufferPointer<PathTrie.Node>,
        keys: UnsafeBufferPointer<UInt8>, found: UnsafeMutablePointer<Value?>, slotCount: Int
    ) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        self.nodes = nodes
        self.keys = keys
        self.found = found
        found.update(repeating: nil, count: slotCount)
    }

    /// Scans a document whose top level must be an object.
    mutating func scanDocument() throws(Failure) {
        skipSpace()
        guard peek() == UInt8(ascii: "{") else { throw fail("expected an object") }
        _ = try scanValue(depth: 0, node: 0)
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

    /// Scans one value enclosed by `depth` containers; `node` is its trie node, or -1 when
    /// nothing at or below it is needed.
    private mutating func scanValue(depth: Int, node: Int) throws(Failure) -> ValueKind {
        guard let c = peek() else { throw fail("expected a value") }
        let start = i
        let kind: ValueKind
        var content: UnsafeRawBufferPointer?
        var escapes = false
        switch c {
        case UInt8(ascii: "\""):
            (content, escapes) = try scanString()
            kind = .string
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard depth < maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
            var inner = -1
            if node >= 0 && !nodes[node].children.isEmpty {
                // A later duplicate key replaces everything an earlier one recorded below.
                let slots = nodes[node].slots
                (found + slots.lowerBound).update(repeating: nil, count: slots.count)
                inner = node
            }
            try scanContainer(depth: depth + 1, node: inner)
            kind = c == UInt8(ascii: "{") ? .object : .array
        case UInt8(ascii: "t"): try literal("true"); kind = .literalTrue
        case UInt8(ascii: "f"): try literal("false"); kind = .literalFalse
        case UInt8(ascii: "n"): try literal("null"); kind = .null
        default:
            try scanNumber()
            kind = .number
        }
        if node >= 0, case let slot = nodes[node].slot, slot >= 0 {
            found[slot] = Value(kind: kind, bytes: content ?? UnsafeRawBufferPointer(rebasing: bytes[start..<i]), hasEscapes: escapes)
        }
        return kind
    }

    /// Scans an object or array starting at its opening bracket; `node` is its trie node or -1.
    private mutating func scanContainer(depth: Int, node: Int) throws(Failure) {
        let isObject = bytes[i] == UInt8(ascii: "{")
        let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        i += 1
        skipSpace()
        if peek() == close { i += 1; return }
        var index = 0
        while true {
            skipSpace()
            var child = -1
            if isObject {
                guard peek() == UInt8(ascii: "\"") else { throw fail("expected a member name") }
                let (key, keyEscapes) = try scanString()
                if node >= 0 { child = member(of: node, key, escaped: keyEscapes) }
                skipSpace()
                guard peek() == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                skipSpace()
            } else if node >= 0 {
                child = element(of: node, index)
            }
            _ = try scanValue(depth: depth, node: child)
            index += 1
            skipSpace()
            let c = peek()
            if c == UInt8(ascii: ",") { i += 1; continue }
            if c == close { i += 1; return }
            throw fail(isObject ? "expected ',' or '}'" : "expected ',' or ']'")
        }
    }

    /// The child of `node` named `key`, or -1.
    private func member(of node: Int, _ key: UnsafeRawBufferPointer, escaped: Bool) -> Int {
        guard !escaped else {
            for child in nodes[node].children where nodes[child].index < 0 {
                let name = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(keys)[nodes[child].key])
                if JSONText.equals(key, escaped: true, name) { return child }
            }
            return -1
        }
        // Length and first bytes first: one comparison rules out almost every other name.
        let signature = PathTrie.signature(of: key)
        for child in nodes[node].children where nodes[child].signature == signature {
            if key.count < 8 { return child }
            let name = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(keys)[nodes[child].key])
            if JSONText.equals(key, escaped: false, name) { return child }
        }
        return -1
    }

    /// The child of `node` for array element `index`, or -1.
    private func element(of node: Int, _ index: Int) -> Int {
        for child in nodes[node].children where nodes[child].index == index { return child }
        return -1
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
        guard let end = JSONText.numberEnd(bytes, from: i) else { throw fail(i < bytes.count && (JSONText.isDigit(bytes[i]) || bytes[i] == UInt8(ascii: "-")) ? "invalid number" : "invalid value") }
        i = end
    }
}
