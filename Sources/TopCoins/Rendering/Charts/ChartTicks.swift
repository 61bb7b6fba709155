/// Where a chart's axes put their ticks, and what the ticks say. Prices get round values in
/// 1-2-5 steps written exactly (a tick is an integer times a power of ten, so `0.00000002` and
/// `61,000` come out as a person writes them, never `2e-08`); times get UTC instants whose unit
/// follows the span shown: minutes and hours within a few days, days within a few months, then
/// months and years.
public enum ChartTicks {
    /// A round price: `mantissa × 10^exponent`.
    public struct PriceTick: Sendable, Equatable {
        public let mantissa: Int64
        public let exponent: Int

        public var value: Double { Double(mantissa) * ChartTicks.power(exponent) }

        /// Plain digits with thousands grouped and the step's decimals (`61,000`, `0.00000002`,
        /// `1.50`).
        public var label: String {
            let negative = mantissa < 0
            var digits = String(mantissa.magnitude)
            var fraction = ""
            if exponent >= 0 {
                digits += String(repeating: "0", count: exponent)
            } else {
                let scale = -exponent
                if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
                // Every tick of an axis keeps the step's decimals (4.60, 4.62), so labels line up.
                fraction = String(digits.suffix(scale))
                digits = String(digits.dropLast(scale))
            }
            var grouped = ""
            for (index, digit) in digits.enumerated() {
                if index > 0, (digits.count - index) % 3 == 0, digits.count > 4 { grouped.append(",") }
                grouped.append(digit)
            }
            return (negative ? "-" : "") + grouped + (fraction.isEmpty ? "" : "." + fraction)
        }
    }

    /// The price axis over `low...high`: a 1-2-5 step giving at most `maxTicks` ticks, and the
    /// ticks from the step at or below `low` to the one at or above `high`, which bound the
    /// plot. A flat or empty range is widened around its value first.
    public static func price(low: Double, high: Double, maxTicks: Int = 6) -> [PriceTick] {
        guard low.isFinite, high.isFinite, maxTicks >= 2 else { return [] }
        var (low, high) = (min(low, high), max(low, high))
        if high - low <= max(abs(high), abs(low)) * 1e-9 {
            let margin = low == 0 ? 1 : abs(low) * 0.01
            (low, high) = (low - margin, high + margin)
        }
        var exponent = Int((log10(high - low) - 1).rounded(.down))
        while true {
            for multiple: Int64 in [1, 2, 5] {
                let step = Double(multiple) * power(exponent)
                let first = (low / step).rounded(.down)
                let last = (high / step).rounded(.up)
                guard last - first + 1 <= Double(maxTicks) else { continue }
                return stride(from: first, through: last, by: 1).map { PriceTick(mantissa: Int64($0) * multiple, exponent: exponent) }
            }
            exponent += 1
        }
    }

    /// A time tick: the instant and its label's lines (the second gives the date or year where
    /// it changes, so every tick reads on its own together with the ones before it).
    public struct TimeTick: Sendable, Equatable {
        public let time: Timestamp
        public let lines: [String]
    }

    /// The units a time axis counts in, finest first.
    enum TimeStep: Equatable {
        case minutes(Int64)
        case days(Int)
        case months(Int)
        case years(Int)

        static let all: [TimeStep] =
            [1, 5, 15, 30, 60, 180, 360, 720].map { .minutes($0) } + [1, 2, 7, 14].map { .days($0) } + [1, 2, 3, 6].map { .months($0) }
            + [1, 2, 5, 10, 20, 50, 100].map { .years($0) }
    }

    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The ticks within `from...to` of the finest unit that gives at most `maxTicks` of them.
    public static func time(from: Timestamp, to: Timestamp, maxTicks: Int = 8) -> [TimeTick] {
        guard from <= to, maxTicks >= 1 else { return [] }
        for step in TimeStep.all {
            let instants = ticks(step, from: from, to: to, limit: maxTicks + 1)
            guard instants.count <= maxTicks else { continue }
            return label(instants, step: step)
        }
        return []
    }

