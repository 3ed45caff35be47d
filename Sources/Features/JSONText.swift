#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Conversions of the JSON tokens `JSONScanner` records, none of which allocates for the
/// tokens events carry (ids with escapes aside: they become a `String`).
enum JSONText {
    static func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }

    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: UInt32(c - 0x30)
        case 0x41...0x46: UInt32(c - 0x41 + 10)
        case 0x61...0x66: UInt32(c - 0x61 + 10)
        default: nil
        }
    }

    /// The end of the JSON number starting at `start`
    /// (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`), or nil if none starts there.
    static func numberEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var i = start
        let n = bytes.count
        if i < n && bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < n, isDigit(bytes[i]) else { return nil }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < n && isDigit(bytes[i]) { i += 1 }
        }
        if i < n && bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard i < n, isDigit(bytes[i]) else { return nil }
            while i < n && isDigit(bytes[i]) { i += 1 }
        }
        if i < n && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            i += 1
            if i < n && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
            guard i < n, isDigit(bytes[i]) else { return nil }
            while i < n && isDigit(bytes[i]) { i += 1 }
        }
        return i
    }

    /// Exact powers of ten as `Double` (10^22 is the largest one).
    private static let powersOfTen: [Double] = (0...22).map { e in (0..<e).reduce(1.0) { r, _ in r * 10 } }

    /// Converts a validated JSON number token to the nearest `Double`.
    ///
    /// Fast path (Clinger): up to 19 significant digits whose value is at most 2^53, times
    /// or divided by an exact power of ten up to 10^22: one correctly rounded operation.
    /// Anything else goes to `strtod` on a copy of the token.
    static func double(_ token: UnsafeRawBufferPointer) -> Double {
        var i = 0
        let n = token.count
        let negative = n > 0 && token[0] == UInt8(ascii: "-")
        if negative { i = 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        while i < n, isDigit(token[i]) {
            if mantissa != 0 || token[i] != UInt8(ascii: "0") { digits += 1 }
            mantissa = mantissa &* 10 &+ UInt64(token[i] &- 0x30)
            i += 1
        }
        if i < n && token[i] == UInt8(ascii: ".") {
            i += 1
            while i < n, isDigit(token[i]) {
                if mantissa != 0 || token[i] != UInt8(ascii: "0") { digits += 1 }
                mantissa = mantissa &* 10 &+ UInt64(token[i] &- 0x30)
                exponent -= 1
                i += 1
            }
        }
        if i < n {  // exponent part
            i += 1
            var sign = 1
            if token[i] == UInt8(ascii: "-") { sign = -1; i += 1 } else if token[i] == UInt8(ascii: "+") { i += 1 }
            var e = 0
            while i < n, isDigit(token[i]) {
                if e < 100_000 { e = e * 10 + Int(token[i] &- 0x30) }
                i += 1
            }
            exponent += sign * e
        }
        if digits <= 19 && mantissa <= 1 << 53 && (-22...22).contains(exponent) {
            var value = Double(mantissa)
            value = exponent < 0 ? value / powersOfTen[-exponent] : value * powersOfTen[exponent]
            return negative ? -value : value
        }
        return slowDouble(token)
    }

    /// `strtod` on a NUL-terminated copy (the token is not terminated in the event).
    private static func slowDouble(_ token: UnsafeRawBufferPointer) -> Double {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: token.count + 1) { buffer in
            for k in 0..<token.count { buffer[k] = CChar(bitPattern: token[k]) }
            buffer[token.count] = 0
            return strtod(buffer.baseAddress!, nil)
        }
    }

    /// Calls `body` with each UTF-8 byte of a validated string token, escapes resolved
    /// (`\uD83D\uDE00` pairs become one scalar; a lone surrogate becomes U+FFFD). Stops
    /// early when `body` returns false; returns whether it ran to the end.
    @discardableResult
    static func forEachByte(_ token: UnsafeRawBufferPointer, escaped: Bool, _ body: (UInt8) -> Bool) -> Bool {
        guard escaped else {
            for b in token where !body(b) { return false }
            return true
        }
        var i = 0
        while i < token.count {
            let c = token[i]
            guard c == UInt8(ascii: "\\") else {
                if !body(c) { return false }
                i += 1
                continue
            }
            let e = token[i + 1]
            i += 2
            var byte: UInt8
            switch e {
            case UInt8(ascii: "b"): byte = 0x08
            case UInt8(ascii: "f"): byte = 0x0C
            case UInt8(ascii: "n"): byte = 0x0A
            case UInt8(ascii: "r"): byte = 0x0D
            case UInt8(ascii: "t"): byte = 0x09
            case UInt8(ascii: "u"):
                var scalar = hex4(token, i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar), i + 6 <= token.count,
                   token[i] == UInt8(ascii: "\\"), token[i + 1] == UInt8(ascii: "u") {
                    let low = hex4(token, i + 2)
                    if (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                if (0xD800...0xDFFF).contains(scalar) { scalar = 0xFFFD }
                for b in UTF8.encode(Unicode.Scalar(scalar)!)! where !body(b) { return false }
                continue
            default: byte = e  // \" \\ \/
            }
            if !body(byte) { return false }
        }
        return true
    }

    /// Whether a string token, escapes resolved, equals `name` (UTF-8).
    static func equals(_ token: UnsafeRawBufferPointer, escaped: Bool, _ name: UnsafeRawBufferPointer) -> Bool {
        if !escaped {
            guard token.count == name.count else { return false }
            return name.isEmpty || memcmp(token.baseAddress!, name.baseAddress!, name.count) == 0
        }
        var k = 0
        let matched = forEachByte(token, escaped: true) { b in
            guard k < name.count, name[k] == b else { return false }
            k += 1
            return true
        }
        return matched && k == name.count
    }

    private static func hex4(_ token: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 { v = v << 4 | (hexValue(token[at + k]) ?? 0) }
        return v
    }

    /// The text of a string or number token, escapes resolved.
    static func text(_ token: UnsafeRawBufferPointer, escaped: Bool) -> String {
        guard escaped else { return String(decoding: token, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(token.count)
        forEachByte(token, escaped: true) { out.append($0); return true }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The hash behind `hash` inputs: FNV-1a (64-bit) over the seed's 8 bytes (little-endian)
/// followed by the string's UTF-8 bytes; the bucket is the hash modulo the bucket count.
/// Written out here so a training pipeline can compute the same buckets:
///
/// ```python
/// def bucket(s, seed, buckets):
///     h = 0xcbf29ce484222325
///     for b in seed.to_bytes(8, "little") + s.encode():
///         h = ((h ^ b) * 0x100000001b3) % 2**64
///     return h % buckets
/// ```
public enum FeatureHash {
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x100_0000_01b3

    static func seeded(_ seed: UInt64) -> UInt64 {
        var h = offsetBasis
        for k in 0..<8 { h = (h ^ (seed >> (8 * UInt64(k)) & 0xFF)) &* prime }
        return h
    }

    public static func bucket(_ utf8: some Sequence<UInt8>, seed: UInt64, buckets: Int) -> Int {
        var h = seeded(seed)
        for b in utf8 { h = (h ^ UInt64(b)) &* prime }
        return Int(h % UInt64(buckets))
    }
}
