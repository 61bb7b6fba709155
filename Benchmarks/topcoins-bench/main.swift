import Logging
import TopCoins

#if canImport(Glibc)
import Glibc
#endif

/// Release-mode measurements of TopCoins' inner loops; `scripts/bench` runs each and prints the
/// table. Every figure is the median of several runs, with min and max.
///
///     topcoins-bench mapping LISTING.json RUNS
///     topcoins-bench merge REDIS_URL PRICES RANKS RUNS
///     topcoins-bench history REDIS_URL COINS SNAPSHOTS
///     topcoins-bench series-history REDIS_URL COINS DAYS
///     topcoins-bench candles REDIS_URL COINS DAYS
///     topcoins-bench old-history REDIS_URL COINS SNAPSHOTS
///     topcoins-bench freshness REDIS_URL API_PORT COINS TRIALS
///     topcoins-bench streams REDIS_URL PRICE_RECORDS RANK_RECORDS MESSAGES
///     topcoins-bench rankings COINS POINTS RUNS
///     topcoins-bench spreads REDIS_URL DAYS
///     topcoins-bench spread-alert REDIS_URL SAMPLES

struct Summary {
    let values: [Double]
    var median: Double { let s = values.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
    var line: String { "median \(fmt(median)) min \(fmt(values.min()!)) max \(fmt(values.max()!)) (n=\(values.count))" }
}

/// Retention's progress lines would drown the figures.
let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }

func fmt(_ value: Double) -> String { String(Double(Int((value * 100).rounded())) / 100) }

func cpuMilliseconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) * 1000 + Double(spec.tv_nsec) / 1_000_000
}

func wallMilliseconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) * 1000 + Double(spec.tv_nsec) / 1_000_000
}

func fail(_ message: String) -> Never {
    StandardError.write("topcoins-bench: \(message)\n")
    exit(1)
}

/// Deterministic synthetic fetches shaped like the fetchers' messages.
enum Synthetic {
    /// A uniform draw in [0, 1).
    static func unit(_ random: inout SplitMix64) -> Double { Double(random.next() >> 11) / Double(1 << 53) }

    /// A CoinMarketCap-like price with 16 significant digits, moved a little by `step`.
    static func price(_ id: Int, step: Int) -> String {
        var generator = SplitMix64(seed: UInt64(id))
        let base = 10 ** (unit(&generator) * 10 - 5)
        var walk = SplitMix64(seed: UInt64(id) &* 31 &+ UInt64(step))
        let value = base * (1 + (unit(&walk) - 0.5) * 0.01)
        let digits = max(0, 15 - Int(log10(value).rounded(.down)))
        return DecimalNumber(String(format16: value, fractionDigits: min(digits, 20)))!.text
    }

    static func prices(_ count: Int, step: Int) -> [JSONObject] {
        (0..<count).map { index in
            let id = index * 7 + 1
            return JSONObject([
                ("cmc_id", .number(String(id))), ("symbol", .string("C\(id)")), ("name", .string("Coin number \(id)")),
                ("price_usd", index % 997 == 5 ? .null : .number(price(id, step: step))), ("source_rank", .number(String(index + 1))),
            ])
        }
    }

    /// Ranks over distinct price ids in a shuffled order; about 3% have no CMC id and 3% an id
    /// the price source lacks, as in the real data. `count` must not exceed `prices`.
    static func ranks(_ count: Int, prices: Int, step: Int) -> [JSONObject] {
        var generator = SplitMix64(seed: UInt64(step) &+ 99)
        let offset = Int(generator.next() % UInt64(prices))
        return (0..<count).map { index in
            let roll = generator.next() % 100
            // 7919 is prime, so index * 7919 mod prices visits distinct ids.
            let priceIndex = (index * 7919 + offset) % prices
            let id: JSONValue = roll < 3 ? .null : .number(String(roll < 6 ? 1_000_000 + index : priceIndex * 7 + 1))
            return JSONObject([("cmc_id", id), ("symbol", .string("R\(index)")), ("source_rank", .number(String(index + 1)))])
        }
    }

