import Testing

@testable import TopCoins

@Suite("FetcherService schedule")
struct FetcherServiceTests {
    static let minute = Int64(60_000)
    static let boundary = Int64(1_718_366_400_000)  // 2024-06-14T12:00:00Z, a whole minute

    func next(_ start: Int64, _ interval: Int64, align: Bool) -> Int64 {
        FetcherService.nextStart(after: Timestamp(milliseconds: start), intervalMilliseconds: interval, align: align).milliseconds
    }

    @Test(arguments: [
        (boundary + 12_345, boundary + minute),
        (boundary + 1, boundary + minute),
        (boundary + minute - 1, boundary + minute),
        (boundary, boundary + minute),  // exactly on a boundary: the next one, not the same instant
        (boundary - 1, boundary),
    ] as [(Int64, Int64)])
    func alignedStartsOnTheNextIntervalBoundary(start: Int64, expected: Int64) {
        #expect(next(start, Self.minute, align: true) == expected)
    }

    @Test(arguments: [
        (Int64(1_500), Int64(1_000), Int64(2_000)),
        (1_999, 1_000, 2_000),
        (2_000, 1_000, 3_000),
        (0, 2_000, 2_000),
        (3_599_999, 3_600_000, 3_600_000),
        (-1, 1_000, 0),
        (-1_000, 1_000, 0),
        (-1_001, 1_000, -1_000),
        (1_718_366_404_000, 7_000, 1_718_366_405_000),  // 7 s boundaries since the epoch: 245480915 × 7000
        (1_718_366_405_000, 7_000, 1_718_366_412_000),
    ] as [(Int64, Int64, Int64)])
    func alignedWithOtherIntervals(start: Int64, interval: Int64, expected: Int64) {
        #expect(next(start, interval, align: true) == expected)
    }

    @Test(arguments: [boundary + 12_345, boundary, 1, -5_000] as [Int64])
    func unalignedIsOneIntervalLater(start: Int64) {
        #expect(next(start, Self.minute, align: false) == start + Self.minute)
        #expect(next(start, 1_000, align: false) == start + 1_000)
    }

    @Test func alignedProperties() {
        var random = SplitMix64(seed: 60)
        for _ in 0..<5000 {
            let interval = Int64.random(in: 1...86_400, using: &random) * 1000
            let start = Int64.random(in: 0...4_000_000_000_000, using: &random)
            let result = next(start, interval, align: true)
            #expect(result > start, "start \(start) interval \(interval)")
            #expect(result - start <= interval, "start \(start) interval \(interval)")
            #expect(result % interval == 0, "start \(start) interval \(interval)")
        }
    }

    @Test func twoFetchersWithTheSameIntervalTickTogether() {
        // Started 17 s apart within the same minute, both next run at the same boundary.
        #expect(next(Self.boundary + 3_000, Self.minute, align: true) == next(Self.boundary + 20_000, Self.minute, align: true))
    }

    // MARK: - Missed ticks

    func upcoming(_ tick: Int64, now: Int64, _ interval: Int64, align: Bool) -> Int64 {
        FetcherService.upcomingTick(Timestamp(milliseconds: tick), now: Timestamp(milliseconds: now), intervalMilliseconds: interval, align: align).milliseconds
    }

    @Test func aTickStillAheadIsKept() {
        #expect(upcoming(Self.boundary + Self.minute, now: Self.boundary + 5_000, Self.minute, align: true) == Self.boundary + Self.minute)
    }

    @Test(arguments: [true, false])
    func ticksMissedWhileStoppedAreSkippedNotReplayed(align: Bool) {
        // Stopped for ten intervals: the next tick is the first after now, once, not ten.
        let now = Self.boundary + 10 * Self.minute + 7_000
        let tick = upcoming(Self.boundary + Self.minute, now: now, Self.minute, align: align)
        #expect(tick > now)
        #expect(tick - now <= Self.minute)
        if align { #expect(tick == Self.boundary + 11 * Self.minute) }
    }
}
