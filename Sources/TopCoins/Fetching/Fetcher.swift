import Logging

/// Runs fetch cycles for one config: request every page (retrying as the config says), map
/// the records, publish one snapshot to the stream. A cycle publishes a whole snapshot or
/// nothing.
public struct Fetcher: Sendable {
    public let config: FetcherConfig
    let http: HTTPClient
    let redis: RedisClient
    let logger: Logger
    let mapper: RecordMapper
    let status: PipelineStatus
    let requester: UpstreamRequester

    public init(config: FetcherConfig, http: HTTPClient, redis: RedisClient, logger: Logger) {
        self.config = config
        self.http = http
        self.redis = redis
        self.logger = logger
        self.mapper = RecordMapper(fields: config.fields)
        self.status = PipelineStatus(redis: redis, component: config.source)
        self.requester = UpstreamRequester(
            http: http, source: config.source, retry: config.retry, records: config.records, responseFilter: config.responseFilter, logger: logger)
    }

    /// Why a cycle published nothing.
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
    }

    /// A fetched and mapped snapshot, with how many pages it took.
    public struct Fetched: Sendable {
        public let snapshot: FetchedSnapshot
        public let pages: Int
    }

    /// Fetches and maps one snapshot without publishing it.
    public func fetch() async -> Result<Fetched, CycleFailure> {
        var records: [JSONValue] = []
        var pagesFetched = 0
        let pages = config.pagination?.maxPages ?? 1
        for pageIndex in 0..<pages {
            var query: [(String, String)] = []
            if let pagination = config.pagination {
                query.append((pagination.param, String(pagination.first + pageIndex)))
                if let sizeParam = pagination.sizeParam, let size = pagination.size { query.append((sizeParam, String(size))) }
            }
            let page: [JSONValue]
            switch await fetchPage(query: query, page: pageIndex + 1) {
            case .success(let items): page = items
            case .failure(let failure): return .failure(failure)
            }
            records += page
            pagesFetched += 1
            guard let pagination = config.pagination, !page.isEmpty else { break }
            if let size = pagination.size, page.count < size { break }
        }
        let fetchedAt = Timestamp.now
        let output = mapper.map(records)
        guard !output.records.isEmpty else { return .failure(.noRecords(skipped: output.skipped)) }
        let snapshot = FetchedSnapshot(source: config.source, fetchedAt: fetchedAt, records: output.records, skipped: output.skipped)
        return .success(Fetched(snapshot: snapshot, pages: pagesFetched))
    }

    /// One page, with the config's retries; the records array at the config's `records` path.
    func fetchPage(query: [(String, String)], page: Int) async -> Result<[JSONValue], CycleFailure> {
        switch await requester.records(for: config.request.http(extraQuery: query), metadata: ["page": "\(page)"]) {
        case .records(let items): .success(items)
        case .failed(let failure): .failure(.upstream(page: page, failure))
        // A listing fetcher's config has no `no_data` rule.
        case .noData(let message): .failure(.upstream(page: page, .server(status: 200, message: message)))
        case .cancelled: .failure(.cancelled)
        }
    }

    /// Publishes a snapshot: `XADD <stream> MAXLEN ~ <max_length> * ...`.
    public func publish(_ snapshot: FetchedSnapshot) async throws(RedisError) -> String {
        try await redis.xadd(config.stream.key, maxLength: config.stream.maxLength, fields: snapshot.streamFields)
    }

    /// One whole cycle: fetch, then publish, retrying the publish while Redis is away until
    /// `deadline` so a fetched snapshot is not thrown away for a short Redis restart.
    public func runCycle(publishDeadline deadline: ContinuousClock.Instant) async -> Result<FetchedSnapshot, CycleFailure> {
        let started = ContinuousClock.now
        let result = await fetchAndPublish(publishDeadline: deadline)
        switch result {
        case .success(let snapshot):
            var figures = ["records_kept": snapshot.records.count]
            for (reason, count) in snapshot.skipped { figures["skipped.\(reason)"] = count }
            await record { () throws(RedisError) in try await status.recordSuccess(at: .now, duration: started.duration(to: .now), figures: figures) }
        case .failure(.cancelled):
            break
        case .failure(let failure):
            logger.error("fetch cycle failed, nothing published", metadata: ["source": "\(config.source)", "reason": "\(failure.reason)", "error": "\(failure)"])
            await record { () throws(RedisError) in try await status.recordFailure(at: .now, reason: failure.reason, message: failure.description) }
        }
        return result
    }

    /// Status is for the operator; failing to write it never fails the cycle.
    func record(_ write: () async throws(RedisError) -> Void) async {
        do {
            try await write()
        } catch {
            logger.warning("could not record status", metadata: ["source": "\(config.source)", "error": "\(error)"])
        }
    }

    func fetchAndPublish(publishDeadline deadline: ContinuousClock.Instant) async -> Result<FetchedSnapshot, CycleFailure> {
        let started = ContinuousClock.now
        let fetched: Fetched
        switch await fetch() {
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

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

extension String {
    /// A number with up to three decimals, for logs.
    init(format3 value: Double) {
        self = String(Double(Int((value * 1000).rounded())) / 1000)
    }
}
