import HTTPTypes
import Hummingbird
import NIOCore

/// The top list, now or at any past instant (`/`), and the document that describes the API
/// (`/openapi.yaml`). The list is served from pre-rendered bytes (`RenderedSnapshot`).
struct TopListRoutes: Sendable {
    let config: APIConfig
    let library: SnapshotLibrary
    /// The document is loaded at start-up, so its body and validators are built once; its ETag
    /// hashes the content, so replicas serving the same document agree.
    let openAPIBody: ByteBuffer
    let openAPIValidators: ConditionalGET

    static let snapshotAge = HTTPField.Name("X-Snapshot-Age")!
    static let snapshotStale = HTTPField.Name("X-Snapshot-Stale")!

    init(config: APIConfig, library: SnapshotLibrary) {
        self.config = config
        self.library = library
        openAPIBody = ByteBuffer(bytes: config.openAPIDocument)
        openAPIValidators = ConditionalGET(
            etag: "\"\(String(TopListRoutes.fnv1a(config.openAPIDocument), radix: 16))\"", lastModified: .now, maxAgeSeconds: 300)
    }

    /// 64-bit FNV-1a: a content tag, not a defence against anyone.
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    var collection: RouteCollection<APIRouter.Context> {
        let routes = RouteCollection(context: APIRouter.Context.self)
        routes.get("/", use: list)
        routes.get("openapi.yaml", use: openAPI)
        return routes
    }

    func list(_ request: Request, context: APIRouter.Context) async throws -> Response {
        let now = Timestamp.now
        let query = try ListQuery(
            query: request.uri.query, accept: request.headers[.accept], defaultLimit: config.defaultLimit, maxLimit: config.maxLimit, now: now)
        let (snapshot, isLatest) = try await self.snapshot(at: query.instant, rows: query.limit)
        let count = min(query.limit, snapshot.total)
        var headers: HTTPFields = [.vary: "Accept"]
        let maxAge: Int64
        if isLatest {
            let ageSeconds = snapshot.snapshot.ageSeconds(at: now)
            // Cacheable until the next snapshot is due.
            maxAge = (snapshot.timestamp.milliseconds + Int64(config.snapshotIntervalSeconds) * 1000 - now.milliseconds) / 1000
            headers[TopListRoutes.snapshotAge] = String(ageSeconds)
            if ageSeconds > config.staleAfterSeconds { headers[TopListRoutes.snapshotStale] = "true" }
        } else {
            // A past instant's answer only changes if retention thins history.
            maxAge = 3600
        }
        let validators = ConditionalGET(
            etag: "\"\(snapshot.timestamp.milliseconds)-\(query.format.rawValue)-\(count)\"", lastModified: snapshot.timestamp, maxAgeSeconds: maxAge)
        return validators.response(to: request, headers: headers) { headers in
            switch query.format {
            case .json:
                headers[.contentType] = "application/json; charset=utf-8"
                return snapshot.json(limit: count)
            case .csv:
                headers[.contentType] = "text/csv; charset=utf-8; header=present"
                headers[.contentDisposition] = "inline; filename=\"topcoins-\(snapshot.timestamp.milliseconds).csv\""
                return snapshot.csv(limit: count)
            }
        }
    }

    /// The snapshot to answer with, rendered at least as far as `rows`: the latest one, or the
    /// one current at `instant`; `isLatest` decides how long the answer may be cached.
    func snapshot(at instant: Timestamp?, rows: Int) async throws(APIError) -> (snapshot: RenderedSnapshot, isLatest: Bool) {
        guard let instant else {
            guard let latest = library.latest else {
                let message = library.redisReachable ? "no snapshot has been merged yet" : "no snapshot is held and Redis cannot be reached"
                throw .unavailable(message, retryAfter: 5)
            }
            return (latest, true)
        }
        let lookup: SnapshotLibrary.Lookup
        do throws(HistoryReadError) {
            lookup = try await library.snapshot(currentAt: instant, toleranceMilliseconds: Int64(config.historyToleranceSeconds) * 1000, rows: rows)
        } catch {
            switch error {
            case .corrupt(let key, _):
                throw APIError(
                    status: .internalServerError, code: "corrupt_snapshot",
                    message: "the snapshot current at \(instant.iso8601) is stored corrupt (\(key)); other instants still answer")
            case .redis:
                throw .unavailable("history is unavailable right now: Redis cannot be reached", retryAfter: 5)
            }
        }
        switch lookup {
        case .found(let found):
            return (found, library.latest?.timestamp == found.timestamp)
        case .notFound(let bounds):
            var error = APIError(
                status: .notFound, code: "no_snapshot_at_datetime",
                message: "no snapshot was current at \(instant.iso8601) (within \(config.historyToleranceSeconds) s)", parameter: "datetime")
            error.details = [("earliest", bounds?.earliest), ("latest", bounds?.latest)].compactMap { name, time in time.map { (name, .string($0.iso8601)) } }
            throw error
        }
    }

    func openAPI(_ request: Request, context: APIRouter.Context) -> Response {
        openAPIValidators.response(to: request, headers: [:]) { headers in
            headers[.contentType] = "application/yaml; charset=utf-8"
            return openAPIBody
        }
    }
}
