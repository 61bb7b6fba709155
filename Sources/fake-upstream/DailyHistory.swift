import Foundation
import Synchronization
import TopCoins

/// The daily history the fake serves as CryptoCompare's `histoday` and CoinGecko's
/// `market_chart/range`: a candle per UTC day for every coin of the shipped listing, from its
/// first day through today, generated at first use from the project's one PRNG, so the same
/// coin always has the same days on every machine. BTC and ETH start on 2021-01-01 near their
/// prices of that day (29,000 and 730), so the brief's 2022 questions answer offline; every
/// other coin starts on a day of 2024 (spread by its id) at its listing price, so the top N
/// of the last 365 days or more can be backfilled. Each walk is bent, evenly in log terms over
/// its days, to end today at the coin's listing price, so backfilled days meet the live ones
/// without a jump on a chart.
final class DailyHistory: Sendable {
    struct Coin: Sendable {
        let symbol: String
        let slug: String
        let firstDay: UTCDay
        let firstOpen: DecimalNumber
        /// The listing's price, where today's close lands.
        let listingPrice: Double?
        let seed: UInt64
    }

    struct Candle: Sendable {
        let day: UTCDay
        let open: DecimalNumber
        let high: DecimalNumber
        let low: DecimalNumber
        let close: DecimalNumber
        /// Units of the coin traded that day.
        let volume: DecimalNumber
    }

    static let anchors: [String: (day: String, open: String)] = ["BTC": ("2021-01-01", "29000.00"), "ETH": ("2021-01-01", "730.00")]
    static let otherCoinsStart = UTCDay(iso8601: "2024-01-01")!

    let bySymbol: [String: Coin]
    let bySlug: [String: Coin]
    private let cache = Mutex<[String: [Candle]]>([:])

    init(listing: JSONValue) {
        var bySymbol: [String: Coin] = [:]
        var bySlug: [String: Coin] = [:]
        if case .array(let coins)? = listing["data"] {
            for coin in coins {
                guard case .string(let symbol)? = coin["symbol"], case .string(let slug)? = coin["slug"], case .number(let id)? = coin["id"],
                    let cmcId = Int64(id), bySymbol[symbol.uppercased()] == nil
                else { continue }
                let anchor = DailyHistory.anchors[symbol]
                var listingPrice: DecimalNumber?
                if case .number(let price)? = coin["quote"]?["USD"]?["price"] { listingPrice = DecimalNumber(price) }
                let firstOpen = anchor.flatMap { DecimalNumber($0.open) } ?? listingPrice
                guard let firstOpen else { continue }
                let firstDay = anchor.flatMap { UTCDay(iso8601: $0.day) } ?? DailyHistory.otherCoinsStart.adding(days: cmcId % 366)
                let entry = Coin(symbol: symbol, slug: slug, firstDay: firstDay, firstOpen: firstOpen, listingPrice: listingPrice?.doubleValue, seed: DailyHistory.seed(symbol))
                bySymbol[symbol.uppercased()] = entry
                bySlug[slug] = entry
            }
        }
        self.bySymbol = bySymbol
        self.bySlug = bySlug
    }

