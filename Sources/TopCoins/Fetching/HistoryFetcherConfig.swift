/// The history fetcher's config: the generic fetcher's request, retry, records and fields,
/// plus what daily backfill needs to say. Keys beyond a listing fetcher's:
///
/// - `assets`: `{"list": [{"cmc_id": 1, "symbol": "BTC"}, ...], "top": 100}`. Each list entry
///   has a `cmc_id` and any string members the request names (`symbol` for CryptoCompare,
///   `upstream_id` for CoinGecko's ids), since upstream symbols and ids are not CoinMarketCap's.
///   `top` adds the top N of the newest merged snapshot, which carry `cmc_id`, `symbol` and
///   `name`. List entries come first; an asset is fetched once (by `cmc_id`).
/// - `range`: `{"from": "2021-01-01", "to": null}` (`to` null: through yesterday) or
///   `{"last_days": N}` (the N days through yesterday). Today's candle is still moving and is
///   never stored; the service's own points cover it.
/// - `window`: `{"days": 2000}`, the most days one request asks for (CryptoCompare's
///   `histoday` returns `limit + 1` candles, at most 2001). Windows page backward: the next
///   window ends the day before the earliest record of the previous page; paging stops at
///   `range.from`, at a page with fewer valid candles than days asked (the upstream has
///   nothing older), or at a page with none.
/// - `request` values are templates: `${asset.<member>}` (`${asset.cmc_id}`, `${asset.symbol}`),
///   `${window.from}` and `${window.to}` (unix seconds of the first and last day's midnight),
///   `${window.days}` and `${window.span_days}` (days in the window, and one less: CryptoCompare's
///   `limit`). `${NAME}` without a dot is the environment, substituted at start-up as in any config.
/// - `budget`: `{"per_second": 20, "per_minute": 300}`, shared by every request of a pass.
/// - `no_data`: `{"path": "Message", "contains": "does not exist", "status": 200}`: an error
///   answer meaning the upstream has no data for the asset, which is skipped and counted, not retried.
/// - `fields`: `time` (`timestamp` or `timestamp_ms`), `open`, `high`, `low`, `close` (decimal)
///   and optionally `volume` (decimal); `"positive": true` skips records whose value is zero
///   (CryptoCompare pads the days before a coin existed with zero candles).
public struct HistoryFetcherConfig: Sendable {
    /// One asset to backfill: its CoinMarketCap id and the values its requests name.
    public struct Asset: Sendable, Equatable {
        public let cmcId: Int64
        /// `cmc_id` and the entry's other members, by name (`symbol`, `upstream_id`).
        public let values: [String: String]

        public init(cmcId: Int64, values: [String: String]) {
            self.cmcId = cmcId
            self.values = values.merging(["cmc_id": String(cmcId)]) { $1 }
        }
    }

    public enum Range: Sendable, Equatable {
        case dates(from: UTCDay, to: UTCDay?)
        case lastDays(Int64)

        /// The days to hold on `today`: never today itself, whose candle is still moving.
        public func days(today: UTCDay) -> ClosedRange<UTCDay>? {
            let yesterday = today.adding(days: -1)
            switch self {
            case .dates(let from, let to):
                let last = min(to ?? yesterday, yesterday)
                return from <= last ? from...last : nil
            case .lastDays(let count):
                return yesterday.adding(days: 1 - count)...yesterday
            }
        }
    }

    /// The candle fields a config maps, and which of them it must map.
    public static let candleFields: [(name: String, kinds: [FieldSpec.Kind], required: Bool)] = [
        ("time", [.timestamp, .timestampMilliseconds], true), ("open", [.decimal], true), ("high", [.decimal], true), ("low", [.decimal], true),
        ("close", [.decimal], true), ("volume", [.decimal], false),
    ]
    /// What the newest snapshot's assets carry for `${asset.*}`.
    public static let snapshotAssetValues: Set<String> = ["cmc_id", "symbol", "name"]
    public static let windowPlaceholders: Set<String> = ["window.from", "window.to", "window.days", "window.span_days"]
    public static let defaultRetry = FetcherConfig.defaultRetry

    /// Tags every stored candle (`cryptocompare`) and names the progress hash.
    public let source: String
    public let schedule: FetcherConfig.Schedule
    public let list: [Asset]
    public let top: Int?
    public let range: Range
    public let windowDays: Int
    public let budget: [RequestBudget.Limit]
    public let noData: NoDataRule?
    public let request: FetcherConfig.Request
    public let retry: RetryPolicy
    public let records: FieldPath
    public let fields: [FieldSpec]
    /// The `time` field, which every config maps: pages are placed by it.
    public let timeField: FieldSpec
    public let settings: ServiceSettings
    public let secrets: [String]

    /// The pipeline-status component: `<source>-history`, apart from a listing fetcher of the
    /// same upstream (`cryptocompare` ranks, `cryptocompare-history` backfills).
    public var component: String { "\(source)-history" }

