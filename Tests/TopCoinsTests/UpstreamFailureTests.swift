import Testing

@testable import TopCoins

@Suite("UpstreamFailure")
struct UpstreamFailureTests {
    /// 2015-10-21T07:26:00Z, two minutes before the RFC 9110 example date.
    static let now = Timestamp(milliseconds: 1_445_412_480_000 - 120_000)

    static func errorBody(_ name: String) throws -> [UInt8] {
        try #require(ConfigFile.readFile(PackagePaths.file("Config/demo/upstream/errors/\(name)")), "missing fixture \(name)")
    }

    static func classify(_ status: Int, _ body: [UInt8], retryAfter: String? = nil) -> Result<JSONValue, UpstreamFailure> {
        UpstreamFailure.classify(status: status, retryAfterHeader: retryAfter, body: body, now: now)
    }

    static func classify(_ status: Int, _ body: String, retryAfter: String? = nil) -> Result<JSONValue, UpstreamFailure> {
        classify(status, Array(body.utf8), retryAfter: retryAfter)
    }

    static func failure(_ result: Result<JSONValue, UpstreamFailure>) -> UpstreamFailure? {
        if case .failure(let failure) = result { return failure }
        return nil
    }

    static let cmcRateMessage = "You've exceeded your API Key's HTTP request rate limit. Rate limits reset every minute."
    static let ccRateMessage = "You are over your rate limit please upgrade your account!"
    static let ccKeyMessage = "You need a valid auth key or api key to access this endpoint"

    // MARK: Success

    @Test func successReturnsTheParsedDocument() throws {
        let body = #"{"status":{"error_code":0,"error_message":null,"credit_count":1},"data":[{"id":1,"quote":{"USD":{"price":61923.40938478237}}}]}"#
        let document = try Self.classify(200, body).get()
        #expect(document == (try JSONParser.parse(body)))
        #expect(document["data"] != nil)
    }

    @Test func cryptoCompareSuccessWithEmptyErrIsSuccess() throws {
        let body = try #require(ConfigFile.readFile(PackagePaths.file("Config/demo/upstream/cryptocompare/top-list-page-6.json")))
        let document = try Self.classify(200, body).get()
        #expect(document["Data"]?["LIST"] == .array([]))
    }

    @Test(arguments: [
        #"{"Response":"Success","Message":"","Type":100,"Data":{}}"#,
        #"{"success":true,"payload":{"last":"1"}}"#,
        #"{"status":{"error_code":0}}"#,
        #"{"Err":{},"Data":{}}"#,
        #"[1,2,3]"#,
        #""just a string""#,
    ])
    func bodiesWithoutAnErrorEnvelopeAreSuccess(body: String) throws {
        #expect(try Self.classify(200, body).get() == JSONParser.parse(body))
    }

    // MARK: CoinMarketCap error bodies

    @Test func cmcRateLimitUnderHTTP200IsRateLimited() throws {
        let result = Self.classify(200, try Self.errorBody("cmc-200-error-body.json"))
        #expect(Self.failure(result) == .rateLimited(retryAfter: nil, message: Self.cmcRateMessage))
    }

    @Test func cmcRateLimitUnder429HonoursRetryAfter() throws {
        let body = try Self.errorBody("cmc-429-rate-limit.json")
        #expect(Self.failure(Self.classify(429, body, retryAfter: "42")) == .rateLimited(retryAfter: 42, message: Self.cmcRateMessage))
        #expect(Self.failure(Self.classify(429, body)) == .rateLimited(retryAfter: nil, message: Self.cmcRateMessage))
    }

    @Test(arguments: [401, 200])
    func cmcInvalidKeyIsAKeyProblem(status: Int) throws {
        let result = Self.classify(status, try Self.errorBody("cmc-401-invalid-key.json"))
        #expect(Self.failure(result) == .keyProblem(status: status, message: "This API Key is invalid."))
    }

