import Testing

@testable import TopCoins

struct RetentionPolicyTests {
    let day: Int64 = 86_400_000
    let hour: Int64 = 3_600_000

    @Test func theDefaultPolicyThinsToHourlyAfterSevenDaysAndDailyAfterNinety() {
        let now = Timestamp(milliseconds: 1000 * day)
        let steps = RetentionPolicy.default.steps(now: now, marks: [:])
        #expect(steps.count == 2)
        #expect(steps[0].bucketMilliseconds == hour)
        #expect(steps[0].range.upperBound == now.milliseconds - 7 * day)
        #expect(steps[1].bucketMilliseconds == day)
        #expect(steps[1].range.upperBound == now.milliseconds - 90 * day)
    }

    @Test func aStepStartsAtTheBucketOfThePreviousMark() {
        let now = Timestamp(milliseconds: 1000 * day)
        let mark = 900 * day + 90 * 60_000 // 01:30 on some day
        let steps = RetentionPolicy.default.steps(now: now, marks: [1: mark])
        #expect(steps[0].range.lowerBound == 900 * day + hour)
    }

    @Test func deletionsKeepTheFirstSnapshotOfEachBucket() {
        let step = RetentionPolicy.Step(tierIndex: 1, range: 0...(10 * hour), bucketMilliseconds: hour)
        let timestamps: [Int64] = [0, 60_000, 120_000, hour + 5, hour + 60_000, 3 * hour + 1]
        #expect(RetentionPolicy.deletions(in: timestamps, step: step) == [60_000, 120_000, hour + 60_000])
    }

    @Test func aLastTierWithAnAgeDeletesEverythingOlder() {
        let policy = RetentionPolicy(tiers: [.init(every: .snapshot, forDays: 2)])
        let now = Timestamp(milliseconds: 10 * day)
        let steps = policy.steps(now: now, marks: [:])
        #expect(steps.count == 1)
        #expect(steps[0].bucketMilliseconds == nil)
        #expect(steps[0].range.upperBound == 8 * day)
        #expect(RetentionPolicy.deletions(in: [1, 2, 3], step: steps[0]) == [1, 2, 3])
    }

    @Test func keepingEverySnapshotForeverNeverDeletes() {
        let policy = RetentionPolicy(tiers: [.init(every: .snapshot, forDays: nil)])
        #expect(policy.steps(now: Timestamp(milliseconds: 10 * day), marks: [:]).isEmpty)
    }
}
