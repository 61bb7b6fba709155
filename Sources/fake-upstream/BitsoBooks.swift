import TopCoins

/// Bitso's public `GET /v3/order_book/?book=` as the fake serves it: the `btc_mxn` and
/// `usd_mxn` books in Bitso's exact shape (`success`, `payload{asks, bids, updated_at,
/// sequence}`, every number a string, asks ascending, bids descending, five levels a side),
/// and any other book as Bitso's `0301` "Unknown OrderBook" under HTTP 400.
///
/// The book a request sees is a function of the seed, the book and the wall-clock 5-second
/// slot it arrives in, so every poller in one slot sees the same book and a demo replays
/// exactly. Slots run in a cycle of 24 (two minutes); `usd_mxn` runs 12 slots behind
/// `btc_mxn`, so the two books' alerts do not open together. Within the cycle:
///
/// | slots  | book                                                   |
/// |--------|--------------------------------------------------------|
/// | 0–3    | tight: spread 0.02–0.05 %                              |
/// | 4–7    | wide: spread 0.12–0.18 %, above the 0.1 % threshold    |
/// | 8–9    | tight                                                  |
/// | 10     | crossed: best bid above best ask                       |
/// | 11–12  | tight                                                  |
/// | 13     | one-sided: no bids                                     |
/// | 14–15  | tight                                                  |
/// | 16     | stale: `updated_at` ten minutes before the slot        |
/// | 17–19  | wide                                                   |
/// | 20–23  | tight                                                  |
///
/// So within its first two minutes a monitor with the default thresholds (0.1 % to open,
/// below 0.08 % to close) sees each book open and close two episodes and each flag once.
/// Mid prices wander within 0.2 % of 1.7 M MXN (`btc_mxn`) and 18.55 MXN (`usd_mxn`);
/// `sequence` is the slot number, which increases.
struct BitsoBooks: Sendable {
    struct Market: Sendable {
        let book: String
        let mid: Double
        /// Fraction digits of prices and amounts, as Bitso's tick sizes have them.
        let priceDigits: Int
        let amountDigits: Int
        /// Slots this book runs behind the cycle.
        let phaseOffset: Int64
        let typicalAmount: Double
    }

    static let slotMilliseconds: Int64 = 5000
    static let cycleSlots: Int64 = 24
    static let levels = 5
    static let markets = [
        Market(book: "btc_mxn", mid: 1_700_000, priceDigits: 2, amountDigits: 8, phaseOffset: 0, typicalAmount: 0.05),
        Market(book: "usd_mxn", mid: 18.55, priceDigits: 4, amountDigits: 2, phaseOffset: 12, typicalAmount: 2500),
    ]
    static let unknownBook = Array(#"{"success":false,"error":{"code":"0301","message":"Unknown OrderBook"}}"#.utf8)

    /// What a slot's book looks like, by its place in the cycle.
    enum Shape: Equatable {
        case tight, wide, crossed, oneSided, stale

        init(phase: Int64) {
            switch phase {
            case 4...7, 17...19: self = .wide
            case 10: self = .crossed
            case 13: self = .oneSided
            case 16: self = .stale
            default: self = .tight
            }
        }
    }

    let seed: UInt64

    /// The answer to a request for `book` arriving at `time`: HTTP status and body.
    func answer(book: String?, at time: Timestamp) -> (status: Int, body: [UInt8]) {
        guard let market = BitsoBooks.markets.first(where: { $0.book == book }) else { return (400, BitsoBooks.unknownBook) }
        // Times before 1970 are not served, so truncating division is the slot.
        return (200, JSONWriter.encode(self.book(market, slot: time.milliseconds / BitsoBooks.slotMilliseconds)))
    }

    func book(_ market: Market, slot: Int64) -> JSONValue {
        let phase = ((slot - market.phaseOffset) % BitsoBooks.cycleSlots + BitsoBooks.cycleSlots) % BitsoBooks.cycleSlots
        let shape = Shape(phase: phase)
        var random = SplitMix64(seed: seed ^ UInt64(bitPattern: slot) &* 0x2545_F491_4F6C_DD1D ^ (market.book == "btc_mxn" ? 0 : 0xA5A5_A5A5))
        func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }

        let mid = market.mid * (1 + (uniform() - 0.5) * 0.004)
        let spread: Double
        switch shape {
        case .wide: spread = 0.0012 + uniform() * 0.0006
        case .crossed: spread = -0.0004
        default: spread = 0.0002 + uniform() * 0.0003
        }
        let unit = pow10(market.priceDigits)
        let tick = 1.0 / unit
        let bestAsk = ((mid * (1 + spread / 2)) * unit).rounded() / unit
        let bestBid = ((mid * (1 - spread / 2)) * unit).rounded() / unit
        // Each level a few ticks to a few hundredths of a percent further out.
        func side(from best: Double, outward: Double) -> [JSONValue] {
            var price = best
            var levels: [JSONValue] = []
            for _ in 0..<BitsoBooks.levels {
                let amount = market.typicalAmount * (0.2 + uniform() * 1.6)
                levels.append(
                    .object(
                        JSONObject([
                            ("book", .string(market.book)), ("price", .string(fixed(price, digits: market.priceDigits))),
                            ("amount", .string(fixed(amount, digits: market.amountDigits))),
                        ])))
                price += outward * max(tick, ((mid * (0.00005 + uniform() * 0.0002)) * unit).rounded() / unit)
            }
            return levels
        }
        let slotStart = Timestamp(milliseconds: slot * BitsoBooks.slotMilliseconds)
        let updatedAt = shape == .stale ? slotStart.adding(milliseconds: -600_000) : slotStart
        let payload = JSONObject([
            ("asks", .array(side(from: bestAsk, outward: 1))),
            ("bids", .array(shape == .oneSided ? [] : side(from: bestBid, outward: -1))),
            // Bitso's own spelling: milliseconds and a `+00:00` offset.
            ("updated_at", .string(String(updatedAt.iso8601.dropLast()) + "+00:00")),
            ("sequence", .string(String(slot))),
        ])
        return .object(JSONObject([("success", .bool(true)), ("payload", .object(payload))]))
    }

    func pow10(_ digits: Int) -> Double { (0..<digits).reduce(1.0) { value, _ in value * 10 } }

    /// `value` with exactly `digits` fraction digits, never an exponent.
    func fixed(_ value: Double, digits: Int) -> String {
        let scaled = Int64((value * pow10(digits)).rounded())
        let text = String(scaled)
        guard digits > 0 else { return text }
        let padded = String(repeating: "0", count: max(0, digits + 1 - text.count)) + text
        return String(padded.dropLast(digits)) + "." + String(padded.suffix(digits))
    }
}
