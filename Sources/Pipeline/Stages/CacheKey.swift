/// Score-cache keys that are not event fields: hashes of the feature row, and of the
/// feature spec (part of every key's namespace, so a new spec never reads old entries).
enum CacheKey {
    /// FNV-1a (64-bit) over bytes, as 16 hex digits.
    static func appendHash(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        for shift in stride(from: 60, through: 0, by: -4) {
            let digit = UInt8((h >> UInt64(shift)) & 0xF)
            out.append(digit < 10 ? 0x30 + digit : 0x57 + digit)
        }
    }

    /// The row's float bits, hashed.
    static func appendRowHash(_ row: UnsafeBufferPointer<Float>, to out: inout [UInt8]) {
        appendHash(UnsafeRawBufferPointer(row), to: &out)
    }

    /// A stable text hash of a value's full description (the feature spec).
    static func hash(describing value: Any) -> String {
        var out: [UInt8] = []
        Array(String(reflecting: value).utf8).withUnsafeBytes { appendHash($0, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }
}
