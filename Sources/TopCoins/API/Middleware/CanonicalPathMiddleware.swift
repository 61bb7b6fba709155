import Hummingbird

/// Serves each resource at one spelling of its path. The router skips empty segments, so
/// `/health/` and `//health` would answer as `/health`: one resource at many URLs, each cached
/// apart. Those spellings are the JSON 404 of any unknown path instead.
struct CanonicalPathMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path == "/" || (!path.hasSuffix("/") && !path.contains("//")) else { throw APIError.notFound(path) }
        return try await next(request, context)
    }
}
