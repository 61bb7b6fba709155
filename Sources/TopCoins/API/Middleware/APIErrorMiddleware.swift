import Hummingbird

/// Renders whatever a route throws in the one JSON error shape: an `APIError` as it is,
/// Hummingbird's own errors (the router's 404, a decoding failure) translated, and anything
/// else as a 500 that is logged, its text kept off the wire (it may name internals).
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            return try APIError(error, path: request.uri.path).response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return try APIError(status: .internalServerError, code: "internal_error", message: "the request failed on the server; its log says why")
                .response(from: request, context: context)
        }
    }
}
