/// A UTC calendar day, as days since 1970-01-01: what daily history is paged and stored by.
public struct UTCDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let number: Int64

    public init(number: Int64) {
        self.number = number
    }

    /// The day holding `time`.
    public init(containing time: Timestamp) {
        number = time.milliseconds.floorDividedWithRemainder(by: DailyCandle.dayMilliseconds).0
    }

    /// A date (`2021-01-01`) or any ISO-8601 instant, read as the UTC day holding it.
    public init?(iso8601 text: some StringProtocol) {
        guard let time = Timestamp(iso8601: text) else { return nil }
        self.init(containing: time)
    }

    public static var today: UTCDay { UTCDay(containing: .now) }

    /// The day's first instant.
    public var start: Timestamp { Timestamp(milliseconds: number * DailyCandle.dayMilliseconds) }

    public func adding(days: Int64) -> UTCDay { UTCDay(number: number + days) }

    /// Days from `self` through `last`, both included (0 when `last` is earlier).
    public func days(through last: UTCDay) -> Int64 { max(0, last.number - number + 1) }

    /// `2021-01-01`.
    public var description: String { String(start.iso8601.prefix(10)) }

    public static func < (lhs: UTCDay, rhs: UTCDay) -> Bool { lhs.number < rhs.number }
}
