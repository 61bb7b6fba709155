import HTTPTypes
import Hummingbird
import NIOCore

/// The catalogue and each asset's series: `/assets`, `/assets/{id}`, `/assets/{id}/prices`.
struct AssetRoutes: Sendable {
    let config: APIConfig
    let assets: AssetLibrary
    let library: SnapshotLibrary

    var collection: RouteCollection<APIRouter.Context> {
        let routes = RouteCollection(context: APIRouter.Context.self)
        routes.get("assets", use: list)
        routes.get("assets/{id}", use: one)
        routes.get("assets/{id}/prices", use: prices)
        return routes
    }

    func list(_ request: Request, context: APIRouter.Context) async throws -> Response {
        let parameters = QueryParameters(request.uri.query)
        let format = try parameters.format(accept: request.headers[.accept])
        let limit = try parameters.integer("limit", in: 1...config.maxLimit) ?? config.defaultLimit
        let (found, total) = try assets.list(symbol: try parameters.single("symbol"), search: try parameters.single("search"), limit: limit)
        let tag = AssetRoutes.tag(found.map { "\($0.entry.cmcId)/\($0.entry.lastSeen.milliseconds)/\($0.rank ?? 0)" } + ["\(total)", format.rawValue])
        return catalogueValidators(tag).response(to: request, headers: [.vary: "Accept"]) { headers in
            AssetRoutes.body(format, &headers, json: AssetRendering.listJSON(found, total: total), csv: AssetRendering.listCSV(found), name: "assets")
        }
    }

    func one(_ request: Request, context: APIRouter.Context) async throws -> Response {
        let format = try QueryParameters(request.uri.query).format(accept: request.headers[.accept])
        let asset = try assets.asset(try context.parameters.decoded("id"))
        let tag = AssetRoutes.tag(["\(asset.entry.cmcId)", asset.entry.symbol, "\(asset.entry.lastSeen.milliseconds)", "\(asset.rank ?? 0)", format.rawValue])
        return catalogueValidators(tag).response(to: request, headers: [.vary: "Accept"]) { headers in
            AssetRoutes.body(format, &headers, json: AssetRendering.oneJSON(asset), csv: AssetRendering.oneCSV(asset), name: "asset-\(asset.entry.cmcId)")
        }
    }

    func prices(_ request: Request, context: APIRouter.Context) async throws -> Response {
        let now = Timestamp.now
        let asset = try assets.asset(try context.parameters.decoded("id"))
        let query = try SeriesQuery(query: request.uri.query, accept: request.headers[.accept], now: now, maxPoints: config.maxPoints)
        let (points, versions) = try await assets.points(of: asset.entry.cmcId, query: query, maxPoints: config.maxPoints)
        // The content's identity: which points, from which versions of their spans.
        let tag = AssetRoutes.tag(
            [asset.entry.cmcId, query.width, query.format == .json ? 0 : 1, points.first?.start.milliseconds ?? 0, points.last?.start.milliseconds ?? 0,
             Int64(points.count)] + versions)
        let latest = library.latest?.timestamp
        // A range that reaches the newest snapshot changes with the next one; an older range
        // only when retention folds it.
        let reachesNewest = latest.map { query.to >= $0 } ?? true
        let maxAge = reachesNewest ? nextSnapshotDue(now: now) : 3600
        let validators = ConditionalGET(etag: tag, lastModified: points.last?.start ?? latest ?? now, maxAgeSeconds: maxAge)
        return validators.response(to: request, headers: [.vary: "Accept"]) { headers in
            AssetRoutes.body(
                query.format, &headers, json: AssetRendering.pricesJSON(asset, query: query, points: points), csv: AssetRendering.pricesCSV(query: query, points: points),
                name: "prices-\(asset.entry.cmcId)")
        }
    }

    /// The catalogue changes with each snapshot: cacheable until the next one is due.
    func catalogueValidators(_ tag: String) -> ConditionalGET {
        ConditionalGET(etag: tag, lastModified: library.latest?.timestamp ?? assets.modified, maxAgeSeconds: nextSnapshotDue(now: .now))
    }

    func nextSnapshotDue(now: Timestamp) -> Int64 {
        guard let latest = library.latest?.timestamp else { return 0 }
        return AssetRoutes.nextSnapshotDue(latest: latest, intervalSeconds: config.snapshotIntervalSeconds, now: now)
    }

    /// Seconds until the snapshot after `latest` is due: how long an answer from it may be cached.
    static func nextSnapshotDue(latest: Timestamp, intervalSeconds: Int, now: Timestamp) -> Int64 {
        (latest.milliseconds + Int64(intervalSeconds) * 1000 - now.milliseconds) / 1000
    }

    static func body(_ format: ListQuery.Format, _ headers: inout HTTPFields, json: @autoclosure () -> ByteBuffer, csv: @autoclosure () -> ByteBuffer, name: String) -> ByteBuffer {
        switch format {
        case .json:
            headers[.contentType] = "application/json; charset=utf-8"
            return json()
        case .csv:
            headers[.contentType] = "text/csv; charset=utf-8; header=present"
            headers[.contentDisposition] = "inline; filename=\"topcoins-\(name).csv\""
            return csv()
        }
    }

    /// A strong entity tag from the parts that make an answer what it is.
    static func tag(_ parts: [String]) -> String {
        "\"\(String(TopListRoutes.fnv1a(Array(parts.joined(separator: "|").utf8)), radix: 16))\""
    }

    /// The same from numbers, hashed as their bytes (a series answer's many span versions).
    static func tag(_ parts: [Int64]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in parts {
            for shift in stride(from: 0, to: 64, by: 8) { hash = (hash ^ UInt64(truncatingIfNeeded: part >> Int64(shift)) & 0xff) &* 0x100_0000_01b3 }
        }
        return "\"\(String(hash, radix: 16))\""
    }
}
