import TopCoins

// What the history fetcher reads back from Redis: the first byte picks its stored progress
// (`BackfillProgress`) or a stored daily candle (its hash field, a newline, its value). Every
// input decodes or is refused; what decodes encodes to text that decodes to the same value.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBackfill(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = fuzzInput(start, count)
    guard let kind = input.first else { return 0 }
    let text = String(decoding: input.dropFirst(), as: UTF8.self)
    if kind % 2 == 0 {
        guard let progress = BackfillProgress(encoded: text) else { return 0 }
        check(progress.oldest <= progress.newest, "progress whose oldest day is after its newest")
        check(BackfillProgress(encoded: progress.encoded) == progress, "re-encoded progress decodes to another")
    } else {
        let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let candle = DailyCandle(field: parts[0], encoded: parts[1]) else { return 0 }
        check(DailyCandle(field: candle.field, encoded: candle.encoded) == candle, "a re-encoded candle decodes to another")
        check(candle.day.milliseconds % DailyCandle.dayMilliseconds == 0, "a candle not at midnight")
    }
    return 0
}
