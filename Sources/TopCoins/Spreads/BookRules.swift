/// How the spread monitor judges one book: when a spread is a breach, when an episode opens
/// and closes, when a book is too old to count, and how long a breach may stand for the
/// time above threshold. Read from the monitor's config (`defaults`, then each book's
/// overrides) and stored beside the observations, so the API shows the rules in force.
public struct BookRules: Sendable, Equatable {
    public let book: String
    /// A breach is an unflagged spread strictly above this (percent).
    public let thresholdPct: DecimalNumber
    /// An open episode closes on the first unflagged spread strictly below this (hysteresis).
    public let clearBelowPct: DecimalNumber
    /// Consecutive breaches (flagged observations neither count nor break the run) needed to
    /// open an episode.
    public let minConsecutive: Int
    /// After an episode closes, none opens again for this long.
    public let cooldownSeconds: Int
    /// A book whose `updated_at` is older than this at observation is flagged `stale`.
    public let staleAfterSeconds: Int
    /// A breach stands for the time to the book's next observation, at most this long, in
    /// `seconds_above`: a fetcher that stalls does not count as an hour above threshold.
    public let maxGapSeconds: Int

    public init(
        book: String, thresholdPct: DecimalNumber, clearBelowPct: DecimalNumber, minConsecutive: Int, cooldownSeconds: Int, staleAfterSeconds: Int,
        maxGapSeconds: Int
    ) {
        self.book = book
        self.thresholdPct = thresholdPct
        self.clearBelowPct = clearBelowPct
        self.minConsecutive = minConsecutive
        self.cooldownSeconds = cooldownSeconds
        self.staleAfterSeconds = staleAfterSeconds
        self.maxGapSeconds = maxGapSeconds
    }

    /// The defaults: 0.1 % to open, below 0.08 % to close, one breach, no cooldown.
    public static func defaults(for book: String) -> BookRules {
        BookRules(
            book: book, thresholdPct: DecimalNumber("0.1")!, clearBelowPct: DecimalNumber("0.08")!, minConsecutive: 1, cooldownSeconds: 0,
            staleAfterSeconds: 60, maxGapSeconds: 60)
    }

    /// Reads `object`'s keys (`threshold_pct`, `clear_below_pct`, `min_consecutive`,
    /// `cooldown_seconds`, `stale_after_seconds`, `max_gap_seconds`), each defaulting to
    /// `base`'s value, and rejects any other key.
    public init(reading object: ConfigObject, book: String, base: BookRules) throws(ConfigError) {
        let threshold = try BookRules.percent(object, "threshold_pct") ?? base.thresholdPct
        let clear = try BookRules.percent(object, "clear_below_pct") ?? base.clearBelowPct
        guard clear <= threshold else {
            throw object.error(object.value("clear_below_pct") == nil ? "threshold_pct" : "clear_below_pct", "clear_below_pct (\(clear)) must not be above threshold_pct (\(threshold))")
        }
        self.init(
            book: book, thresholdPct: threshold, clearBelowPct: clear,
            minConsecutive: try object.integer("min_consecutive", in: 1...10_000) ?? base.minConsecutive,
            cooldownSeconds: try object.integer("cooldown_seconds", in: 0...604_800) ?? base.cooldownSeconds,
            staleAfterSeconds: try object.integer("stale_after_seconds", in: 1...86_400) ?? base.staleAfterSeconds,
            maxGapSeconds: try object.integer("max_gap_seconds", in: 1...86_400) ?? base.maxGapSeconds)
        try object.rejectUnknownKeys()
    }

    /// A percentage in (0, 100] with at most 8 decimals, as `SpreadPercent` compares.
    static func percent(_ object: ConfigObject, _ key: String) throws(ConfigError) -> DecimalNumber? {
        guard let value = object.value(key) else { return nil }
        guard case .number(let literal) = value, let number = DecimalNumber(literal), let (units, scale) = ExactDecimal.units(number),
            units > 0, scale <= SpreadPercent.decimals, number <= DecimalNumber("100")!
        else {
            throw object.error(key, "must be a percentage above 0 and at most 100 with at most \(SpreadPercent.decimals) decimals")
        }
        return number
    }

    /// The stored form: the same keys `init(reading:)` reads.
    public var json: JSONValue {
        .object(
            JSONObject([
                ("threshold_pct", .number(thresholdPct.text)), ("clear_below_pct", .number(clearBelowPct.text)),
                ("min_consecutive", .number(String(minConsecutive))), ("cooldown_seconds", .number(String(cooldownSeconds))),
                ("stale_after_seconds", .number(String(staleAfterSeconds))), ("max_gap_seconds", .number(String(maxGapSeconds))),
            ]))
    }
}
