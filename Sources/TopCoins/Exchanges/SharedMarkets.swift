/// A market as the tables hold it: base and target upper-cased, so `btc/mxn` on one exchange
/// and `BTC/MXN` on another are one market (CoinGecko spells symbols as each exchange does).
public struct Market: Sendable, Hashable, Comparable {
    public let base: String
    public let target: String

    public init(base: String, target: String) {
        self.base = base.uppercased()
        self.target = target.uppercased()
    }

    public static func < (a: Market, b: Market) -> Bool { (a.base, a.target) < (b.base, b.target) }
}

/// One ticker of an exchange, as far as the tables need it.
public struct ExchangeTicker: Sendable, Equatable {
    public let market: Market
    public let isStale: Bool
    public let isAnomaly: Bool

    public init(base: String, target: String, isStale: Bool, isAnomaly: Bool) {
        market = Market(base: base, target: target)
        self.isStale = isStale
        self.isAnomaly = isAnomaly
    }

    /// A stale or anomalous ticker says nothing about what an exchange offers now.
    public var counts: Bool { !isStale && !isAnomaly }
}

/// An exchange of the upstream's list: its name and trust score (1–10, sometimes null).
public struct ExchangeListing: Sendable, Equatable {
    public let id: String
    public let name: String
    public let trustScore: Int64?
    public let trustScoreRank: Int64?

    public init(id: String, name: String, trustScore: Int64?, trustScoreRank: Int64?) {
        self.id = id
        self.name = name
        self.trustScore = trustScore
        self.trustScoreRank = trustScoreRank
    }
}

/// A row of `similar_exchanges`.
public struct SimilarExchange: Sendable, Equatable {
    public let exchangeId: String
    public let exchangeName: String
    public let trustScore: Int64?
    public let trustScoreRank: Int64?
    public let sharedMarkets: Int

    public init(exchangeId: String, exchangeName: String, trustScore: Int64?, trustScoreRank: Int64?, sharedMarkets: Int) {
        self.exchangeId = exchangeId
        self.exchangeName = exchangeName
        self.trustScore = trustScore
        self.trustScoreRank = trustScoreRank
        self.sharedMarkets = sharedMarkets
    }
}

/// A row of `markets`: an exchange offers the market.
public struct MarketRow: Sendable, Equatable {
    public let exchangeId: String
    public let market: Market

    public init(exchangeId: String, market: Market) {
        self.exchangeId = exchangeId
        self.market = market
    }
}

/// The join behind the two tables, pure so it is tested on its own: the reference's markets
/// are those of its counted tickers; a candidate shares each of them it lists with a counted
/// ticker. `similar` holds every candidate sharing at least one, most shared first, then by
/// trust-score rank (unranked last), then id; `markets` holds the reference's markets and each
/// similar exchange's shared ones, by exchange id, base and target.
public enum SharedMarkets {
    public static func join(
        reference: String, referenceTickers: [ExchangeTicker], exchanges: [ExchangeListing], candidates: [(id: String, tickers: [ExchangeTicker])]
    ) -> (similar: [SimilarExchange], markets: [MarketRow]) {
        let referenceMarkets = Set(referenceTickers.filter(\.counts).map(\.market))
        let listings = Dictionary(exchanges.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var similar: [SimilarExchange] = []
        var rows = referenceMarkets.map { MarketRow(exchangeId: reference, market: $0) }
        for candidate in candidates where candidate.id != reference {
            let shared = Set(candidate.tickers.filter(\.counts).map(\.market)).intersection(referenceMarkets)
            guard !shared.isEmpty else { continue }
            let listing = listings[candidate.id]
            similar.append(
                SimilarExchange(
                    exchangeId: candidate.id, exchangeName: listing?.name ?? candidate.id, trustScore: listing?.trustScore,
                    trustScoreRank: listing?.trustScoreRank, sharedMarkets: shared.count))
            rows += shared.map { MarketRow(exchangeId: candidate.id, market: $0) }
        }
        similar.sort { a, b in
            if a.sharedMarkets != b.sharedMarkets { return a.sharedMarkets > b.sharedMarkets }
            let rankA = a.trustScoreRank ?? .max
            let rankB = b.trustScoreRank ?? .max
            return rankA != rankB ? rankA < rankB : a.exchangeId < b.exchangeId
        }
        rows.sort { ($0.exchangeId, $0.market.base, $0.market.target) < ($1.exchangeId, $1.market.base, $1.market.target) }
        return (similar, rows)
    }
}
