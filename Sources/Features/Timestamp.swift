/// Timestamps as seconds since 1970-01-01T00:00:00Z, and the calendar parts features use.
public enum Timestamp {
    /// Parses RFC 3339 text (see `rfc3339(_:)` on bytes), or nil: seconds since the epoch.
    public static func rfc3339(_ text: String) -> Double? {
        var text = text
        return text.withUTF8 { rfc3339(UnsafeRawBufferPointer($0)) }
    }

    /// Years 0001 to 9999: what RFC 3339 can write; epoch numbers outside are `out_of_range`
    /// (found by fuzzing: a huge epoch value overflowed the calendar arithmetic).
    static let validSeconds: ClosedRange<Double> = -62_135_596_800...253_402_300_799

    /// Parses RFC 3339 (`2026-11-29T19:31:10Z`, `2026-11-29T20:31:10.250+01:00`; `t`, `z`
    /// and a space separator accepted), or nil.
    static func rfc3339(_ s: UnsafeRawBufferPointer) -> Double? {
        func digits(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= s.count else { return nil }
            var v = 0
            for k in at..<(at + count) {
                guard JSONText.isDigit(s[k]) else { return nil }
                v = v * 10 + Int(s[k] &- 0x30)
            }
            return v
        }
        func byte(_ at: Int, _ c: Character) -> Bool { at < s.count && s[at] == c.asciiValue! }
        guard let year = digits(0, 4), byte(4, "-"), let month = digits(5, 2), byte(7, "-"), let day = digits(8, 2),
              byte(10, "T") || byte(10, "t") || byte(10, " "),
              let hour = digits(11, 2), byte(13, ":"), let minute = digits(14, 2), byte(16, ":"), let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              hour <= 23, minute <= 59, second <= 60 else { return nil }
        var i = 19
        var fraction = 0.0
        if byte(i, ".") {
            i += 1
            var scale = 0.1
            let start = i
            while i < s.count, JSONText.isDigit(s[i]) {
                fraction += Double(s[i] &- 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        var offset = 0
        if byte(i, "Z") || byte(i, "z") {
            i += 1
        } else if byte(i, "+") || byte(i, "-") {
            guard let h = digits(i + 1, 2), byte(i + 3, ":"), let m = digits(i + 4, 2), h <= 23, m <= 59 else { return nil }
            offset = (h * 60 + m) * 60 * (byte(i, "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == s.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Double(days * 86_400 + hour * 3_600 + minute * 60 + second - offset) + fraction
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// 0–23, UTC.
    static func hourOfDay(_ seconds: Double) -> Double {
        let s = Int64(seconds.rounded(.down))
        return Double(((s % 86_400) + 86_400) % 86_400 / 3_600)
    }

    /// 0 (Monday) – 6 (Sunday), UTC. 1970-01-01 was a Thursday (3).
    static func dayOfWeek(_ seconds: Double) -> Double {
        let days = Int64((seconds / 86_400).rounded(.down))
        return Double(((days + 3) % 7 + 7) % 7)
    }
}
