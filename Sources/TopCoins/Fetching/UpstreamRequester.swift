import Logging

/// One upstream request with its config's retries, the path every fetcher shares: the HTTP
/// exchange, status and body classified together (`UpstreamFailure.classify`), the records
/// array at the config's `records` path (or the one record at its `record` path), and backoff
/// as `RetryPolicy` says. A config may add a request budget that every attempt spends from
/// (which a rate-limited answer may hold off), and an answer that means "the upstream has no
/// data for this": that one is reported, never retried.
public struct UpstreamRequester: Sendable {
    let http: HTTPClient
    let source: String
    let retry: RetryPolicy
    let records: FieldPath
    let recordsShape: FetcherConfig.RecordsShape
    /// What a response parse builds: the records' mapped fields, nothing else.
    let responseFilter: JSONKeyFilter
    let budget: RequestBudget?
    let noData: NoDataRule?
    let logger: Logger

    public init(
        http: HTTPClient, source: String, retry: RetryPolicy, records: FieldPath, recordsShape: FetcherConfig.RecordsShape = .array,
        responseFilter: JSONKeyFilter, budget: RequestBudget? = nil, noData: NoDataRule? = nil, logger: Logger
    ) {
        self.http = http
        self.source = source
        self.retry = retry
        self.records = records
        self.recordsShape = recordsShape
        self.responseFilter = responseFilter
        self.budget = budget
        self.noData = noData
        self.logger = logger
    }

    public enum Outcome: Sendable {
        case records([JSONValue])
        /// The upstream says it holds nothing for what was asked (the config's `no_data` rule).
        case noData(message: String)
        /// The retries are spent, or the failure is one retrying cannot help.
        case failed(UpstreamFailure)
        case cancelled
    }

    /// Sends `request` until it yields the records array, the upstream's "no data", or the
    /// retries are spent; `metadata` names what was asked in the retry log lines.
    public func records(for request: HTTPRequest, metadata: Logger.Metadata) async -> Outcome {
        var attempt = 1
        while true {
            if let budget {
                guard budget.takeCall() else { return .failed(.budgetSpent(calls: budget.callsPerRun ?? 0)) }
                guard await budget.spend() else { return .cancelled }
            }
            let failure: UpstreamFailure
            do {
                let response = try await http.send(request)
                switch UpstreamFailure.classify(
                    status: response.status, retryAfterHeader: response.header("Retry-After"), body: response.body, now: .now, keeping: responseFilter)
                {
                case .success(let document):
                    switch recordsShape.records(at: records, in: document) {
                    case .success(let items): return .records(items)
                    case .failure(let malformed): failure = malformed
                    }
                case .failure(let classified):
                    if let message = noData?.match(status: response.status, body: response.body) { return .noData(message: message) }
                    failure = classified
                }
            } catch let error as HTTPTransportError {
                if error.isCancelled || Task.isCancelled { return .cancelled }
                failure = .transport(error.message)
            } catch {
                return .cancelled
            }
            if case .rateLimited(let retryAfter, _) = failure, let pause = budget?.holdOff(retryAfter: retryAfter, now: .now) {
                var holdMetadata = metadata
                holdMetadata.merge(
                    ["source": "\(source)", "error": "\(failure)", "pause_s": "\(String(format3: Double(pause.milliseconds) / 1000))"], uniquingKeysWith: { $1 })
                logger.warning("upstream rate limit: every request held back", metadata: holdMetadata)
            }
            let delay = retry.delay(after: failure, attempt: attempt, jitter: Double.random(in: 0..<1))
            var lineMetadata = metadata
            lineMetadata.merge(
                [
                    "source": "\(source)", "attempt": "\(attempt)", "reason": "\(failure.reason)", "error": "\(failure)",
                    "retry_in_s": "\(delay.map { String(format3: $0) } ?? "none")",
                ], uniquingKeysWith: { $1 })
            logger.warning("upstream request failed", metadata: lineMetadata)
            guard let delay else { return .failed(failure) }
            do {
                try await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
            } catch {
                return .cancelled
            }
            attempt += 1
        }
    }
}

extension FetcherConfig.RecordsShape {
    /// The records at `path` of an answer: the array there, or the one object (`record`).
    public func records(at path: FieldPath, in document: JSONValue) -> Result<[JSONValue], UpstreamFailure> {
        switch (self, path.resolve(in: document)) {
        case (_, nil): .failure(.malformed("no value at records path \"\(path)\""))
        case (.array, .array(let items)?): .success(items)
        case (.object, .object(let record)?): .success([.object(record)])
        case (.array, let found?): .failure(.malformed("records path \"\(path)\" holds \(found.kindName), not an array"))
        case (.object, let found?): .failure(.malformed("record path \"\(path)\" holds \(found.kindName), not an object"))
        }
    }
}

extension FetcherConfig.Request {
    /// The request with `values` in its placeholders and `extraQuery` (paging) appended.
    public func http(_ values: [String: String] = [:], extraQuery: [(String, String)] = []) -> HTTPRequest {
        HTTPRequest(
            url: urlTemplate.rendered(values), query: queryTemplates.map { ($0.0, $0.1.rendered(values)) } + extraQuery,
            headers: headerTemplates.map { ($0.0, $0.1.rendered(values)) }, connectTimeoutSeconds: min(10, timeoutSeconds), timeoutSeconds: timeoutSeconds)
    }
}
