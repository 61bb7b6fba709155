#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An instant as whole milliseconds since the Unix epoch, UTC. Snapshots, fetch times and the
/// API's `datetime` all use this one type, so a timestamp a response shows parses back to
/// exactly the same instant.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let milliseconds: Int64

    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    /// The first instant a crypto market datum can carry: 2009-01-03, Bitcoin's genesis block.
    public static let earliestPlausible = Timestamp(milliseconds: 1_230_940_800_000)
    /// The last instant ISO-8601's four-digit years can show: 9999-12-31T23:59:59.999Z.
    public static let latestRepresentable = Timestamp(milliseconds: 253_402_300_799_999)

    /// A time read from outside (a stream entry, Redis, a stored snapshot): nil unless it lies
    /// between `earliestPlausible` and `latestRepresentable`, so arithmetic on it cannot
    /// overflow and it always renders. How far ahead of the clock it may be is the caller's
    /// rule (`ClockSkew`).
    public init?(plausible milliseconds: Int64) {
        guard milliseconds >= Timestamp.earliestPlausible.milliseconds, milliseconds <= Timestamp.latestRepresentable.milliseconds else { return nil }
        self.milliseconds = milliseconds
    }

    /// Unix milliseconds as decimal text (a Redis field or score), checked as `init(plausible:)`.
    public init?(plausibleText text: some StringProtocol) {
        guard let milliseconds = Int64(text) else { return nil }
        self.init(plausible: milliseconds)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// The current wall-clock time.
    public static var now: Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(milliseconds: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }

    /// Saturates at the ends of Int64 rather than trapping.
    public func adding(milliseconds delta: Int64) -> Timestamp {
        let (sum, overflow) = milliseconds.addingReportingOverflow(delta)
        return Timestamp(milliseconds: overflow ? (delta > 0 ? .max : .min) : sum)
    }

    public var seconds: Double { Double(milliseconds) / 1000 }

    /// ISO-8601 in UTC with milliseconds: `2024-05-14T06:10:00.123Z`.
    public var iso8601: String {
        let (days, msOfDay) = milliseconds.floorDividedWithRemainder(by: 86_400_000)
        let (year, month, day) = Timestamp.civil(fromDays: days)
        let hour = msOfDay / 3_600_000
        let minute = msOfDay / 60_000 % 60
        let second = msOfDay / 1000 % 60
        let milli = msOfDay % 1000
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(milli, 3))Z"
    }

    public var description: String { iso8601 }

    /// HTTP-date (RFC 9110 IMF-fixdate), for `Last-Modified`.
    public var httpDate: String {
        let (days, msOfDay) = milliseconds.floorDividedWithRemainder(by: 86_400_000)
        let (year, month, day) = Timestamp.civil(fromDays: days)
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][Int(((days % 7) + 7) % 7)]
        let monthName = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][Int(month) - 1]
        func pad(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let hour = msOfDay / 3_600_000
        let minute = msOfDay / 60_000 % 60
        let second = msOfDay / 1000 % 60
        return "\(weekday), \(pad(day)) \(monthName) \(year) \(pad(hour)):\(pad(minute)):\(pad(second)) GMT"
    }

    /// Parses ISO-8601: a date (`2024-05-14`, midnight UTC) or a date-time with optional
    /// seconds and fraction, and `Z`, an offset (`+02:00`, `+0200`) or no zone (read as UTC).
    /// Digits past milliseconds are truncated.
    public init?(iso8601 text: some StringProtocol) {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int64? {
            guard index + width <= bytes.count else { return nil }
            var value: Int64 = 0
            for offset in 0..<width {
                let byte = bytes[index + offset]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += width
            return value
        }
        func expect(_ character: Character) -> Bool {
            guard index < bytes.count, bytes[index] == character.asciiValue! else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= Timestamp.daysIn(month: month, year: year) else { return nil }
        var milliseconds = Timestamp.days(fromCivil: year, month, day) * 86_400_000
        if index == bytes.count {
            self.init(milliseconds: milliseconds)
            return
        }
        guard index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "t") || bytes[index] == UInt8(ascii: " ") else { return nil }
        index += 1
        guard let hour = number(2), hour < 24, expect(":"), let minute = number(2), minute < 60 else { return nil }
        milliseconds += hour * 3_600_000 + minute * 60_000
        if expect(":") {
            guard let second = number(2), second < 60 else { return nil }
            milliseconds += second * 1000
            if expect(".") || expect(",") {
                var scale: Int64 = 100
                var digits = 0
                while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                    milliseconds += Int64(bytes[index] - UInt8(ascii: "0")) * scale
                    scale /= 10
                    digits += 1
                    index += 1
                }
                guard digits > 0 else { return nil }
            }
        }
        if index < bytes.count {
            if bytes[index] | 0x20 == UInt8(ascii: "z") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                let sign: Int64 = bytes[index] == UInt8(ascii: "+") ? 1 : -1
                index += 1
                guard let offsetHours = number(2), offsetHours < 24 else { return nil }
                _ = expect(":")
                guard let offsetMinutes = number(2), offsetMinutes < 60 else { return nil }
                milliseconds -= sign * (offsetHours * 3_600_000 + offsetMinutes * 60_000)
            } else {
                return nil
            }
        }
        guard index == bytes.count else { return nil }
        self.init(milliseconds: milliseconds)
    }

    /// Parses unix seconds, whole or fractional (`1715667000`, `1715667000.5`).
    public init?(unixSeconds text: some StringProtocol) {
        guard let decimal = DecimalNumber(text), !decimal.text.hasPrefix("-") else { return nil }
        let parts = decimal.text.split(separator: ".", maxSplits: 1)
        guard let whole = Int64(parts[0]), whole < 100_000_000_000 else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1].prefix(3)
            fraction = Int64(digits + String(repeating: "0", count: 3 - digits.count)) ?? 0
        }
        self.init(milliseconds: whole * 1000 + fraction)
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int64 {
    /// Floor division with a non-negative remainder (for dates before 1970), defined for every
    /// value including `Int64.min`: a positive `divisor` never overflows here.
    func floorDividedWithRemainder(by divisor: Int64) -> (Int64, Int64) {
        let quotient = self / divisor
        let remainder = self % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
