import Testing

@testable import TopCoins

/// Builders for fetched snapshots shaped like the fetchers' stream messages.
enum SnapshotFixtures {
    static func price(_ id: Int64, _ symbol: String, _ name: String, _ price: String?) -> JSONObject {
        JSONObject([
            ("cmc_id", .number(String(id))), ("symbol", .string(symbol)), ("name", .string(name)),
            ("price_usd", price.map { .number($0) } ?? .null),
        ])
    }

    static func rank(_ id: Int64?, _ symbol: String, sourceRank: Int) -> JSONObject {
        JSONObject([
            ("cmc_id", id.map { .number(String($0)) } ?? .null), ("symbol", .string(symbol)),
            ("source_rank", .number(String(sourceRank))),
        ])
    }

    static func side(_ source: String, at milliseconds: Int64, _ records: [JSONObject], entry: String = "1-0") -> MergeRule.Side {
        MergeRule.Side(
            entryID: entry,
            snapshot: FetchedSnapshot(source: source, fetchedAt: Timestamp(milliseconds: milliseconds), records: records, skipped: [:]))
    }
}

struct MergeRuleTests {
    typealias F = SnapshotFixtures

    let prices = F.side(
        "coinmarketcap", at: 1_000_000,
        [
            F.price(1, "BTC", "Bitcoin", "61923.4"),
            F.price(1027, "ETH", "Ethereum", "2911.27"),
            F.price(825, "USDT", "Tether USDt", "0.9998"),
            F.price(8085, "stETH", "Lido Staked ETH", "2905.1"),
            F.price(666, "NULLP", "Null Price", nil),
        ], entry: "10-0")

    @Test func rowsFollowTheRankingOrderAndAreRenumbered() {
        let ranks = F.side("cryptocompare", at: 1_030_000, [F.rank(825, "USDT", sourceRank: 1), F.rank(1, "BTC", sourceRank: 2), F.rank(1027, "ETH", sourceRank: 3)], entry: "11-0")
        let merged = MergeRule.merge(prices: prices, ranks: ranks)
        #expect(merged.rows.map(\.cmcId) == [825, 1, 1027])
        #expect(merged.rows.map(\.rank) == [1, 2, 3])
        #expect(merged.rows.map(\.price.text) == ["0.9998", "61923.4", "2911.27"])
        #expect(merged.leftOut.isEmpty)
        #expect(merged.prices == .init(name: "coinmarketcap", fetchedAt: Timestamp(milliseconds: 1_000_000), entryID: "10-0"))
        #expect(merged.ranks == .init(name: "cryptocompare", fetchedAt: Timestamp(milliseconds: 1_030_000), entryID: "11-0"))
    }

    @Test func leftOutRowsAreCountedByReasonAndSourceRankIsKept() {
        let ranks = F.side(
            "cryptocompare", at: 990_000,
            [
                F.rank(nil, "NOID", sourceRank: 1),
                F.rank(1, "BTC", sourceRank: 2),
                F.rank(424242, "GONE", sourceRank: 3),
                F.rank(666, "NULLP", sourceRank: 4),
                F.rank(1, "BTC2", sourceRank: 5),
                F.rank(1027, "ETH", sourceRank: 6),
            ])
        let merged = MergeRule.merge(prices: prices, ranks: ranks)
        #expect(merged.rows.map(\.cmcId) == [1, 1027])
        #expect(merged.rows.map(\.rank) == [1, 2])
        #expect(merged.rows.map(\.sourceRank) == [2, 6])
        #expect(merged.leftOut == ["no_cmc_id": 1, "no_price_record": 1, "null_price": 1, "duplicate_cmc_id": 1])
    }

    @Test func symbolAndNameComeFromThePriceSource() {
        let ranks = F.side("cryptocompare", at: 1_000_000, [F.rank(8085, "STETH", sourceRank: 1)])
        let row = try! #require(MergeRule.merge(prices: prices, ranks: ranks).rows.first)
        #expect(row.symbol == "stETH")
        #expect(row.name == "Lido Staked ETH")
    }

    @Test func theFirstOfDuplicateIdsWinsEvenWhenItIsLeftOut() {
        // The first BTC row has a price; the duplicate later in the ranking never replaces it.
        let ranks = F.side("cryptocompare", at: 1_000_000, [F.rank(666, "NULLP", sourceRank: 1), F.rank(666, "NULLP", sourceRank: 2)])
        let merged = MergeRule.merge(prices: prices, ranks: ranks)
        #expect(merged.rows.isEmpty)
        #expect(merged.leftOut == ["null_price": 1, "duplicate_cmc_id": 1])
    }

