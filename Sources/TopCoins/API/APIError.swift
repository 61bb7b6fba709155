/// Every error the API answers with, rendered as one JSON shape:
/// `{"error": {"status": 400, "code": "invalid_limit", "message": "...", "parameter": "limit"}}`.
public struct APIError: Error, Sendable, Equatable {
    public let status: Int
    public let code: String
    public let message: String
    public var parameter: String?
    /// Extra members of the error object (`earliest`, `latest` on a history miss).
    public var details: [(String, String)] = []
    public var retryAfterSeconds: Int?

    public init(status: Int, code: String, message: String, parameter: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.parameter = parameter
    }

    public static func == (lhs: APIError, rhs: APIError) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.message == rhs.message && lhs.parameter == rhs.parameter
            && lhs.details.elementsEqual(rhs.details) { $0 == $1 } && lhs.retryAfterSeconds == rhs.retryAfterSeconds
    }

    public var body: [UInt8] {
        var members: [(String, JSONValue)] = [
            ("status", .number(String(status))), ("code", .string(code)), ("message", .string(message)),
        ]
        if let parameter { members.append(("parameter", .string(parameter))) }
        for (key, value) in details { members.append((key, .string(value))) }
        return JSONWriter.encode(.object(JSONObject([("error", .object(JSONObject(members)))])))
    }

    static func invalid(_ parameter: String, _ message: String) -> APIError {
        APIError(status: 400, code: "invalid_\(parameter)", message: message, parameter: parameter)
    }

    static func unavailable(_ message: String, retryAfter: Int) -> APIError {
        var error = APIError(status: 503, code: "unavailable", message: message)
        error.retryAfterSeconds = retryAfter
        return error
    }
}
