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
        let text = metrics.render(latest: library.latest, redisReachable: library.redisReachable, pipeline: library.pipeline, now: .now)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: text)))
    }

    func ready(_ request: Request, context: APIRouter.Context) -> Response {
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
        return APIRouter.json(ready ? .ok : .serviceUnavailable, JSONWriter.encode(.object(body)))
    }
}
