import Testing

@testable import TopCoins

struct DailyCandleTests {
    static let day = Timestamp(milliseconds: 1_640_995_200_000)  // 2022-01-01

    static func candle(_ day: Int64, close: String, volume: String? = "12.5", source: String = "cryptocompare") -> DailyCandle {
        DailyCandle(
            dayOf: Timestamp(milliseconds: DailyCandleTests.day.milliseconds + day * 86_400_000 + 3_600_000), open: DecimalNumber("1.25")!,
            high: DecimalNumber("123456789012345678901234567890.5")!, low: DecimalNumber("0.00000001")!, close: DecimalNumber(close)!,
            volume: volume.map { DecimalNumber($0)! }, source: source)
    }

    @Test func anInstantOfTheDayNamesItsMidnight() {
        #expect(Self.candle(0, close: "2").day == Self.day)
        #expect(Self.candle(3, close: "2").field == String(Self.day.milliseconds + 3 * 86_400_000))
    }

    @Test func storedTextGivesBackEveryDigit() {
        for candle in [Self.candle(0, close: "46311.7445"), Self.candle(1, close: "0.000012", volume: nil, source: "coingecko")] {
            #expect(DailyCandle(field: candle.field, encoded: candle.encoded) == candle)
        }
    }

    @Test func storedTextThatIsNotACandleIsRefused() {
        let field = String(Self.day.milliseconds)
        for value in ["", "1 2 3 4 5", "1 2 3 4 5 ", "1 2 3 x 5 cc", "1 2 3 4 5 cc extra", "1e400x 2 3 4 - cc", "1  2 3 4 - cc"] {
            #expect(DailyCandle(field: field, encoded: value) == nil, "\(value)")
        }
        for field in ["", "x", String(Self.day.milliseconds + 1), "-86400000", "99999999999999999999"] {
            #expect(DailyCandle(field: field, encoded: "1 2 3 4 - cc") == nil, "\(field)")
        }
    }

    @Test func aCandleIsADayBucketNamingItsSourceThatNoFoldAbsorbs() {
        let bucket = Self.candle(0, close: "2").bucket
        #expect(bucket.width == 86_400_000 && bucket.source == "cryptocompare" && bucket.count == 0 && bucket.close.text == "2")
        #expect(PriceBucket.aggregate([bucket], width: 86_400_000 * 7) == [bucket])
    }

    @Test func candlesReplaceTheOwnDaysTheyCoverAndNoOther() {
        func own(_ day: Int64) -> PriceBucket {
            PriceBucket(
                start: Self.day.adding(milliseconds: day * 86_400_000), width: 86_400_000, open: DecimalNumber("9")!, high: DecimalNumber("9")!,
                low: DecimalNumber("9")!, close: DecimalNumber("9")!, count: 1440)
        }
        let candles = [0, 1, 2, 5].map { Self.candle($0, close: "\($0 + 1)").bucket }
        let merged = DailyCandle.overlay(candles, on: [own(2), own(3), own(4), own(5), own(6)])
        #expect(merged.map { ($0.start.milliseconds - Self.day.milliseconds) / 86_400_000 } == [0, 1, 2, 3, 4, 5, 6])
        #expect(merged.map { $0.source ?? "own" } == ["cryptocompare", "cryptocompare", "cryptocompare", "own", "own", "cryptocompare", "own"])
        #expect(DailyCandle.overlay([], on: [own(1)]) == [own(1)] && DailyCandle.overlay(candles, on: []) == candles)
    }
}