    @Test func anEmptySideMergesToNoRows() {
        let emptyRanks = F.side("cryptocompare", at: 1_000_000, [])
        #expect(MergeRule.merge(prices: prices, ranks: emptyRanks).rows.isEmpty)
        let emptyPrices = F.side("coinmarketcap", at: 1_000_000, [])
        let ranks = F.side("cryptocompare", at: 1_000_000, [F.rank(1, "BTC", sourceRank: 1), F.rank(2, "LTC", sourceRank: 2)])
        let merged = MergeRule.merge(prices: emptyPrices, ranks: ranks)
        #expect(merged.rows.isEmpty)
        #expect(merged.leftOut == ["no_price_record": 2])
    }

    @Test func allRowsUnmatched() {
        let ranks = F.side("cryptocompare", at: 1_000_000, [F.rank(7, "A", sourceRank: 1), F.rank(nil, "B", sourceRank: 2), F.rank(9, "C", sourceRank: 3)])
        let merged = MergeRule.merge(prices: prices, ranks: ranks)
        #expect(merged.rows.isEmpty)
        #expect(merged.leftOut == ["no_price_record": 2, "no_cmc_id": 1])
    }

    @Test func theTimestampIsTheLaterFetch() {
        let later = F.side("cryptocompare", at: 1_045_000, [F.rank(1, "BTC", sourceRank: 1)])
        #expect(MergeRule.merge(prices: prices, ranks: later).timestamp == Timestamp(milliseconds: 1_045_000))
        let earlier = F.side("cryptocompare", at: 955_000, [F.rank(1, "BTC", sourceRank: 1)])
        #expect(MergeRule.merge(prices: prices, ranks: earlier).timestamp == Timestamp(milliseconds: 1_000_000))
    }

    static let windowCases: [(Int64, Bool)] = [
        (0, true), (59_999, true), (60_000, true), (60_001, false), (-60_000, true), (-60_001, false), (3_600_000, false),
    ]

    @Test(arguments: windowCases)
    func theWindowIsInclusiveAtExactlySixtySeconds(offset: Int64, pairable: Bool) {
        let ranks = F.side("cryptocompare", at: 1_000_000 + offset, [])
        #expect(MergeRule.isPairable(prices.snapshot, ranks.snapshot, windowSeconds: 60) == pairable)
    }

    @Test func mergingTheSamePairTwiceGivesTheSameSnapshot() {
        let ranks = F.side("cryptocompare", at: 1_010_000, [F.rank(1027, "ETH", sourceRank: 1), F.rank(1, "BTC", sourceRank: 2)])
        #expect(MergeRule.merge(prices: prices, ranks: ranks) == MergeRule.merge(prices: prices, ranks: ranks))
    }

    // MARK: - Records against the schema

    @Test func recordsThatDoNotFitTheSchemaAreLeftOutAndCounted() {
        let prices = F.side(
            "coinmarketcap", at: 1_000_000,
            [
                JSONObject(), F.price(1, "BTC", "Bitcoin", "61923.4"),
                JSONObject([("cmc_id", .string("1027")), ("symbol", .string("ETH")), ("name", .string("Ethereum")), ("price_usd", .number("2911"))]),
                JSONObject([("cmc_id", .number("825")), ("symbol", .number("7")), ("name", .string("Tether")), ("price_usd", .number("1"))]),
                JSONObject([("cmc_id", .number("74")), ("symbol", .string("DOGE")), ("name", .string("Dogecoin")), ("price_usd", .string("0.1"))]),
            ])
        let ranks = F.side(
            "cryptocompare", at: 1_000_000,
            [
                JSONObject(), F.rank(1, "BTC", sourceRank: 2), JSONObject([("cmc_id", .string("x"))]), F.rank(1027, "ETH", sourceRank: 4),
                F.rank(nil, "NOID", sourceRank: 5),
            ])
        let merged = MergeRule.merge(prices: prices, ranks: ranks)
        #expect(merged.rows.map(\.cmcId) == [1])
        #expect(merged.leftOut == ["invalid_price_record": 4, "invalid_rank_record": 2, "no_price_record": 1, "no_cmc_id": 1])
    }

    @Test func emptyRecordsMergeToNoRows() {
        // What the merger refuses to write: a well-formed entry whose records are all `{}`.
        let prices = F.side("coinmarketcap", at: 1_000_000, Array(repeating: JSONObject(), count: 3))
        let merged = MergeRule.merge(prices: prices, ranks: F.side("cryptocompare", at: 1_000_000, [F.rank(1, "BTC", sourceRank: 1)]))
        #expect(merged.rows.isEmpty)
        #expect(merged.leftOut == ["invalid_price_record": 3, "no_price_record": 1])
    }

    @Test func anImplausibleSourceRankFallsBackToThePosition() {
        let ranks = F.side(
            "cryptocompare", at: 1_000_000,
            [JSONObject([("cmc_id", .number("1")), ("source_rank", .number("-9223372036854775808"))])])
        #expect(MergeRule.merge(prices: prices, ranks: ranks).rows.first?.sourceRank == 1)
    }
}