    @Test(arguments: [
        (1002, 401), (1003, 402), (1004, 402), (1005, 403), (1006, 403), (1007, 403), (1001, 200), (1006, 200),
    ])
    func cmcKeyAndPlanCodesAreKeyProblems(code: Int, status: Int) {
        let body = #"{"status":{"error_code":\#(code),"error_message":"key or plan"}}"#
        #expect(Self.failure(Self.classify(status, body)) == .keyProblem(status: status, message: "key or plan"))
    }

    @Test(arguments: [(1009, 429), (1010, 429), (1009, 200), (1010, 200)])
    func cmcSpentCreditsAreRejectedNotRetried(code: Int, status: Int) throws {
        let body = #"{"status":{"error_code":\#(code),"error_message":"You've exceeded your API Key's daily credit limit."}}"#
        let failure = try #require(Self.failure(Self.classify(status, body, retryAfter: "60")))
        #expect(failure == .rejected(status: status, message: "You've exceeded your API Key's daily credit limit."))
        #expect(!failure.isRetryable)
    }

    @Test(arguments: [1008, 1011])
    func cmcPerMinuteAndIPLimitsAreRateLimitsUnder200(code: Int) {
        let body = #"{"status":{"error_code":\#(code),"error_message":"limit"}}"#
        #expect(Self.failure(Self.classify(200, body)) == .rateLimited(retryAfter: nil, message: "limit"))
    }

    @Test(arguments: [500, 200])
    func cmcInternalErrorIsAServerError(status: Int) throws {
        let result = Self.classify(status, try Self.errorBody("cmc-500.json"))
        #expect(Self.failure(result) == .server(status: status, message: "An internal server error occurred."))
    }

