import Logging
import Synchronization

/// Runs fetch cycles for one config: request every page (retrying as the config says), map
/// the records, publish one snapshot to the stream. A cycle publishes a whole snapshot or
/// nothing; with `each`, a cycle does that once per value, in order, and one value's failure
/// never holds back the others'.
public struct Fetcher: Sendable {
    public let config: FetcherConfig
    let http: HTTPClient
    let redis: RedisClient
    let logger: Logger
    let mapper: RecordMapper
    let status: PipelineStatus
    let requester: UpstreamRequester
    let parked: ParkedValues

    public init(config: FetcherConfig, http: HTTPClient, redis: RedisClient, logger: Logger) {
        self.config = config
        self.http = http
        self.redis = redis
        self.logger = logger
        self.mapper = RecordMapper(fields: config.fields)
        self.status = PipelineStatus(redis: redis, component: config.source)
        self.requester = UpstreamRequester(
            http: http, source: config.source, retry: config.retry, records: config.records, recordsShape: config.recordsShape,
            responseFilter: config.responseFilter,
            budget: config.budget.map { RequestBudget(limits: $0.limits, rateLimitPause: .seconds($0.rateLimitPauseSeconds)) }, logger: logger)
        self.parked = ParkedValues()
    }

    /// Why a cycle (or, with `each`, one value's part of it) published nothing.
    public enum CycleFailure: Error, Sendable, CustomStringConvertible {
        case upstream(page: Int, UpstreamFailure)
        case noRecords(skipped: [String: Int])
        case publish(RedisError)
        case cancelled

        public var description: String {
            switch self {
            case .upstream(let page, let failure): "page \(page): \(failure)"
            case .noRecords(let skipped) where skipped.isEmpty: "the upstream returned no records"
            case .noRecords(let skipped): "every record was skipped (\(skipped.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))"
            case .publish(let error): "could not publish: \(error)"
            case .cancelled: "cancelled"
            }
        }

        public var reason: String {
            switch self {
            case .upstream(_, let failure): failure.reason
            case .noRecords: "no_records"
            case .publish(let error): error.reason
            case .cancelled: "cancelled"
            }
        }

        /// A refusal asking again cannot mend: the value is parked (an unknown book, a bad key).
        var parksValue: Bool {
            switch self {
            case .upstream(_, .rejected), .upstream(_, .keyProblem): true
            default: false
            }
        }
    }

    /// A fetched and mapped snapshot, with how many pages it took.
    public struct Fetched: Sendable {
        public let snapshot: FetchedSnapshot
        public let pages: Int
    }

    /// What one cycle did: each value asked and what came of it (a fetcher without `each`
    /// asks one, `nil`), and the values left out because they are parked.
    public struct CycleSummary: Sendable {
        public var outcomes: [(value: String?, result: Result<FetchedSnapshot, CycleFailure>)] = []
        public var parked: [String] = []

        public var published: Int { outcomes.count { if case .success = $0.result { true } else { false } } }
        public var failures: [(value: String?, failure: CycleFailure)] {
            outcomes.compactMap { if case .failure(let failure) = $0.result { ($0.value, failure) } else { nil } }
        }
        public var cancelled: Bool { failures.contains { if case .cancelled = $0.failure { true } else { false } } }
        /// Every value asked published (a `--once` cycle's success); parked values were not asked.
        public var succeeded: Bool { failures.isEmpty }
    }

