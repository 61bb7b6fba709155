/// One merged top list: the ranking source's order, CoinMarketCap's ids, symbols, names and
/// USD prices. It is what the merger writes to history and what the API serves.
public struct MergedSnapshot: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        /// 1..N over the published rows.
        public let rank: Int
        public let cmcId: Int64
        public let symbol: String
        public let name: String
        public let price: DecimalNumber
        /// The position in the ranking source's list, skipped and left-out records included.
        public let sourceRank: Int

        public init(rank: Int, cmcId: Int64, symbol: String, name: String, price: DecimalNumber, sourceRank: Int) {
            self.rank = rank
            self.cmcId = cmcId
            self.symbol = symbol
            self.name = name
            self.price = price
            self.sourceRank = sourceRank
        }
    }

    /// Which fetch a side of the merge came from.
    public struct Source: Sendable, Equatable {
        public let name: String
        public let fetchedAt: Timestamp
        public let entryID: String

        public init(name: String, fetchedAt: Timestamp, entryID: String) {
            self.name = name
            self.fetchedAt = fetchedAt
            self.entryID = entryID
        }
    }

    /// The later of the two fetch times.
    public let timestamp: Timestamp
    /// The earlier of the two fetch times: a snapshot is as old as its oldest source, so a
    /// stalled ranking cannot hide behind fresh prices.
    public var oldestFetch: Timestamp { min(prices.fetchedAt, ranks.fetchedAt) }

    /// Whole seconds from `oldestFetch` to `now`, never negative.
    public func ageSeconds(at now: Timestamp) -> Int64 { max(0, (now.milliseconds - oldestFetch.milliseconds) / 1000) }
    public let prices: Source
    public let ranks: Source
    public let rows: [Row]
    /// Ranking rows not published, by reason (`no_cmc_id`, `duplicate_cmc_id`,
    /// `no_price_record`, `null_price`).
    public let leftOut: [String: Int]

    public init(timestamp: Timestamp, prices: Source, ranks: Source, rows: [Row], leftOut: [String: Int]) {
        self.timestamp = timestamp
        self.prices = prices
        self.ranks = ranks
        self.rows = rows
        self.leftOut = leftOut
    }
}
