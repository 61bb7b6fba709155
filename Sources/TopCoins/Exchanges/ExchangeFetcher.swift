import Logging

/// Runs the exchange fetcher's steps (see `ExchangeFetcherConfig`), joins their records into
/// the two tables (`SharedMarkets`), and puts them in service (`ExchangeStore`). A run is
/// all or nothing: any call that fails after its retries, or a budget spent, ends the run
/// with the tables in service untouched. Every call of a run, retries included, spends from
/// one budget made for that run, and the run's log line says how many it made.
public struct ExchangeFetcher: Sendable {
    public let config: ExchangeFetcherConfig
    let http: HTTPClient
    let store: ExchangeStore
    let status: PipelineStatus
    let logger: Logger

    public init(config: ExchangeFetcherConfig, http: HTTPClient, redis: RedisClient, logger: Logger) {
        self.config = config
        self.http = http
        self.store = ExchangeStore(redis: redis)
        self.status = PipelineStatus(redis: redis, component: config.source)
        self.logger = logger
    }

    /// Why a run put nothing in service.
    public enum RunFailure: Error, Sendable, CustomStringConvertible {
        case upstream(step: String, value: String?, page: Int, UpstreamFailure)
        case noRecords(step: String, skipped: [String: Int])
        case store(RedisError)
        case cancelled

        public var description: String {
            switch self {
            case .upstream(let step, let value, let page, let failure): "step \(step)\(value.map { " (\($0))" } ?? ""), page \(page): \(failure)"
            case .noRecords(let step, let skipped): "step \(step) gave no usable records (skipped: \(skipped.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))"
            case .store(let error): "could not store the tables: \(error)"
            case .cancelled: "cancelled"
            }
        }

        public var reason: String {
            switch self {
            case .upstream(_, _, _, let failure): failure.reason
            case .noRecords: "no_records"
            case .store(let error): error.reason
            case .cancelled: "cancelled"
            }
        }
    }

    /// What one run did: its tables or why not, and the calls it made.
    public struct RunSummary: Sendable {
        public let result: Result<ExchangeTables, RunFailure>
        public let calls: Int
    }

    /// One run: fetch every step, join, store; `nextRunAt` goes into the tables for caching.
    public func run(nextRunAt: Timestamp) async -> RunSummary {
        let started = ContinuousClock.now
        let budget = RequestBudget(
            limits: [.init(requests: config.budget.perMinute, window: .seconds(60))], rateLimitPause: .seconds(config.budget.rateLimitPauseSeconds),
            callsPerRun: config.budget.perRun)
        var result = await fetchTables(budget: budget, nextRunAt: nextRunAt)
        if case .success(let tables) = result {
            do {
                try await store.putInService(tables)
            } catch {
                result = .failure(.store(error))
            }
        }
        let summary = RunSummary(result: result, calls: budget.callsMade)
        await report(summary, duration: started.duration(to: .now))
        return summary
    }

    func fetchTables(budget: RequestBudget, nextRunAt: Timestamp) async -> Result<ExchangeTables, RunFailure> {
        var answers: [String: [JSONObject]] = [:]
        var tickersRead = 0
        var candidateIds: [String] = []
        for step in config.steps {
            let requester = UpstreamRequester(
                http: http, source: config.source, retry: config.retry, records: step.records, responseFilter: step.responseFilter, budget: budget,
                logger: logger)
            var values = ["run.reference": config.reference]
            for (name, records) in answers {
                let fields = Set(records.flatMap { $0.members.map(\.0) })
                for field in fields { values["list.\(name).\(field)"] = ExchangeFetcher.distinctList(records, field) }
            }
            var records: [JSONObject] = []
            var skipped: [String: Int] = [:]
            let asked: [String?] = step.each.map { each in items(each, of: answers[each.from] ?? []).map { Optional($0) } } ?? [nil]
            for value in asked {
                var stepValues = values
                if let each = step.each, let value { stepValues[each.placeholder] = value }
                let raw: [JSONValue]
                switch await allPages(step, requester: requester, values: stepValues, value: value) {
                case .success(let pages): raw = pages
                case .failure(let failure): return .failure(failure)
                }
                if ExchangeFetcherConfig.tickerSteps.contains(step.name) { tickersRead += raw.count }
                let leading: [(String, JSONValue)] = step.each.flatMap { each in value.map { [(each.name, .string($0))] } } ?? []
                let output = RecordMapper(fields: step.fields).map(raw, leading: leading)
                records += output.records
                for (reason, count) in output.skipped { skipped[reason, default: 0] += count }
                if step.name == "candidate_tickers", let value { candidateIds.append(value) }
            }
            if !skipped.isEmpty {
                var metadata: Logger.Metadata = ["source": "\(config.source)", "step": "\(step.name)"]
                for (reason, count) in skipped { metadata["skipped.\(reason)"] = "\(count)" }
                logger.warning("records skipped", metadata: metadata)
            }
            // An each step may find nothing for a value (a candidate listing none of the
            // coins); a plain step with nothing would make an empty table.
            if step.each == nil, records.isEmpty { return .failure(.noRecords(step: step.name, skipped: skipped)) }
            answers[step.name] = records
        }
        let each = config.steps.first { $0.name == "candidate_tickers" }?.each
        var grouped: [String: [ExchangeTicker]] = [:]
        for record in answers["candidate_tickers"] ?? [] {
            guard let each, case .string(let id)? = record[each.name] else { continue }
            grouped[id, default: []].append(ExchangeFetcher.ticker(record))
        }
        let joined = SharedMarkets.join(
            reference: config.reference, referenceTickers: (answers["reference_tickers"] ?? []).map(ExchangeFetcher.ticker),
            exchanges: (answers["exchanges"] ?? []).map(ExchangeFetcher.listing), candidates: candidateIds.map { ($0, grouped[$0] ?? []) })
        return .success(
            ExchangeTables(
                reference: config.reference, fetchedAt: .now, nextRunAt: nextRunAt, exchangesConsidered: candidateIds.count,
                tickersConsidered: tickersRead, similar: joined.similar, markets: joined.markets))
    }