    /// A merged snapshot of `coins` rows straight from prices, without the fetch mapping: for
    /// writing long histories quickly.
    static func snapshot(coins: Int, step: Int, at time: Timestamp) -> MergedSnapshot {
        let rows = (0..<coins).map { index in
            let id = index * 7 + 1
            return MergedSnapshot.Row(rank: index + 1, cmcId: Int64(id), symbol: "C\(id)", name: "Coin number \(id)", price: DecimalNumber(price(id, step: step))!, sourceRank: index + 1)
        }
        let source = MergedSnapshot.Source(name: "coinmarketcap", fetchedAt: time, entryID: "\(time.milliseconds)-0")
        return MergedSnapshot(timestamp: time, prices: source, ranks: source, rows: rows, leftOut: [:])
    }

    static func entry(_ source: String, at time: Timestamp, _ records: [JSONObject], id: String) -> StreamEntry {
        let fields = FetchedSnapshot(source: source, fetchedAt: time, records: records, skipped: [:]).streamFields
        return StreamEntry(id: id, fields: fields.map { ($0.0, $0.1.bytes) })
    }
}

infix operator **: MultiplicationPrecedence
func ** (base: Double, exponent: Double) -> Double { pow(base, exponent) }

extension String {
    init(format16 value: Double, fractionDigits: Int) {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([fractionDigits, value]) { vsnprintf(&buffer, 64, "%.*f", $0) }
        self = String(cString: buffer)
    }
}

func mapping(_ path: String, runs: Int) throws {
    guard let bytes = ConfigFile.readFile(path) else { fail("cannot read \(path)") }
    let config = try ConfigFile.load("Config/price-fetcher.json", environment: ["CMC_API_KEY": "bench"]) { (object) throws(ConfigError) in
        try FetcherConfig(reading: object)
    }
    let mapper = RecordMapper(fields: config.fields)
    let filter = config.responseFilter
    var times: [Double] = []
    var count = 0
    for _ in 0..<runs {
        let start = cpuMilliseconds()
        let document = try JSONParser.parse(bytes, keeping: filter)
        guard case .array(let records)? = config.records.resolve(in: document) else { fail("no records") }
        let output = mapper.map(records)
        let fields = FetchedSnapshot(source: config.source, fetchedAt: .now, records: output.records, skipped: output.skipped).streamFields
        count = output.records.count + fields.count - fields.count
        times.append(cpuMilliseconds() - start)
    }
    print("mapping \(bytes.count) bytes, \(count) records: CPU ms \(Summary(values: times).line)")
}

func merge(_ redisURL: String, prices: Int, ranks: Int, runs: Int) async throws {
    let redis = RedisClient(endpoint: try RedisEndpoint(url: redisURL))
    try await redis.send(["FLUSHALL"])
    let store = History(redis: redis)
    let lease = MergerLease(redis: redis, key: store.keys.mergerLease, owner: "bench", seconds: 300)
    guard try await lease.acquire() else { fail("lease") }
    var registry = AssetRegistry()
    var catalogue = Catalogue()
    var times: [Double] = []
    var rows = 0
    let base = Timestamp.now.milliseconds
    for run in 0..<runs {
        let time = Timestamp(milliseconds: base + Int64(run) * 1000)
        let priceEntry = Synthetic.entry("coinmarketcap", at: time, Synthetic.prices(prices, step: run), id: "\(run)-0")
        let rankEntry = Synthetic.entry("cryptocompare", at: time, Synthetic.ranks(ranks, prices: prices, step: run), id: "\(run)-1")
        let start = wallMilliseconds()
        let priceSnapshot = try FetchedSnapshot(entry: priceEntry)
        let merged = MergeRule.merge(
            prices: .init(entryID: priceEntry.id, snapshot: priceSnapshot), ranks: .init(entryID: rankEntry.id, snapshot: try FetchedSnapshot(entry: rankEntry)))
        for asset in MergeRule.listing(priceSnapshot) { catalogue.record(asset, at: merged.timestamp) }
        let outcome = try await store.write(
            merged, registry: &registry, catalogue: catalogue, announceOn: "bench:merged", lease: lease, latestLimit: .latestRepresentable)
        times.append(wallMilliseconds() - start)
        guard outcome == .written else { fail("merge write: \(outcome)") }
        rows = merged.rows.count
    }
    print("merge \(prices) prices x \(ranks) ranks (\(rows) rows), parse to written snapshot, series and catalogue: wall ms \(Summary(values: Array(times.dropFirst())).line)")
    await redis.shutdown()
}

