import HTTPTypes
import Hummingbird
import NIOCore

/// What operators and orchestrators ask: `/health` (the process is up), `/ready` (Redis is
/// reachable and the data fresh, or why not) and `/metrics` (Prometheus text). `/ready` and
/// `/metrics` show error texts, so they may live on a listener of their own; `/health` is on
/// every listener, so either can be probed.
struct OperationsRoutes: Sendable {
    let config: APIConfig
    let library: SnapshotLibrary
    let spreads: SpreadLibrary
    let metrics: APIMetrics

    static var liveness: RouteCollection<APIRouter.Context> {
        let routes = RouteCollection(context: APIRouter.Context.self)
        routes.get("health") { _, _ in APIRouter.json(.ok, Array(#"{"status":"ok"}"#.utf8)) }
        return routes
    }

    var collection: RouteCollection<APIRouter.Context> {
        let routes = RouteCollection(context: APIRouter.Context.self)
        routes.get("ready", use: ready)
        routes.get("metrics", use: prometheus)
        return routes
    }

    func prometheus(_ request: Request, context: APIRouter.Context) -> Response {
        let text = metrics.render(
            latest: library.latest, redisReachable: library.redisReachable, pipeline: library.pipeline, spreads: spreads.status, now: .now)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: text)))
    }

    func ready(_ request: Request, context: APIRouter.Context) -> Response {
        let readiness = Readiness(
            library: library, staleAfterSeconds: config.staleAfterSeconds, spreads: spreads.status, booksStaleAfterSeconds: config.booksStaleAfterSeconds, now: .now)
        var members: [(String, JSONValue)] = []
        if let snapshot = readiness.snapshot {
            members.append(("snapshot", .string(snapshot.timestamp.iso8601)))
            members.append(("snapshot_age_seconds", .number(String(snapshot.ageSeconds))))
        }
        var components = JSONObject()
        for component in readiness.components {
            let record = component.record
            var status = JSONObject()
            if let lastSuccess = record.lastSuccessAt { status.append("last_success_at", .string(lastSuccess.iso8601)) }
            if let lastError = record.lastErrorAt {
                status.append("last_error_at", .string(lastError.iso8601))
                status.append("last_error_reason", .string(record.lastErrorReason ?? ""))
                status.append("last_error", .string(record.lastError ?? ""))
            }
            components.append(component.name, .object(status))
        }
        members.append(("components", .object(components)))
        let status = readiness.isReady ? "ready" : "not_ready"
        let body = JSONObject([("status", .string(status)), ("reasons", .array(readiness.reasons.map { .string($0) }))] + members)
        return APIRouter.json(readiness.isReady ? .ok : .serviceUnavailable, JSONWriter.encode(.object(body)))
    }
}
