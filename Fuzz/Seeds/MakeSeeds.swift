#if canImport(Glibc)
import Glibc
#endif
import TopCoins

/// Writes the seed corpora under `Fuzz/corpus/` from the shipped configs and demo payloads:
/// trimmed upstream documents, stream entries and encoded snapshots made by the writers
/// themselves, so the seeds have the real shapes. Run by `scripts/fuzz --make-seeds`; the
/// output is committed.
@main
enum MakeSeeds {
    static let environment = ["CMC_API_KEY": "key", "CRYPTOCOMPARE_API_KEY": "key", "COINGECKO_API_KEY": "key"]
    static let fetchedAt = Timestamp(milliseconds: 1_718_366_400_000)  // the demo payloads' 2024-06-14T12:00:00Z

    static func main() throws {
        let listing = try document("Config/demo/upstream/coinmarketcap/listings-latest.json")
        let topList = try document("Config/demo/upstream/cryptocompare/top-list-page-1.json")
        let topListPage2 = try document("Config/demo/upstream/cryptocompare/top-list-page-2.json")
        let topListPage3 = try document("Config/demo/upstream/cryptocompare/top-list-page-3.json")

        // JSON: a few records of each upstream, hard cases chosen, and the error bodies as they are.
        // BTC, 币安币, GHOST with a null price; Hydro Protocol (4.123e-7), Foo, Inc "Token", DUST (1.23e-7).
        let cmcA = trimmed(listing, records: "data", keeping: ["1", "30577", "31742"], by: "id")
        let cmcB = trimmed(listing, records: "data", keeping: ["2467", "19230", "32008"], by: "id")
        try write("json/coinmarketcap-listing-a.json", JSONWriter.encode(cmcA))
        try write("json/coinmarketcap-listing-b.json", JSONWriter.encode(cmcB))
        // USDT; AVAX, whose CMC id is a number; ZODQ with null alternative ids; MITY with no CMC id;
        // VOCJ with no alternative ids; DUST's tiny price; POL, a CMC id twice; Ω.
        func topListItems(_ document: JSONValue, _ symbols: Set<String>) -> JSONValue {
            trimmed(document, records: "Data.LIST", keeping: symbols, by: "SYMBOL")
        }
        try write("json/cryptocompare-top-list-a.json", JSONWriter.encode(topListItems(topList, ["USDT", "AVAX", "ZODQ"])))
        try write("json/cryptocompare-top-list-b.json", JSONWriter.encode(topListItems(topList, ["MITY", "VOCJ"])))
        try write("json/cryptocompare-top-list-c.json", JSONWriter.encode(topListItems(topListPage2, ["DUST", "POL"])))
        try write("json/cryptocompare-top-list-d.json", JSONWriter.encode(topListItems(topListPage3, ["Ω"])))
        for name in [
            "cryptocompare/top-list-page-6.json", "errors/cmc-200-error-body.json", "errors/cmc-401-invalid-key.json",
            "errors/cmc-500.json", "errors/cryptocompare-401.json", "errors/cryptocompare-minapi-rate-limit.json", "errors/malformed.json",
        ] {
            let seedName = name.split(separator: "/").joined(separator: "-")
            try write("json/\(seedName)", try file("Config/demo/upstream/\(name)"))
        }
        let escapes = #"{"a":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\u0000","n":[-0,0.5,1E+21,1.23e-7,-12.5e2],"o":{"":[true,false,null,{}]}}"#
        try write("json/escapes.json", Array(escapes.utf8))

        // Stream entries: what each fetcher publishes for those records.
        let prices = try fetcher("Config/price-fetcher.json")
        let ranks = try fetcher("Config/rank-fetcher.json")
        let cmcSnapshot = snapshot(prices, [cmcA, cmcB])
        let ccSnapshot = snapshot(ranks, [topList, topListPage2, topListPage3].map { topListItems($0, ["USDT", "AVAX", "ZODQ", "MITY", "DUST", "Ω"]) })
        try write("stream-entry/coinmarketcap.txt", entry(cmcSnapshot, id: "1718366400012-0"))
        try write("stream-entry/cryptocompare.txt", entry(ccSnapshot, id: "1718366400034-1"))
        try write(
            "stream-entry/no-records.txt",
            entry(FetchedSnapshot(source: "coinmarketcap", fetchedAt: fetchedAt, records: [], skipped: ["missing:price_usd": 2]), id: "1718366460000-0"))

        // Snapshots: the priced CMC records merged in the ranking order, plus a price too long
        // for the scaled form; and one with no rows.
        var rows: [MergedSnapshot.Row] = []
        for record in cmcSnapshot.records {
            guard case .number(let id)? = record["cmc_id"], case .string(let symbol)? = record["symbol"], case .string(let name)? = record["name"],
                case .number(let price)? = record["price_usd"], let decimal = DecimalNumber(price)
            else { continue }
            rows.append(.init(rank: rows.count + 1, cmcId: Int64(id)!, symbol: symbol, name: name, price: decimal, sourceRank: rows.count * 2 + 1))
        }
        let huge = DecimalNumber("123456789012345678901234567890.5")!
        rows.append(.init(rank: rows.count + 1, cmcId: 99, symbol: "HUGE", name: "Huge", price: huge, sourceRank: 40))
        let merged = MergedSnapshot(
            timestamp: fetchedAt.adding(milliseconds: 34),
            prices: .init(name: "coinmarketcap", fetchedAt: fetchedAt.adding(milliseconds: 12), entryID: "1718366400012-0"),
            ranks: .init(name: "cryptocompare", fetchedAt: fetchedAt.adding(milliseconds: 34), entryID: "1718366400034-1"),
            rows: rows, leftOut: ["no_cmc_id": 3, "null_price": 1, "no_price_record": 2])
        var registry = AssetRegistry()
        let (indexes, added) = registry.indexes(for: rows.map { .init(cmcId: $0.cmcId, symbol: $0.symbol, name: $0.name) })
        try write("snapshot/merged.bin", SnapshotFraming.bytes(registry: added, body: SnapshotCodec.encode(merged, assetIndexes: indexes)))
        let empty = MergedSnapshot(timestamp: merged.timestamp, prices: merged.prices, ranks: merged.ranks, rows: [], leftOut: [:])
        try write("snapshot/no-rows.bin", SnapshotFraming.bytes(registry: [], body: SnapshotCodec.encode(empty, assetIndexes: [])))

        // Series: an appended raw hour with its times, its compact block, buckets, a catalogue.
        let times = (0..<4).flatMap { SeriesCodec.time(fetchedAt.adding(milliseconds: Int64($0) * 60_000)) }
        let points = rows.prefix(4).enumerated().map { (ordinal: $0.offset, price: $0.element.price) }
        try write("series/raw.bin", [0, 4] + times + points.flatMap { SeriesCodec.point(ordinal: $0.ordinal, price: $0.price) })
        try write("series/compact.bin", [0, 4] + times + SeriesCodec.compacted(points))
        let bucket = PriceBucket(start: Timestamp(milliseconds: 7_200_000), width: 3_600_000, open: rows[0].price, high: huge, low: rows[1].price, close: rows[2].price, count: 60)
        try write("series/buckets.bin", [1, 0] + SeriesCodec.bucketRecord(bucket, spanStart: 0) + SeriesCodec.bucketRecord(bucket, spanStart: 0))
        var catalogue = Catalogue()
        for row in rows { catalogue.record(.init(cmcId: row.cmcId, symbol: row.symbol, name: row.name), at: fetchedAt) }
        try write("series/catalogue.bin", [2] + catalogue.encoded)

        // Configs: the shipped ones as they are.
        for name in ["price-fetcher", "rank-fetcher", "merger", "http-api", "history-fetcher", "book-fetcher", "exchange-fetcher"] {
            try write("config/\(name).json", try file("Config/\(name).json"))
            try write("config/demo-\(name).json", try file("Config/demo/\(name).json"))
        }
        try write("config/history-fetcher.coingecko.json", try file("Config/history-fetcher.coingecko.json"))

        // Backfill: stored progress and a stored daily candle (field, newline, value).
        let progress = BackfillProgress(oldest: UTCDay(iso8601: "2021-01-01")!, newest: UTCDay(iso8601: "2022-12-31")!, exhausted: true)
        try write("backfill/progress.txt", [0] + Array(progress.encoded.utf8))
        let candle = DailyCandle(dayOf: fetchedAt, open: rows[0].price, high: huge, low: rows[1].price, close: rows[2].price, volume: nil, source: "cryptocompare")
        try write("backfill/candle.txt", [1] + Array("\(candle.field)\n\(candle.encoded)".utf8))
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func file(_ path: String) throws -> [UInt8] {
        guard let bytes = ConfigFile.readFile(repositoryRoot + "/" + path) else { throw Failure(description: "cannot read \(path)") }
        return bytes
    }

    static func document(_ path: String) throws -> JSONValue {
        try JSONParser.parse(try file(path))
    }

    static func fetcher(_ path: String) throws -> FetcherConfig {
        try ConfigFile.load(repositoryRoot + "/" + path, environment: environment) { (config) throws(ConfigError) in
            try FetcherConfig(reading: config)
        }
    }

    /// `document` with the records array at `records` cut down to the records whose `key` is one of `wanted`.
    static func trimmed(_ document: JSONValue, records: String, keeping wanted: Set<String>, by key: String) -> JSONValue {
        let steps = records.split(separator: ".").map(String.init)
        func cut(_ value: JSONValue, _ steps: ArraySlice<String>) -> JSONValue {
            guard let step = steps.first else {
                guard case .array(let elements) = value else { return value }
                return .array(elements.filter { element in
                    switch element[key] {
                    case .number(let text)?, .string(let text)?: wanted.contains(text)
                    default: false
                    }
                })
            }
            guard case .object(let object) = value else { return value }
            return .object(JSONObject(object.members.map { name, member in (name, name == step ? cut(member, steps.dropFirst()) : member) }))
        }
        return cut(document, steps[...])
    }

    static func snapshot(_ config: FetcherConfig, _ documents: [JSONValue]) -> FetchedSnapshot {
        var items: [JSONValue] = []
        for document in documents {
            if case .array(let elements)? = config.records.resolve(in: document) { items += elements }
        }
        let output = RecordMapper(fields: config.fields).map(items)
        return FetchedSnapshot(source: config.source, fetchedAt: fetchedAt, records: output.records, skipped: output.skipped)
    }

    static func entry(_ snapshot: FetchedSnapshot, id: String) -> [UInt8] {
        StreamEntryFraming.bytes(of: StreamEntry(id: id, fields: snapshot.streamFields.map { (name: $0.0, value: $0.1.bytes) }))
    }

    static func write(_ name: String, _ bytes: [UInt8]) throws {
        let path = repositoryRoot + "/Fuzz/corpus/" + name
        guard let file = fopen(path, "wb") else { throw Failure(description: "cannot write \(path)") }
        defer { fclose(file) }
        guard fwrite(bytes, 1, bytes.count, file) == bytes.count else { throw Failure(description: "cannot write \(path)") }
        print("\(name): \(bytes.count) bytes")
    }
}