func history(_ redisURL: String, coins: Int, snapshots: Int) async throws {
    let redis = RedisClient(endpoint: try RedisEndpoint(url: redisURL))
    try await redis.send(["FLUSHALL"])
    func usedBytes() async throws -> Int {
        let info = try await redis.send(["INFO", "memory"]).string ?? ""
        return info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("used_memory:") }.flatMap { Int($0.dropFirst(12)) } ?? 0
    }
    let before = try await usedBytes()
    let store = History(redis: redis)
    let lease = MergerLease(redis: redis, key: store.keys.mergerLease, owner: "bench", seconds: 3600)
    guard try await lease.acquire() else { fail("lease") }
    var registry = AssetRegistry()
    var catalogue = Catalogue()
    var hold = LeaseHold(lease)
    let end = Timestamp.now.milliseconds
    var bodyBytes = 0
    // About 94% of ranked assets are published (see `Synthetic.ranks`): rank enough for `coins` rows.
    let ranks = Synthetic.ranks(coins * 100 / 94, prices: coins * 3, step: 1)
    for index in 0..<snapshots {
        let time = Timestamp(milliseconds: end - Int64(snapshots - 1 - index) * 60_000)
        let prices = FetchedSnapshot(source: "coinmarketcap", fetchedAt: time, records: Synthetic.prices(coins * 3, step: index), skipped: [:])
        let merged = MergeRule.merge(
            prices: .init(entryID: "\(index)-0", snapshot: prices),
            ranks: .init(entryID: "\(index)-1", snapshot: FetchedSnapshot(source: "cryptocompare", fetchedAt: time, records: ranks, skipped: [:])))
        for asset in MergeRule.listing(prices) { catalogue.record(asset, at: time) }
        guard try await store.write(merged, registry: &registry, catalogue: catalogue, announceOn: "topcoins:merged", lease: lease, latestLimit: .latestRepresentable) == .written else { fail("history write") }
        bodyBytes += try await store.body(at: time)?.count ?? 0
        // As the merger does after each write: closed hours are compacted.
        if index % 60 == 59 { _ = try await store.applyRetention(.default, now: time, hold: &hold, logger: quiet) }
    }
    _ = try await store.applyRetention(.default, now: Timestamp(milliseconds: end), hold: &hold, logger: quiet)
    try await redis.send(["DEL", RedisArgument(store.keys.mergerLease)])
    let after = try await usedBytes()
    let rows = Double(snapshots) * Double(try await SnapshotCodec.decode(store.body(at: Timestamp(milliseconds: end))!, registry: registry).rows.count)
    print("history \(snapshots) snapshots, \(Int(rows) / snapshots) rows each: Redis used_memory +\(after - before) bytes = \(fmt(Double(after - before) / rows)) bytes per coin per snapshot (encoded bodies alone \(fmt(Double(bodyBytes) / rows)))")
    await redis.shutdown()
}

/// The series benchmark's history: `days` days of `coins` coins, hourly snapshots for all but
/// the last day and minute snapshots for it, written as the merger writes, then retention
/// (which folds everything older than 7 days into hour buckets).
func seriesHistory(_ redisURL: String, coins: Int, days: Int) async throws {
    let redis = RedisClient(endpoint: try RedisEndpoint(url: redisURL))
    try await redis.send(["FLUSHALL"])
    let history = History(redis: redis)
    let lease = MergerLease(redis: redis, key: history.keys.mergerLease, owner: "bench", seconds: 3600)
    guard try await lease.acquire() else { fail("lease") }
    var hold = LeaseHold(lease)
    var registry = AssetRegistry()
    var catalogue = Catalogue()
    let now = Timestamp.now.milliseconds
    let times = stride(from: now - Int64(days) * 86_400_000, to: now - 86_400_000, by: 3_600_000).map { $0 }
        + stride(from: now - 86_400_000 + 60_000, through: now, by: 60_000).map { $0 }
    let start = wallMilliseconds()
    for (step, milliseconds) in times.enumerated() {
        let snapshot = Synthetic.snapshot(coins: coins, step: step, at: Timestamp(milliseconds: milliseconds))
        for row in snapshot.rows { catalogue.record(.init(cmcId: row.cmcId, symbol: row.symbol, name: row.name), at: snapshot.timestamp) }
        guard try await history.write(snapshot, registry: &registry, catalogue: catalogue, announceOn: "topcoins:merged", lease: lease, latestLimit: .latestRepresentable) == .written else { fail("series write") }
    }
    _ = try await history.applyRetention(.default, now: Timestamp(milliseconds: now), hold: &hold, logger: quiet)
    try await lease.release()
    print("series history: \(times.count) snapshots of \(coins) coins over \(days) days written and thinned in \(fmt((wallMilliseconds() - start) / 1000)) s")
    await redis.shutdown()
}