    /// Fetches and maps one snapshot without publishing it: for `value` of `each`, or (nil)
    /// the config's one request.
    public func fetch(value: String? = nil) async -> Result<Fetched, CycleFailure> {
        var records: [JSONValue] = []
        var pagesFetched = 0
        let pages = config.pagination?.maxPages ?? 1
        for pageIndex in 0..<pages {
            let query = config.pagination?.query(page: pageIndex) ?? []
            let page: [JSONValue]
            switch await fetchPage(query: query, page: pageIndex + 1, value: value) {
            case .success(let items): page = items
            case .failure(let failure): return .failure(failure)
            }
            records += page
            pagesFetched += 1
            guard let pagination = config.pagination, !pagination.isLast(count: page.count) else { break }
            if pagination.everyPage, pagesFetched == pages { return .failure(.upstream(page: pagesFetched, .malformed(FetcherConfig.Pagination.morePagesMessage(pages)))) }
        }
        let fetchedAt = Timestamp.now
        let output = mapper.map(records, leading: eachMember(value).map { [($0.name, .string($0.value))] } ?? [])
        guard !output.records.isEmpty else { return .failure(.noRecords(skipped: output.skipped)) }
        let snapshot = FetchedSnapshot(source: config.source, fetchedAt: fetchedAt, records: output.records, skipped: output.skipped)
        return .success(Fetched(snapshot: snapshot, pages: pagesFetched))
    }

    /// One page, with the config's retries; the records at the config's `records` path.
    func fetchPage(query: [(String, String)], page: Int, value: String?) async -> Result<[JSONValue], CycleFailure> {
        var metadata: Logger.Metadata = ["page": "\(page)"]
        var values: [String: String] = [:]
        if let each = config.each, let value {
            metadata[each.name] = "\(value)"
            values[each.placeholder] = value
        }
        switch await requester.records(for: config.request.http(values, extraQuery: query), metadata: metadata) {
        case .records(let items): return .success(items)
        // A listing fetcher's config has no `no_data` rule.
        case .noData(let message): return .failure(.upstream(page: page, .server(status: 200, message: message)))
        case .failed(let failure): return .failure(.upstream(page: page, failure))
        case .cancelled: return .failure(.cancelled)
        }
    }

    /// The `each` member a value's records carry: its name and the value.
    func eachMember(_ value: String?) -> (name: String, value: String)? {
        guard let each = config.each, let value else { return nil }
        return (each.name, value)
    }

    /// Publishes a snapshot: `XADD <stream> MAXLEN ~ <max_length> * ...`.
    public func publish(_ snapshot: FetchedSnapshot) async throws(RedisError) -> String {
        try await redis.xadd(config.stream.key, maxLength: config.stream.maxLength, fields: snapshot.streamFields)
    }

    /// One whole cycle: for each value not parked (or the one request), fetch, then publish,
    /// retrying the publish while Redis is away until `deadline` so a fetched snapshot is not
    /// thrown away for a short Redis restart. A value the upstream refuses is parked.
    public func runCycle(publishDeadline deadline: ContinuousClock.Instant) async -> CycleSummary {
        let started = ContinuousClock.now
        var summary = CycleSummary()
        let values: [String?] = config.each?.values ?? [nil]
        for value in values {
            if let value, parked.isParked(value, now: .now) {
                summary.parked.append(value)
                continue
            }
            let result = await fetchAndPublish(value: value, publishDeadline: deadline)
            summary.outcomes.append((value, result))
            if case .failure(let failure) = result {
                if case .cancelled = failure { return summary }
                report(failure, of: value)
            }
        }
        await recordStatus(summary, started: started)
        return summary
    }

    /// Logs a value's failure once at error level; a refusal parks the value for the
    /// config's `rejected_pause_seconds`.
    func report(_ failure: CycleFailure, of value: String?) {
        var metadata: Logger.Metadata = ["source": "\(config.source)", "reason": "\(failure.reason)", "error": "\(failure)"]
        guard let each = config.each, let value else {
            logger.error("fetch cycle failed, nothing published", metadata: metadata)
            return
        }
        metadata[each.name] = "\(value)"
        if failure.parksValue {
            parked.park(value, until: .now.advanced(by: .seconds(each.rejectedPauseSeconds)))
            metadata["parked_s"] = "\(each.rejectedPauseSeconds)"
            logger.error("the upstream refused \(each.name) \(value): not asked again until the pause is over", metadata: metadata)
        } else {
            logger.error("fetch failed for \(each.name) \(value), nothing published for it", metadata: metadata)
        }
    }