    /// FNV-1a of the symbol: each coin walks its own way.
    static func seed(_ symbol: String) -> UInt64 {
        symbol.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    /// The coin's candles from its first day through `today`.
    func candles(of coin: Coin, through today: UTCDay) -> [Candle] {
        if let cached = cache.withLock({ $0[coin.symbol] }), cached.last.map({ $0.day >= today }) ?? true { return cached }
        var walk = PriceWalk(seed: coin.seed)
        var random = SplitMix64(seed: coin.seed ^ 0x5DEE_CE66)
        var candles: [Candle] = []
        var open = coin.firstOpen
        var day = coin.firstDay
        while day <= today {
            let close = walk.step(open)
            let top = max(open, close)
            let bottom = min(open, close)
            candles.append(
                Candle(
                    day: day, open: open, high: DailyHistory.moved(top, basisPoints: Int64(random.next() % 60)),
                    low: DailyHistory.moved(bottom, basisPoints: -Int64(random.next() % 60)), close: close,
                    volume: DecimalNumber(mantissa: Int64(100_000 + random.next() % 100_000_000), scale: 2)))
            open = close
            day = day.adding(days: 1)
        }
        if let target = coin.listingPrice, let last = candles.last?.close.doubleValue, target > 0, last > 0 {
            candles = DailyHistory.bent(candles, by: target / last)
        }
        cache.withLock { $0[coin.symbol] = candles }
        return candles
    }

    /// The candles scaled so the last close moves by `ratio` and the first open not at all,
    /// day by day evenly in log terms; each price keeps its number of decimals.
    static func bent(_ candles: [Candle], by ratio: Double) -> [Candle] {
        let days = Double(candles.count)
        let scaled = PriceWalk.scaled
        return candles.enumerated().map { index, candle in
            let (before, after) = (Foundation.pow(ratio, Double(index) / days), Foundation.pow(ratio, Double(index + 1) / days))
            let (open, close) = (scaled(candle.open, before), scaled(candle.close, after))
            return Candle(
                day: candle.day, open: open, high: max(scaled(candle.high, after), open, close), low: min(scaled(candle.low, after), open, close),
                close: close, volume: candle.volume)
        }
    }

    /// `price` moved by a share in basis points, on its own digits (as `PriceWalk` does).
    static func moved(_ price: DecimalNumber, basisPoints: Int64) -> DecimalNumber {
        guard let (mantissa, scale) = price.scaled else { return price }
        let delta = Int64(10_000).dividingFullWidth(mantissa.multipliedFullWidth(by: basisPoints)).quotient
        let (moved, overflow) = mantissa.addingReportingOverflow(delta)
        return overflow ? price : DecimalNumber(mantissa: moved, scale: scale)
    }

    // MARK: CryptoCompare min-api

    /// `/data/v2/histoday?fsym=&tsym=USD&limit=&toTs=`: `limit + 1` candles ending with the day
    /// holding `toTs` (today at the latest), zeros for days before the coin's first, and
    /// CryptoCompare's error body under HTTP 200 for a pair it does not know.
    func histoday(query: [String: String], today: UTCDay) -> [UInt8] {
        guard let symbol = query["fsym"], let coin = bySymbol[symbol.uppercased()], query["tsym"]?.uppercased() == "USD" else {
            let pair = "\(query["fsym"] ?? "")-\(query["tsym"] ?? "")"
            return DailyHistory.minAPIError(type: 2, message: "cccagg_or_exchange market does not exist for this coin pair (\(pair))")
        }
        guard let limit = Int64(query["limit"] ?? "30"), (1...2000).contains(limit) else {
            return DailyHistory.minAPIError(type: 2, message: "limit param is not valid, it should be an integer between 1 and 2000")
        }
        let toTs = query["toTs"].flatMap { Int64($0) }.map { Timestamp(milliseconds: $0 * 1000) } ?? .now
        let last = min(UTCDay(containing: toTs), today)
        let candles = self.candles(of: coin, through: today)
        var writer = JSONWriter(reservingCapacity: Int(limit + 1) * 180)
        let first = last.adding(days: -limit)
        writer.raw(#"{"Response":"Success","Message":"","HasWarning":false,"Type":100,"RateLimit":{},"Data":{"Aggregated":false,"TimeFrom":"#)
        writer.raw("\(first.start.milliseconds / 1000),\"TimeTo\":\(last.start.milliseconds / 1000),\"Data\":[")
        var day = first
        while day <= last {
            if day != first { writer.raw(",") }
            let time = day.start.milliseconds / 1000
            let index = Int(day.number - coin.firstDay.number)
            if index >= 0, index < candles.count {
                let candle = candles[index]
                let volumeTo = candle.volume.doubleValue * candle.close.doubleValue
                writer.raw(
                    "{\"time\":\(time),\"high\":\(candle.high),\"low\":\(candle.low),\"open\":\(candle.open),\"volumefrom\":\(candle.volume),"
                        + "\"volumeto\":\(volumeTo),\"close\":\(candle.close),\"conversionType\":\"direct\",\"conversionSymbol\":\"\"}")
            } else {
                writer.raw(
                    "{\"time\":\(time),\"high\":0,\"low\":0,\"open\":0,\"volumefrom\":0,\"volumeto\":0,\"close\":0,\"conversionType\":\"direct\",\"conversionSymbol\":\"\"}")
            }
            day = day.adding(days: 1)
        }
        writer.raw("]}}")
        return writer.bytes
    }

    static func minAPIError(type: Int, message: String) -> [UInt8] {
        var writer = JSONWriter()
        writer.raw(#"{"Response":"Error","Message":"#)
        writer.string(message)
        writer.raw(#","HasWarning":false,"Type":\#(type),"RateLimit":{},"Data":{},"ParamWithError":"fsym"}"#)
        return writer.bytes
    }

    // MARK: CoinGecko

    /// `/api/v3/coins/{id}/market_chart/range?vs_currency=usd&from=&to=`: the daily closes (and
    /// volumes in USD) of the days whose midnight lies in `from...to`, as `[ms, value]` pairs;
    /// nil for an unknown id (CoinGecko answers 404 `{"error":"coin not found"}`).
    func marketChart(slug: String, query: [String: String], today: UTCDay) -> [UInt8]? {
        guard let coin = bySlug[slug] else { return nil }
        let from = query["from"].flatMap { Int64($0) } ?? 0
        let to = query["to"].flatMap { Int64($0) } ?? Timestamp.now.milliseconds / 1000
        let candles = self.candles(of: coin, through: today).filter { $0.day.start.milliseconds / 1000 >= from && $0.day.start.milliseconds / 1000 <= to }
        var writer = JSONWriter(reservingCapacity: candles.count * 80)
        writer.raw(#"{"prices":["#)
        for (index, candle) in candles.enumerated() { writer.raw("\(index == 0 ? "" : ",")[\(candle.day.start.milliseconds),\(candle.close)]") }
        writer.raw(#"],"market_caps":[],"total_volumes":["#)
        for (index, candle) in candles.enumerated() {
            writer.raw("\(index == 0 ? "" : ",")[\(candle.day.start.milliseconds),\(candle.volume.doubleValue * candle.close.doubleValue)]")
        }
        writer.raw("]}")
        return writer.bytes
    }
}

/// Requests per calendar second and minute, as CryptoCompare counts a key's calls: over 20 in a
/// second or 300 in a minute, the fake answers the min-api's rate-limit body (Type 99).
final class CallCounter: Sendable {
    static let maxPerSecond = 20
    static let maxPerMinute = 300
    private let counts = Mutex<(second: Int64, inSecond: Int, minute: Int64, inMinute: Int)>((0, 0, 0, 0))

    /// Counts a call at `time`; the rate-limit body when it is over the limits.
    func count(at time: Timestamp) -> [UInt8]? {
        let (second, minute) = (time.milliseconds / 1000, time.milliseconds / 60_000)
        let (inSecond, inMinute) = counts.withLock { counts -> (Int, Int) in
            if counts.second != second { counts = (second, 0, counts.minute, counts.inMinute) }
            if counts.minute != minute { counts = (counts.second, counts.inSecond, minute, 0) }
            counts.inSecond += 1
            counts.inMinute += 1
            return (counts.inSecond, counts.inMinute)
        }
        guard inSecond > CallCounter.maxPerSecond || inMinute > CallCounter.maxPerMinute else { return nil }
        return Array(
            (#"{"Response":"Error","Message":"You are over your rate limit please upgrade your account!","HasWarning":false,"Type":99,"#
                + #""RateLimit":{"calls_made":{"second":\#(inSecond),"minute":\#(inMinute)},"max_calls":{"second":\#(CallCounter.maxPerSecond),"minute":\#(CallCounter.maxPerMinute)}},"#
                + #""Data":{},"Cooldown":1}"#).utf8)
    }
}
