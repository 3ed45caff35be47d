#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Conversions of JSON tokens found by `JSONScanner`.
enum JSONText {
    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: UInt32(c - 0x30)
        case 0x41...0x46: UInt32(c - 0x41 + 10)
        case 0x61...0x66: UInt32(c - 0x61 + 10)
        default: nil
        }
    }

    /// Converts a validated JSON number token to `Double` (correctly rounded, via `strtod`
    /// on a stack copy: the token is not NUL-terminated in the event's bytes).
    static func double(_ token: UnsafeRawBufferPointer) -> Double {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: token.count + 1) { buffer in
            for k in 0..<token.count { buffer[k] = CChar(bitPattern: token[k]) }
            buffer[token.count] = 0
            return strtod(buffer.baseAddress!, nil)
        }
    }

    /// Resolves the escapes of a validated string token into a `String`.
    static func unescape(_ token: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(token.count)
        var i = 0
        while i < token.count {
            let c = token[i]
            guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
            let e = token[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(token, i)
                i += 4
                // A high surrogate followed by an escaped low surrogate is one scalar;
                // a lone surrogate becomes U+FFFD.
                if (0xD800...0xDBFF).contains(scalar), i + 6 <= token.count,
                   token[i] == UInt8(ascii: "\\"), token[i + 1] == UInt8(ascii: "u") {
                    let low = hex4(token, i + 2)
                    if (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                let s = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(s)).utf8))
            default: out.append(e)  // \" \\ \/
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex4(_ token: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 << 4 | (hexValue(token[at + $1]) ?? 0) }
    }

    /// The text of a string or number token, escapes resolved.
    static func text(_ token: UnsafeRawBufferPointer, hasEscapes: Bool) -> String {
        hasEscapes ? unescape(token) : String(decoding: token, as: UTF8.self)
    }
}
