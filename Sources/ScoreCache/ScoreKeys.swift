#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Cache keys packed in one buffer, each with its fingerprint: key `i` is
/// `bytes[ranges[i]]`, `fingerprints[i]` its hash. Reused across batches (`removeAll`
/// keeps the capacity), so a batch's keys cost no allocation once the buffers have grown.
public struct ScoreKeys: Sendable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var ranges: [Range<Int>] = []
    public private(set) var fingerprints: [UInt64] = []

    public init() {}

    /// Keys from arrays (tests and small callers).
    public init(_ keys: [[UInt8]]) {
        for key in keys { key.withUnsafeBytes { append($0, fingerprint: KeyFingerprint.of($0)) } }
    }

    public var count: Int { ranges.count }

    public mutating func append(_ key: UnsafeRawBufferPointer, fingerprint: UInt64) {
        let start = bytes.count
        bytes.append(contentsOf: key)
        ranges.append(start..<bytes.count)
        fingerprints.append(fingerprint)
    }

    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        ranges.removeAll(keepingCapacity: true)
        fingerprints.removeAll(keepingCapacity: true)
    }

    /// Key `i`'s bytes, for the length of `body`.
    public func withKey<T>(_ i: Int, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[ranges[i]])) }
    }

    public func key(_ i: Int) -> ArraySlice<UInt8> { bytes[ranges[i]] }

    /// Whether key `i` is exactly `other`.
    public func key(_ i: Int, equals other: UnsafeRawBufferPointer) -> Bool {
        withKey(i) { bytesEqual($0, other) }
    }
}

/// A 64-bit hash of a key's bytes, eight at a time (a multiply-xorshift mix, finished
/// with MurmurHash3's `fmix64`). Tables index by it and then compare the bytes, so a
/// collision costs a miss, never a wrong score.
public enum KeyFingerprint {
    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var i = 0
        while i + 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ word) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            i += 8
        }
        if i < bytes.count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < bytes.count {
                tail |= UInt64(bytes[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
        }
        return avalanche(h)
    }

    /// MurmurHash3's 64-bit finalizer (`fmix64`): every input bit moves about half the
    /// output bits.
    public static func avalanche(_ x: UInt64) -> UInt64 {
        var h = x
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }

    public static func of(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBytes { of($0) } }
}

/// Whether two byte runs are equal (`memcmp`).
func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0 else { return true }
    return memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
}