/// Five years (or `days`) of daily candles for coins 1...`coins`, ending yesterday, written as
/// the history fetcher writes them: the indicator benchmark's history.
func candles(_ redisURL: String, coins: Int, days: Int) async throws {
    let redis = RedisClient(endpoint: try RedisEndpoint(url: redisURL))
    let history = History(redis: redis)
    let today = Timestamp.now.milliseconds / 86_400_000 * 86_400_000
    let start = wallMilliseconds()
    for id in 1...coins {
        var random = SplitMix64(seed: UInt64(id))
        var mantissa = Int64(1_000_000 + id * 1_000)
        let candles = (0..<days).map { index in
            let open = DecimalNumber(mantissa: mantissa, scale: 2)
            mantissa = max(100, mantissa + mantissa / 50_000 * (Int64(random.next() % 2001) - 1000))
            let close = DecimalNumber(mantissa: mantissa, scale: 2)
            return DailyCandle(
                dayOf: Timestamp(milliseconds: today - Int64(days - index) * 86_400_000), open: open, high: max(open, close), low: min(open, close), close: close,
                volume: nil, source: "bench")
        }
        _ = try await history.storeCandles(candles, of: Int64(id), progress: ("bench", candles.last!.field))
    }
    print("candles: \(days) days of \(coins) coins stored in \(fmt((wallMilliseconds() - start) / 1000)) s")
    await redis.shutdown()
}

/// History as a merger before the series store wrote it: `snapshots` minute snapshots of
/// `coins` coins ending now, with no series (what the merger converts at start).
func oldHistory(_ redisURL: String, coins: Int, snapshots: Int) async throws {
    let redis = RedisClient(endpoint: try RedisEndpoint(url: redisURL))
    try await redis.send(["FLUSHALL"])
    let keys = HistoryKeys()
    var registry = AssetRegistry()
    let now = Timestamp.now.milliseconds
    for step in 0..<snapshots {
        let snapshot = Synthetic.snapshot(coins: coins, step: step, at: Timestamp(milliseconds: now - Int64(snapshots - 1 - step) * 60_000))
        let (indexes, added) = registry.indexes(for: snapshot.rows.map { .init(cmcId: $0.cmcId, symbol: $0.symbol, name: $0.name) })
        var commands: [[RedisArgument]] = added.isEmpty ? [] : [["RPUSH", RedisArgument(keys.assets)] + added.map { RedisArgument($0) }]
        commands += [
            ["SET", RedisArgument(keys.snapshot(snapshot.timestamp)), RedisArgument(SnapshotCodec.encode(snapshot, assetIndexes: indexes))],
            ["ZADD", RedisArgument(keys.history), RedisArgument(snapshot.timestamp.milliseconds), RedisArgument(String(snapshot.timestamp.milliseconds))],
            ["SET", RedisArgument(keys.latest), RedisArgument(snapshot.timestamp.milliseconds)],
        ]
        _ = try await redis.transaction(commands)
    }
    print("old history: \(snapshots) snapshots of \(coins) coins without series")
    await redis.shutdown()
}