    @Test func cmcErrorWithoutAMessageStillFails() {
        let failure = Self.failure(Self.classify(200, #"{"status":{"error_code":1234}}"#))
        #expect(failure == .server(status: 200, message: "error 1234"))
    }

    @Test func coinGeckoRateLimitBody() {
        let body = #"{"status":{"error_code":429,"error_message":"You've exceeded the Rate Limit."}}"#
        #expect(Self.failure(Self.classify(429, body)) == .rateLimited(retryAfter: nil, message: "You've exceeded the Rate Limit."))
        #expect(Self.failure(Self.classify(200, body)) == .rateLimited(retryAfter: nil, message: "You've exceeded the Rate Limit."))
    }

    // MARK: CryptoCompare error bodies

    @Test func minAPIRateLimitUnderHTTP200UsesTheCooldown() throws {
        let result = Self.classify(200, try Self.errorBody("cryptocompare-minapi-rate-limit.json"))
        #expect(Self.failure(result) == .rateLimited(retryAfter: 3, message: Self.ccRateMessage))
    }

    @Test func retryAfterHeaderWinsOverTheCooldown() throws {
        let result = Self.classify(429, try Self.errorBody("cryptocompare-minapi-rate-limit.json"), retryAfter: "10")
        #expect(Self.failure(result) == .rateLimited(retryAfter: 10, message: Self.ccRateMessage))
    }

    @Test func minAPIOtherErrorUnder200IsAServerError() {
        let body = #"{"Response":"Error","Message":"cccagg_or_exchange market does not exist for this coin pair (X-USD)","HasWarning":false,"Type":1,"RateLimit":{},"Data":{}}"#
        #expect(Self.failure(Self.classify(200, body)) == .server(status: 200, message: "cccagg_or_exchange market does not exist for this coin pair (X-USD)"))
    }

    @Test(arguments: [200, 429])
    func dataAPIRateLimit(status: Int) throws {
        let result = Self.classify(status, try Self.errorBody("cryptocompare-429.json"))
        #expect(Self.failure(result) == .rateLimited(retryAfter: nil, message: Self.ccRateMessage))
    }

    @Test(arguments: [200, 401])
    func dataAPIKeyProblem(status: Int) throws {
        let result = Self.classify(status, try Self.errorBody("cryptocompare-401.json"))
        #expect(Self.failure(result) == .keyProblem(status: status, message: Self.ccKeyMessage))
    }

    @Test func dataAPIOtherErrorUnder200IsAServerError() {
        let body = #"{"Data":{},"Err":{"type":1,"message":"Something broke"}}"#
        #expect(Self.failure(Self.classify(200, body)) == .server(status: 200, message: "Something broke"))
    }

    // MARK: Bitso

    static let bitsoUnknownBook = #"{"success":false,"error":{"code":"0301","message":"Unknown OrderBook"}}"#
    static let bitsoRateLimit = #"{"success":false,"error":{"code":"0801","message":"You have hit the request rate-limit"}}"#

    /// Bitso's validation codes (03xx) refuse the request itself, whatever the HTTP status:
    /// retrying an unknown book cannot help.
    @Test(arguments: [200, 400, 404])
    func bitsoValidationCodeIsRejected(status: Int) throws {
        let failure = try #require(Self.failure(Self.classify(status, Self.bitsoUnknownBook)))
        #expect(failure == .rejected(status: status, message: "Unknown OrderBook"))
        #expect(!failure.isRetryable)
    }

    @Test(arguments: [200, 420, 429])
    func bitsoThrottlingCodeIsARateLimit(status: Int) throws {
        let failure = try #require(Self.failure(Self.classify(status, Self.bitsoRateLimit)))
        #expect(failure == .rateLimited(retryAfter: nil, message: "You have hit the request rate-limit"))
        #expect(failure.isRetryable)
    }

    @Test func bitsoThrottlingHonoursRetryAfter() throws {
        #expect(Self.failure(Self.classify(420, Self.bitsoRateLimit, retryAfter: "7")) == .rateLimited(retryAfter: 7, message: "You have hit the request rate-limit"))
    }

    @Test(arguments: [200, 400, 401])
    func bitsoAuthenticationCodeIsAKeyProblem(status: Int) throws {
        let body = #"{"success":false,"error":{"code":"0201","message":"Invalid Nonce or Invalid Credentials"}}"#
        let failure = try #require(Self.failure(Self.classify(status, body)))
        #expect(failure == .keyProblem(status: status, message: "Invalid Nonce or Invalid Credentials"))
    }

    /// Bitso's unknown errors (01) under HTTP 200 stay server errors, retried as before.
    @Test func bitsoUnknownErrorUnder200IsAServerError() {
        let body = #"{"success":false,"error":{"code":"0101","message":"Unknown error"}}"#
        #expect(Self.failure(Self.classify(200, body)) == .server(status: 200, message: "Unknown error"))
    }

    @Test func bitsoSuccessIsTheDocument() throws {
        let document = try Self.classify(200, #"{"success":true,"payload":{"sequence":"1"}}"#).get()
        #expect(document["payload"]?["sequence"] == .string("1"))
    }

    // MARK: HTTP statuses

    @Test(arguments: [401, 402, 403])
    func authStatusesAreKeyProblems(status: Int) throws {
        let failure = try #require(Self.failure(Self.classify(status, "Unauthorized")))
        #expect(failure == .keyProblem(status: status, message: "Unauthorized"))
        #expect(failure.reason == "key_problem")
        #expect(!failure.isRetryable)
    }

    @Test(arguments: [500, 502, 503, 504, 408])
    func serverStatusesAreServerErrors(status: Int) throws {
        let failure = try #require(Self.failure(Self.classify(status, "<html>Bad Gateway</html>")))
        #expect(failure == .server(status: status, message: "<html>Bad Gateway</html>"))
        #expect(failure.isRetryable)
        #expect(failure.reason == "server_error")
    }

    @Test(arguments: [400, 404, 405, 410, 302, 304, 100, 199])
    func otherNonSuccessStatusesAreRejected(status: Int) throws {
        let failure = try #require(Self.failure(Self.classify(status, #"{"message":"nope"}"#)))
        #expect(failure == .rejected(status: status, message: "HTTP \(status)"))
        #expect(!failure.isRetryable)
    }

    @Test(arguments: [200, 201, 204, 299])
    func every2xxIsASuccess(status: Int) throws {
        #expect(try Self.classify(status, #"{"ok":true}"#).get() == .object(JSONObject([("ok", .bool(true))])))
    }

    @Test func a5xxWithAJSONBodyWithoutEnvelopeNamesTheStatus() {
        #expect(Self.failure(Self.classify(503, "{}")) == .server(status: 503, message: "HTTP 503"))
    }

    @Test func nonJSONBodyMessagesAreCutTo200Bytes() {
        let body = String(repeating: "x", count: 500)
        #expect(Self.failure(Self.classify(500, body)) == .server(status: 500, message: String(repeating: "x", count: 200)))
    }

    // MARK: Retry-After

    @Test(arguments: [
        ("120", 120.0), ("0", 0), (" 5 ", 5), ("\t7", 7), ("1.5", 1.5),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 120),  // two minutes after `now`
        ("Wed, 21 Oct 2015 07:26:30 GMT", 30),
        ("Wed, 21 Oct 2015 07:00:00 GMT", 0),  // in the past: retry now
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
    ])
    func retryAfterAsSecondsOrHTTPDate(header: String, seconds: Double) throws {
        let result = Self.classify(429, "Too Many Requests", retryAfter: header)
        #expect(Self.failure(result) == .rateLimited(retryAfter: seconds, message: "Too Many Requests"))
        #expect(Self.failure(result)?.retryAfterSeconds == seconds)
    }

    @Test(arguments: ["soon", "", "-5", "Wed, 21 Oct 2015 07:28:00 PST", "Wed, 32 Oct 2015 07:28:00 GMT", "Wed, 21 Foo 2015 07:28:00 GMT", "21 Oct 2015"])
    func unusableRetryAfterIsIgnored(header: String) {
        #expect(Self.failure(Self.classify(429, "slow down", retryAfter: header)) == .rateLimited(retryAfter: nil, message: "slow down"))
    }

    @Test func status420IsARateLimitToo() {
        #expect(Self.failure(Self.classify(420, "Enhance Your Calm")) == .rateLimited(retryAfter: nil, message: "Enhance Your Calm"))
    }

    // MARK: Malformed

    @Test func truncatedJSONUnder200IsMalformed() throws {
        let failure = try #require(Self.failure(Self.classify(200, try Self.errorBody("malformed.json"))))
        guard case .malformed(let message) = failure else {
            Issue.record("expected malformed, got \(failure)")
            return
        }
        #expect(message.contains("invalid JSON at byte"))
        #expect(failure.isRetryable)
        #expect(failure.reason == "malformed")
    }

    @Test(arguments: ["", "<html>", "\u{FEFF}{}", "{\"a\":1} trailing"])
    func nonJSONUnder200IsMalformed(body: String) {
        guard case .malformed? = Self.failure(Self.classify(200, body)) else {
            Issue.record("expected malformed for \(body)")
            return
        }
    }

    @Test func malformedUnder503IsAServerError() throws {
        let failure = Self.failure(Self.classify(503, try Self.errorBody("malformed.json")))
        guard case .server(503, _)? = failure else {
            Issue.record("expected a server error, got \(String(describing: failure))")
            return
        }
    }

    // MARK: Descriptions

    @Test func descriptionsAndReasons() {
        #expect(UpstreamFailure.transport("timeout").description == "transport failure: timeout")
        #expect(UpstreamFailure.rateLimited(retryAfter: 3, message: "m").description == "rate limited (retry after 3.0 s): m")
        #expect(UpstreamFailure.rateLimited(retryAfter: nil, message: "m").description == "rate limited: m")
        #expect(UpstreamFailure.keyProblem(status: 401, message: "m").description.contains("check the key"))
        #expect(UpstreamFailure.transport("").reason == "transport")
        #expect(UpstreamFailure.rateLimited(retryAfter: nil, message: "").reason == "rate_limited")
        #expect(UpstreamFailure.rejected(status: 404, message: "").reason == "rejected")
        #expect(UpstreamFailure.server(status: 500, message: "").retryAfterSeconds == nil)
    }
}
