import TopCoins

#if canImport(Glibc)
import Glibc
#endif

/// Writes a day of minute history for the demo, so every series endpoint has something to
/// show at once: the shipped CoinMarketCap listing and CryptoCompare pages, mapped by the demo
/// fetcher configs, prices moved by the same seeded walk the fake upstream uses, merged and
/// written as the merger writes (snapshot, series and catalogue in one atomic write).
///
///     demo-history CONFIG_DIR MINUTES WALK_SEED      (REDIS_URL from the environment)
///
/// It writes nothing when history already holds a snapshot, so running it twice is harmless.
let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 3, let minutes = Int(arguments[1]), minutes > 0, let seed = UInt64(arguments[2]) else {
    Exit.usage("usage: demo-history CONFIG_DIR MINUTES WALK_SEED")
}
let directory = arguments[0]
let environment = ConfigFile.processEnvironment

func fetched(_ executable: String, documents: [String], at time: Timestamp) throws(ConfigError) -> FetchedSnapshot {
    let config = try ConfigFile.load("\(directory)/\(executable).json", environment: environment) { (object) throws(ConfigError) in
        try FetcherConfig(reading: object)
    }
    var items: [JSONValue] = []
    for path in documents {
        guard let bytes = ConfigFile.readFile(path), let document = try? JSONParser.parse(bytes) else { Exit.usage("demo-history: cannot read \(path)") }
        if case .array(let elements)? = config.records.resolve(in: document) { items += elements }
    }
    let output = RecordMapper(fields: config.fields).map(items)
    return FetchedSnapshot(source: config.source, fetchedAt: time, records: output.records, skipped: output.skipped)
}

let upstream = "\(directory)/upstream"
let start = Timestamp.now.adding(milliseconds: -Int64(minutes) * 60_000)
let pricesAtStart: FetchedSnapshot
let ranks: FetchedSnapshot
do {
    pricesAtStart = try fetched("price-fetcher", documents: ["\(upstream)/coinmarketcap/listings-latest.json"], at: start)
    ranks = try fetched("rank-fetcher", documents: (1...6).map { "\(upstream)/cryptocompare/top-list-page-\($0).json" }, at: start)
} catch {
    Exit.config(error, executable: "demo-history")
}

let redis = RedisClient(endpoint: try RedisEndpoint(url: environment["REDIS_URL"] ?? "redis://127.0.0.1:6379"))
let history = History(redis: redis)
guard try await history.latestTimestamp() == nil else {
    print("demo-history: history is not empty, nothing written")
    exit(0)
}
let lease = MergerLease(redis: redis, key: history.keys.mergerLease, owner: "demo-history", seconds: 60)
guard try await lease.acquire() else { Exit.usage("demo-history: a merger holds the lease; run this before the merger") }
/// Polygon's record as it was listed before its rebrand.
func renamedBeforeRebrand(_ record: JSONObject) -> JSONObject {
    guard case .number("3890")? = record["cmc_id"] else { return record }
    return JSONObject(record.members.map { ($0, $0 == "name" ? .string("Matic Network") : $1) })
}

/// `records` with each price replaced by `change(price, index)`.
func repriced(_ records: [JSONObject], _ change: (DecimalNumber, Int) -> DecimalNumber) -> [JSONObject] {
    records.enumerated().map { index, record in
        guard case .number(let text)? = record["price_usd"], let price = DecimalNumber(text) else { return record }
        return JSONObject(record.members.map { ($0, $0 == "price_usd" ? .number(change(price, index).text) : $1) })
    }
}

/// `records` after `steps` steps of a walk seeded `seed`.
func walked(_ records: [JSONObject], steps: Int, seed: UInt64) -> [JSONObject] {
    var walk = PriceWalk(seed: seed)
    return (0..<steps).reduce(records) { records, _ in repriced(records) { price, _ in walk.step(price) } }
}

/// Each record's price, or nil.
func prices(_ records: [JSONObject]) -> [Double?] {
    records.map { record in
        guard case .number(let text)? = record["price_usd"] else { return nil }
        return DecimalNumber(text)?.doubleValue
    }
}

/// The minutes of history: a walk from a day's walk away from the listing prices, bent evenly
/// (in log terms) to end on them, so the live snapshots that follow (which start at the
/// listing prices with the fake upstream's own walk) go on from the history without a jump
/// and without replaying it.
func writeHistory(_ history: History, lease: MergerLease) async throws {
    var hold = LeaseHold(lease)
    var registry = AssetRegistry()
    var catalogue = Catalogue()
    let daySeed = seed ^ 0xD1B5_4A32_D192_ED03
    let first = walked(pricesAtStart.records, steps: minutes, seed: seed ^ 0x9E37_79B9_7F4A_7C15)
    let target = prices(pricesAtStart.records)
    let unbent = prices(walked(first, steps: minutes - 1, seed: daySeed))
    let ratios = zip(target, unbent).map { target, unbent -> Double in
        guard let target, let unbent, target > 0, unbent > 0 else { return 1 }
        return target / unbent
    }
    var walk = PriceWalk(seed: daySeed)
    var records = first
    for minute in 0..<minutes {
        guard try await hold.keep() else { Exit.usage("demo-history: lost the merger lease") }
        let time = start.adding(milliseconds: Int64(minute) * 60_000)
        if minute > 0 { records = repriced(records) { price, _ in walk.step(price) } }
        let share = minutes > 1 ? Double(minute) / Double(minutes - 1) : 1
        let bent = repriced(records) { price, index in PriceWalk.scaled(price, by: pow(ratios[index], share)) }
        // A rebrand half-way through the day, as Polygon's (named Matic Network until 2021): old
        // snapshots keep the old name, the catalogue shows the new one, the series is one.
        let listed = minute < minutes / 2 ? bent.map(renamedBeforeRebrand) : bent
        let prices = FetchedSnapshot(source: pricesAtStart.source, fetchedAt: time, records: listed, skipped: [:])
        let rankings = FetchedSnapshot(source: ranks.source, fetchedAt: time, records: ranks.records, skipped: [:])
        let merged = MergeRule.merge(prices: .init(entryID: "\(time.milliseconds)-0", snapshot: prices), ranks: .init(entryID: "\(time.milliseconds)-1", snapshot: rankings))
        for asset in MergeRule.listing(prices) { catalogue.record(asset, at: time) }
        let outcome = try await history.write(merged, registry: &registry, catalogue: catalogue, announceOn: "topcoins:merged", lease: lease, latestLimit: .latestRepresentable)
        guard outcome == .written else { Exit.usage("demo-history: the write at \(time) was \(outcome)") }
    }
}

try await writeHistory(history, lease: lease)
try await lease.release()
print("demo-history: wrote \(minutes) minute snapshots from \(start) on")
await redis.shutdown()