func freshness(_ redisURL: String, port: Int, coins: Int, trials: Int) async throws {
    let redis = RedisClient(endpoint: try RedisEndpoint(url: redisURL))
    let http = HTTPClient(threads: 1)
    var times: [Double] = []
    for trial in 0..<trials {
        let priceTime = Timestamp.now
        try await redis.xadd("topcoins:prices", maxLength: 100, fields: FetchedSnapshot(source: "coinmarketcap", fetchedAt: priceTime, records: Synthetic.prices(coins * 3, step: trial), skipped: [:]).streamFields)
        try await Task.sleep(for: .milliseconds(300))
        let rankTime = Timestamp(milliseconds: Timestamp.now.milliseconds)
        let rankFields = FetchedSnapshot(source: "cryptocompare", fetchedAt: rankTime, records: Synthetic.ranks(coins, prices: coins * 3, step: trial), skipped: [:]).streamFields
        let start = wallMilliseconds()
        try await redis.xadd("topcoins:ranks", maxLength: 100, fields: rankFields)
        let expected = Array("\"timestamp\":\"\(rankTime.iso8601)\"".utf8)
        while true {
            let response = try await http.send(HTTPRequest(url: "http://127.0.0.1:\(port)/?limit=1"))
            if response.body.count > expected.count, Array(response.body[1...expected.count]) == expected { break }
            guard wallMilliseconds() - start < 10_000 else { fail("the API did not serve the new snapshot within 10 s") }
        }
        times.append(wallMilliseconds() - start)
        try await Task.sleep(for: .milliseconds(200))
    }
    print("freshness, rank XADD to the API serving the merged snapshot (\(coins * 3) prices x \(coins) ranks): wall ms \(Summary(values: times).line)")
    await redis.shutdown()
    try await http.shutdown()
}

/// Redis memory of the two hand-over streams after `messages` fetches each (a day at one a
/// minute), trimmed as the fetchers trim them (`MAXLEN ~` the default `max_length`).
func streams(_ redisURL: String, priceRecords: Int, rankRecords: Int, messages: Int) async throws {
    let redis = RedisClient(endpoint: try RedisEndpoint(url: redisURL))
    let keys = ["bench:prices", "bench:ranks"]
    _ = try await redis.del(keys)
    let maxLength = FetcherConfig.defaultStreamLength
    var messageBytes = [0, 0]
    for index in 0..<messages {
        let time = Timestamp.now
        let fetches = [
            FetchedSnapshot(source: "coinmarketcap", fetchedAt: time, records: Synthetic.prices(priceRecords, step: index), skipped: [:]),
            FetchedSnapshot(source: "cryptocompare", fetchedAt: time, records: Synthetic.ranks(rankRecords, prices: priceRecords, step: index), skipped: [:]),
        ]
        for (side, fetch) in fetches.enumerated() {
            let fields = fetch.streamFields
            if index == 0 { messageBytes[side] = fields.reduce(0) { $0 + $1.0.utf8.count + $1.1.bytes.count } }
            _ = try await redis.xadd(keys[side], maxLength: maxLength, fields: fields)
        }
    }
    var figures: [String] = []
    var total = 0
    for (side, key) in keys.enumerated() {
        let bytes = try await redis.send(["MEMORY", "USAGE", RedisArgument(key), "SAMPLES", "0"]).int ?? 0
        let length = try await redis.send(["XLEN", RedisArgument(key)]).int ?? 0
        total += bytes
        figures.append("\(key.dropFirst(6)) \(fmt(Double(bytes) / 1_048_576)) MB in \(length) entries (a message \(fmt(Double(messageBytes[side]) / 1024)) KB)")
    }
    let atOldLength = Double(messageBytes.reduce(0, +)) * 1440 / 1_048_576
    print("streams after \(messages) fetches each of \(priceRecords) prices and \(rankRecords) ranks, max_length \(maxLength): \(figures.joined(separator: ", ")); total \(fmt(Double(total) / 1_048_576)) MB (max_length 1440 would hold about \(Int(atOldLength)) MB of messages)")
    _ = try await redis.del(keys)
    await redis.shutdown()
}

