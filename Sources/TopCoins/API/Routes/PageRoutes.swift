import HTTPTypes
import Hummingbird
import NIOCore

/// The pages a person opens in a browser: `/dashboard` (the top list with sparklines, a chart,
/// the pipeline's state, the spread monitor's books) and `/docs` (the API reference, from the OpenAPI document). HTML,
/// server-rendered, self-contained; bad parameters are the API's JSON errors like anywhere else.
struct PageRoutes: Sendable {
    let config: APIConfig
    let library: SnapshotLibrary
    let assets: AssetLibrary
    let spreads: SpreadLibrary
    /// The reference is the same for the life of the process: rendered once.
    let docsBody: ByteBuffer
    let docsValidators: ConditionalGET

    static let topRows = 20
    static let htmlType = "text/html; charset=utf-8"
    /// The pages run no script and load nothing but this server's images: a name that got past
    /// escaping still could not run.
    static let policy: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!: "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; form-action 'self'"
    ]

    init(config: APIConfig, library: SnapshotLibrary, assets: AssetLibrary, spreads: SpreadLibrary) {
        self.config = config
        self.library = library
        self.assets = assets
        self.spreads = spreads
        // The generated JSON form of the built-in document always parses; should it not, the
        // page says so rather than the server failing to start.
        let document =
            (try? JSONParser.parse(OpenAPIDocument.structure))
            ?? .object(JSONObject([("info", .object(JSONObject([("title", .string("OpenAPI document unreadable"))])))]))
        let page = Array(APIReferencePage(document: document).html.utf8)
        docsBody = ByteBuffer(bytes: page)
        docsValidators = ConditionalGET(etag: "\"\(String(TopListRoutes.fnv1a(page), radix: 16))\"", lastModified: .now, maxAgeSeconds: 300)
    }

    var collection: RouteCollection<APIRouter.Context> {
        let routes = RouteCollection(context: APIRouter.Context.self)
        routes.get("dashboard", use: dashboard)
        routes.get("docs", use: docs)
        return routes
    }

    func docs(_ request: Request, context: APIRouter.Context) -> Response {
        docsValidators.response(to: request, headers: PageRoutes.policy) { headers in
            headers[.contentType] = PageRoutes.htmlType
            return docsBody
        }
    }

    /// `?asset=&interval=&from=&to=&sma=`: the chart's asset (a CMC id or a symbol naming one;
    /// default the top list's first) and the chart route's parameters, `interval` defaulting to
    /// `1d` here.
    func dashboard(_ request: Request, context: APIRouter.Context) async throws -> Response {
        let now = Timestamp.now
        let parameters = QueryParameters(request.uri.query)
        let daily = try parameters.single("interval") == nil ? "interval=\(SeriesQuery.Interval.oneDay.rawValue)&" : ""
        let query = try ChartQuery(query: daily + (request.uri.query ?? ""), now: now, maxPoints: config.maxPoints)
        let latest = library.latest
        let top = Array((latest?.snapshot.rows ?? []).prefix(PageRoutes.topRows))
        var rows: [DashboardPage.Row] = []
        let day = SeriesQuery(from: now.adding(milliseconds: -SeriesQuery.defaultRangeMilliseconds), to: now, interval: nil)
        for row in top {
            let points: Result<[LineChart.Point], APIError>
            do throws(APIError) {
                let (slices, _) = try await assets.points(of: row.cmcId, query: day, maxPoints: config.maxPoints)
                points = .success(slices.buckets.map { LineChart.Point(time: $0.start, value: $0.close.doubleValue) })
            } catch {
                points = .failure(error)
            }
            rows.append(DashboardPage.Row(rank: row.rank, cmcId: row.cmcId, symbol: row.symbol, name: row.name, price: row.price, day: points))
        }
        let chart = try chartOnDashboard(try parameters.single("asset"), query: query, fallback: top.first?.cmcId, parameters: parameters)
        let page = DashboardPage(
            rows: rows,
            chart: chart,
            readiness: Readiness(
            library: library, staleAfterSeconds: config.staleAfterSeconds, spreads: spreads.status, booksStaleAfterSeconds: config.booksStaleAfterSeconds, now: now),
            spreads: spreads.status,
            now: now
        )
        let body = Array(page.html.utf8)
        let validators = ConditionalGET(
            etag: "\"\(String(TopListRoutes.fnv1a(body), radix: 16))\"",
            lastModified: latest?.timestamp ?? now,
            maxAgeSeconds: min(Int64(DashboardPage.refreshSeconds), config.secondsUntilNextSnapshot(after: latest?.timestamp, now: now))
        )
        return validators.response(to: request, headers: PageRoutes.policy) { headers in
            headers[.contentType] = PageRoutes.htmlType
            return ByteBuffer(bytes: body)
        }
    }

    /// The chart part: the asset asked for (an unknown or ambiguous one is the route's 404 or
    /// 409, naming `asset`) or the top list's first, and the chart route's URL for it.
    func chartOnDashboard(_ asked: String?, query: ChartQuery, fallback: Int64?, parameters: QueryParameters) throws(APIError) -> DashboardPage.Chart?
    {
        guard let id = asked ?? fallback.map({ String($0) }) else { return nil }
        let asset: AssetLibrary.Asset
        do throws(APIError) {
            asset = try assets.asset(id)
        } catch {
            guard asked != nil, error.status != .serviceUnavailable else { return nil }
            var renamed = error
            renamed.parameter = "asset"
            throw renamed
        }
        let series = query.series
        let (from, to) = (try parameters.single("from"), try parameters.single("to"))
        // The chart route gets the instants parsed here, in one spelling, so equal ranges share its cache.
        var source = "/assets/\(asset.entry.cmcId)/chart.svg?interval=\(series.interval?.rawValue ?? "1d")&sma=\(query.sma ?? 0)"
        if from != nil { source += "&from=\(series.from.iso8601)" }
        if to != nil { source += "&to=\(series.to.iso8601)" }
        return DashboardPage.Chart(
            title: "\(asset.entry.name) (\(asset.entry.symbol))",
            source: source,
            asset: asked ?? asset.entry.symbol,
            interval: series.interval?.rawValue ?? "1d",
            from: from ?? "",
            to: to ?? "",
            sma: query.sma
        )
    }
}
