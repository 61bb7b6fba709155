import HTTPTypes
import Hummingbird
import NIOCore

/// The API's routes: `/` (the top list, now or at any past instant), `/health`, `/ready`,
/// `/metrics`, `/openapi.yaml`. Only GET and HEAD exist; every error is the one JSON error shape.
public struct TopCoinsResponder: HTTPResponder {
    public typealias Context = BasicRequestContext

    /// Which routes a listener serves: `/ready` and `/metrics` show error texts, so an
    /// operator may keep them on a listener of their own, off the public address.
    public struct Routes: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// `/`, `/openapi.yaml`.
        public static let api = Routes(rawValue: 1)
        /// `/ready`, `/metrics`.
        public static let operations = Routes(rawValue: 2)
    }

    let config: APIConfig
    let library: SnapshotLibrary
    let metrics: APIMetrics
    let routes: Routes

    public init(config: APIConfig, library: SnapshotLibrary, metrics: APIMetrics, routes: Routes) {
        self.config = config
        self.library = library
        self.metrics = metrics
        self.routes = routes
    }

    static let allow = "GET, HEAD"
    static let snapshotAge = HTTPField.Name("X-Snapshot-Age")!
    static let snapshotStale = HTTPField.Name("X-Snapshot-Stale")!

    public func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        let response = await route(request)
        metrics.record(path: request.uri.path, status: Int(response.status.code), duration: started.duration(to: .now))
        return response
    }

    func route(_ request: Request) async -> Response {
        guard request.method == .get || request.method == .head else {
            var response = TopCoinsResponder.error(
                APIError(status: 405, code: "method_not_allowed", message: "\(request.method.rawValue) is not allowed; use GET or HEAD"))
            response.headers[.allow] = TopCoinsResponder.allow
            return response
        }
        let response: Response
        switch request.uri.path {
        case "/" where routes.contains(.api): response = await list(request)
        case "/health": response = TopCoinsResponder.json(.ok, Array(#"{"status":"ok"}"#.utf8))
        case "/ready" where routes.contains(.operations): response = ready()
        case "/metrics" where routes.contains(.operations):
            let text = metrics.render(latest: library.latest, redisReachable: library.redisReachable, pipeline: library.pipeline, now: .now)
            response = Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: text)))
        case "/openapi.yaml" where routes.contains(.api):
            response = Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: config.openAPIDocument)))
        default:
            response = TopCoinsResponder.error(APIError(status: 404, code: "not_found", message: "no resource at \(request.uri.path)"))
        }
        return request.method == .head ? response.createHeadResponse() : response
    }

    func list(_ request: Request) async -> Response {
        let now = Timestamp.now
        let query: ListQuery
        do {
            query = try ListQuery(
                query: request.uri.query, accept: request.headers[.accept], defaultLimit: config.defaultLimit, maxLimit: config.maxLimit, now: now)
        } catch {
            return TopCoinsResponder.error(error)
        }
        let snapshot: RenderedSnapshot
        var isLatest = true
        if let instant = query.instant {
            do throws(HistoryReadError) {
                switch try await library.snapshot(
                    currentAt: instant, toleranceMilliseconds: Int64(config.historyToleranceSeconds) * 1000, rows: query.limit)
                {
                case .found(let found):
                    snapshot = found
                    isLatest = library.latest?.timestamp == found.timestamp
                case .notFound(let bounds):
                    var error = APIError(
                        status: 404, code: "no_snapshot_at_datetime",
                        message: "no snapshot was current at \(instant.iso8601) (within \(config.historyToleranceSeconds) s)", parameter: "datetime")
                    error.details = [("earliest", bounds?.earliest.iso8601 ?? ""), ("latest", bounds?.latest.iso8601 ?? "")].filter { !$0.1.isEmpty }
                    return TopCoinsResponder.error(error)
                }
            } catch {
                switch error {
                case .corrupt(let key, _):
                    return TopCoinsResponder.error(
                        APIError(
                            status: 500, code: "corrupt_snapshot",
                            message: "the snapshot current at \(instant.iso8601) is stored corrupt (\(key)); other instants still answer"))
                case .redis:
                    return TopCoinsResponder.error(.unavailable("history is unavailable right now: Redis cannot be reached", retryAfter: 5))
                }
            }
        } else if let latest = library.latest {
            snapshot = latest
        } else {
            let message = library.redisReachable ? "no snapshot has been merged yet" : "no snapshot is held and Redis cannot be reached"
            return TopCoinsResponder.error(.unavailable(message, retryAfter: 5))
        }

        let count = min(query.limit, snapshot.total)
        let etag = "\"\(snapshot.timestamp.milliseconds)-\(query.format.rawValue)-\(count)\""
        var headers: HTTPFields = [:]
        headers[.eTag] = etag
        headers[.lastModified] = snapshot.timestamp.httpDate
        headers[.vary] = "Accept"
        let ageSeconds = snapshot.snapshot.ageSeconds(at: now)
        if isLatest {
            let nextDue = snapshot.timestamp.milliseconds + Int64(config.snapshotIntervalSeconds) * 1000
            headers[.cacheControl] = "public, max-age=\(max(0, (nextDue - now.milliseconds) / 1000))"
            headers[TopCoinsResponder.snapshotAge] = String(ageSeconds)
            if ageSeconds > config.staleAfterSeconds { headers[TopCoinsResponder.snapshotStale] = "true" }
        } else {
            // A past instant's answer only changes if retention thins history.
            headers[.cacheControl] = "public, max-age=3600"
        }
        if let ifNoneMatch = request.headers[.ifNoneMatch], TopCoinsResponder.matches(ifNoneMatch, etag) {
            return Response(status: .notModified, headers: headers)
        }
        switch query.format {
        case .json:
            headers[.contentType] = "application/json; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: snapshot.json(limit: count)))
        case .csv:
            headers[.contentType] = "text/csv; charset=utf-8; header=present"
            headers[.contentDisposition] = "inline; filename=\"topcoins-\(snapshot.timestamp.milliseconds).csv\""
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: snapshot.csv(limit: count)))
        }
    }

    func ready() -> Response {
        var reasons: [JSONValue] = []
        if !library.redisReachable { reasons.append(.string("redis_unreachable")) }
        if library.redisOutOfMemory { reasons.append(.string("redis_oom")) }
        var members: [(String, JSONValue)] = []
        let now = Timestamp.now
        var stale = false
        if let latest = library.latest {
            let age = latest.snapshot.ageSeconds(at: now)
            members.append(("snapshot", .string(latest.timestamp.iso8601)))
            members.append(("snapshot_age_seconds", .number(String(age))))
            stale = age > config.staleAfterSeconds
            if stale { reasons.append(.string("snapshot_stale")) }
        } else {
            reasons.append(.string("no_snapshot"))
        }
        let pipeline = library.pipeline.sorted(by: { $0.key < $1.key })
        // A source whose fetch times the merger refuses as ahead of its clock.
        for (_, record) in pipeline {
            reasons += record.clockSkewedSources.map { .string("clock_skew:\($0)") }
        }
        let ready = reasons.isEmpty
        // Which component holds the pipeline up: its last success is as old as stale data.
        var components = JSONObject()
        for (component, record) in pipeline {
            var status = JSONObject()
            if let lastSuccess = record.lastSuccessAt { status.append("last_success_at", .string(lastSuccess.iso8601)) }
            if let lastError = record.lastErrorAt {
                status.append("last_error_at", .string(lastError.iso8601))
                status.append("last_error_reason", .string(record.lastErrorReason ?? ""))
                status.append("last_error", .string(record.lastError ?? ""))
            }
            components.append(component, .object(status))
            let stalled = record.lastSuccessAt.map { now.milliseconds - $0.milliseconds > Int64(config.staleAfterSeconds) * 1000 } ?? true
            if (stale || library.latest == nil), stalled { reasons.append(.string("stalled:\(component)")) }
        }
        members.append(("components", .object(components)))
        let body = JSONObject([("status", .string(ready ? "ready" : "not_ready")), ("reasons", .array(reasons))] + members)
        return TopCoinsResponder.json(ready ? .ok : .serviceUnavailable, JSONWriter.encode(.object(body)))
    }

    /// `If-None-Match` holds `*` or a list of entity tags, possibly weak (`W/"..."`).
    static func matches(_ header: String, _ etag: String) -> Bool {
        header.split(separator: ",").contains { candidate in
            let tag = candidate.trimmingCharacters(in: " \t")
            return tag == "*" || tag == etag || tag == "W/" + etag
        }
    }

    static func json(_ status: HTTPTypes.HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func error(_ error: APIError) -> Response {
        var response = json(HTTPTypes.HTTPResponse.Status(code: error.status), error.body)
        if let retryAfter = error.retryAfterSeconds { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }
}
