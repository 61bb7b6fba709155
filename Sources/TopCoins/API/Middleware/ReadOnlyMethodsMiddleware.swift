import Hummingbird

/// The API only reads: GET, and the HEAD the router derives from each GET. Any other method is
/// a 405 naming both in `Allow`, on every path, known or not, before the router's 404.
struct ReadOnlyMethodsMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get || request.method == .head else { throw APIError.methodNotAllowed(request.method) }
        return try await next(request, context)
    }
}