    /// At most `limit` instants of `step` within the range, in order.
    static func ticks(_ step: TimeStep, from: Timestamp, to: Timestamp, limit: Int) -> [Timestamp] {
        var result: [Timestamp] = []
        switch step {
        case .minutes(let minutes):
            let width = minutes * 60_000
            var time = from.milliseconds.floorDividedWithRemainder(by: width).0 * width
            if time < from.milliseconds { time += width }
            while time <= to.milliseconds, result.count < limit {
                result.append(Timestamp(milliseconds: time))
                time += width
            }
        case .days(let days):
            let allowed: Set<Int64> =
                switch days {
                case 1: Set(1...31)
                case 2: Set(stride(from: 1, through: 29, by: 2))
                case 7: [1, 8, 15, 22]
                default: [1, 15]
                }
            var day = from.milliseconds.floorDividedWithRemainder(by: DailyCandle.dayMilliseconds).0
            if day * DailyCandle.dayMilliseconds < from.milliseconds { day += 1 }
            while day * DailyCandle.dayMilliseconds <= to.milliseconds, result.count < limit {
                if allowed.contains(Timestamp.civil(fromDays: day).day) { result.append(Timestamp(milliseconds: day * DailyCandle.dayMilliseconds)) }
                day += 1
            }
        case .months(let months), .years(let months):
            let monthStep = step == .months(months) ? Int64(months) : Int64(months) * 12
            let start = Timestamp.civil(fromDays: from.milliseconds.floorDividedWithRemainder(by: DailyCandle.dayMilliseconds).0)
            // Months since year 0, rounded up to the step (years count from year 0 too).
            var month = start.year * 12 + start.month - 1
            if month % monthStep != 0 || Timestamp.days(fromCivil: start.year, start.month, 1) * DailyCandle.dayMilliseconds < from.milliseconds {
                month = (month / monthStep + 1) * monthStep
            }
            while result.count < limit {
                let time = Timestamp.days(fromCivil: month / 12, month % 12 + 1, 1) * DailyCandle.dayMilliseconds
                guard time <= to.milliseconds else { break }
                result.append(Timestamp(milliseconds: time))
                month += monthStep
            }
        }
        return result
    }

    static func label(_ instants: [Timestamp], step: TimeStep) -> [TimeTick] {
        var previous: (year: Int64, month: Int64, day: Int64)?
        return instants.map { instant in
            let (days, msOfDay) = instant.milliseconds.floorDividedWithRemainder(by: DailyCandle.dayMilliseconds)
            let date = Timestamp.civil(fromDays: days)
            defer { previous = date }
            let dayText = "\(monthNames[Int(date.month) - 1]) \(date.day)"
            let newYear = previous.map { $0.year != date.year } ?? true
            switch step {
            case .minutes:
                let clock = "\(pad(msOfDay / 3_600_000)):\(pad(msOfDay / 60_000 % 60))"
                let newDay = previous.map { $0 != date } ?? true
                return TimeTick(time: instant, lines: newDay ? [clock, newYear ? "\(dayText), \(date.year)" : dayText] : [clock])
            case .days:
                return TimeTick(time: instant, lines: newYear ? [dayText, String(date.year)] : [dayText])
            case .months:
                return TimeTick(
                    time: instant,
                    lines: newYear ? [monthNames[Int(date.month) - 1], String(date.year)] : [monthNames[Int(date.month) - 1]]
                )
            case .years:
                return TimeTick(time: instant, lines: [String(date.year)])
            }
        }
    }

    static func pad(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

    static func power(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(exponent) { result *= 10 }
        return exponent < 0 ? 1 / result : result
    }

    /// log10 without Foundation; exact enough to pick a starting exponent.
    static func log10(_ value: Double) -> Double {
        var exponent = 0.0
        var value = value
        while value >= 10 {
            value /= 10
            exponent += 1
        }
        while value < 1 {
            value *= 10
            exponent -= 1
        }
        return exponent + (value - 1) / 9
    }
}