/// The rankings' work per new snapshot (`Rankings.add`): one snapshot of `coins` prices
/// appended to memory holding a year of daily closes and `points` minute points per coin,
/// then the volatility ranking over 24 h and the 5-day returns recomputed and rendered. CPU
/// time of this process, so what the rankings' own thread spends.
func rankings(coins: Int, points: Int, runs: Int) async throws {
    let endpoint = try RedisEndpoint(url: "redis://127.0.0.1:1")
    let history = History(redis: RedisClient(endpoint: endpoint))
    let library = SnapshotLibrary(stores: [history], cacheSize: 0, clockSkewSeconds: 10, logger: quiet)
    let assets = AssetLibrary(history: history, cachedPointLimit: 0, logger: quiet)
    let rankings = Rankings(history: history, library: library, assets: assets, maxWindowMilliseconds: 7 * 86_400_000, logger: quiet)
    let now = Timestamp.now.milliseconds / 60_000 * 60_000
    func prices(step: Int) -> [(cmcId: Int64, price: DecimalNumber)] {
        (0..<coins).map { index in (Int64(index * 7 + 1), DecimalNumber(Synthetic.price(index * 7 + 1, step: step))!) }
    }
    let days = (1...365).reversed().map { (time: now - Int64(points) * 60_000 - Int64($0) * 86_400_000, prices: prices(step: 1_000_000 + $0)) }
    let minutes = (0..<points).map { (time: now - Int64(points - 1 - $0) * 60_000, prices: prices(step: $0)) }
    rankings.add(days + minutes)
    var times: [Double] = []
    for run in 0..<runs {
        let snapshot = [(time: now + Int64(run + 1) * 60_000, prices: prices(step: points + run))]
        let start = cpuMilliseconds()
        rankings.add(snapshot)
        times.append(cpuMilliseconds() - start)
    }
    print("rankings recompute after a new snapshot of \(coins) coins over \(points) minute points (and 365 daily closes): CPU ms \(Summary(values: times).line)")
}

/// `days` of 10-second observations of `btc_mxn` and `usd_mxn` up to now, written through
/// `SpreadWriter` as the spread monitor writes them: each observation with its counters, the
/// episodes it opens and closes, and the summaries of the hours and days it closes. Spreads
/// wander around the 0.1 % threshold; every 50th book is crossed, one-sided or stale. Prints
/// the count, the seeding time and the Redis memory per observation.
func spreads(_ redisURL: String, days: Int) async throws {
    let endpoint = try RedisEndpoint(url: redisURL)
    let books = ["btc_mxn", "usd_mxn"]
    let setup = RedisClient(endpoint: endpoint)
    try await SpreadWriter(redis: setup, alertStream: "topcoins:alerts", alertStreamLength: 10_000, retentionDays: 30).publish(rules: books.map { BookRules.defaults(for: $0) })
    let end = Timestamp.now.milliseconds / 10_000 * 10_000
    let count = days * 8640
    let started = wallMilliseconds()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for (bookIndex, book) in books.enumerated() {
            group.addTask {
                let redis = RedisClient(endpoint: endpoint)
                let writer = SpreadWriter(redis: redis, alertStream: "topcoins:alerts", alertStreamLength: 10_000, retentionDays: 30)
                let rules = BookRules.defaults(for: book)
                let ask = DecimalNumber(bookIndex == 0 ? "1703000" : "17.25")!
                let (askUnits, askScale): (Int64, UInt8) = bookIndex == 0 ? (170_300_000, 2) : (172_500, 4)
                var random = SplitMix64(seed: UInt64(bookIndex + 1))
                var state: String?
                var open: AlertEpisode?
                var starts: [Timestamp] = []
                var buckets: [SpreadSummary.Width: [SpreadObservation]] = [.hour: [], .day: []]
                for index in 0..<count {
                    let time = Timestamp(milliseconds: end - Int64(count - 1 - index) * 10_000 + Int64(bookIndex))
                    // Spreads of 0 to 0.2 % of the ask, in the ask's own digits.
                    let bidUnits = askUnits - Int64(random.next() % UInt64(askUnits / 500))
                    let roll = index % 50
                    let bid = roll == 7 ? nil : roll == 17 ? DecimalNumber(mantissa: askUnits + 1, scale: askScale) : DecimalNumber(mantissa: bidUnits, scale: askScale)
                    let updated = roll == 29 ? time.adding(milliseconds: -120_000) : time.adding(milliseconds: -300)
                    let quote = BookQuote(book: book, bid: bid, ask: ask, sequence: Int64(index), updatedAt: updated)
                    let observation = SpreadObservation(quote: quote, observedAt: time, rules: rules)
                    var change = SpreadWriter.Change(observation: observation, before: state, after: String(index))
                    change.counters = [("observations", 1)] + (observation.breach ? [("breaches", 1)] : [])
                    change.counters += SpreadFlags.named.filter { observation.flags.contains($0.0) }.map { ("flagged_\($0.1)", 1) }
                    if observation.flags.isEmpty, let spread = observation.spreadPct {
                        if var episode = open {
                            if spread < rules.clearBelowPct {
                                episode.state = .closed
                                episode.endedAt = time
                                open = nil
                            } else {
                                episode.peakSpreadPct = max(episode.peakSpreadPct, spread)
                                open = episode
                            }
                            change.episodes = [episode]
                        } else if observation.breach {
                            let episode = AlertEpisode(book: book, state: .open, thresholdPct: rules.thresholdPct, startedAt: time, endedAt: nil, peakSpreadPct: spread)
                            open = episode
                            starts.append(time)
                            change.episodes = [episode]
                            change.alerts = [[("id", episode.id), ("state", "open")]]
                            change.counters.append(("episodes", 1))
                        }
                    }
                    for width in SpreadSummary.Width.allCases {
                        if let last = buckets[width]!.last, width.start(of: last.observedAt) != width.start(of: time) {
                            let closed = SpreadSummary.buckets(of: buckets[width]! + [observation], width: width, maxGapSeconds: rules.maxGapSeconds, episodeStarts: starts)
                            change.summaries.append((width, closed[0]))
                            buckets[width]!.removeAll(keepingCapacity: true)
                        }
                        buckets[width]!.append(observation)
                    }
                    guard try await writer.write(change) == .written else { fail("the spread state moved under the seeding of \(book)") }
                    state = String(index)
                    if starts.count > 64 { starts.removeFirst(32) }
                }
                await redis.shutdown()
            }
        }
        try await group.waitForAll()
    }
    let seconds = (wallMilliseconds() - started) / 1000
    // Memory of one day's hour keys of one book, per observation in them.
    let keys = SpreadKeys()
    let hours = try await setup.zrangeByScore(keys.hours(books[0]), minimum: String(end - 86_400_000), maximum: "+inf")
    var bytes = 0
    var stored = 0
    for hour in hours {
        bytes += try await setup.send(["MEMORY", "USAGE", RedisArgument(keys.observations(books[0], hour: Timestamp(milliseconds: hour.score))), "SAMPLES", "0"]).int ?? 0
        stored += try await setup.send(["ZCARD", RedisArgument(keys.observations(books[0], hour: Timestamp(milliseconds: hour.score)))]).int ?? 0
    }
    print("spreads seeded: \(count * books.count) observations of \(books.count) books over \(days) days through SpreadWriter in \(fmt(seconds)) s (\(Int(Double(count * books.count) / seconds))/s); Redis memory per observation \(stored > 0 ? bytes / stored : 0) bytes")
    await setup.shutdown()
}

