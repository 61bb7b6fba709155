/// The join of a price snapshot and a rank snapshot on the CoinMarketCap id, exactly as the
/// design's merge rules say: ranking order; a row needs a CMC id, a price record with that id
/// and a non-null price; the first of duplicate ids wins; symbol and name come from the price
/// source; ranks are renumbered 1..N.
public enum MergeRule {
    public enum LeftOut: String, Sendable, CaseIterable {
        case noCmcId = "no_cmc_id"
        case duplicateCmcId = "duplicate_cmc_id"
        case noPriceRecord = "no_price_record"
        case nullPrice = "null_price"
    }

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
        for record in prices.snapshot.records {
            guard let id = integer(record["cmc_id"]), priceByID[id] == nil,
                case .string(let symbol)? = record["symbol"], case .string(let name)? = record["name"]
            else { continue }
            var price: DecimalNumber?
            if case .number(let literal)? = record["price_usd"] { price = DecimalNumber(literal) }
            priceByID[id] = (symbol, name, price)
        }

        var rows: [MergedSnapshot.Row] = []
        rows.reserveCapacity(ranks.snapshot.records.count)
        var seen: Set<Int64> = []
        var leftOut: [String: Int] = [:]
        for (index, record) in ranks.snapshot.records.enumerated() {
            let sourceRank = integer(record[FetchedSnapshot.sourceRankField]).map(Int.init) ?? index + 1
            guard let id = integer(record["cmc_id"]) else {
                leftOut[LeftOut.noCmcId.rawValue, default: 0] += 1
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

    private static func integer(_ value: JSONValue?) -> Int64? {
        guard case .number(let literal)? = value else { return nil }
        return Int64(literal)
    }
}
