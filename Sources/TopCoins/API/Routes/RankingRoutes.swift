import HTTPTypes
import Hummingbird
import NIOCore

/// The rankings, served from memory (`Rankings`): `/rankings/volatility`,
/// `/assets/{id}/volatility` and `/rankings/returns`.
struct RankingRoutes: Sendable {
    let config: APIConfig
    let rankings: Rankings
    let assets: AssetLibrary
    let library: SnapshotLibrary

    var collection: RouteCollection<APIRouter.Context> {
        let routes = RouteCollection(context: APIRouter.Context.self)
        routes.get("rankings/volatility", use: volatility)
        routes.get("assets/{id}/volatility", use: assetVolatility)
        routes.get("rankings/returns", use: returns)
        return routes
    }

    func volatility(_ request: Request, context: APIRouter.Context) async throws -> Response {
        let parameters = QueryParameters(request.uri.query)
        let format = try parameters.format(accept: request.headers[.accept])
        let window = try RankingRoutes.window(parameters, max: rankings.maxWindowMilliseconds)
        let limit = try parameters.integer("limit", in: 1...config.maxLimit) ?? config.defaultLimit
        let ranking = try await rankings.volatility(window: window.milliseconds)
        let tag = AssetRoutes.tag(["volatility", "\(ranking.generation)", window.label, "\(limit)", format.rawValue])
        return validators(tag, at: ranking.at).response(to: request, headers: [.vary: "Accept"]) { headers in
            AssetRoutes.body(
                format, &headers, json: ranking.jsonAnswer(window: window.label, limit: limit), csv: ranking.csvAnswer(limit: limit), name: "volatility")
        }
    }

    func assetVolatility(_ request: Request, context: APIRouter.Context) async throws -> Response {
        let parameters = QueryParameters(request.uri.query)
        let format = try parameters.format(accept: request.headers[.accept])
        let asset = try assets.asset(try context.parameters.decoded("id"))
        let window = try RankingRoutes.window(parameters, max: rankings.maxWindowMilliseconds)
        let ranking = try await rankings.volatility(window: window.milliseconds)
        let cmcId = asset.entry.cmcId
        let tag = AssetRoutes.tag(["asset-volatility", "\(ranking.generation)", "\(cmcId)", window.label, format.rawValue])
        return validators(tag, at: ranking.at).response(to: request, headers: [.vary: "Accept"]) { headers in
            AssetRoutes.body(
                format, &headers, json: RankingRendering.assetJSON(cmcId: cmcId, window: window.label, ranking: ranking),
                csv: RankingRendering.assetCSV(cmcId: cmcId, window: window.label, ranking: ranking), name: "volatility-\(cmcId)")
        }
    }

    func returns(_ request: Request, context: APIRouter.Context) async throws -> Response {
        let now = Timestamp.now
        let parameters = QueryParameters(request.uri.query)
        let format = try parameters.format(accept: request.headers[.accept])
        let periods = try parameters.integer("periods", in: 1...Rankings.maxPeriods) ?? Rankings.defaultPeriods
        let interval: ReturnRanking.Interval
        if let text = try parameters.single("interval") {
            guard let asked = ReturnRanking.Interval(rawValue: text) else {
                throw APIError.invalid("interval", "interval must be one of \(ReturnRanking.Interval.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            interval = asked
        } else {
            interval = .day
        }
        let top = try parameters.integer("top", in: 0...config.maxLimit) ?? 5
        let bottom = try parameters.integer("bottom", in: 0...config.maxLimit) ?? 5
        let at = try parameters.instant("at")
        if let at, at > now {
            var error = APIError.invalid("at", "at must not be in the future")
            error.details = [("now", .string(now.iso8601))]
            throw error
        }
        let ranking = try rankings.returns(interval: interval, periods: periods, at: at)
        let tag = AssetRoutes.tag(
            ["returns", "\(ranking.generation)", interval.rawValue, "\(periods)", "\(ranking.at.milliseconds)", "\(top)", "\(bottom)", format.rawValue])
        return validators(tag, at: ranking.at).response(to: request, headers: [.vary: "Accept"]) { headers in
            AssetRoutes.body(
                format, &headers, json: ranking.jsonAnswer(top: top, bottom: bottom), csv: ranking.csvAnswer(top: top, bottom: bottom), name: "returns")
        }
    }

    /// Rankings change with each snapshot: cacheable until the next one is due.
    func validators(_ tag: String, at: Timestamp) -> ConditionalGET {
        let latest = library.latest?.timestamp ?? at
        return ConditionalGET(
            etag: tag, lastModified: latest, maxAgeSeconds: config.secondsUntilNextSnapshot(after: latest, now: .now))
    }

    /// `window`: a whole number of `s`, `m`, `h`, `d` or `w` (`90m`, `24h`, `7d`), from one
    /// second to `max` ms; default 24 h.
    static func window(_ parameters: QueryParameters, max: Int64) throws(APIError) -> (label: String, milliseconds: Int64) {
        guard let text = try parameters.single("window") else { return ("24h", Rankings.defaultWindowMilliseconds) }
        let units: [Character: Int64] = ["s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000]
        let limit = "\(max / 86_400_000)d"
        guard let unit = text.last.flatMap({ units[$0] }), text.count >= 2, text.count <= 8,
            text.dropLast().allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int64(text.dropLast()), count > 0
        else { throw .invalid("window", "window must be a duration: a whole number and s, m, h, d or w (90m, 24h, 7d), at most \(limit)") }
        guard count * unit <= max else {
            throw .invalid("window", "window must be at most \(limit): raw history (every snapshot) is kept that long")
        }
        return (text, count * unit)
    }
}
