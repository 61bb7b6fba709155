import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

/// Every error the API answers with, rendered as one JSON shape:
/// `{"error": {"status": 400, "code": "invalid_limit", "message": "...", "parameter": "limit"}}`.
/// Handlers throw it; `APIErrorMiddleware` brings everything else thrown into this shape.
public struct APIError: Error, Sendable, Equatable {
    public let status: HTTPTypes.HTTPResponse.Status
    public let code: String
    public let message: String
    public var parameter: String?
    /// Extra members of the error object (`earliest`, `latest` on a history miss).
    public var details: [(String, JSONValue)] = []
    public var retryAfterSeconds: Int?
    /// The methods the resource answers to, sent as `Allow` (a 405 must name them).
    public var allow: String?

    public init(status: HTTPTypes.HTTPResponse.Status, code: String, message: String, parameter: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.parameter = parameter
    }

    public static func == (lhs: APIError, rhs: APIError) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.message == rhs.message && lhs.parameter == rhs.parameter
            && lhs.details.elementsEqual(rhs.details) { $0 == $1 } && lhs.retryAfterSeconds == rhs.retryAfterSeconds && lhs.allow == rhs.allow
    }

    public var body: [UInt8] {
        var members: [(String, JSONValue)] = [
            ("status", .number(String(status.code))), ("code", .string(code)), ("message", .string(message)),
        ]
        if let parameter { members.append(("parameter", .string(parameter))) }
        members += details
        return JSONWriter.encode(.object(JSONObject([("error", .object(JSONObject(members)))])))
    }

    static func invalid(_ parameter: String, _ message: String) -> APIError {
        APIError(status: .badRequest, code: "invalid_\(parameter)", message: message, parameter: parameter)
    }

    static func unavailable(_ message: String, retryAfter: Int) -> APIError {
        var error = APIError(status: .serviceUnavailable, code: "unavailable", message: message)
        error.retryAfterSeconds = retryAfter
        return error
    }

    static func notFound(_ path: String) -> APIError {
        APIError(status: .notFound, code: "not_found", message: "no resource at \(path)")
    }

    /// The API only reads: GET, and HEAD for every GET.
    static func methodNotAllowed(_ method: HTTPTypes.HTTPRequest.Method) -> APIError {
        var error = APIError(status: .methodNotAllowed, code: "method_not_allowed", message: "\(method.rawValue) is not allowed; use GET or HEAD")
        error.allow = "GET, HEAD"
        return error
    }

    /// An error Hummingbird raised (the router's 404, a body too large) in this shape: the code
    /// is the status's reason phrase in snake case (`content_too_large`), the message Hummingbird's.
    init(_ error: any HTTPResponseError, path: String) {
        if error.status == .notFound {
            self = .notFound(path)
            return
        }
        // A status made from a bare code has no reason phrase of its own; NIO's table has one.
        let reason = error.status.reasonPhrase.isEmpty ? HTTPResponseStatus(statusCode: error.status.code).reasonPhrase : error.status.reasonPhrase
        let code = String(reason.lowercased().compactMap { $0.isLetter || $0.isNumber ? $0 : $0 == " " ? "_" : nil })
        self.init(status: error.status, code: code, message: (error as? HTTPError)?.body ?? reason)
    }
}

extension APIError: HTTPResponseError {
    /// The JSON error with its headers; to a HEAD, the same without the body.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        if let allow { headers[.allow] = allow }
        let response = Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
        return request.method == .head ? response.createHeadResponse() : response
    }
}
