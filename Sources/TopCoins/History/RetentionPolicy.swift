/// Which snapshots history keeps, by age: e.g. every snapshot for 7 days, one per hour up
/// to 90 days, one per day after that. Each tier's `for_days` counts from now; the last tier
/// may keep forever.
public struct RetentionPolicy: Sendable, Equatable {
    public enum Granularity: String, Sendable, CaseIterable {
        case snapshot, minute, hour, day

        /// The bucket width in ms; nil keeps every snapshot.
        var milliseconds: Int64? {
            switch self {
            case .snapshot: nil
            case .minute: 60_000
            case .hour: 3_600_000
            case .day: 86_400_000
            }
        }
    }

    public struct Tier: Sendable, Equatable {
        public let every: Granularity
        public let forDays: Int?

        public init(every: Granularity, forDays: Int?) {
            self.every = every
            self.forDays = forDays
        }
    }

    public let tiers: [Tier]

    public init(tiers: [Tier]) {
        self.tiers = tiers
    }

    public static let `default` = RetentionPolicy(tiers: [
        .init(every: .snapshot, forDays: 7), .init(every: .hour, forDays: 90), .init(every: .day, forDays: nil),
    ])

    /// One step of thinning: snapshots with timestamps in `range` are kept only as the first of
    /// each bucket of `bucketMilliseconds` (nil: all of them are deleted).
    public struct Step: Sendable, Equatable {
        public let tierIndex: Int
        public let range: ClosedRange<Int64>
        public let bucketMilliseconds: Int64?
    }

    /// The thinning to do at `now`, given the boundary each tier was applied up to before
    /// (`marks[i]`, from an earlier run). Ranges start at the bucket of the previous mark so
    /// a bucket that straddles two runs still keeps exactly one snapshot.
    public func steps(now: Timestamp, marks: [Int: Int64]) -> [Step] {
        var steps: [Step] = []
        for index in tiers.indices.dropFirst() {
            guard let days = tiers[index - 1].forDays else { break }
            let boundary = now.milliseconds - Int64(days) * 86_400_000
            let bucket = tiers[index].every.milliseconds
            var start = marks[index] ?? Int64.min / 2
            if let bucket, start > Int64.min / 2 { start = start.floorDividedWithRemainder(by: bucket).0 * bucket }
            if start <= boundary, tiers[index].every != .snapshot {
                steps.append(Step(tierIndex: index, range: start...boundary, bucketMilliseconds: bucket))
            }
        }
        if let last = tiers.last, let days = last.forDays {
            let boundary = now.milliseconds - Int64(days) * 86_400_000
            steps.append(Step(tierIndex: tiers.count, range: (Int64.min / 2)...boundary, bucketMilliseconds: nil))
        }
        return steps
    }

    /// The timestamps a step deletes from `timestamps` (ascending, all within the step's range).
    public static func deletions(in timestamps: [Int64], step: Step) -> [Int64] {
        guard let bucket = step.bucketMilliseconds else { return timestamps }
        var deleted: [Int64] = []
        var keptBucket: Int64?
        for timestamp in timestamps {
            let current = timestamp.floorDividedWithRemainder(by: bucket).0
            if current == keptBucket {
                deleted.append(timestamp)
            } else {
                keptBucket = current
            }
        }
        return deleted
    }
}
