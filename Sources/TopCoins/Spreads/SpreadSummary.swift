/// What the original hourly job printed, per book per UTC hour or day: every observation
/// counted, how many breached, the widest and 95th-percentile unflagged spreads, the time
/// spent above threshold, the episodes that opened, and the flagged observations by flag.
public struct SpreadSummary: Sendable, Equatable {
    public let start: Timestamp
    /// Every observation, flagged ones included.
    public var samples = 0
    public var breaches = 0
    /// Over unflagged observations; nil when there were none.
    public var maxSpreadPct: DecimalNumber?
    /// Nearest rank: the smallest unflagged spread at or above 95 % of them; nil when none.
    public var p95SpreadPct: DecimalNumber?
    /// Each breach stands until the book's next observation, at most `max_gap_seconds`;
    /// in milliseconds, counted in the breach's bucket.
    public var millisecondsAbove: Int64 = 0
    /// Episodes that opened in the bucket.
    public var episodes = 0
    /// Observations carrying each flag (one observation may carry two).
    public var flagged: [String: Int] = Dictionary(uniqueKeysWithValues: SpreadFlags.named.map { ($0.1, 0) })

    public init(start: Timestamp) {
        self.start = start
    }

    public enum Width: String, Sendable, CaseIterable {
        case hour, day

        public var milliseconds: Int64 { self == .hour ? 3_600_000 : 86_400_000 }

        public func start(of time: Timestamp) -> Timestamp {
            Timestamp(milliseconds: time.milliseconds.floorDividedWithRemainder(by: milliseconds).0 * milliseconds)
        }
    }

    /// `breaches / samples`, rounded half up to 6 decimals.
    public var breachShare: DecimalNumber {
        guard samples > 0 else { return DecimalNumber("0")! }
        let units = (Int128(breaches) * 2_000_000 + Int128(samples)) / (Int128(samples) * 2)
        return ExactDecimal.number(units, scale: 6)
    }

    /// The summaries of every bucket of `width` that holds an observation of `observations`
    /// (one book's, ascending by time), ascending. An observation after the last bucket the
    /// caller wants may be passed to end the last breach's time; its own bucket is then
    /// dropped by the caller. `episodeStarts` are the book's episodes' opening times.
    public static func buckets(
        of observations: [SpreadObservation], width: Width, maxGapSeconds: Int, episodeStarts: [Timestamp]
    ) -> [SpreadSummary] {
        var summaries: [SpreadSummary] = []
        var spreads: [DecimalNumber] = []
        func finish() {
            guard var last = summaries.popLast() else { return }
            spreads.sort()
            if !spreads.isEmpty {
                last.maxSpreadPct = spreads[spreads.count - 1]
                let rank = (spreads.count * 95 + 99) / 100
                last.p95SpreadPct = spreads[rank - 1]
            }
            summaries.append(last)
            spreads.removeAll(keepingCapacity: true)
        }
        for (index, observation) in observations.enumerated() {
            let start = width.start(of: observation.observedAt)
            if summaries.last?.start != start {
                finish()
                summaries.append(SpreadSummary(start: start))
            }
            summaries[summaries.count - 1].count(observation, next: index + 1 < observations.count ? observations[index + 1] : nil, maxGapSeconds: maxGapSeconds)
            if observation.flags.isEmpty, let spread = observation.spreadPct { spreads.append(spread) }
        }
        finish()
        for started in episodeStarts {
            let start = width.start(of: started)
            if let index = summaries.firstIndex(where: { $0.start == start }) { summaries[index].episodes += 1 }
        }
        return summaries
    }

    mutating func count(_ observation: SpreadObservation, next: SpreadObservation?, maxGapSeconds: Int) {
        samples += 1
        for (flag, name) in SpreadFlags.named where observation.flags.contains(flag) { flagged[name, default: 0] += 1 }
        guard observation.breach else { return }
        breaches += 1
        if let next {
            millisecondsAbove += min(next.observedAt.milliseconds - observation.observedAt.milliseconds, Int64(maxGapSeconds) * 1000)
        }
    }

    /// The `/spreads/summary` element, also the stored form of a closed bucket.
    public var json: JSONValue {
        .object(
            JSONObject([
                ("start", .string(start.iso8601)), ("samples", .number(String(samples))), ("breaches", .number(String(breaches))),
                ("breach_share", .number(breachShare.text)), ("max_spread_pct", maxSpreadPct.map { .number($0.text) } ?? .null),
                ("p95_spread_pct", p95SpreadPct.map { .number($0.text) } ?? .null),
                ("seconds_above", .number(ExactDecimal.number(Int128(millisecondsAbove), scale: 3).text)), ("episodes", .number(String(episodes))),
                ("flagged", .object(JSONObject(SpreadFlags.named.map { ($0.1, .number(String(flagged[$0.1] ?? 0))) }))),
            ]))
    }

    /// Reads what `json` wrote (from Redis: checked, never trusted).
    public init(json bytes: [UInt8]) throws(SpreadStoreError) {
        guard case .object(let object)? = try? JSONParser.parse(bytes) else { throw SpreadStoreError("summary is not a JSON object") }
        func count(_ value: JSONValue?, _ name: String) throws(SpreadStoreError) -> Int {
            guard case .number(let text)? = value, let number = Int(text), number >= 0 else { throw SpreadStoreError("summary without a count \(name)") }
            return number
        }
        func spread(_ key: String) throws(SpreadStoreError) -> DecimalNumber? {
            switch object[key] {
            case .null?: return nil
            case .number(let text)?: if let number = DecimalNumber(text) { return number }
            default: break
            }
            throw SpreadStoreError("summary with a malformed \(key)")
        }
        guard case .string(let startText)? = object["start"], let start = Timestamp(iso8601: startText) else { throw SpreadStoreError("summary without start") }
        self.init(start: start)
        samples = try count(object["samples"], "samples")
        breaches = try count(object["breaches"], "breaches")
        episodes = try count(object["episodes"], "episodes")
        maxSpreadPct = try spread("max_spread_pct")
        p95SpreadPct = try spread("p95_spread_pct")
        guard case .number(let above)? = object["seconds_above"], let (units, scale) = DecimalNumber(above).flatMap(ExactDecimal.units), scale <= 3, units >= 0,
            units < Int128(Int64.max / 1000)
        else { throw SpreadStoreError("summary with a malformed seconds_above") }
        millisecondsAbove = Int64(units * ExactDecimal.power(3 - scale))
        for (_, name) in SpreadFlags.named { flagged[name] = try count(object["flagged"]?[name], "flagged.\(name)") }
    }
}
