/// Why one upstream request did not yield usable data, classified from the HTTP status and
/// the body together: CoinMarketCap, CryptoCompare and CoinGecko all send errors under
/// HTTP 200 at times.
public enum UpstreamFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// No complete response: refused, DNS, reset, or the timeout passed.
    case transport(String)
    /// Too many requests; wait `retryAfter` seconds when the upstream says how long.
    case rateLimited(retryAfter: Double?, message: String)
    /// A server-side failure (5xx, 408, or an unclassified error body).
    case server(status: Int, message: String)
    /// The API key is missing, invalid, disabled or lacks the plan (401, 402, 403): an
    /// operator must act, so the cycle does not retry.
    case keyProblem(status: Int, message: String)
    /// The upstream refused the request itself (other 4xx, credit quota spent): retrying the
    /// same request cannot help.
    case rejected(status: Int, message: String)
    /// The body is not JSON, or not of the shape the config describes.
    case malformed(String)
    /// Not sent: the run's budget of `calls` calls is spent (a run must stay inside its plan).
    case budgetSpent(calls: Int)

    public var isRetryable: Bool {
        switch self {
        case .transport, .rateLimited, .server, .malformed: true
        case .keyProblem, .rejected, .budgetSpent: false
        }
    }

    public var retryAfterSeconds: Double? {
        if case .rateLimited(let retryAfter, _) = self { return retryAfter }
        return nil
    }

    /// A stable one-word reason for logs and counters.
    public var reason: String {
        switch self {
        case .transport: "transport"
        case .rateLimited: "rate_limited"
        case .server: "server_error"
        case .keyProblem: "key_problem"
        case .rejected: "rejected"
        case .malformed: "malformed"
        case .budgetSpent: "budget_spent"
        }
    }

    public var description: String {
        switch self {
        case .transport(let message): "transport failure: \(message)"
        case .rateLimited(let retryAfter, let message):
            "rate limited\(retryAfter.map { " (retry after \($0) s)" } ?? ""): \(message)"
        case .server(let status, let message): "server error (HTTP \(status)): \(message)"
        case .keyProblem(let status, let message): "API key problem (HTTP \(status)), check the key: \(message)"
        case .rejected(let status, let message): "request rejected (HTTP \(status)): \(message)"
        case .malformed(let message): "malformed response: \(message)"
        case .budgetSpent(let calls): "not sent: the run's budget of \(calls) calls is spent"
        }
    }

    /// Classifies a complete response: its parsed JSON document for a success, else the failure.
    /// Only the members `filter` keeps are built (plus the error envelopes' fields).
    public static func classify(
        status: Int, retryAfterHeader: String?, body: [UInt8], now: Timestamp, keeping filter: JSONKeyFilter = .everything
    ) -> Result<JSONValue, UpstreamFailure> {
        let parsed = Result { () throws(JSONSyntaxError) in try JSONParser.parse(body, keeping: UpstreamErrorBody.keeping(filter)) }
        let document = try? parsed.get()
        let bodyError = document.flatMap(UpstreamErrorBody.init(document:))
        let message = bodyError?.message ?? (document == nil ? String(decoding: body.prefix(200), as: UTF8.self) : "HTTP \(status)")
        let retryAfter = retryAfterHeader.flatMap { RetryAfter.seconds(from: $0, now: now) } ?? bodyError?.cooldownSeconds

        if status == 429 || status == 420 || bodyError?.isRateLimit == true {
            if bodyError?.isQuotaExhausted == true { return .failure(.rejected(status: status, message: message)) }
            return .failure(.rateLimited(retryAfter: retryAfter, message: message))
        }
        if status == 401 || status == 402 || status == 403 || bodyError?.isKeyProblem == true {
            return .failure(.keyProblem(status: status, message: message))
        }
        if bodyError?.isValidation == true {
            return .failure(.rejected(status: status, message: message))
        }
        if status >= 500 || status == 408 {
            return .failure(.server(status: status, message: message))
        }
        if status >= 400 || !(200..<300).contains(status) {
            return .failure(.rejected(status: status, message: message))
        }
        if bodyError != nil {
            return .failure(.server(status: status, message: message))
        }
        return parsed.mapError { .malformed($0.description) }
    }
}