/// The spread monitor (a running `spread-monitor` with the default rules, on an empty Redis).
/// Storage first: 10,000 observations of usd_mxn one second apart from three hours back (no
/// transitions; explicit entry ids, so the stream must be empty), `INFO memory`'s used_memory
/// before and after (the books stream trimmed away), and `MEMORY USAGE` of a full hour's key
/// over its members. Then latency: btc_mxn messages alternating a breach (0.13 %) and a clear
/// spread (0.04 %), each a transition, from the XADD to the alert message's arrival (XREAD
/// BLOCK here).
func spreadAlert(_ redisURL: String, samples: Int) async throws {
    let redis = RedisClient(endpoint: try RedisEndpoint(url: redisURL))
    func book(_ name: String, at: Timestamp, spreadThousandths: Int) -> [(String, RedisArgument)] {
        let record = JSONObject([
            ("book", .string(name)), ("bid", .number(String(1_000_000 - 10 * spreadThousandths))), ("ask", .number("1000000")), ("sequence", .number("1")),
            ("updated_at", .string(at.iso8601)),
        ])
        return FetchedSnapshot(source: "bitso", fetchedAt: at, records: [record], skipped: [:]).streamFields
    }
    let before = try await redis.memoryInfo().usedBytes
    let first = Timestamp(milliseconds: (Timestamp.now.milliseconds / 3_600_000 - 3) * 3_600_000)
    let count = 10_000
    for batch in stride(from: 0, to: count, by: 500) {
        let commands: [[RedisArgument]] = (batch..<min(count, batch + 500)).map { index in
            let at = first.adding(milliseconds: Int64(index) * 1000)
            return ["XADD", "topcoins:books", RedisArgument("\(at.milliseconds)-1")] + book("usd_mxn", at: at, spreadThousandths: 40).flatMap { [RedisArgument($0.0), $0.1] }
        }
        _ = try await redis.pipeline(commands)
    }
    let started = wallMilliseconds()
    while Int(try await redis.send(["HGET", "{topcoins}:spreads:counters", "usd_mxn:observations"]).string ?? "0") ?? 0 < count {
        guard wallMilliseconds() - started < 120_000 else { fail("the monitor did not observe \(count) books within 120 s") }
        try await Task.sleep(for: .milliseconds(100))
    }
    _ = try await redis.send(["XTRIM", "topcoins:books", "MAXLEN", "0"])
    let after = try await redis.memoryInfo().usedBytes
    let hourKey = "{topcoins}:spreads:obs:usd_mxn:\(first.milliseconds)"
    let hourBytes = try await redis.send(["MEMORY", "USAGE", RedisArgument(hourKey), "SAMPLES", "0"]).int ?? 0
    let members = try await redis.send(["ZCARD", RedisArgument(hourKey)]).int ?? 0
    print(
        "spread-monitor storage: \(fmt(Double(after - before) / Double(count))) bytes per observation (used_memory delta over \(count), books stream trimmed), "
            + "\(fmt(Double(hourBytes) / Double(max(members, 1)))) bytes per member of a full hour's key (MEMORY USAGE \(hourBytes) / \(members))")
    var last = try await redis.xrevrange("topcoins:alerts", count: 1).first?.id ?? "0"
    var times: [Double] = []
    for sample in 0..<samples {
        let start = wallMilliseconds()
        try await redis.xadd("topcoins:books", maxLength: 1000, fields: book("btc_mxn", at: .now, spreadThousandths: sample % 2 == 0 ? 130 : 40))
        while true {
            let entries = try await redis.xread(key: "topcoins:alerts", after: last, count: 10, blockMilliseconds: 5000)
            guard let entry = entries.last else { fail("no alert within 5 s of sample \(sample)") }
            last = entry.id
            if entry.text("book") == "btc_mxn" { break }
        }
        times.append(wallMilliseconds() - start)
        try await Task.sleep(for: .milliseconds(5))
    }
    let sorted = times.sorted()
    print("spread-alert, XADD of a book message to its topcoins:alerts message (\(samples) transitions): wall ms \(Summary(values: times).line), p95 \(fmt(sorted[(sorted.count * 95 + 99) / 100 - 1]))")

    await redis.shutdown()
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "mapping" where arguments.count == 3: try mapping(arguments[1], runs: Int(arguments[2])!)
    case "merge" where arguments.count == 5: try await merge(arguments[1], prices: Int(arguments[2])!, ranks: Int(arguments[3])!, runs: Int(arguments[4])!)
    case "history" where arguments.count == 4: try await history(arguments[1], coins: Int(arguments[2])!, snapshots: Int(arguments[3])!)
    case "streams" where arguments.count == 5:
        try await streams(arguments[1], priceRecords: Int(arguments[2])!, rankRecords: Int(arguments[3])!, messages: Int(arguments[4])!)
    case "series-history" where arguments.count == 4: try await seriesHistory(arguments[1], coins: Int(arguments[2])!, days: Int(arguments[3])!)
    case "candles" where arguments.count == 4: try await candles(arguments[1], coins: Int(arguments[2])!, days: Int(arguments[3])!)
    case "old-history" where arguments.count == 4: try await oldHistory(arguments[1], coins: Int(arguments[2])!, snapshots: Int(arguments[3])!)
    case "rankings" where arguments.count == 4: try await rankings(coins: Int(arguments[1])!, points: Int(arguments[2])!, runs: Int(arguments[3])!)
    case "spreads" where arguments.count == 3: try await spreads(arguments[1], days: Int(arguments[2])!)
    case "freshness" where arguments.count == 5: try await freshness(arguments[1], port: Int(arguments[2])!, coins: Int(arguments[3])!, trials: Int(arguments[4])!)
    case "spread-alert" where arguments.count == 3: try await spreadAlert(arguments[1], samples: Int(arguments[2])!)
    default: fail("usage: see the comment at the top of main.swift")
    }
} catch {
    fail("\(error)")
}
