import HTTPTypes
import Hummingbird
import NIOCore

/// Builds a listener's router from the route collections it serves, one collection per
/// resource. Every router shares the same middleware, outermost first: metrics by matched
/// route, errors rendered as JSON, GET and HEAD only, one spelling per path. The router
/// derives each HEAD from its GET (headers, no body), and answers unknown paths with its 404,
/// rendered like any error.
public struct APIRouter {
    public typealias Context = BasicRequestContext

    /// Which routes a listener serves: `/ready` and `/metrics` show error texts, so an
    /// operator may keep them on a listener of their own, off the public address.
    public struct Routes: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// `/`, `/openapi.yaml`, `/assets...`, `/rankings...`, `/spreads...`, `/alerts`, `/exchanges...`, `/dashboard`, `/docs`.
        public static let api = Routes(rawValue: 1)
        /// `/ready`, `/metrics`.
        public static let operations = Routes(rawValue: 2)
    }

    let metrics: APIMetrics
    /// The public resources, one collection each.
    let resources: [RouteCollection<Context>]
    let operations: OperationsRoutes

    init(
        config: APIConfig, library: SnapshotLibrary, assets: AssetLibrary, rankings: Rankings, spreads: SpreadLibrary, exchanges: ExchangeStore,
        metrics: APIMetrics
    ) {
        self.metrics = metrics
        let series = AssetRoutes(config: config, assets: assets, library: library)
        resources = [
            TopListRoutes(config: config, library: library).collection, series.collection,
            IndicatorRoutes(series: series, tables: IndicatorCache(byteLimit: config.indicatorCacheBytes)).collection,
            PageRoutes(config: config, library: library, assets: assets, spreads: spreads).collection,
            RankingRoutes(config: config, rankings: rankings, assets: assets, library: library).collection,
            SpreadRoutes(config: config, spreads: spreads, cache: SpreadAnswerCache(byteLimit: config.spreadCacheBytes)).collection,
            ExchangeRoutes(store: exchanges).collection,
        ]
        operations = OperationsRoutes(config: config, library: library, spreads: spreads, metrics: metrics)
    }

    /// The router of a listener serving `routes` (and `/health`, which every listener serves).
    public func router(serving routes: Routes) -> Router<Context> {
        let router = Router(context: Context.self, options: .autoGenerateHeadEndpoints)
        // Before the routes: middleware applies to routes added after it, and to the 404.
        router.addMiddleware {
            RouteMetricsMiddleware(metrics: metrics)
            APIErrorMiddleware()
            ReadOnlyMethodsMiddleware()
            CanonicalPathMiddleware()
        }
        router.addRoutes(OperationsRoutes.liveness)
        if routes.contains(.api) {
            for collection in resources { router.addRoutes(collection) }
        }
        if routes.contains(.operations) { router.addRoutes(operations.collection) }
        return router
    }

    static func json(_ status: HTTPTypes.HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
