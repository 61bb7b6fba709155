/// One asset's day as an upstream's daily history reports it (backfill from before the
/// service ran): `open high low close volume` for the UTC day starting at `day`, and which
/// upstream said so.
public struct DailyCandle: Sendable, Equatable {
    public static let dayMilliseconds: Int64 = 86_400_000

    /// The UTC midnight the day starts at.
    public let day: Timestamp
    public let open: DecimalNumber
    public let high: DecimalNumber
    public let low: DecimalNumber
    public let close: DecimalNumber
    /// The day's traded volume in the asset's units; nil when the upstream reports none.
    public let volume: DecimalNumber?
    /// The fetcher config's `source` (`cryptocompare`, `coingecko`).
    public let source: String

    /// A candle of the day holding `time` (any instant of the day: upstreams differ on which).
    public init(dayOf time: Timestamp, open: DecimalNumber, high: DecimalNumber, low: DecimalNumber, close: DecimalNumber, volume: DecimalNumber?, source: String) {
        self.day = Timestamp(milliseconds: time.milliseconds.floorDividedWithRemainder(by: DailyCandle.dayMilliseconds).0 * DailyCandle.dayMilliseconds)
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        self.source = source
    }

    /// The stored value: `open high low close volume source`, space-separated text (`-` for no
    /// volume), so every digit the upstream sent is kept and `redis-cli` shows it plainly.
    public var encoded: String {
        "\(open.text) \(high.text) \(low.text) \(close.text) \(volume?.text ?? "-") \(source)"
    }

    /// The hash field: the day's start in unix ms.
    public var field: String { String(day.milliseconds) }

    /// Parses a stored field and value; nil for anything `encoded` and `field` did not write
    /// (stored data is input too).
    public init?(field: some StringProtocol, encoded: some StringProtocol) {
        let parts = encoded.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 6, let time = Timestamp(plausibleText: field), time.milliseconds % DailyCandle.dayMilliseconds == 0,
            let open = DecimalNumber(parts[0]), let high = DecimalNumber(parts[1]), let low = DecimalNumber(parts[2]), let close = DecimalNumber(parts[3]),
            !parts[5].isEmpty
        else { return nil }
        let volume: DecimalNumber?
        if parts[4] == "-" {
            volume = nil
        } else {
            guard let value = DecimalNumber(parts[4]) else { return nil }
            volume = value
        }
        self.init(dayOf: time, open: open, high: high, low: low, close: close, volume: volume, source: String(parts[5]))
    }

    /// The candle as a day bucket of the series, named by its source.
    public var bucket: PriceBucket {
        PriceBucket(start: day, width: DailyCandle.dayMilliseconds, open: open, high: high, low: low, close: close, count: 0, source: source)
    }

    /// Day buckets of `own` points with the days `candles` cover replaced by the candle: a
    /// backfilled day shows what its upstream reported, any other day what TopCoins recorded.
    /// Both inputs ascending by start; so is the result.
    public static func overlay(_ candles: [PriceBucket], on own: [PriceBucket]) -> [PriceBucket] {
        var result: [PriceBucket] = []
        result.reserveCapacity(candles.count + own.count)
        var (i, j) = (0, 0)
        while i < candles.count || j < own.count {
            if j == own.count || (i < candles.count && candles[i].start <= own[j].start) {
                if j < own.count, own[j].start == candles[i].start { j += 1 }
                result.append(candles[i])
                i += 1
            } else {
                result.append(own[j])
                j += 1
            }
        }
        return result
    }
}