/// The error envelopes the known upstreams use, recognised in any body:
/// CoinMarketCap and CoinGecko `status.error_code`, CryptoCompare min-api `Response: "Error"`,
/// CryptoCompare data-api a non-empty `Err`, Bitso `success: false`.
struct UpstreamErrorBody: Equatable {
    /// `filter` widened to keep every top-level member an error envelope is recognised by.
    static func keeping(_ filter: JSONKeyFilter) -> JSONKeyFilter {
        guard case .keys(var keys) = filter else { return filter }
        for key in ["status", "Response", "Message", "Type", "Cooldown", "Err", "success", "error"] { keys[key] = .everything }
        return .keys(keys)
    }

    let code: String
    let message: String
    let cooldownSeconds: Double?
    let isRateLimit: Bool
    let isQuotaExhausted: Bool
    let isKeyProblem: Bool
    /// The upstream refused what was asked (Bitso's 03xx, `0301` an unknown book), under
    /// whatever HTTP status: the same request cannot succeed later.
    let isValidation: Bool

    init?(document: JSONValue) {
        func text(_ value: JSONValue?) -> String? {
            switch value {
            case .string(let text): text
            case .number(let literal): literal
            default: nil
            }
        }
        if case .number(let literal) = document["status"]?["error_code"], literal != "0" {
            // CoinMarketCap: 1001-1007 key and plan, 1008 and 1011 per-minute or IP limits,
            // 1009 and 1010 daily or monthly credits. CoinGecko puts HTTP codes here.
            let code = Int(literal) ?? 0
            self.init(
                code: literal, message: text(document["status"]?["error_message"]) ?? "error \(literal)", cooldownSeconds: nil,
                isRateLimit: [1008, 1009, 1010, 1011, 429].contains(code), isQuotaExhausted: [1009, 1010].contains(code),
                isKeyProblem: (1001...1007).contains(code) || [401, 403, 10002, 10005, 10010, 10011].contains(code), isValidation: false)
        } else if case .string("Error") = document["Response"] {
            let code = text(document["Type"]) ?? ""
            self.init(
                code: code, message: text(document["Message"]) ?? "error", cooldownSeconds: text(document["Cooldown"]).flatMap(Double.init),
                isRateLimit: code == "99", isQuotaExhausted: false, isKeyProblem: false, isValidation: false)
        } else if case .object(let err) = document["Err"], err.count > 0 {
            let message = text(err["message"]) ?? "error"
            let lower = message.lowercased()
            self.init(
                code: text(err["type"]) ?? "", message: message, cooldownSeconds: nil,
                isRateLimit: lower.contains("rate limit"), isQuotaExhausted: false,
                isKeyProblem: lower.contains("api key") || lower.contains("apikey"), isValidation: false)
        } else if case .bool(false) = document["success"] {
            // Bitso: 02 authentication, 03 validation, 08 throttling (its codes are 4-digit strings).
            let code = text(document["error"]?["code"]) ?? ""
            self.init(
                code: code, message: text(document["error"]?["message"]) ?? "error", cooldownSeconds: nil,
                isRateLimit: code.hasPrefix("08"), isQuotaExhausted: false, isKeyProblem: code.hasPrefix("02"), isValidation: code.hasPrefix("03"))
        } else {
            return nil
        }
    }

    init(
        code: String, message: String, cooldownSeconds: Double?, isRateLimit: Bool, isQuotaExhausted: Bool, isKeyProblem: Bool, isValidation: Bool
    ) {
        self.code = code
        self.message = message
        self.cooldownSeconds = cooldownSeconds
        self.isRateLimit = isRateLimit
        self.isQuotaExhausted = isQuotaExhausted
        self.isKeyProblem = isKeyProblem
        self.isValidation = isValidation
    }
}

/// `Retry-After` as delta-seconds or an HTTP-date.
enum RetryAfter {
    static func seconds(from header: String, now: Timestamp) -> Double? {
        let trimmed = header.trimmingCharacters(in: " \t")
        if let seconds = Double(trimmed), seconds >= 0 { return seconds }
        // IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT".
        let parts = trimmed.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard parts.count == 6, parts[5] == "GMT", let monthIndex = months.firstIndex(of: String(parts[2])),
            let day = Int(parts[1]), let year = Int(parts[3])
        else { return nil }
        let month = String(monthIndex + 1)
        let iso = "\(year)-\(month.count == 1 ? "0" + month : month)-\(day < 10 ? "0\(day)" : "\(day)")T\(parts[4])Z"
        guard let date = Timestamp(iso8601: iso) else { return nil }
        return max(0, Double(date.milliseconds - now.milliseconds) / 1000)
    }
}