    public init(reading config: ConfigObject) throws(ConfigError) {
        source = try config.requiredString("source")
        guard !source.isEmpty, !source.contains(" ") else { throw config.error("source", "must be a non-empty word (it tags every stored candle)") }
        schedule = try FetcherConfig.Schedule(reading: try config.requiredObject("schedule"))

        let assets = try config.requiredObject("assets")
        var list: [Asset] = []
        var listMembers: [Set<String>] = []
        for (index, element) in (try assets.array("list") ?? []).enumerated() {
            let entry = try assets.element("list", index, element)
            let cmcId = try entry.requiredInteger("cmc_id", in: 1...Int(Int32.max))
            var values: [String: String] = [:]
            for name in entry.object.keys where name != "cmc_id" {
                guard let value = try entry.string(name), !value.isEmpty else { throw entry.error(name, "must be a non-empty string") }
                values[name] = value
            }
            guard !list.contains(where: { $0.cmcId == Int64(cmcId) }) else { throw entry.error("cmc_id", "lists \(cmcId) twice") }
            list.append(Asset(cmcId: Int64(cmcId), values: values))
            listMembers.append(Set(values.keys).union(["cmc_id"]))
            try entry.rejectUnknownKeys()
        }
        top = try assets.integer("top", in: 1...5000)
        guard !list.isEmpty || top != nil else { throw config.error("assets", "must hold a non-empty list or a top count") }
        try assets.rejectUnknownKeys()
        self.list = list

        let range = try config.requiredObject("range")
        if let lastDays = try range.integer("last_days", in: 1...100_000) {
            guard range.value("from") == nil, range.value("to") == nil else { throw range.error("last_days", "goes without from and to") }
            self.range = .lastDays(Int64(lastDays))
        } else {
            func day(_ key: String) throws(ConfigError) -> UTCDay? {
                guard let text = try range.string(key) else { return nil }
                guard let day = UTCDay(iso8601: text), day.start >= Timestamp.earliestPlausible else {
                    throw range.error(key, "must be a date like 2021-01-01 from 2009-01-03 on, found \"\(text)\"")
                }
                return day
            }
            guard let from = try day("from") else { throw range.error("from", "is required (or last_days)") }
            let to = try day("to")
            if let to, to < from { throw range.error("to", "is before from") }
            self.range = .dates(from: from, to: to)
        }
        try range.rejectUnknownKeys()

        let window = try config.requiredObject("window")
        // Two days at least: an update asks for the newest stored day and the days after it,
        // so a request never asks for a single candle (`limit=0`).
        windowDays = try window.requiredInteger("days", in: 2...100_000)
        try window.rejectUnknownKeys()

        if let budget = try config.object("budget") {
            let limits = try RequestBudget.Limit.list(reading: budget)
            try budget.rejectUnknownKeys()
            self.budget = limits
        } else {
            self.budget = []
        }

        if let noData = try config.object("no_data") {
            let contains = try noData.requiredString("contains")
            guard !contains.isEmpty else { throw noData.error("contains", "must not be empty") }
            self.noData = NoDataRule(
                path: try FetcherConfig.path(noData, "path", try noData.requiredString("path")), contains: contains,
                status: try noData.integer("status", in: 100...599))
            try noData.rejectUnknownKeys()
        } else {
            self.noData = nil
        }

        // Every asset must carry each value the request names: a list entry its members, the
        // top N what a snapshot holds.
        let offered = listMembers.reduce(top == nil ? [] : HistoryFetcherConfig.snapshotAssetValues) { $0.union($1) }
        request = try FetcherConfig.Request(
            reading: try config.requiredObject("request"), placeholders: HistoryFetcherConfig.windowPlaceholders.union(offered.map { "asset.\($0)" }))
        let named = ([request.urlTemplate] + request.queryTemplates.map(\.1) + request.headerTemplates.map(\.1)).flatMap(\.placeholders)
        for name in Set(named).sorted() where name.hasPrefix("asset.") {
            let member = String(name.dropFirst("asset.".count))
            if let index = listMembers.firstIndex(where: { !$0.contains(member) }) {
                throw ConfigError(file: config.file, keyPath: "assets.list[\(index)].\(member)", message: "is required: the request names ${\(name)}")
            }
            if top != nil, !HistoryFetcherConfig.snapshotAssetValues.contains(member) {
                throw assets.error("top", "takes assets that carry only cmc_id, symbol and name, but the request names ${\(name)}")
            }
        }

        retry = try RetryPolicy(reading: config, default: HistoryFetcherConfig.defaultRetry)
        records = try FetcherConfig.path(config, "records", try config.requiredString("records"))
        let fieldsObject = try config.requiredObject("fields")
        let fields = try FieldSpec.list(reading: fieldsObject)
        for spec in fields {
            guard let expected = HistoryFetcherConfig.candleFields.first(where: { $0.name == spec.name }) else {
                throw fieldsObject.error(spec.name, "is not a candle field: expected \(HistoryFetcherConfig.candleFields.map(\.name).joined(separator: ", "))")
            }
            guard expected.kinds.contains(spec.kind) else {
                throw fieldsObject.error(spec.name, "must be of type \(expected.kinds.map(\.rawValue).joined(separator: " or ")), found \(spec.kind.rawValue)")
            }
        }
        var required: [String: FieldSpec] = [:]
        for expected in HistoryFetcherConfig.candleFields where expected.required {
            guard let spec = fields.first(where: { $0.name == expected.name }) else {
                throw config.error("fields", "must map \(expected.name) (\(expected.kinds.map(\.rawValue).joined(separator: " or ")))")
            }
            guard !spec.nullable else { throw fieldsObject.error(expected.name, "must not be nullable: a candle needs it") }
            required[spec.name] = spec
        }
        self.fields = fields
        // Among the required fields, checked just above.
        timeField = required["time"]!

        settings = try ServiceSettings(reading: config)
        try config.rejectUnknownKeys()
        secrets = config.secrets
    }

    /// What a response parse must build: each field's path below the records path.
    public var responseFilter: JSONKeyFilter {
        fields.reduce(JSONKeyFilter.keys([:])) { filter, field in filter.keeping(records.steps + field.keptSteps) }
    }
}

extension HistoryFetcherConfig: ProcessConfig {}