    /// The cycle's status: a success when anything was published (with `each`, the figures
    /// `values_published`, `values_failed` and `values_parked` say how much), else a failure
    /// naming each value's failure. Status is for the operator; failing to write it never
    /// fails the cycle.
    func recordStatus(_ summary: CycleSummary, started: ContinuousClock.Instant) async {
        let snapshots = summary.outcomes.compactMap { try? $0.result.get() }
        if !snapshots.isEmpty {
            var figures = ["records_kept": snapshots.reduce(0) { $0 + $1.records.count }]
            for snapshot in snapshots { for (reason, count) in snapshot.skipped { figures["skipped.\(reason)", default: 0] += count } }
            if config.each != nil {
                figures["values_published"] = summary.published
                figures["values_failed"] = summary.failures.count
                figures["values_parked"] = summary.parked.count
            }
            await record { () throws(RedisError) in try await status.recordSuccess(at: .now, duration: started.duration(to: .now), figures: figures) }
            return
        }
        let reason: String
        let message: String
        if let first = summary.failures.first {
            reason = first.failure.reason
            let each = summary.failures.map { "\($0.value ?? ""): \($0.failure)" } + summary.parked.map { "\($0): parked" }
            message = config.each == nil ? first.failure.description : "nothing published: " + each.joined(separator: "; ")
        } else {
            reason = "parked"
            message = "nothing published: every value is parked (\(summary.parked.joined(separator: ", ")))"
        }
        await record { () throws(RedisError) in try await status.recordFailure(at: .now, reason: reason, message: message) }
    }

    /// Status is for the operator; failing to write it never fails the cycle.
    func record(_ write: () async throws(RedisError) -> Void) async {
        do {
            try await write()
        } catch {
            logger.warning("could not record status", metadata: ["source": "\(config.source)", "error": "\(error)"])
        }
    }

    func fetchAndPublish(value: String?, publishDeadline deadline: ContinuousClock.Instant) async -> Result<FetchedSnapshot, CycleFailure> {
        let started = ContinuousClock.now
        let fetched: Fetched
        switch await fetch(value: value) {
        case .success(let result): fetched = result
        case .failure(let failure): return .failure(failure)
        }
        let snapshot = fetched.snapshot
        var delay = 0.2
        while true {
            do {
                let id = try await publish(snapshot)
                var metadata: Logger.Metadata = [
                    "source": "\(config.source)", "stream": "\(config.stream.key)", "entry": "\(id)",
                    "pages": "\(fetched.pages)", "records": "\(snapshot.records.count)", "skipped": "\(snapshot.skippedCount)",
                    "duration_ms": "\(started.duration(to: .now).milliseconds)",
                ]
                if let member = eachMember(value) { metadata[member.name] = "\(member.value)" }
                for (reason, count) in snapshot.skipped { metadata["skipped.\(reason)"] = "\(count)" }
                logger.info("published snapshot", metadata: metadata)
                return .success(snapshot)
            } catch {
                logger.error("could not publish snapshot", metadata: ["source": "\(config.source)", "reason": "\(error.reason)", "error": "\(error)"])
                guard ContinuousClock.now.advanced(by: .milliseconds(Int64(delay * 1000))) < deadline else { return .failure(.publish(error)) }
                do { try await Task.sleep(for: .milliseconds(Int64(delay * 1000))) } catch { return .failure(.cancelled) }
                delay = min(delay * 2, 5)
            }
        }
    }
}

/// The `each` values a fetcher does not ask until a moment: the upstream refused them.
final class ParkedValues: Sendable {
    private let until: Mutex<[String: ContinuousClock.Instant]> = Mutex([:])

    func park(_ value: String, until instant: ContinuousClock.Instant) {
        until.withLock { $0[value] = instant }
    }

    /// Whether `value` is still parked at `now`; a pause that is over is forgotten.
    func isParked(_ value: String, now: ContinuousClock.Instant) -> Bool {
        until.withLock { until in
            guard let end = until[value] else { return false }
            if end <= now { until[value] = nil }
            return end > now
        }
    }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

extension String {
    /// A number with up to three decimals, for logs.
    init(format3 value: Double) {
        self = String(Double(Int((value * 1000).rounded())) / 1000)
    }
}
