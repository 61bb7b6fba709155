import Testing

@testable import TopCoins

@Suite("PipelineStatus.Record")
struct PipelineStatusRecordTests {
    static let may14 = Int64(1_715_667_000_000)  // 2024-05-14T06:10:00Z

    @Test("every field the writers set decodes to its typed value")
    func decodesEveryField() {
        let record = PipelineStatus.Record(fields: [
            "last_attempt_at": String(Self.may14 + 2000), "last_success_at": String(Self.may14), "last_error_at": String(Self.may14 + 2000),
            "last_error": "HTTP 429 from upstream", "last_error_reason": "rate_limited", "last_duration_ms": "1234",
            "cycles_ok": "41", "cycles_failed": "2", "failed.rate_limited": "1", "failed.timeout": "1",
            "records_kept": "4990", "rows": "200", "skipped.no_price": "7", "left_out.no_rank": "3",
            "clock_skew.cryptocompare": String(Self.may14), "clock_skew.coinmarketcap": String(Self.may14),
        ])
        #expect(record.lastAttemptAt == Timestamp(milliseconds: Self.may14 + 2000))
        #expect(record.lastSuccessAt == Timestamp(milliseconds: Self.may14))
        #expect(record.lastErrorAt == Timestamp(milliseconds: Self.may14 + 2000))
        #expect(record.lastError == "HTTP 429 from upstream")
        #expect(record.lastErrorReason == "rate_limited")
        #expect(record.lastDurationMilliseconds == 1234)
        #expect(record.cyclesOK == 41)
        #expect(record.cyclesFailed == 2)
        #expect(record.failures == ["rate_limited": 1, "timeout": 1])
        #expect(record.figures == ["records_kept": 4990, "rows": 200, "skipped.no_price": 7, "left_out.no_rank": 3])
        #expect(record.clockSkewedSources == ["coinmarketcap", "cryptocompare"])
    }

    @Test("an empty hash is a record of nothing")
    func emptyHash() {
        let record = PipelineStatus.Record(fields: [:])
        #expect(record.lastSuccessAt == nil && record.cyclesOK == nil && record.failures.isEmpty && record.figures.isEmpty)
        #expect(record.clockSkewedSources.isEmpty)
    }

    @Test(
        "hostile values are left out, never guessed at",
        arguments: [
            ("last_success_at", "yesterday"), ("last_success_at", "12"), ("last_success_at", "99999999999999999999"),
            ("last_success_at", "-1715667000000"), ("last_error_at", ""), ("last_duration_ms", "fast"), ("last_duration_ms", "-5"),
            ("cycles_ok", "many"), ("cycles_failed", "1.5"), ("failed.timeout", "NaN"), ("rows", "0x10"), ("skipped.no_price", " 7"),
        ])
    func hostileValuesAreSkipped(field: String, value: String) {
        // A sane counter beside the hostile field, so one bad value does not spoil the rest.
        let record = PipelineStatus.Record(fields: ["cycles_ok": "3"].merging([field: value]) { $1 })
        #expect(record.lastSuccessAt == nil)
        #expect(record.lastErrorAt == nil)
        #expect(record.lastDurationMilliseconds == nil)
        #expect(record.cyclesOK == (field == "cycles_ok" ? nil : 3))
        #expect(record.cyclesFailed == nil)
        #expect(record.failures.isEmpty)
        #expect(record.figures.isEmpty)
    }

    @Test("a clock-skew mark counts whatever its value; unknown fields are ignored")
    func clockSkewMarksAndUnknownFields() {
        let record = PipelineStatus.Record(fields: ["clock_skew.coinmarketcap": "garbage", "surprise": "7", "failed": "3"])
        #expect(record.clockSkewedSources == ["coinmarketcap"])
        #expect(record.figures.isEmpty)
        #expect(record.failures.isEmpty)
    }
}
