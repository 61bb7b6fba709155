import Testing

@testable import TopCoins

struct IndicatorQueryTests {
    let now = Timestamp(iso8601: "2024-05-14T12:00:00Z")!

    func parse(_ query: String) throws(APIError) -> IndicatorQuery {
        try IndicatorQuery(query: query, accept: nil, now: now, maxPoints: 10_000)
    }

    func error(_ query: String) -> APIError? {
        do {
            _ = try parse(query)
            return nil
        } catch {
            return error
        }
    }

    @Test func columnsFollowTheOrderAskedAcrossParametersEachOnce() throws {
        let query = try parse("rsi=14&sma=5,20&ema=12&sma=50&std=20&return=5&sma=20&rsi=14")
        #expect(query.indicators == [.rsi(14), .sma(5), .sma(20), .ema(12), .sma(50), .std(20), .return(5)])
        #expect(query.indicators.map(\.column) == ["rsi_14", "sma_5", "sma_20", "ema_12", "sma_50", "std_20", "return_5"])
    }

    @Test func theDefaultIsDailyClosesOverTheLastHundredDays() throws {
        let query = try parse("sma=5")
        #expect(query.interval == .oneDay && query.series.interval == .oneDay)
        #expect(query.series.to == now)
        #expect(query.series.from == now.adding(milliseconds: -99 * 86_400_000))
        let hourly = try parse("sma=5&interval=1h&format=CSV")
        #expect(hourly.series.from == now.adding(milliseconds: -99 * 3_600_000))
        #expect(hourly.series.format == .csv)
        // What /prices parses is unchanged: 24 hours of raw points.
        let prices = try SeriesQuery(query: nil, accept: nil, now: now, maxPoints: 10_000)
        #expect(prices.interval == nil && prices.from == now.adding(milliseconds: -86_400_000))
    }

    @Test func windowBoundsAreAccepted() throws {
        for name in IndicatorQuery.names {
            #expect(try parse("\(name)=2,1000").indicators.map(\.window) == [2, 1000])
        }
    }

    @Test(arguments: ["1", "0", "1001", "-5", "", "5,", ",5", "5,,20", "2.5", "1e2", "+5", " 5", "abc", "99999999999999999999"])
    func badWindowsAreRejectedNamingTheParameter(window: String) {
        for name in IndicatorQuery.names {
            let error = error("sma=5&\(name)=\(window)")
            #expect(error?.status == 400 && error?.code == "invalid_\(name)" && error?.parameter == name, "\(name)=\(window)")
        }
    }

    @Test(arguments: ["macd=3", "SMA=5", "ma=5", "sma5=1", "bbands=20", "limit=5"])
    func unknownParametersAreRejectedNamingThem(pair: String) {
        let error = error("sma=5&\(pair)")
        let name = String(pair.split(separator: "=")[0])
        #expect(error?.status == 400 && error?.code == "unknown_indicator" && error?.parameter == name)
    }

    @Test func theCacheBusterIsIgnored() throws {
        #expect(try parse("sma=5&_=1715667000123").indicators == [.sma(5)])
    }

    @Test func noIndicatorIsRefused() {
        for query in ["", "from=2024-01-01", "interval=1d&format=csv"] {
            let error = error(query)
            #expect(error?.status == 400 && error?.code == "missing_indicator" && error?.parameter == "sma", "\(query)")
        }
    }

    @Test func tooManyColumnsAreRefused() throws {
        let twenty = (2...21).map(String.init).joined(separator: ",")
        #expect(try parse("sma=\(twenty)").indicators.count == 20)
        let error = error("sma=\(twenty)&ema=5")
        #expect(error?.code == "invalid_ema" && error?.parameter == "ema")
    }

    @Test func rangeAndIntervalErrorsNameTheirParameter() {
        for (query, code, parameter) in [
            ("sma=5&from=2024-05-02&to=2024-05-01", "invalid_from", "from"), ("sma=5&interval=2d", "invalid_interval", "interval"),
            ("sma=5&interval=raw", "invalid_interval", "interval"), ("sma=5&from=yesterday", "invalid_from", "from"),
            ("sma=5&interval=1m&from=2020-01-01", "range_too_large", "from"), ("sma=5&format=xml", "invalid_format", "format"),
            ("sma=5&interval=1d&interval=1h", "invalid_interval", "interval"),
        ] {
            let error = error(query)
            #expect(error?.status == 400 && error?.code == code && error?.parameter == parameter, "\(query)")
        }
    }
}
