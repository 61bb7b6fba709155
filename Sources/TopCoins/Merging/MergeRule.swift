/// The join of a price snapshot and a rank snapshot on the CoinMarketCap id, exactly as the
/// design's merge rules say: ranking order; a row needs a CMC id, a price record with that id
/// and a non-null price; the first of duplicate ids wins; symbol and name come from the price
/// source; ranks are renumbered 1..N.
///
/// Records are held to the field schema below, the one the fetcher configs must publish (the
/// config loader refuses a price or rank config that lacks it): a stream entry is outside
/// input, and a record that does not fit is left out and counted, never merged half-read.
public enum MergeRule {
    public enum LeftOut: String, Sendable, CaseIterable {
        case noCmcId = "no_cmc_id"
        case duplicateCmcId = "duplicate_cmc_id"
        case noPriceRecord = "no_price_record"
        case nullPrice = "null_price"
        /// A record whose fields do not fit the schema (a `{}` record, a text id).
        case invalidPriceRecord = "invalid_price_record"
        case invalidRankRecord = "invalid_rank_record"
    }

    /// A field the merge reads: its name, type, and whether it may be null.
    public struct RequiredField: Sendable {
        public let name: String
        public let kind: FieldSpec.Kind
        public let nullable: Bool
    }

    /// What the price fetcher must publish (`price_usd` may be null: that row is left out).
    public static let priceFields = [
        RequiredField(name: "cmc_id", kind: .integer, nullable: false), RequiredField(name: "symbol", kind: .string, nullable: false),
        RequiredField(name: "name", kind: .string, nullable: false), RequiredField(name: "price_usd", kind: .decimal, nullable: true),
    ]
    /// What the rank fetcher must publish (`cmc_id` may be null: counted as `no_cmc_id`).
    public static let rankFields = [RequiredField(name: "cmc_id", kind: .integer, nullable: true)]

    /// A fetched snapshot with the stream entry it came from.
    public struct Side: Sendable {
        public let entryID: String
        public let snapshot: FetchedSnapshot

        public init(entryID: String, snapshot: FetchedSnapshot) {
            self.entryID = entryID
            self.snapshot = snapshot
        }
    }

    /// Whether two fetches are close enough in time to be merged.
    public static func isPairable(_ prices: FetchedSnapshot, _ ranks: FetchedSnapshot, windowSeconds: Int) -> Bool {
        abs(prices.fetchedAt.milliseconds - ranks.fetchedAt.milliseconds) <= Int64(windowSeconds) * 1000
    }

    public static func merge(prices: Side, ranks: Side) -> MergedSnapshot {
        var priceByID: [Int64: (symbol: String, name: String, price: DecimalNumber?)] = [:]
        priceByID.reserveCapacity(prices.snapshot.records.count)
        var leftOut: [String: Int] = [:]
        for record in prices.snapshot.records {
            guard let id = integer(record["cmc_id"]), case .string(let symbol)? = record["symbol"], case .string(let name)? = record["name"],
                let price = nullableDecimal(record["price_usd"])
            else {
                leftOut[LeftOut.invalidPriceRecord.rawValue, default: 0] += 1
                continue
            }
            if priceByID[id] == nil { priceByID[id] = (symbol, name, price) }
        }

        var rows: [MergedSnapshot.Row] = []
        rows.reserveCapacity(ranks.snapshot.records.count)
        var seen: Set<Int64> = []
        for (index, record) in ranks.snapshot.records.enumerated() {
            let sourceRank = integer(record[FetchedSnapshot.sourceRankField]).flatMap { Int(exactly: $0) }.flatMap { $0 > 0 ? $0 : nil } ?? index + 1
            if case .null? = record["cmc_id"] {
                leftOut[LeftOut.noCmcId.rawValue, default: 0] += 1
                continue
            }
            guard let id = integer(record["cmc_id"]) else {
                leftOut[LeftOut.invalidRankRecord.rawValue, default: 0] += 1
                continue
            }
            guard seen.insert(id).inserted else {
                leftOut[LeftOut.duplicateCmcId.rawValue, default: 0] += 1
                continue
            }
            guard let priced = priceByID[id] else {
                leftOut[LeftOut.noPriceRecord.rawValue, default: 0] += 1
                continue
            }
            guard let price = priced.price else {
                leftOut[LeftOut.nullPrice.rawValue, default: 0] += 1
                continue
            }
            rows.append(.init(rank: rows.count + 1, cmcId: id, symbol: priced.symbol, name: priced.name, price: price, sourceRank: sourceRank))
        }
        return MergedSnapshot(
            timestamp: max(prices.snapshot.fetchedAt, ranks.snapshot.fetchedAt),
            prices: .init(name: prices.snapshot.source, fetchedAt: prices.snapshot.fetchedAt, entryID: prices.entryID),
            ranks: .init(name: ranks.snapshot.source, fetchedAt: ranks.snapshot.fetchedAt, entryID: ranks.entryID),
            rows: rows,
            leftOut: leftOut
        )
    }

    /// Every valid record of a price listing as an asset, the first of each CMC id: what the
    /// catalogue records, merged rows or not.
    public static func listing(_ prices: FetchedSnapshot) -> [AssetRegistry.Asset] {
        var seen: Set<Int64> = []
        return prices.records.compactMap { record in
            guard let id = integer(record["cmc_id"]), case .string(let symbol)? = record["symbol"], case .string(let name)? = record["name"],
                seen.insert(id).inserted
            else { return nil }
            return AssetRegistry.Asset(cmcId: id, symbol: symbol, name: name)
        }
    }

    private static func integer(_ value: JSONValue?) -> Int64? {
        guard case .number(let literal)? = value else { return nil }
        return Int64(literal)
    }

    /// `.some(nil)` for a null price, nil for a value that is not a decimal at all.
    private static func nullableDecimal(_ value: JSONValue?) -> DecimalNumber?? {
        switch value {
        case .null?: .some(nil)
        case .number(let literal)?: DecimalNumber(literal).map { .some($0) }
        default: nil
        }
    }
}
