/// What a book's observation says besides its spread: the reasons it cannot count as a breach.
public struct SpreadFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The best bid is at or above the best ask: the book is not a market anyone can trade.
    public static let crossed = SpreadFlags(rawValue: 1)
    /// A side of the book is empty: there is no spread.
    public static let oneSided = SpreadFlags(rawValue: 2)
    /// The book's own `updated_at` is older than the monitor's `stale_after_seconds`.
    public static let stale = SpreadFlags(rawValue: 4)

    /// Every flag with its name in answers and CSV, in this order.
    public static let named: [(SpreadFlags, String)] = [(.crossed, "crossed"), (.oneSided, "one_sided"), (.stale, "stale")]

    public var names: [String] { SpreadFlags.named.filter { contains($0.0) }.map(\.1) }

    public init(names: some Sequence<some StringProtocol>) throws(SpreadStoreError) {
        var flags = SpreadFlags()
        for name in names {
            guard let flag = SpreadFlags.named.first(where: { $0.1 == name })?.0 else { throw SpreadStoreError("unknown flag \"\(name.prefix(40))\"") }
            flags.insert(flag)
        }
        self = flags
    }
}

/// One book observed at one moment: its best prices, the spread between them and the flags
/// that keep it from counting. Built by the spread monitor from a `BookQuote`; stored per book
/// per UTC hour (see `SpreadStore`).
public struct SpreadObservation: Sendable, Equatable {
    /// When the quote was fetched (the stream message's `fetched_at`): the observation's time.
    public let observedAt: Timestamp
    public let book: String
    public let bid: DecimalNumber?
    public let ask: DecimalNumber?
    /// `(ask − bid) / ask × 100`, rounded to `SpreadPercent.decimals` places; nil when crossed
    /// or one-sided.
    public let spreadPct: DecimalNumber?
    public let flags: SpreadFlags
    /// Whether this observation counted as a breach of the book's threshold when it was made
    /// (kept, so summaries agree with the episodes even after a threshold is changed).
    public let breach: Bool
    public let sequence: Int64
    public let updatedAt: Timestamp

    public init(
        observedAt: Timestamp, book: String, bid: DecimalNumber?, ask: DecimalNumber?, spreadPct: DecimalNumber?, flags: SpreadFlags, breach: Bool,
        sequence: Int64, updatedAt: Timestamp
    ) {
        self.observedAt = observedAt
        self.book = book
        self.bid = bid
        self.ask = ask
        self.spreadPct = spreadPct
        self.flags = flags
        self.breach = breach
        self.sequence = sequence
        self.updatedAt = updatedAt
    }

    /// Observes `quote` at `observedAt` under `rules`: flags from the prices and the book's
    /// age, the spread from exact decimals, a breach when unflagged and strictly above the
    /// threshold (decided on the exact quotient, not the rounded one).
    public init(quote: BookQuote, observedAt: Timestamp, rules: BookRules) {
        var flags = SpreadFlags()
        var spread: SpreadPercent?
        if let bid = quote.bid, let ask = quote.ask {
            if bid >= ask {
                flags.insert(.crossed)
            } else {
                spread = SpreadPercent(bid: bid, ask: ask)
            }
        } else {
            flags.insert(.oneSided)
        }
        if observedAt.milliseconds - quote.updatedAt.milliseconds > Int64(rules.staleAfterSeconds) * 1000 { flags.insert(.stale) }
        self.init(
            observedAt: observedAt, book: quote.book, bid: quote.bid, ask: quote.ask, spreadPct: spread?.rounded, flags: flags,
            breach: flags.isEmpty && spread?.exceeds(rules.thresholdPct) == true, sequence: quote.sequence, updatedAt: quote.updatedAt)
    }
}

/// A spread in percent as the exact quotient `(ask − bid) × 100 / ask` of the two prices'
/// integers at a common scale. Prices are bounded (`BookQuote` rejects more than 24
/// significant digits or 18 decimals), so every product here fits in 128 bits.
public struct SpreadPercent: Sendable {
    public static let decimals = 8
    let numerator: Int128
    let denominator: Int128

    /// Needs 0 < bid < ask.
    init(bid: DecimalNumber, ask: DecimalNumber) {
        let (bidUnits, askUnits, _) = ExactDecimal.aligned(bid, ask)
        numerator = (askUnits - bidUnits) * 100
        denominator = askUnits
    }

    /// Whether the spread is strictly above `percent` (at most 8 decimals, below 10,000).
    public func exceeds(_ percent: DecimalNumber) -> Bool {
        guard let (units, scale) = ExactDecimal.units(percent) else { return false }
        return numerator * ExactDecimal.power(scale) > units * denominator
    }

    /// Whether the spread is strictly below `percent`.
    public func isBelow(_ percent: DecimalNumber) -> Bool {
        guard let (units, scale) = ExactDecimal.units(percent) else { return false }
        return numerator * ExactDecimal.power(scale) < units * denominator
    }

    /// Rounded half up to `decimals` places, trailing zeros dropped (`0.15`, `0.05871234`).
    public var rounded: DecimalNumber {
        let scaled = numerator * ExactDecimal.power(SpreadPercent.decimals)
        let units = (scaled * 2 + denominator) / (denominator * 2)
        return ExactDecimal.number(units, scale: SpreadPercent.decimals)
    }
}

/// Decimal text as an integer count of 10^-scale units, for the spread's exact arithmetic.
enum ExactDecimal {
    static let maximumDigits = 24
    static let maximumScale = 18

    static func power(_ exponent: Int) -> Int128 {
        var result: Int128 = 1
        for _ in 0..<exponent { result *= 10 }
        return result
    }

    /// The number's units and scale, nil beyond `maximumDigits` significant digits or
    /// `maximumScale` decimals.
    static func units(_ number: DecimalNumber) -> (Int128, Int)? {
        var units: Int128 = 0
        var scale = 0
        var significant = 0
        var seenDot = false
        var negative = false
        for byte in number.text.utf8 {
            switch byte {
            case UInt8(ascii: "-"): negative = true
            case UInt8(ascii: "."): seenDot = true
            default:
                if seenDot { scale += 1 }
                if units > 0 || byte != UInt8(ascii: "0") { significant += 1 }
                guard significant <= maximumDigits, scale <= maximumScale else { return nil }
                units = units * 10 + Int128(byte - UInt8(ascii: "0"))
            }
        }
        return (negative ? -units : units, scale)
    }

    /// Both numbers' units at their common scale (both must pass `units`).
    static func aligned(_ a: DecimalNumber, _ b: DecimalNumber) -> (Int128, Int128, Int) {
        let (aUnits, aScale) = units(a) ?? (0, 0)
        let (bUnits, bScale) = units(b) ?? (0, 0)
        let scale = max(aScale, bScale)
        return (aUnits * power(scale - aScale), bUnits * power(scale - bScale), scale)
    }

    /// `units × 10^-scale` in plain notation without trailing fraction zeros.
    static func number(_ units: Int128, scale: Int) -> DecimalNumber {
        var digits = String(units.magnitude)
        if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
        var integer = String(digits.prefix(digits.count - scale))
        var fraction = String(digits.suffix(scale))
        while fraction.last == "0" { fraction.removeLast() }
        if units < 0 { integer = "-" + integer }
        return DecimalNumber(fraction.isEmpty ? integer : integer + "." + fraction)!
    }
}
