import Testing

@testable import TopCoins

/// Reference instants computed independently with GNU `date -u -d ... +%s`.
@Suite("Timestamp")
struct TimestampTests {
    static let may14 = Int64(1_715_667_000_000)  // 2024-05-14T06:10:00Z

    @Test(arguments: [
        ("2024-05-14T06:10:00Z", may14),
        ("2024-05-14T06:10:00.123Z", may14 + 123),
        ("2024-05-14T06:10:00.5Z", may14 + 500),
        ("2024-05-14T06:10:00.12Z", may14 + 120),
        ("2024-05-14T06:10:00.123456789Z", may14 + 123),  // past milliseconds: truncated
        ("2024-05-14T06:10:00.999999Z", may14 + 999),
        ("2024-05-14T06:10:00,250Z", may14 + 250),
        ("2024-05-14T08:10:00+02:00", may14),
        ("2024-05-14T08:10:00+0200", may14),
        ("2024-05-14T04:10:00-02:00", may14),
        ("2024-05-14T11:40:00+05:30", may14),
        ("2024-05-14T06:10:00+00:00", may14),
        ("2024-05-14T06:10:00-00:00", may14),
        ("2024-05-14T08:10:00.123+02:00", may14 + 123),
        ("2024-05-14T06:10:00", may14),  // no zone: UTC
        ("2024-05-14T06:10", may14),  // no seconds
        ("2024-05-14T06:10Z", may14),
        ("2024-05-14 06:10:00Z", may14),
        ("2024-05-14t06:10:00z", may14),
        ("2024-05-14", 1_715_644_800_000),  // midnight UTC
        ("2024-06-14T12:00:00.000Z", 1_718_366_400_000),
        ("2000-02-29T00:00:00Z", 951_782_400_000),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59Z", -1000),
        ("2015-10-21T07:28:00Z", 1_445_412_480_000),
        ("2024-05-14T00:10:00+06:00", may14 - 12 * 3_600_000),
    ] as [(String, Int64)])
    func parsesISO8601(text: String, milliseconds: Int64) {
        #expect(Timestamp(iso8601: text)?.milliseconds == milliseconds)
    }

