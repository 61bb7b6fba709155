import Testing

@testable import TopCoins

struct ListQueryTests {
    let now = Timestamp(iso8601: "2024-05-14T12:00:00Z")!

    func parse(_ query: String?, accept: String? = nil) throws(APIError) -> ListQuery {
        try ListQuery(query: query, accept: accept, defaultLimit: 100, maxLimit: 5000, now: now)
    }

    func error(_ query: String, accept: String? = nil) -> APIError? {
        do {
            _ = try parse(query, accept: accept)
            return nil
        } catch {
            return error
        }
    }

    @Test func defaults() throws {
        let query = try parse(nil)
        #expect(query.limit == 100)
        #expect(query.instant == nil)
        #expect(query.format == .json)
    }

    @Test(arguments: ["0", "-1", "5001", "1.5", "", "abc", "1e3", "99999999999999999999", "+5", " 5", "%31%00"])
    func badLimitsAreRejectedNamingTheParameter(limit: String) {
        let error = error("limit=\(limit)")
        #expect(error?.status == 400)
        #expect(error?.code == "invalid_limit")
        #expect(error?.parameter == "limit")
        #expect(error?.message == "limit must be an integer from 1 to 5000")
    }

    @Test func limitBoundsAreAccepted() throws {
        #expect(try parse("limit=1").limit == 1)
        #expect(try parse("limit=5000").limit == 5000)
        #expect(try parse("limit=%32%30%30").limit == 200)
    }

    @Test func formatIsCaseInsensitiveAndValidated() throws {
        #expect(try parse("format=CSV").format == .csv)
        #expect(try parse("format=Json").format == .json)
        #expect(error("format=xml")?.code == "invalid_format")
        #expect(error("format=")?.parameter == "format")
    }

    @Test func acceptNegotiatesCSVOnlyWhenPreferred() throws {
        #expect(try parse(nil, accept: "text/csv").format == .csv)
        #expect(try parse(nil, accept: "text/csv;q=0.9, application/json").format == .json)
        #expect(try parse(nil, accept: "application/json;q=0.5, text/csv").format == .csv)
        #expect(try parse(nil, accept: "*/*").format == .json)
        #expect(try parse(nil, accept: "text/html, */*;q=0.1").format == .json)
        #expect(try parse("format=json", accept: "text/csv").format == .json)
    }

    @Test func repeatedParametersAreRefused() {
        #expect(error("limit=1&limit=2")?.code == "invalid_limit")
        #expect(error("format=csv&format=csv")?.parameter == "format")
    }

    @Test func unknownParametersAreIgnored() throws {
        #expect(try parse("limit=5&_=123&x").limit == 5)
    }

    @Test(arguments: [
        ("2024-05-14T06:10:00Z", "2024-05-14T06:10:00.000Z"),
        ("2024-05-14T08:10:00%2B02:00", "2024-05-14T06:10:00.000Z"),
        ("2024-05-14T08:10:00+02:00", "2024-05-14T06:10:00.000Z"),
        ("2024-05-14T01:10:00-05:00", "2024-05-14T06:10:00.000Z"),
        ("2024-05-14", "2024-05-14T00:00:00.000Z"),
        ("2024-05-14T06:10:00.123456Z", "2024-05-14T06:10:00.123Z"),
        ("1715667000", "2024-05-14T06:10:00.000Z"),
        ("1715667000.5", "2024-05-14T06:10:00.500Z"),
    ])
    func datetimeForms(text: String, expected: String) throws {
        #expect(try parse("datetime=\(text)").instant?.iso8601 == expected)
    }

    @Test(arguments: ["yesterday", "2024-13-01", "2024-02-30", "2024-05-14T25:00:00Z", "", "-5", "2024-05-14T06:10:00Q", "１７１５６６７０００"])
    func garbageDatetimesAreRejected(text: String) {
        let error = error("datetime=\(text)")
        #expect(error?.code == "invalid_datetime")
        #expect(error?.parameter == "datetime")
    }

    @Test func aFutureDatetimeIsABadRequest() {
        let error = error("datetime=2024-05-14T12:00:01Z")
        #expect(error?.status == 400)
        #expect(error?.code == "invalid_datetime")
        #expect(error?.details.first?.0 == "now")
        #expect((try? parse("datetime=2024-05-14T12:00:00Z"))?.instant == now)
    }

    @Test func aResponseTimestampParsesBackToTheSameInstant() throws {
        let instant = Timestamp(milliseconds: 1_715_667_000_123)
        #expect(try parse("datetime=\(instant.iso8601)").instant == instant)
    }
}
