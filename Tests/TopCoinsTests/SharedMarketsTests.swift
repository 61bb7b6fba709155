import Testing

@testable import TopCoins

/// The join behind `similar_exchanges` and `markets`, on small hand-made inputs.
@Suite("SharedMarkets: the reference's counted markets, shared case-insensitively")
struct SharedMarketsTests {
    static func ticker(_ base: String, _ target: String, stale: Bool = false, anomaly: Bool = false) -> ExchangeTicker {
        ExchangeTicker(base: base, target: target, isStale: stale, isAnomaly: anomaly)
    }

    static let reference = [
        ticker("BTC", "MXN"), ticker("ETH", "MXN"), ticker("XRP", "USD"), ticker("NEAR", "MXN", stale: true), ticker("APE", "MXN", anomaly: true),
    ]
    static let exchanges = [
        ExchangeListing(id: "a", name: "A", trustScore: 9, trustScoreRank: 1), ExchangeListing(id: "b", name: "B", trustScore: nil, trustScoreRank: 2),
        ExchangeListing(id: "c", name: "C", trustScore: 8, trustScoreRank: 3), ExchangeListing(id: "bitso", name: "Bitso", trustScore: 7, trustScoreRank: 4),
    ]

    @Test func mostSharedFirstThenTrustRankAndOnlyCountedTickers() {
        let joined = SharedMarkets.join(
            reference: "bitso", referenceTickers: Self.reference, exchanges: Self.exchanges,
            candidates: [
                // Lower case still matches; a stale ticker of a shared market does not count.
                ("a", [Self.ticker("btc", "mxn"), Self.ticker("ETH", "MXN", stale: true), Self.ticker("DOGE", "MXN")]),
                // The reference's own stale and anomalous markets are not markets at all.
                ("b", [Self.ticker("NEAR", "MXN"), Self.ticker("APE", "MXN"), Self.ticker("Xrp", "Usd"), Self.ticker("ETH", "mxn")]),
                ("c", [Self.ticker("BTC", "MXN")]),
                ("d", [Self.ticker("BTC", "USD")]),
            ])
        #expect(joined.similar.map(\.exchangeId) == ["b", "a", "c"])
        #expect(joined.similar.map(\.sharedMarkets) == [2, 1, 1])
        #expect(joined.similar[0].trustScore == nil && joined.similar[0].exchangeName == "B")
        #expect(
            joined.markets.map { "\($0.exchangeId):\($0.market.base)/\($0.market.target)" } == [
                "a:BTC/MXN", "b:ETH/MXN", "b:XRP/USD", "bitso:BTC/MXN", "bitso:ETH/MXN", "bitso:XRP/USD", "c:BTC/MXN",
            ])
    }

    @Test func theReferenceIsNotItsOwnCandidateAndDuplicatesCountOnce() {
        let joined = SharedMarkets.join(
            reference: "bitso", referenceTickers: Self.reference, exchanges: Self.exchanges,
            candidates: [("bitso", Self.reference), ("c", [Self.ticker("BTC", "MXN"), Self.ticker("btc", "MXN")])])
        #expect(joined.similar.map(\.exchangeId) == ["c"])
        #expect(joined.similar.first?.sharedMarkets == 1)
    }

    @Test func anUnrankedExchangeComesAfterRankedOnesWithTheSameCount() {
        let joined = SharedMarkets.join(
            reference: "r", referenceTickers: [Self.ticker("BTC", "MXN")],
            exchanges: [ExchangeListing(id: "x", name: "X", trustScore: nil, trustScoreRank: nil), ExchangeListing(id: "y", name: "Y", trustScore: 5, trustScoreRank: 90)],
            candidates: [("x", [Self.ticker("BTC", "MXN")]), ("y", [Self.ticker("BTC", "MXN")])])
        #expect(joined.similar.map(\.exchangeId) == ["y", "x"])
    }

    @Test func storedTablesRoundTripAndGarbageIsAnError() throws {
        let joined = SharedMarkets.join(
            reference: "bitso", referenceTickers: Self.reference, exchanges: Self.exchanges, candidates: [("b", [Self.ticker("ETH", "MXN")])])
        let tables = ExchangeTables(
            reference: "bitso", fetchedAt: Timestamp(milliseconds: 1_764_633_600_123), nextRunAt: Timestamp(milliseconds: 1_764_720_000_000),
            exchangesConsidered: 1, tickersConsidered: 6, similar: joined.similar, markets: joined.markets)
        #expect(try ExchangeTables(decoding: tables.encoded) == tables)
        #expect(throws: ExchangeTables.DecodingError.self) { try ExchangeTables(decoding: Array(#"{"similar":[],"markets":[["a","b"]]}"#.utf8)) }
        #expect(throws: ExchangeTables.DecodingError.self) { try ExchangeTables(decoding: Array("[1".utf8)) }
    }
}