    @Test(arguments: [
        "", "2024", "2024-05", "2024-5-14", "24-05-14", "2024/05/14", "2024-00-10", "2024-13-01", "2024-04-31", "2024-05-32",
        "2024-05-00", "2023-02-29", "1900-02-29", "2024-05-14T", "2024-05-14T24:00:00Z", "2024-05-14T06:60:00Z",
        "2024-05-14T06:10:60Z", "2024-05-14T6:10:00Z", "2024-05-14T06:10:00.Z", "2024-05-14T06:10:00Zjunk",
        "2024-05-14T06:10:00+2:00", "2024-05-14T06:10:00+24:00", "2024-05-14T06:10:00+02:60", "2024-05-14X06:10",
        "2024-05-14T06:10:00 ", " 2024-05-14", "2024-05-14T06", "2024-05-14T06:10:0", "1715667000", "yesterday",
        "２０２４-05-14",
    ])
    func rejectsMalformedISO8601(text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test(arguments: [
        (Int64(1_715_667_000_123), "2024-05-14T06:10:00.123Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (1_718_366_400_005, "2024-06-14T12:00:00.005Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ] as [(Int64, String)])
    func formatsISO8601WithMilliseconds(milliseconds: Int64, text: String) {
        let timestamp = Timestamp(milliseconds: milliseconds)
        #expect(timestamp.iso8601 == text)
        #expect(timestamp.description == text)
    }

    @Test func iso8601RoundTripsForRandomInstants() throws {
        var random = SplitMix64(seed: 2024)
        // 1654 ... 2286: four-digit years either side of the epoch.
        for _ in 0..<3000 {
            let milliseconds = Int64.random(in: -10_000_000_000_000...10_000_000_000_000, using: &random)
            let text = Timestamp(milliseconds: milliseconds).iso8601
            #expect(Timestamp(iso8601: text)?.milliseconds == milliseconds, "\(milliseconds) -> \(text)")
        }
    }

    @Test(arguments: [
        (Int64(1_445_412_480_000), "Wed, 21 Oct 2015 07:28:00 GMT"),
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (-1000, "Wed, 31 Dec 1969 23:59:59 GMT"),
        (1_715_667_000_999, "Tue, 14 May 2024 06:10:00 GMT"),
        (951_782_400_000, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (1_718_366_400_000, "Fri, 14 Jun 2024 12:00:00 GMT"),
    ] as [(Int64, String)])
    func formatsHTTPDate(milliseconds: Int64, text: String) {
        #expect(Timestamp(milliseconds: milliseconds).httpDate == text)
    }

    @Test(arguments: [
        ("1715667000", may14),
        ("1715667000.5", may14 + 500),
        ("1715667000.1239", may14 + 123),
        ("1715667000.05", may14 + 50),
        ("1715667000.000", may14),
        ("1.715667e9", may14),
        ("0", 0),
        ("99999999999", 99_999_999_999_000),
    ] as [(String, Int64)])
    func parsesUnixSeconds(text: String, milliseconds: Int64) {
        #expect(Timestamp(unixSeconds: text)?.milliseconds == milliseconds)
    }

    @Test(arguments: ["-1", "-0.5", "abc", "", "100000000000", "1715667000000", "1e400", "0x10", " 1"])
    func rejectsUnixSecondsOutOfRangeOrMalformed(text: String) {
        #expect(Timestamp(unixSeconds: text) == nil)
    }

    @Test func comparesAndAdds() {
        let early = Timestamp(milliseconds: 1000)
        let late = early.adding(milliseconds: 1)
        #expect(early < late)
        #expect(!(late < early))
        #expect(late.milliseconds == 1001)
        #expect(early.adding(milliseconds: -2000).milliseconds == -1000)
        #expect(Timestamp(milliseconds: 1500).seconds == 1.5)
        #expect([late, early].sorted() == [early, late])
    }

    @Test func nowIsAfter2024() {
        // A sanity bound, not a timing assertion: the clock is read and converted to milliseconds.
        #expect(Timestamp.now.milliseconds > 1_704_067_200_000)
    }

    @Test(arguments: [
        (Int64(7), Int64(3), Int64(2), Int64(1)), (-7, 3, -3, 2), (-6, 3, -2, 0), (0, 5, 0, 0), (-1, 86_400_000, -1, 86_399_999),
    ] as [(Int64, Int64, Int64, Int64)])
    func floorDivisionKeepsTheRemainderNonNegative(value: Int64, divisor: Int64, quotient: Int64, remainder: Int64) {
        let (q, r) = value.floorDividedWithRemainder(by: divisor)
        #expect(q == quotient)
        #expect(r == remainder)
    }

    // MARK: - Times from outside (stream entries, Redis, stored snapshots)

    @Test(arguments: [Int64.min, Int64.min + 1, -1, Int64.max, Int64.max - 1])
    func everyInt64RendersWithoutTrapping(milliseconds: Int64) {
        // http-api died rendering a stored header of Int64.min.
        let timestamp = Timestamp(milliseconds: milliseconds)
        #expect(!timestamp.iso8601.isEmpty)
        #expect(timestamp.httpDate.hasSuffix(" GMT"))
    }

    @Test(arguments: [
        (Int64.min, false), (-1, false), (0, false), (1_230_940_799_999, false), (1_230_940_800_000, true),
        (1_718_366_400_000, true), (253_402_300_799_999, true), (253_402_300_800_000, false), (Int64.max, false),
    ] as [(Int64, Bool)])
    func plausibleTimesLieBetweenBitcoinsGenesisAndYear9999(milliseconds: Int64, plausible: Bool) {
        #expect((Timestamp(plausible: milliseconds) != nil) == plausible)
        #expect((Timestamp(plausibleText: String(milliseconds)) != nil) == plausible)
    }

    @Test(arguments: ["", "abc", "1.5", "1e12", "9223372036854775808", "-9223372036854775809", " 1718366400000"])
    func plausibleTextRejectsWhatIsNotAnInteger(text: String) {
        #expect(Timestamp(plausibleText: text) == nil)
    }

    @Test func addingSaturatesInsteadOfTrapping() {
        #expect(Timestamp(milliseconds: .max).adding(milliseconds: 1) == Timestamp(milliseconds: .max))
        #expect(Timestamp(milliseconds: .min).adding(milliseconds: -1) == Timestamp(milliseconds: .min))
        #expect(Timestamp(milliseconds: 5).adding(milliseconds: -7) == Timestamp(milliseconds: -2))
    }
}