    /// Every page of one request: until a short page, or `max_pages` (an `every_page` list
    /// still full there fails rather than being cut short).
    func allPages(_ step: ExchangeFetcherConfig.Step, requester: UpstreamRequester, values: [String: String], value: String?) async -> Result<[JSONValue], RunFailure> {
        var records: [JSONValue] = []
        let pages = step.pagination?.maxPages ?? 1
        for index in 0..<pages {
            var request = step.request.http(values, extraQuery: step.pagination?.query(page: index) ?? [])
            if let key = config.apiKey, let secret = key.value { request.headers.append((key.header, secret)) }
            var metadata: Logger.Metadata = ["step": "\(step.name)", "page": "\(index + 1)"]
            if let value { metadata["value"] = "\(value)" }
            let page: [JSONValue]
            switch await requester.records(for: request, metadata: metadata) {
            case .records(let items): page = items
            case .noData(let message): return .failure(.upstream(step: step.name, value: value, page: index + 1, .server(status: 200, message: message)))
            case .failed(let failure): return .failure(.upstream(step: step.name, value: value, page: index + 1, failure))
            case .cancelled: return .failure(.cancelled)
            }
            records += page
            guard let pagination = step.pagination, !pagination.isLast(count: page.count) else { return .success(records) }
            if pagination.everyPage, index + 1 == pages {
                return .failure(.upstream(step: step.name, value: value, page: index + 1, .malformed(FetcherConfig.Pagination.morePagesMessage(pages))))
            }
        }
        return .success(records)
    }

    /// The values an `each` step asks for: the earlier step's records ordered by `order_by`
    /// (ascending, nulls and non-numbers last, otherwise in answer order), the excluded one
    /// left out, at most `limit`, each value once.
    func items(_ each: ExchangeFetcherConfig.Each, of records: [JSONObject]) -> [String] {
        let excluded = each.excluding?.rendered(["run.reference": config.reference])
        var ordered = records.enumerated().map { (offset: $0.offset, record: $0.element) }
        if let orderBy = each.orderBy {
            func key(_ record: JSONObject) -> DecimalNumber? {
                if case .number(let literal)? = record[orderBy] { return DecimalNumber(literal) }
                return nil
            }
            ordered.sort { a, b in
                switch (key(a.record), key(b.record)) {
                case (let x?, let y?): x != y ? x < y : a.offset < b.offset
                case (.some, nil): true
                case (nil, .some): false
                case (nil, nil): a.offset < b.offset
                }
            }
        }
        var seen: Set<String> = []
        var values: [String] = []
        for (_, record) in ordered {
            guard let value = ExchangeFetcher.text(record[each.field]), !value.isEmpty, value != excluded, seen.insert(value).inserted else { continue }
            values.append(value)
            if let limit = each.limit, values.count == limit { break }
        }
        return values
    }

    /// `${list.<step>.<field>}`: the field's distinct non-empty values in record order, joined by commas.
    static func distinctList(_ records: [JSONObject], _ field: String) -> String {
        var seen: Set<String> = []
        return records.compactMap { text($0[field]) }.filter { !$0.isEmpty && seen.insert($0).inserted }.joined(separator: ",")
    }

    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text): text
        case .number(let literal): literal
        default: nil
        }
    }

    /// A mapped ticker record (the config check made sure of its fields and types).
    static func ticker(_ record: JSONObject) -> ExchangeTicker {
        ExchangeTicker(
            base: text(record["base"]) ?? "", target: text(record["target"]) ?? "", isStale: record["is_stale"] != .bool(false),
            isAnomaly: record["is_anomaly"] != .bool(false))
    }

    static func listing(_ record: JSONObject) -> ExchangeListing {
        ExchangeListing(
            id: text(record["id"]) ?? "", name: text(record["name"]) ?? "", trustScore: text(record["trust_score"]).flatMap { Int64($0) },
            trustScoreRank: text(record["trust_score_rank"]).flatMap { Int64($0) })
    }

    /// Logs the run with its calls, and records the pipeline status (never failing the run).
    func report(_ summary: RunSummary, duration: Duration) async {
        var metadata: Logger.Metadata = [
            "source": "\(config.source)", "reference": "\(config.reference)", "calls": "\(summary.calls)", "calls_per_run": "\(config.budget.perRun)",
            "duration_ms": "\(duration.milliseconds)",
        ]
        do {
            switch summary.result {
            case .success(let tables):
                metadata["similar"] = "\(tables.similar.count)"
                metadata["markets"] = "\(tables.markets.count)"
                metadata["exchanges"] = "\(tables.exchangesConsidered)"
                metadata["tickers"] = "\(tables.tickersConsidered)"
                logger.info("exchange tables in service", metadata: metadata)
                try await status.recordSuccess(
                    at: .now, duration: duration,
                    figures: ["calls": summary.calls, "similar": tables.similar.count, "markets": tables.markets.count, "exchanges": tables.exchangesConsidered])
            case .failure(let failure):
                metadata["reason"] = "\(failure.reason)"
                metadata["error"] = "\(failure)"
                logger.error("exchange run failed, the tables in service are kept", metadata: metadata)
                if case .cancelled = failure { return }
                try await status.recordFailure(at: .now, reason: failure.reason, message: failure.description)
            }
        } catch {
            logger.warning("could not record status", metadata: ["source": "\(config.source)", "error": "\(error)"])
        }
    }
}
