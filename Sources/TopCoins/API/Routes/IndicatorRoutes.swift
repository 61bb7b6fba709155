import HTTPTypes
import Hummingbird
import NIOCore

/// `/assets/{id}/indicators`: an asset's closes with the asked indicator columns, a slice of
/// the cached table over its whole series (see `IndicatorTable`).
struct IndicatorRoutes: Sendable {
    /// The series routes whose catalogue, config and caching rules this route shares.
    let series: AssetRoutes
    let tables: IndicatorCache

    var collection: RouteCollection<APIRouter.Context> {
        let routes = RouteCollection(context: APIRouter.Context.self)
        routes.get("assets/{id}/indicators", use: indicators)
        return routes
    }

    func indicators(_ request: Request, context: APIRouter.Context) async throws -> Response {
        let now = Timestamp.now
        let asset = try series.assets.asset(try context.parameters.decoded("id"))
        let query = try IndicatorQuery(query: request.uri.query, accept: request.headers[.accept], now: now, maxPoints: series.config.maxPoints)
        let table = try await tables.table(of: asset.entry.cmcId, interval: query.interval, indicators: query.indicators, assets: series.assets)
        if let coarser = table.coarserUntil, query.series.from <= coarser {
            throw APIError.invalid(
                "interval",
                "history up to \(coarser.iso8601) holds only points coarser than \(query.interval.rawValue) (retention thinned it): ask a coarser interval, or from after \(coarser.iso8601)"
            )
        }
        let rows = SeriesSlices(parts: [(table.rows, table.rows.indexes(from: query.series.from, to: query.series.to))])
        let tag = AssetRoutes.tag(
            [String(asset.entry.cmcId), query.interval.rawValue, query.indicators.map(\.column).joined(separator: ","), table.stamp, query.series.format.rawValue,
             String(query.series.from.milliseconds), String(query.series.to.milliseconds)])
        let latest = series.library.latest?.timestamp
        // As for prices: a range reaching the newest snapshot changes with the next one.
        let reachesNewest = latest.map { query.series.to >= $0 } ?? true
        let maxAge = reachesNewest ? series.nextSnapshotDue(now: now) : 3600
        let validators = ConditionalGET(etag: tag, lastModified: rows.last?.start ?? latest ?? now, maxAgeSeconds: maxAge)
        return validators.response(to: request, headers: [.vary: "Accept"]) { headers in
            AssetRoutes.body(
                query.series.format, &headers, json: IndicatorTable.json(asset, query: query, rows: rows), csv: IndicatorTable.csv(query: query, rows: rows),
                name: "indicators-\(asset.entry.cmcId)")
        }
    }
}
