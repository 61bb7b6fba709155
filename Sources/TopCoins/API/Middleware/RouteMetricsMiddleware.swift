import Hummingbird

/// Counts and times each request under the route it matched, as the router names it
/// (`context.endpointPath`: the template, `/assets/{id}`, not the raw path). Everything the
/// router did not match shares one label, so a scanner's paths cannot grow the label set.
struct RouteMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: APIMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        metrics.record(route: APIMetrics.route(matched: context.endpointPath), status: Int(response.status.code), duration: started.duration(to: .now))
        return response
    }
}
